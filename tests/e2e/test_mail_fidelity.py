"""Mail arrives exactly as sent: the official library's helper classes (`Mail`, `Attachment`,
`ReplyTo`…) against a real `sealpost serve`, delivered to a real Postfix receiver, and what
arrived parsed with Python's `email` package and compared part by part, byte by byte."""
import base64
import email
import email.policy
import json
import random
import sqlite3
import uuid

import pytest
from python_http_client.exceptions import BadRequestsError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (Attachment, ContentId, Disposition, FileContent, FileName, FileType, From, HtmlContent,
                                   Mail, PlainTextContent, ReplyTo, To)

SEED = random.randrange(1 << 32)


def seeded():
    print(f"seed {SEED}")
    return random.Random(SEED)


@pytest.fixture
def relay(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    port = postfix_peers.port_of("plain")
    sealpost.start("--route", f"plain.test=localhost:{port}", "--route", f"xn--bcher-kva.test=localhost:{port}")
    return SendGridAPIClient(api_key=key, host=sealpost.url)


def header_fields(raw):
    """The header fields of a stored message, each as its list of (folded) lines."""
    fields = []
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    return fields


def sealpost_header_lines(raw):
    """The header lines Sealpost wrote (not those the receiving Postfix put on top)."""
    fields = header_fields(raw)
    return [line for f in fields if not f[0].split(b":")[0] in (b"Received", b"Return-Path", b"Delivered-To") for line in f]


def arrived(postfix_peers, token):
    raw = postfix_peers.find_bytes("plain", token, timeout=20)
    assert raw is not None, f"nothing with {token} arrived"
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def test_attachments_inline_images_and_headers_arrive_exactly(sealpost, relay, postfix_peers):
    rng = seeded()
    token = uuid.uuid4().hex
    binary = bytes(rng.randrange(256) for _ in range(70_000)) + b"\r\n.\r\n\x00"
    image = bytes(rng.randrange(256) for _ in range(3000))
    subject = f"Grüße aus Köln — {token} " + "ein langer Betreff mit Umlauten äöü " * 6
    plain = f"plain {token}\n.\nline after a lone dot\n"
    html = f'<p>{token}</p><img src="cid:logo-{token[:8]}">'
    m = Mail(from_email=From("s@relay.test", "Jörg Müller"), to_emails=To(f"r-{token}@plain.test", "Zoë"),
             subject=subject, plain_text_content=PlainTextContent(plain), html_content=HtmlContent(html))
    m.attachment = Attachment(FileContent(base64.b64encode(binary).decode()), FileName("Prüfbericht März.bin"),
                              FileType("application/octet-stream"), Disposition("attachment"))
    m.attachment = Attachment(FileContent(base64.b64encode(image).decode()), FileName("logo.png"), FileType("image/png"),
                              Disposition("inline"), ContentId(f"logo-{token[:8]}"))
    m.reply_to_list = [ReplyTo("one@relay.test", "One"), ReplyTo("two@relay.test")]
    r = relay.send(m)
    assert r.status_code == 202, r.body

    raw, msg = arrived(postfix_peers, token)
    lines = sealpost_header_lines(raw)
    assert len(lines) > 8
    assert all(len(line) <= 78 for line in lines), [line for line in lines if len(line) > 78]
    assert msg["Subject"] == subject.strip() or msg["Subject"] == subject
    assert str(msg["From"]) == "Jörg Müller <s@relay.test>"
    assert str(msg["To"]) == f"Zoë <r-{token}@plain.test>"
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == ["one@relay.test", "two@relay.test"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    text_part, related = alternative.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert text_part.get_content() == plain
    assert related.get_content_type() == "multipart/related"
    html_part, inline = related.get_payload()
    assert html_part.get_content_type() == "text/html" and html_part.get_content() == html
    assert inline.get_content_type() == "image/png"
    assert inline["Content-ID"] == f"<logo-{token[:8]}>"
    assert inline.get_content_disposition() == "inline"
    assert inline.get_content() == image
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "Prüfbericht März.bin"
    assert attachment.get_content() == binary


def test_a_thousand_recipients_in_to_fold_under_998(sealpost, relay, postfix_peers):
    token = uuid.uuid4().hex
    tos = [To(f"r{i}-{token}@plain.test", f"Empfänger {i}" if i % 2 else None) for i in range(1000)]
    m = Mail(from_email=From("s@relay.test"), to_emails=tos, subject=f"many {token}", plain_text_content=PlainTextContent("x"),
             is_multiple=False)
    r = relay.send(m)
    assert r.status_code == 202, r.body
    raw, msg = arrived(postfix_peers, token)
    header = raw.split(b"\n\n", 1)[0]
    assert max(len(line) for line in header.split(b"\n")) <= 998
    to_lines = [line for line in header.split(b"\n") if line.startswith(b"To:")]
    assert len(to_lines) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == [f"r{i}-{token}@plain.test" for i in range(1000)]
    assert [a.display_name for a in msg["To"].addresses][:3] == ["", "Empfänger 1", ""]
    assert sealpost.final_events({f"r999-{token}@plain.test"}, timeout=60)[f"r999-{token}@plain.test"]["event"] == "delivered"
    postfix_peers.remove("plain", token)  # 1,000 copies would slow every later search of this mailbox


def test_internationalised_domains_travel_as_a_labels(sealpost, relay, postfix_peers):
    token = uuid.uuid4().hex
    m = Mail(from_email=From("s@relay.test"), to_emails=To(f"r-{token}@Bücher.test"), subject=f"idn {token}",
             plain_text_content=PlainTextContent("x"))
    assert relay.send(m).status_code == 202
    raw, msg = arrived(postfix_peers, token)
    assert str(msg["To"]) == f"r-{token}@xn--bcher-kva.test"
    assert f"Delivered-To: r-{token}@xn--bcher-kva.test".encode() in raw
    events = sealpost.final_events({f"r-{token}@xn--bcher-kva.test"})
    assert events[f"r-{token}@xn--bcher-kva.test"]["event"] == "delivered"

    bad = Mail(from_email=From("s@relay.test"), to_emails=To("r@☃.test"), subject="s", plain_text_content=PlainTextContent("x"))
    with pytest.raises(BadRequestsError) as e:
        relay.send(bad)
    assert b'"field":"personalizations.0.to.0.email"' in e.value.body
    assert b"not a valid internationalized domain name" in e.value.body


def test_a_non_ascii_address_goes_only_to_smtputf8_hops(sealpost, postfix_peers):
    """RFC 6531/6532: a local part that is not ASCII stays raw UTF-8 in To (no encoded-word may
    stand for an addr-spec), which makes the whole message an internationalized one: the copy
    for an ASCII co-recipient whose server lacks SMTPUTF8 bounces (553 5.6.7) instead of
    carrying UTF-8 headers to it; the SMTPUTF8 server gets its copy with the parameter."""
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}",
                   "--route", f"old.test=localhost:{postfix_peers.port_of('noutf8')}")
    client = SendGridAPIClient(api_key=key, host=sealpost.url)
    token = uuid.uuid4().hex
    intl, old, ascii_only = f"jö-{token}@plain.test", f"bob-{token}@old.test", f"ann-{token}@old.test"
    body = {"from": {"email": "s@relay.test"}, "subject": f"utf8 {token}", "content": [{"type": "text/plain", "value": "x"}],
            "personalizations": [{"to": [{"email": intl}, {"email": old}]}, {"to": [{"email": ascii_only}]}]}
    assert client.client.mail.send.post(request_body=body).status_code == 202
    final = sealpost.final_events({intl, old, ascii_only})
    assert final[intl]["event"] == "delivered"
    assert final[ascii_only]["event"] == "delivered", "an ASCII-only message still goes to the old server"
    assert final[old]["event"] == "bounce"
    assert final[old]["reason"] == "553 5.6.7 the message has UTF-8 headers (a non-ASCII address) and the server lacks SMTPUTF8"
    # Sealpost's own refusal of this one message does not suppress the address.
    assert json.loads(client.client.suppression.bounces.get().body) == []
    raw = postfix_peers.find_bytes("plain", token, timeout=20)
    to = [b" ".join(x.strip() for x in f) for f in header_fields(raw) if f[0].startswith(b"To:")]
    assert to == [f"To: {intl}, {old}".encode()], "raw UTF-8, not an encoded-word"
    received = [b" ".join(f) for f in header_fields(raw) if f[0].startswith(b"Received:")][0]
    print(received)
    assert b"with UTF8SMTP" in received, "sent with the SMTPUTF8 parameter (RFC 6531 §3.7.3)"
    found = postfix_peers.find_bytes("noutf8", token, timeout=2)
    assert found is not None and ascii_only.encode() in found and old.encode() not in found


