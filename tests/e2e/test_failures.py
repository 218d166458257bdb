"""Permanent and temporary failures: 5xx bounces at once, a message that cannot be delivered
within the queue lifetime bounces as expired; each with its event, never silently lost."""
import json
import subprocess
import time

import pytest
from sendgrid import SendGridAPIClient

from conftest import free_port


@pytest.fixture
def rejecting_sink():
    """Postfix's smtp-sink answering every RCPT with a 5xx."""
    port = free_port()
    proc = subprocess.Popen(["smtp-sink", "-u", "postfix", "-f", "RCPT", f"127.0.0.1:{port}", "64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    yield port
    proc.kill()
    proc.wait(5)


def events_of(sealpost, email):
    return [json.loads(l) for l in sealpost.cli("events").stdout.splitlines() if json.loads(l)["email"] == email]


def wait_final(sealpost, email, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        evs = events_of(sealpost, email)
        if evs and evs[-1]["event"] in ("delivered", "bounce"):
            return evs
        time.sleep(0.2)
    raise AssertionError(f"no final event for {email}: {events_of(sealpost, email)}")


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
    assert rejected[-1]["type"] == "bounce" and rejected[-1]["reason"].startswith("5")
    assert rejected[-1]["status"].startswith("5.")

    expired = wait_final(sealpost, "b@closed.test", timeout=30)
    kinds = [e["event"] for e in expired]
    assert kinds[0] == "processed" and kinds[-1] == "bounce" and "deferred" in kinds, kinds
    assert "expired" in expired[-1]["reason"]
    # Nothing is left in the queue: every recipient ended with an event.
    import sqlite3
    states = dict(sqlite3.connect(sealpost.db).execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
    assert states == {"bounced": 2}
