"""SMTP submission (RFC 6409 / 8314) with SendGrid's `apikey` login, against a real
`sealpost serve`: Python's smtplib (STARTTLS + AUTH PLAIN, implicit TLS + AUTH LOGIN), swaks,
and Postfix configured as a client relaying through Sealpost, all delivering to real Postfix
receivers; every refusal code of the conversation; Enforced TLS and kill -9 after `250`."""
import email
import email.policy
import os
import smtplib
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def submission(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    certs = postfix_peers.base / "certs"
    sealpost.sub_port, sealpost.subs_port = free_port(), free_port()
    sealpost.submission_args = (
        "--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}",
        "--route", f"old.test=localhost:{postfix_peers.port_of('noutf8')}",
        "--submission", f"127.0.0.1:{sealpost.sub_port}", "--submissions", f"127.0.0.1:{sealpost.subs_port}",
        "--smtp-tls-cert", str(certs / "localhost.chain.crt"), "--smtp-tls-key", str(certs / "localhost.key"))
    sealpost.start(*sealpost.submission_args)
    sealpost.api_key = key
    return sealpost


def tls_context(postfix_peers):
    ctx = ssl.create_default_context(cafile=postfix_peers.ca)
    return ctx


def connect(sealpost, postfix_peers):
    s = smtplib.SMTP("localhost", sealpost.sub_port, timeout=30)
    s.ehlo("client.test")
    s.starttls(context=tls_context(postfix_peers))
    s.ehlo("client.test")
    return s


def message(token, extra=b""):
    return (b"From: Sender <s@relay.test>\r\nTo: r@plain.test\r\nSubject: submitted " + token.encode() + b"\r\n" + extra +
            b"\r\nbody " + token.encode() + b"\r\n.leading dot line\r\n")


def test_starttls_auth_plain_delivers_exactly_what_was_sent(submission, postfix_peers):
    token = uuid.uuid4().hex
    s = smtplib.SMTP("localhost", submission.sub_port, timeout=30)
    code, ehlo = s.ehlo("client.test")
    assert code == 250
    assert b"STARTTLS" in ehlo and b"AUTH" not in ehlo, "no AUTH before TLS"
    assert s.docmd("AUTH", "PLAIN AGFwaWtleQBTRy54") == (538, b"5.7.11 Encryption required for requested authentication mechanism")
    assert s.docmd("MAIL", "FROM:<s@relay.test>") == (530, b"5.7.0 Authentication required")
    s.starttls(context=tls_context(postfix_peers))
    code, ehlo = s.ehlo("client.test")
    lines = ehlo.decode().split("\n")
    assert lines[1:] == ["PIPELINING", "SIZE 31457280", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "REQUIRETLS",
                         "AUTH PLAIN LOGIN"]
    assert s.login("apikey", submission.api_key) == (235, b"2.7.0 Authentication successful")
    api = b'X-SMTPAPI: {"category": ["newsletter", "smtp"],\r\n  "unique_args": {"campaign": "c-1"}}\r\n'
    s.mail("s@relay.test")
    s.rcpt(f"r-{token}@plain.test")
    code, reply = s.data(message(token, api))
    assert code == 250 and reply.startswith(b"2.0.0 Ok: queued as "), reply
    x_message_id = reply.decode().rsplit(" ", 1)[1]
    s.quit()

    raw = postfix_peers.find_bytes("plain", token, timeout=20)
    assert raw is not None
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == f"submitted {token}"
    assert msg["X-SMTPAPI"] is None, "X-SMTPAPI is removed before delivery"
    assert msg["Message-ID"] == f"<{x_message_id}.0@{msg['Message-ID'].split('@')[1]}"
    assert msg["Date"] is not None
    assert msg.get_content() == f"body {token}\n.leading dot line\n"
    ours = str(msg.get_all("Received")[-1])
    assert "with ESMTPSA" in ours and " ([127.0.0.1]) by " in ours, ours
    event = submission.final_events({f"r-{token}@plain.test"})[f"r-{token}@plain.test"]
    assert event["event"] == "delivered"
    assert event["sg_message_id"].split(".")[0] == x_message_id
    assert event["category"] == ["newsletter", "smtp"] and event["campaign"] == "c-1"


def test_implicit_tls_auth_login_keeps_the_message_id(submission, postfix_peers):
    token = uuid.uuid4().hex
    s = smtplib.SMTP_SSL("localhost", submission.subs_port, context=tls_context(postfix_peers), timeout=30)
    s.ehlo("client.test")
    s.user, s.password = "apikey", submission.api_key
    assert s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0] == 235
    own = f"<own-{token}@client.test>"
    s.sendmail("s@relay.test", [f"r-{token}@plain.test"],
               message(token, f"Message-ID: {own}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n".encode()))
    s.quit()
    raw = postfix_peers.find_bytes("plain", token, timeout=20)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Message-ID"] == own and msg["Date"] == "Tue, 01 Dec 2026 10:00:00 +0000", "kept, not replaced"
    assert len(msg.get_all("Message-ID")) == 1 and len(msg.get_all("Date")) == 1


