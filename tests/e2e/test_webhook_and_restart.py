"""Event Webhook delivery (batches, retries while the receiver is down) and the queue across
`kill -9`: every accepted message ends delivered exactly once or reported, none missing."""
import json
import time
import uuid

import pytest
from sendgrid import SendGridAPIClient

from peers import wait
from webhook_receiver import Receiver

# Every test here runs on SQLite and on PostgreSQL (see conftest.pytest_generate_tests).
BACKENDS = ["sqlite", "postgres"]


def mail(to, token):
    return {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@relay.test"},
            "subject": f"t {token}", "content": [{"type": "text/plain", "value": token}]}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_webhook_settings_and_delivery_with_receiver_down(sealpost, postfix_peers, receiver):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--route", f"ca.test=localhost:{postfix_peers.port_of('ca')}", "--route",
                   f"plain.test=localhost:{postfix_peers.port_of('plain')}", "--trust-roots", postfix_peers.ca)
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    settings = json.loads(sg.client.user.webhooks.event.settings.get().body)
    assert settings["enabled"] is False and settings["delivered"] is False
    receiver.fail_with = 503  # down at first
    r = sg.client.user.webhooks.event.settings.patch(request_body={
        "enabled": True, "url": receiver.url, "processed": True, "delivered": True, "bounce": True, "deferred": True})
    assert json.loads(r.body)["url"] == receiver.url
    with pytest.raises(Exception):
        sg.client.user.webhooks.event.settings.patch(request_body={"url": "ftp://nope"})

    sg.client.user.settings.enforced_tls.patch(request_body={"require_tls": True})
    tokens = [uuid.uuid4().hex for _ in range(3)]
    sg.client.mail.send.post(request_body=mail("a@ca.test", tokens[0]))
    sg.client.mail.send.post(request_body=mail("b@ca.test", tokens[1]))
    sg.client.mail.send.post(request_body=mail("c@plain.test", tokens[2]))  # blocked: no STARTTLS
    wait(lambda: postfix_peers.find("ca", tokens[1]), what="delivery")
    time.sleep(1.5)
    assert receiver.events == []  # receiver still down: nothing acknowledged yet
    receiver.fail_with = None
    events = wait(lambda: len(receiver.events) >= 6 and receiver.events, timeout=90, what="webhook events")
    kinds = sorted((e["email"], e["event"], e.get("type")) for e in events)
    assert kinds == [("a@ca.test", "delivered", None), ("a@ca.test", "processed", None),
                     ("b@ca.test", "delivered", None), ("b@ca.test", "processed", None),
                     ("c@plain.test", "bounce", "blocked"), ("c@plain.test", "processed", None)]
    blocked = next(e for e in events if e["event"] == "bounce")
    assert blocked["reason"] == "TLS required but not supported"
    assert blocked["tls_failure"]["result_type"] == "starttls-not-supported"
    assert len({e["sg_event_id"] for e in events}) == len(events)


def test_queue_survives_kill_9(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    # First run: the route points at a closed port, so everything stays queued (deferred).
    sealpost.start("--route", "ca.test=localhost:9", "--retry-base", "1", "--smtp-timeout", "2")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    tokens = {}
    for i in range(20):
        token = uuid.uuid4().hex
        r = sg.client.mail.send.post(request_body=mail(f"r{i}@ca.test", token))
        assert r.status_code == 202
        tokens[f"r{i}@ca.test"] = token
    time.sleep(1)
    sealpost.kill9()
    # Second run: the right route. Every message must arrive exactly once.
    sealpost.start("--route", f"ca.test=localhost:{postfix_peers.port_of('ca')}", "--retry-base", "1",
                   "--trust-roots", postfix_peers.ca)
    for email, token in tokens.items():
        assert wait(lambda: postfix_peers.find("ca", token), timeout=60, what=email)
    time.sleep(2)
    store = postfix_peers.base / "mail" / str(postfix_peers.port_of("ca")) / "new"
    for email, token in tokens.items():
        copies = [f for f in store.iterdir() if token in f.read_text(errors="replace")]
        assert len(copies) == 1, f"{email} arrived {len(copies)} times"
    events = sealpost.events()
    for email in tokens:
        mine = [e["event"] for e in events if e["email"] == email]
        assert mine[0] == "processed" and mine[-1] == "delivered" and mine.count("delivered") == 1, (email, mine)
