"""DANE (RFC 7672) against real Postfix receivers behind a real DNSSEC lab (nsd signed zones, a
validating unbound on loopback; tests/peers/dnssec-lab.sh). One recipient domain per case:
DANE-EE 3 1 1 matching a self-signed certificate (delivered, verified, also under
require_valid_cert), 3 1 1 not matching (deferred, nothing sent, validation-failure, then bounced
as blocked at the queue lifetime), 2 0 1 naming the test CA with the right and the wrong MX name,
only unusable records (TLS without authentication, tlsa-invalid recorded), a bogus TLSA RRset
(deferred, dnssec-invalid), an insecure zone (the account's policy only), no STARTTLS behind a
usable TLSA (deferred, never plaintext), a failing first MX with the next one matching, a secure
CNAME, and no TLSA at all."""
import json
import uuid

from sendgrid import SendGridAPIClient


def test_dane_matrix(sealpost, postfix_peers, dnssec_lab):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("accounts", "create", "strict")
    acme, strict = sealpost.key("acme"), sealpost.key("strict")
    sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--queue-lifetime", "8", "--retry-base", "1",
                   "--smtp-timeout", "5")
    assert "DANE is on" in sealpost.log()
    sg = SendGridAPIClient(api_key=acme, host=sealpost.url)
    sg_strict = SendGridAPIClient(api_key=strict, host=sealpost.url)
    r = sg_strict.client.user.settings.enforced_tls.patch(request_body={"require_valid_cert": True})
    assert r.status_code == 200
    token = uuid.uuid4().hex
    cases = {  # recipient -> (sender client, receiver that may hold it)
        f"ee-{token}@ee.dane.test": (sg, "labself"),
        f"eestrict-{token}@ee.dane.test": (sg_strict, "labself"),
        f"eebad-{token}@eebad.dane.test": (sg, "labself"),
        f"ta-{token}@ta.dane.test": (sg, "labca"),
        f"tawrong-{token}@tawrong.dane.test": (sg, "labca"),
        f"unusable-{token}@unusable.dane.test": (sg, "labself"),
        f"bogus-{token}@bogus.test": (sg, "labself"),
        f"insecure-{token}@insecure.test": (sg, "labself"),
        f"insecurestrict-{token}@insecure.test": (sg_strict, "labself"),
        f"plain-{token}@plain.dane.test": (sg, "labplain"),
        f"fallback-{token}@fallback.dane.test": (sg, "labself"),
        f"cname-{token}@cname.dane.test": (sg, "labself"),
        f"notlsa-{token}@notlsa.dane.test": (sg, "labself"),
    }
    for to, (client, _) in cases.items():
        body = {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": f"dane {token}",
                "content": [{"type": "text/plain", "value": f"to {to}"}]}
        assert client.client.mail.send.post(request_body=body).status_code == 202
    final = sealpost.final_events(cases, timeout=90)
    events = sealpost.events()

    def first_deferred(to):
        return next(e for e in events if e["email"] == to and e["event"] == "deferred")

    def stored(to):
        return postfix_peers.find(cases[to][1], f"to {to}", timeout=5) is not None

    def name(prefix):
        return next(to for to in cases if to.startswith(prefix + "-"))

    # usable TLSA, matching: delivered over TLS, DANE set the level, also under require_valid_cert
    for prefix in ("ee", "eestrict", "ta", "fallback", "cname"):
        e = final[name(prefix)]
        assert (e["event"], e["tls"], e["tls_policy"]) == ("delivered", 1, "dane" if prefix != "eestrict" else "enforced_tls"), e
        assert stored(name(prefix)), prefix
    assert final[name("fallback")]["mx"] == "mx-ee.dane.test"
    assert final[name("ta")]["mx"] == "mx-ta.dane.test"

    # the recipient's policy not met: deferred with tls_failure (nothing sent), then blocked at the lifetime
    for prefix, result_type in (("eebad", "validation-failure"), ("tawrong", "validation-failure"),
                                ("bogus", "dnssec-invalid"), ("plain", "starttls-not-supported")):
        to = name(prefix)
        d = first_deferred(to)
        assert d["tls_failure"]["policy"] == "dane", d
        assert d["tls_failure"]["result_type"] == result_type, (prefix, d)
        assert d["tls_failure"]["required_level"] == "dane", d
        e = final[to]
        assert (e["event"], e["type"], e["status"]) == ("bounce", "blocked", "5.7.10"), e
        assert e["tls_failure"]["result_type"] == result_type and "(TLS policy dane)" in e["reason"], e
        assert not stored(to), f"{prefix}: mail was sent although DANE refused the host"

    # only unusable TLSA records: TLS without authentication, tlsa-invalid recorded
    e = final[name("unusable")]
    assert (e["event"], e["tls"], e["tls_recorded"]) == ("delivered", 1, ["tlsa-invalid"]), e
    assert e["tls_policy"] == "dane"

    # insecure zone and no TLSA: the account's setting alone decides
    e = final[name("insecure")]
    assert (e["event"], e["tls"], e["tls_policy"]) == ("delivered", 1, "opportunistic"), e
    e = final[name("insecurestrict")]
    assert (e["event"], e["type"], e["tls_failure"]["policy"], e["tls_failure"]["result_type"]) == (
        "bounce", "blocked", "enforced_tls", "certificate-not-trusted"), e
    assert not any(ev["event"] == "deferred" for ev in events if ev["email"] == name("insecurestrict"))
    e = final[name("notlsa")]
    assert (e["event"], e["tls_policy"]) == ("delivered", "opportunistic"), e
    # the per-attempt log line names DANE's state
    log = sealpost.log()
    assert "recipient_policies=dane=usable (1 TLSA)" in log, log[-3000:]
    assert "recipient_policies=dane=tlsa-invalid" in log