def test_every_refusal_has_its_code_and_loses_nothing_else(submission, postfix_peers):
    token = uuid.uuid4().hex
    s = connect(submission, postfix_peers)
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.login("apikey", "SG.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
    assert (e.value.smtp_code, e.value.smtp_error) == (535, b"5.7.8 Authentication credentials invalid")
    assert s.docmd("MAIL", "FROM:<s@relay.test>") == (530, b"5.7.0 Authentication required")
    s.login("apikey", submission.api_key)
    assert s.docmd("X" * 600) == (500, b"5.5.2 Line too long")
    assert s.docmd("\x00\x01garbage") == (501, b"5.5.4 Syntax error: control characters in the command")
    assert s.docmd("FROBNICATE") == (500, b"5.5.1 Command unrecognized")
    assert s.docmd("MAIL", "FROM:<s@relay.test> SIZE=40000000") == (552, b"5.3.4 Message size exceeds fixed maximum message size")
    assert s.docmd("MAIL", "FROM:<s@relay.test>")[0] == 250
    codes = [s.docmd("RCPT", f"TO:<r{i}-{token}@plain.test>")[0] for i in range(1001)]
    assert codes[:1000] == [250] * 1000 and codes[1000] == 452
    assert s.docmd("RSET") == (250, b"2.0.0 Ok")
    # 30 MB of DATA and one byte more: 552, and the session goes on.
    s.mail("s@relay.test")
    s.rcpt(f"big-{token}@plain.test")
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 31_500
    assert s.data(big) == (552, b"5.3.4 Message size exceeds fixed maximum message size")
    # X-SMTPAPI asking for what Sealpost does not do: refused by name, session goes on.
    s.mail("s@relay.test")
    s.rcpt(f"asm-{token}@plain.test")
    assert s.data(message(token, b'X-SMTPAPI: {"asm_group_id": 42}\r\n')) == (
        550, b"5.7.1 X-SMTPAPI asm_group_id is not supported by this server")
    s.mail("s@relay.test")
    s.rcpt(f"ok-{token}@plain.test")
    assert s.data(message(token))[0] == 250
    s.quit()
    assert postfix_peers.find("plain", f"ok-{token}", timeout=20) is not None
    time.sleep(1)
    for refused in (f"big-{token}", f"asm-{token}", f"r0-{token}"):
        assert postfix_peers.find("plain", refused) is None


def test_rate_limit_and_revocation_apply_at_once(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    certs = postfix_peers.base / "certs"
    sealpost.sub_port = free_port()
    sealpost.start("--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}", "--rate-limit", "3",
                   "--submission", f"127.0.0.1:{sealpost.sub_port}",
                   "--smtp-tls-cert", str(certs / "localhost.chain.crt"), "--smtp-tls-key", str(certs / "localhost.key"))
    if time.time() % 60 > 50:  # the limit's window is the minute: start the test inside one
        time.sleep(61 - time.time() % 60)
    s = connect(sealpost, postfix_peers)
    s.login("apikey", key)
    # The key's mail-send limit is shared with the HTTP API: one API send, then two by SMTP.
    r = requests.post(sealpost.url + "/v3/mail/send", headers={"Authorization": f"Bearer {key}"}, json={
        "personalizations": [{"to": [{"email": "api@plain.test"}]}], "from": {"email": "s@relay.test"}, "subject": "s",
        "content": [{"type": "text/plain", "value": "x"}]})
    assert r.status_code == 202
    for _ in range(2):
        assert s.docmd("MAIL", "FROM:<s@relay.test>")[0] == 250
        s.docmd("RSET")
    code, text = s.docmd("MAIL", "FROM:<s@relay.test>")
    assert code == 451 and text.startswith(b"4.7.0 Rate limit exceeded"), text
    s.quit()

    other = sealpost.key("acme")
    s = connect(sealpost, postfix_peers)
    s.login("apikey", other)
    key_id = other.split(".")[1]
    sealpost.cli("keys", "revoke", "--", key_id) if key_id.startswith("-") else sealpost.cli("keys", "revoke", key_id)
    # The next message after the revocation is refused, and the session must log in again.
    s.mail("s@relay.test")
    s.rcpt("revoked@plain.test")
    code, text = s.data(message("revoked"))
    assert (code, text) == (554, b"5.7.8 Authentication credentials invalid (the API key was revoked); log in again")
    assert s.docmd("MAIL", "FROM:<s@relay.test>") == (530, b"5.7.0 Authentication required")
    s.quit()


def test_enforced_tls_blocks_submitted_mail_like_api_mail(submission, postfix_peers):
    r = requests.patch(submission.url + "/v3/user/settings/enforced_tls", json={"require_tls": True},
                       headers={"Authorization": f"Bearer {submission.api_key}"})
    assert r.status_code == 200
    token = uuid.uuid4().hex
    s = connect(submission, postfix_peers)
    s.login("apikey", submission.api_key)
    s.sendmail("s@relay.test", [f"r-{token}@plain.test"], message(token))
    s.quit()
    event = submission.final_events({f"r-{token}@plain.test"})[f"r-{token}@plain.test"]
    assert (event["event"], event["type"], event["reason"]) == ("bounce", "blocked", "TLS required but not supported")
    assert postfix_peers.find("plain", token, timeout=1) is None


def test_smtputf8_messages_go_only_to_smtputf8_hops(submission, postfix_peers):
    """Submitted with SMTPUTF8 and UTF-8 in its headers, a message stays internationalized: the
    server without SMTPUTF8 gets no copy (553 5.6.7 bounce). Raw 8-bit headers without the
    parameter (a legacy client) are passed on as they came, as Postfix does."""
    token = uuid.uuid4().hex
    intl, old, legacy = f"jö-{token}@plain.test", f"bob-{token}@old.test", f"ann-{token}@old.test"
    s = connect(submission, postfix_peers)
    s.login("apikey", submission.api_key)
    utf8 = f"From: s@relay.test\r\nTo: {intl}, {old}\r\nSubject: utf8 {token}\r\n\r\nx\r\n".encode()
    s.sendmail("s@relay.test", [intl, old], utf8, mail_options=["SMTPUTF8"])
    eight_bit = f"From: s@relay.test\r\nTo: {legacy}\r\nSubject: Grüße {token}\r\n\r\nx\r\n".encode()
    s.sendmail("s@relay.test", [legacy], eight_bit)
    s.quit()
    final = submission.final_events({intl, old, legacy})
    assert (final[intl]["event"], final[legacy]["event"], final[old]["event"]) == ("delivered", "delivered", "bounce")
    assert final[old]["reason"] == "553 5.6.7 the message has UTF-8 headers (a non-ASCII address) and the server lacks SMTPUTF8"
    received = postfix_peers.find_bytes("plain", token, timeout=20).split(b"\nReceived: ")[1].split(b";")[0]
    print(received)
    assert b"with UTF8SMTP" in received, "sent with the SMTPUTF8 parameter (RFC 6531 §3.7.3)"
    arrived = postfix_peers.find_bytes("noutf8", token, timeout=20)
    assert f"Subject: Grüße {token}\n".encode() in arrived and old.encode() not in arrived


def test_swaks_delivers(submission, postfix_peers):
    token = uuid.uuid4().hex
    r = subprocess.run(
        ["swaks", "--server", "localhost", "--port", str(submission.sub_port), "--tls", "--tls-ca-path", postfix_peers.ca,
         "--auth", "PLAIN", "--auth-user", "apikey", "--auth-password", submission.api_key,
         "--from", "s@relay.test", "--to", f"r-{token}@plain.test", "--header", f"Subject: swaks {token}",
         "--body", f"swaks body {token}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "250 2.0.0 Ok: queued as" in r.stdout
    assert postfix_peers.find("plain", f"swaks body {token}", timeout=20) is not None


def test_postfix_relays_through_sealpost_with_apikey(submission, postfix_peers, tmp_path):
    inject = free_port()
    base = Path(f"/tmp/sealpost-submit-{uuid.uuid4().hex[:8]}")
    env = dict(os.environ, SUBMIT_BASE=str(base), SUBMIT_PORT=str(submission.sub_port), SUBMIT_KEY=submission.api_key,
               INJECT_PORT=str(inject), PEERS_BASE=str(postfix_peers.base))
    script = str(REPO / "tests" / "peers" / "pf-submit.sh")
    r = subprocess.run(["sh", script, "up"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        token = uuid.uuid4().hex
        for _ in range(100):
            try:
                c = smtplib.SMTP("127.0.0.1", inject, timeout=10)
                break
            except OSError:
                time.sleep(0.1)
        c.sendmail("app@client.test", [f"r-{token}@plain.test"], message(token))
        c.quit()
        raw = postfix_peers.find_bytes("plain", token, timeout=30)
        log = (base / "log" / "maillog").read_text() if (base / "log" / "maillog").exists() else ""
        assert raw is not None, log[-3000:]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        received = [str(h) for h in msg.get_all("Received")]
        assert any("with ESMTPSA" in h and "Sealpost" in h for h in received), received
        assert "status=sent" in log and f"relay=127.0.0.1[127.0.0.1]:{submission.sub_port}" in log
    finally:
        subprocess.run(["sh", script, "down"], env=env, capture_output=True, timeout=60)


def test_kill_9_right_after_250_loses_nothing(submission, postfix_peers):
    # Delivery is held back (the route leads nowhere) so the messages are only in the queue
    # when the process dies; the restarted server, routed right, delivers every one.
    submission.stop()
    held = tuple("plain.test=localhost:1" if a.startswith("plain.test=") else a for a in submission.submission_args)
    submission.start(*held, "--retry-base", "1")
    tokens = [uuid.uuid4().hex for _ in range(5)]
    s = connect(submission, postfix_peers)
    s.login("apikey", submission.api_key)
    for t in tokens:
        s.mail("s@relay.test")
        s.rcpt(f"r-{t}@plain.test")
        assert s.data(message(t))[0] == 250
    submission.kill9()
    submission.start(*submission.submission_args, "--retry-base", "1")
    for t in tokens:
        assert postfix_peers.find("plain", t, timeout=60) is not None, t


def test_plaintext_after_starttls_is_discarded(submission, postfix_peers):
    """RFC 3207 §4.2 / CVE-2011-0411: a command sent in the same packet as STARTTLS, before the
    handshake, is dropped; the first reply inside TLS answers the first command sent inside TLS."""
    import socket
    raw = socket.create_connection(("127.0.0.1", submission.sub_port), timeout=10)

    def read_reply(sock):
        data = b""
        while not data.endswith(b"\r\n") or data.split(b"\r\n")[-2][3:4] == b"-":
            chunk = sock.recv(1)
            assert chunk, data
            data += chunk
        return data

    assert read_reply(raw).startswith(b"220 ")
    raw.sendall(b"EHLO client.test\r\n")
    assert b"250 STARTTLS" in read_reply(raw)
    raw.sendall(b"STARTTLS\r\nHELP\r\n")  # HELP would answer 214
    assert read_reply(raw) == b"220 2.0.0 Ready to start TLS\r\n"
    tls = tls_context(postfix_peers).wrap_socket(raw, server_hostname="localhost")
    tls.sendall(b"NOOP\r\n")
    assert read_reply(tls) == b"250 2.0.0 Ok\r\n"
    tls.sendall(b"QUIT\r\n")
    assert read_reply(tls) == b"221 2.0.0 Bye\r\n"
    assert "plaintext after STARTTLS discarded" in submission.log_path.read_text()
