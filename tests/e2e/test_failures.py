"""Permanent and temporary failures: 5xx bounces at once, a message that cannot be delivered
within the queue lifetime bounces as expired; each with its event, never silently lost."""
import subprocess
import time

import pytest
from sendgrid import SendGridAPIClient

from conftest import free_port


def start_sink(*flags):
    port = free_port()
    proc = subprocess.Popen(["smtp-sink", "-u", "postfix", *flags, f"127.0.0.1:{port}", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return port, proc


@pytest.fixture
def rejecting_sink():
    """Postfix's smtp-sink answering every RCPT with a 5xx."""
    port, proc = start_sink("-f", "RCPT")
    yield port
    proc.kill()
    proc.wait(5)


@pytest.fixture
def old_servers():
    """smtp-sink without ESMTP (EHLO refused: HELO fallback) and without PIPELINING."""
    helo_only, p1 = start_sink("-e")
    no_pipelining, p2 = start_sink("-p")
    yield helo_only, no_pipelining
    for p in (p1, p2):
        p.kill()
        p.wait(5)


def wait_final(sealpost, email, timeout=30):
    """Every event of `email` once it has a final one."""
    sealpost.final_events({email}, timeout)
    return [e for e in sealpost.events() if e["email"] == email]


def send(sg, email):
    r = sg.client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
        "subject": "x", "content": [{"type": "text/plain", "value": "y"}]})
    assert r.status_code == 202


def test_5xx_bounces_at_once_and_expiry_bounces_after_the_lifetime(sealpost, rejecting_sink):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--route", f"reject.test=localhost:{rejecting_sink}", "--route", "closed.test=localhost:9",
                   "--retry-base", "0.5", "--queue-lifetime", "3", "--smtp-timeout", "2")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    send(sg, "a@reject.test")
    send(sg, "b@closed.test")
    rejected = wait_final(sealpost, "a@reject.test")
    assert [e["event"] for e in rejected] == ["processed", "bounce"], rejected
    # smtp-sink's own reply, exactly: the status comes from the server, not a fallback.
    assert rejected[-1]["type"] == "bounce" and rejected[-1]["reason"] == "500 5.3.0 Error: command failed", rejected[-1]
    assert rejected[-1]["status"] == "5.3.0"

    expired = wait_final(sealpost, "b@closed.test", timeout=30)
    kinds = [e["event"] for e in expired]
    assert kinds[0] == "processed" and kinds[-1] == "bounce" and "deferred" in kinds, kinds
    assert expired[-1]["reason"].startswith("message expired in queue after "), expired[-1]
    assert expired[-1]["status"] == "5.4.7", expired[-1]  # RFC 3463: delivery time expired
    # Nothing is left in the queue: every recipient ended with an event.
    import sqlite3
    states = dict(sqlite3.connect(sealpost.db).execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
    assert states == {"bounced": 2}


def test_helo_fallback_and_unpipelined_servers(sealpost, old_servers):
    helo_only, no_pipelining = old_servers
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("subusers", "create", "--parent", "acme", "strict")
    key = sealpost.key("acme")
    strict = sealpost.key("strict")
    sealpost.start("--route", f"helo.test=localhost:{helo_only}", "--route", f"nopipe.test=localhost:{no_pipelining}",
                   "--smtp-timeout", "5")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    SendGridAPIClient(api_key=strict, host=sealpost.url).client.user.settings.enforced_tls.patch(request_body={"require_tls": True})
    r = sg.client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": "a@helo.test"}, {"email": "b@helo.test"}]}, {"to": [{"email": "c@nopipe.test"}]}],
        "from": {"email": "s@relay.test"}, "subject": "x", "content": [{"type": "text/plain", "value": "y"}]})
    assert r.status_code == 202
    SendGridAPIClient(api_key=strict, host=sealpost.url).client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": "d@helo.test"}]}], "from": {"email": "s@relay.test"},
        "subject": "x", "content": [{"type": "text/plain", "value": "y"}]})
    for email in ("a@helo.test", "b@helo.test", "c@nopipe.test"):
        evs = wait_final(sealpost, email)
        assert evs[-1]["event"] == "delivered" and evs[-1]["tls"] == 0, evs
    blocked = wait_final(sealpost, "d@helo.test")[-1]
    assert blocked["type"] == "blocked" and blocked["tls_failure"]["result_type"] == "starttls-not-supported"
    import requests
    metrics = requests.get(sealpost.url + "/metrics", timeout=5).text
    assert 'sealpost_deliveries_total{result="delivered",tls_version="none",tls_policy="opportunistic"} 3' in metrics, metrics[-1500:]
    assert 'sealpost_deliveries_total{result="blocked",tls_version="none",tls_policy="enforced_tls"} 1' in metrics
