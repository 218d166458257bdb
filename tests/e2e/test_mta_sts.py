"""MTA-STS (RFC 8461) against real Postfix receivers, the lab's resolver (sts.test, TTL 1) and a
loopback HTTPS policy host (tests/peers/sts-host.py, certificate from the test CA), on SQLite and
PostgreSQL: enforce with a matching MX and a valid certificate (delivered), an MX not in the
policy (never connected to), a certificate for the wrong name (deferred, then blocked at the
lifetime), testing (delivered with tls_policy_violation), a failing fetch without a cached
policy (delivered, sts-policy-fetch-error recorded) and one whose certificate is wrong
(sts-webpki-invalid), a TXT id change picked up, a failing refetch keeping the cached policy,
and the cache surviving a restart with the policy host gone."""
import time
import uuid

from sendgrid import SendGridAPIClient

BACKENDS = ["sqlite", "postgres"]

ENFORCE = "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n"
ENFORCE_WILDCARD = "version: STSv1\nmode: enforce\nmx: *.sts.test\nmax_age: 86400\n"
TESTING = "version: STSv1\nmode: testing\nmx: *.sts.test\nmax_age: 86400\n"


def send(sg, to, token):
    body = {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": f"sts {token}",
            "content": [{"type": "text/plain", "value": f"to {to}"}]}
    assert sg.client.mail.send.post(request_body=body).status_code == 202


def test_mta_sts_matrix(sealpost, postfix_peers, dnssec_lab, sts_host):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    args = (*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--mta-sts-port", str(sts_host.port),
            "--queue-lifetime", "8", "--retry-base", "1", "--smtp-timeout", "5")
    sealpost.start(*args)
    assert "MTA-STS is on" in sealpost.log()
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    sts_host.serve("enforce.sts.test", ENFORCE)
    sts_host.serve("notlisted.sts.test", ENFORCE)
    sts_host.serve("wrongname.sts.test", ENFORCE_WILDCARD)
    sts_host.serve("testing.sts.test", TESTING)
    sts_host.serve("nofetch.sts.test", None)
    sts_host.serve("badcert.sts.test", ENFORCE)
    sts_host.serve("cached.sts.test", TESTING)
    token = uuid.uuid4().hex
    to = {d: f"{d}-{token}@{d}.sts.test" for d in ("enforce", "notlisted", "wrongname", "testing", "nofetch", "badcert", "cached")}
    plain_connections = postfix_peers.connections("labplain")
    for address in to.values():
        send(sg, address, token)
    final = sealpost.final_events(to.values(), timeout=90)
    events = sealpost.events()

    e = final[to["enforce"]]
    assert (e["event"], e["tls"], e["tls_policy"], e["mx"]) == ("delivered", 1, "mta-sts", "mx.sts.test"), e
    assert postfix_peers.find("labca", f"to {to['enforce']}", timeout=5) is not None

    for d, result_type in (("notlisted", "validation-failure"), ("wrongname", "certificate-host-mismatch")):
        deferred = next((ev for ev in events if ev["email"] == to[d] and ev["event"] == "deferred"), [ev for ev in events if ev["email"] == to[d]])
        assert isinstance(deferred, dict), deferred
        assert (deferred["tls_failure"]["policy"], deferred["tls_failure"]["result_type"]) == ("mta-sts", result_type), deferred
        assert deferred["tls_failure"]["required_level"] == "verify"
        e = final[to[d]]
        assert (e["event"], e["type"], e["tls_failure"]["result_type"]) == ("bounce", "blocked", result_type), e
        assert "(TLS policy mta-sts)" in e["reason"]
    # an MX outside the policy is never connected to
    assert postfix_peers.connections("labplain") == plain_connections
    assert postfix_peers.find("labca", f"to {to['wrongname']}", timeout=1) is None

    e = final[to["testing"]]
    assert (e["event"], e["tls_policy"], e["tls_policy_violation"]) == ("delivered", "opportunistic", "certificate-host-mismatch"), e
    e = final[to["nofetch"]]
    assert (e["event"], e["tls_policy"], e["tls_recorded"]) == ("delivered", "opportunistic", ["sts-policy-fetch-error"]), e
    e = final[to["badcert"]]
    assert (e["event"], e["tls_recorded"]) == ("delivered", ["sts-webpki-invalid"]), e
    assert sts_host.fetches("badcert.sts.test") == 0  # the handshake failed before any request
    e = final[to["cached"]]
    assert (e["event"], e["tls_policy"]) == ("delivered", "opportunistic") and "tls_policy_violation" not in e, e
    assert sts_host.fetches("cached.sts.test") == 1
    assert sts_host.fetches("enforce.sts.test") == 1

    # a new TXT id is picked up: the enforcing policy replaces the testing one
    sts_host.serve("cached.sts.test", ENFORCE)
    dnssec_lab.set_sts_id("cached", "c2")
    time.sleep(2.5)  # the TXT record's TTL (1 s) in unbound and in Sealpost's cache
    second = f"cached2-{token}@cached.sts.test"
    send(sg, second, token)
    e = sealpost.final_events({second})[second]
    assert (e["event"], e["tls_policy"]) == ("delivered", "mta-sts"), e
    assert sts_host.fetches("cached.sts.test") == 2

    # the refetch for the next id fails: the unexpired cached policy stays in force
    sts_host.serve("cached.sts.test", ENFORCE, status=500)
    dnssec_lab.set_sts_id("cached", "c3")
    time.sleep(2.5)
    third = f"cached3-{token}@cached.sts.test"
    send(sg, third, token)
    e = sealpost.final_events({third})[third]
    assert (e["event"], e["tls_policy"]) == ("delivered", "mta-sts") and "tls_recorded" not in e, e
    assert sts_host.fetches("cached.sts.test") == 3

    # the cache survives a restart, with the policy host gone
    sealpost.stop()
    sts_host.stop()
    sealpost.start(*args)
    fourth = f"cached4-{token}@cached.sts.test"
    send(sg, fourth, token)
    e = sealpost.final_events({fourth})[fourth]
    assert (e["event"], e["tls_policy"]) == ("delivered", "mta-sts"), e
    assert "mta-sts=enforce" in sealpost.log()