def test_dane_off_and_untrusted_resolvers(sealpost, postfix_peers, dnssec_lab):
    """--dane off: the account's setting alone (a mismatching TLSA record does not stop the mail)."""
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start(*dnssec_lab.serve_args, "--dane", "off", "--smtp-timeout", "5")
    assert "DANE is off" in sealpost.log() and "--dane off" in sealpost.log()
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    to = f"off-{uuid.uuid4().hex}@eebad.dane.test"
    body = {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": "dane off",
            "content": [{"type": "text/plain", "value": f"to {to}"}]}
    assert sg.client.mail.send.post(request_body=body).status_code == 202
    e = sealpost.final_events({to})[to]
    assert (e["event"], e["tls_policy"]) == ("delivered", "opportunistic"), e
    assert postfix_peers.find("labself", f"to {to}", timeout=5) is not None
    sealpost.stop()
    bad = sealpost.cli("serve", "--dane", "maybe", check=False)
    assert bad.returncode != 0 and "--dane must be on or off, got maybe" in bad.stderr
    # a resolver off loopback: its AD bit is not believed, DANE is off and says why
    sealpost.start("--dns-server", "192.0.2.1:53", "--dane", "on")
    assert "DANE is off" in sealpost.log() and "not on a loopback address" in sealpost.log()
    json.dumps({})


def test_tls_required_no_waives_only_the_recipients_policies(sealpost, postfix_peers, dnssec_lab):
    """RFC 8689 `TLS-Required: No` (API header or submitted message): a host DANE refuses gets the
    mail opportunistically; the sender's own require_tls still blocks a plaintext-only host."""
    import smtplib
    import ssl

    from conftest import free_port
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("accounts", "create", "strict")
    acme, strict = sealpost.key("acme"), sealpost.key("strict")
    certs = postfix_peers.base / "certs"
    port = free_port()
    sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--retry-base", "60", "--smtp-timeout", "5",
                   "--submission", f"127.0.0.1:{port}", "--smtp-tls-cert", str(certs / "localhost.chain.crt"),
                   "--smtp-tls-key", str(certs / "localhost.key"))
    sg, sg_strict = SendGridAPIClient(api_key=acme, host=sealpost.url), SendGridAPIClient(api_key=strict, host=sealpost.url)
    assert sg_strict.client.user.settings.enforced_tls.patch(request_body={"require_tls": True}).status_code == 200
    token = uuid.uuid4().hex[:8]
    waived, refused, strict_plain = f"w-{token}@eebad.dane.test", f"r-{token}@eebad.dane.test", f"s-{token}@plain.dane.test"

    def send(client, to, waive):
        body = {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": f"trn {token}",
                "content": [{"type": "text/plain", "value": f"to {to}"}]}
        if waive:
            body["headers"] = {"TLS-Required": "No"}
        assert client.client.mail.send.post(request_body=body).status_code == 202

    send(sg, waived, True)
    send(sg, refused, False)
    send(sg_strict, strict_plain, True)
    s = smtplib.SMTP("localhost", port, timeout=30)
    s.starttls(context=ssl.create_default_context(cafile=postfix_peers.ca))
    s.login("apikey", acme)
    smtp_waived = f"smtp-{token}@eebad.dane.test"
    s.sendmail("s@acme.test", [smtp_waived], f"From: s@acme.test\r\nTLS-Required: no\r\nSubject: x\r\n\r\nto {smtp_waived}\r\n".encode())
    s.quit()
    final = sealpost.final_events({waived, smtp_waived, strict_plain}, timeout=60)
    for to in (waived, smtp_waived):
        e = final[to]
        assert (e["event"], e["tls"], e["tls_policy"]) == ("delivered", 1, "opportunistic"), e
        assert postfix_peers.find("labself", f"to {to}", timeout=5) is not None
    e = final[strict_plain]
    assert (e["event"], e["type"], e["tls_failure"]["policy"]) == ("bounce", "blocked", "enforced_tls"), e
    deferred = next(e for e in sealpost.events() if e["email"] == refused and e["event"] in ("deferred", "delivered"))
    assert deferred["event"] == "deferred" and deferred["tls_failure"]["policy"] == "dane"