def test_unsupported_fields_are_refused_not_ignored(sealpost, relay, postfix_peers):
    token = uuid.uuid4().hex
    base = {"from": {"email": "s@relay.test"}, "subject": f"u {token}", "content": [{"type": "text/plain", "value": "x"}],
            "personalizations": [{"to": [{"email": f"r-{token}@plain.test"}]}]}
    for extra, field in [({"template_id": "d-1"}, "template_id"), ({"asm": {"group_id": 5}}, "asm"),
                         ({"tracking_settings": {"open_tracking": {"enable": True}}}, "tracking_settings.open_tracking"),
                         ({"mail_settings": {"footer": {"enable": True, "text": "f"}}}, "mail_settings.footer")]:
        with pytest.raises(BadRequestsError) as e:
            relay.client.mail.send.post(request_body={**base, **extra})
        assert e.value.status_code == 400
        assert f'"field":"{field}"'.encode() in e.value.body
        assert b"is not supported by this server" in e.value.body
    assert sqlite3.connect(sealpost.db).execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)
    # The same settings switched off are a real send.
    off = {**base, "tracking_settings": {"open_tracking": {"enable": False}}, "mail_settings": {"footer": {"enable": False}}}
    assert relay.client.mail.send.post(request_body=off).status_code == 202
    assert postfix_peers.find("plain", token, timeout=20) is not None
