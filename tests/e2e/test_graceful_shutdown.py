"""SIGTERM: intake closes (503), the SMTP session in flight finishes, the rest stays queued and
resumes after a restart."""
import time

import requests
from sendgrid import SendGridAPIClient

from hostile_smtp import SlowAcceptServer


def test_sigterm_drains_then_stops_and_the_queue_resumes(sealpost):
    slow = SlowAcceptServer(delay=3)
    try:
        sealpost.cli("accounts", "create", "acme")
        key = sealpost.key("acme")
        # later@later.test is deferred at once (nothing listens on port 9) and due again 8 s later:
        # after the shutdown, so the restarted server must find it in the queue and deliver it.
        sealpost.start("--route", f"slow.test=localhost:{slow.port}", "--route", "later.test=localhost:9",
                       "--retry-base", "8", "--smtp-timeout", "10", "--shutdown-grace", "20")
        sg = SendGridAPIClient(api_key=key, host=sealpost.url)
        body = lambda to: {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@relay.test"},
                           "subject": "x", "content": [{"type": "text/plain", "value": "y"}]}
        sg.client.mail.send.post(request_body=body("later@later.test"))  # deferred: stays queued
        time.sleep(1)
        sg.client.mail.send.post(request_body=body("a@slow.test"))
        deadline = time.time() + 10
        while slow.connections == 0 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the message is in DATA now; the server answers in 3 s
        started = time.time()
        sealpost.proc.send_signal(15)
        time.sleep(0.5)
        r = requests.post(sealpost.url + "/v3/mail/send", headers={"Authorization": f"Bearer {key}"},
                          json=body("b@slow.test"), timeout=5)
        assert r.status_code == 503, r.status_code
        assert r.json()["errors"][0]["message"].startswith("service unavailable")
        assert sealpost.proc.wait(30) == 0
        assert time.time() - started >= 2, "it waited for the session in flight"
        events = sealpost.events()
        assert [e["event"] for e in events if e["email"] == "a@slow.test"] == ["processed", "delivered"]
        assert not any(e["email"] == "b@slow.test" for e in events), "refused mail was not queued"
        assert "shutting down: sessions finished" in sealpost.log()
        # The deferred message is still there, queued, and the restarted server delivers it.
        import sqlite3
        states = dict(sqlite3.connect(sealpost.db).execute("SELECT recipient, state FROM deliveries").fetchall())
        assert states == {"later@later.test": "queued", "a@slow.test": "delivered"}
        before = len(slow.received)
        sealpost.start("--route", f"later.test=localhost:{slow.port}", "--retry-base", "8")
        sealpost.final_events({"later@later.test"}, 40)
        assert [e["event"] for e in sealpost.events() if e["email"] == "later@later.test"] == ["processed", "deferred", "delivered"]
        assert b"RCPT TO:<later@later.test>" in bytes(slow.received[before:])
        states = dict(sqlite3.connect(sealpost.db).execute("SELECT recipient, state FROM deliveries").fetchall())
        assert states == {"later@later.test": "delivered", "a@slow.test": "delivered"}
    finally:
        slow.close()
