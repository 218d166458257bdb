"""Certificates whose extended key usage is marked critical (RFC 5280 §4.2.1.12), against real
Postfix receivers, under require_valid_cert: `serverAuth` is a valid server certificate and the
mail is delivered; `clientAuth` only is not one, and the mail is blocked."""
import json
import uuid

from sendgrid import SendGridAPIClient


def test_critical_extended_key_usage(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--trust-roots", postfix_peers.ca,
                   "--route", f"ekucritical.test=localhost:{postfix_peers.port_of('ekucritical')}",
                   "--route", f"clientonly.test=localhost:{postfix_peers.port_of('clientonly')}")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    body = {"require_tls": False, "require_valid_cert": True, "version": 1.2}
    assert json.loads(sg.client.user.settings.enforced_tls.patch(request_body=body).body) == body
    sent = {}
    for server in ("ekucritical", "clientonly"):
        token = uuid.uuid4().hex
        email = f"r-{token[:8]}@{server}.test"
        r = sg.client.mail.send.post(request_body={
            "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
            "subject": f"eku {token}", "content": [{"type": "text/plain", "value": f"token {token}"}]})
        assert r.status_code == 202
        sent[server] = (email, token)
    events = sealpost.final_events({email for email, _ in sent.values()})

    email, token = sent["ekucritical"]
    assert events[email]["event"] == "delivered", events[email]
    assert events[email]["tls"] == 1
    stored = postfix_peers.find("ekucritical", token, timeout=10)
    assert stored is not None and postfix_peers.tls_version(stored) == "1.3"

    email, token = sent["clientonly"]
    e = events[email]
    assert (e["event"], e["type"], e["reason"]) == ("bounce", "blocked", "TLS required but not supported"), e
    assert e["tls_failure"]["result_type"] == "certificate-not-trusted", e
    assert postfix_peers.find("clientonly", token) is None
