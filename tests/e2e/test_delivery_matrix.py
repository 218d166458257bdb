"""Enforced TLS against real Postfix receivers: every server configuration × every setting.
Mail is sent with the official SendGrid library; what arrived (and over which TLS version,
from Postfix's Received: header) or the block event, its tls_failure and the blocks list are checked."""
import json
import time
import uuid

import pytest
from sendgrid import SendGridAPIClient

from peers import OFFSETS, Peers
from webhook_receiver import Receiver

# Every test here runs on SQLite and on PostgreSQL (see conftest.pytest_generate_tests).
BACKENDS = ["sqlite", "postgres"]

SETTINGS = {
    "opportunistic": {"require_tls": False, "require_valid_cert": False, "version": 1.1},
    "tls12": {"require_tls": True, "require_valid_cert": False, "version": 1.2},
    "tls13": {"require_tls": True, "require_valid_cert": False, "version": 1.3},
    "validcert": {"require_tls": False, "require_valid_cert": True, "version": 1.1},
}

# expected outcome per setting and server: a TLS version ("plain" for none) or ("blocked", result type).
# BoringSSL (swift-nio-ssl) still negotiates TLS 1.1, so `version: 1.1` really admits TLS 1.1 servers.
B = "blocked"
EXPECT = {
    "opportunistic": {"plain": "plain", "selfsigned": "1.3", "ca": "1.3", "tls12": "1.2", "tls13": "1.3",
                      "tls11": "1.1", "wrongname": "1.3", "expired": "1.3", "required": "1.3"},
    "tls12": {"plain": (B, "starttls-not-supported"), "selfsigned": "1.3", "ca": "1.3", "tls12": "1.2", "tls13": "1.3",
              "tls11": (B, "tls-version-too-low"), "wrongname": "1.3", "expired": "1.3", "required": "1.3"},
    "tls13": {"plain": (B, "starttls-not-supported"), "selfsigned": "1.3", "ca": "1.3", "tls12": (B, "tls-version-too-low"),
              "tls13": "1.3", "tls11": (B, "tls-version-too-low"), "wrongname": "1.3", "expired": "1.3", "required": "1.3"},
    "validcert": {"plain": (B, "starttls-not-supported"), "selfsigned": (B, "certificate-not-trusted"), "ca": "1.3",
                  "tls12": "1.2", "tls13": "1.3", "tls11": "1.1", "wrongname": (B, "certificate-host-mismatch"),
                  "expired": (B, "certificate-expired"), "required": "1.3"},
}


@pytest.fixture
def relay(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    routes = []
    for name in OFFSETS:
        routes += ["--route", f"{name}.test=localhost:{postfix_peers.port_of(name)}"]
    sealpost.start("--rate-limit", "100000", "--trust-roots", postfix_peers.ca, "--helo-name", "relay.test",
                   "--retry-base", "1", *routes)
    return sealpost


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_every_setting_against_every_server(relay, postfix_peers, receiver):
    peers: Peers = postfix_peers
    sent = {}  # email -> (setting, server, token)
    for setting, body in SETTINGS.items():
        relay.cli("subusers", "create", "--parent", "acme", f"u-{setting}")
        key = relay.key(f"u-{setting}")
        sg = SendGridAPIClient(api_key=key, host=relay.url)
        assert json.loads(sg.client.user.settings.enforced_tls.patch(request_body=body).body) == body
        sg.client.user.webhooks.event.settings.patch(request_body={"enabled": True, "url": receiver.url, "delivered": True, "bounce": True})
        for server in EXPECT[setting]:
            token = uuid.uuid4().hex
            email = f"{setting}-{token[:8]}@{server}.test"
            r = sg.client.mail.send.post(request_body={
                "personalizations": [{"to": [{"email": email}], "custom_args": {"case": f"{setting}/{server}"}}],
                "from": {"email": "sender@relay.test"},
                "subject": f"matrix {token}",
                "content": [{"type": "text/plain", "value": f"token {token}"}],
                "categories": ["matrix"],
            })
            assert r.status_code == 202 and r.headers["X-Message-Id"]
            sent[email] = (setting, server, token, r.headers["X-Message-Id"])

    events = relay.final_events(sent)
    blocked_by_user = {}
    for email, (setting, server, token, message_id) in sent.items():
        want = EXPECT[setting][server]
        event = events[email]
        case = f"{setting} × {server}"
        assert event["sg_message_id"].startswith(message_id), case
        assert event["case"] == f"{setting}/{server}" and event["category"] == ["matrix"], case
        if isinstance(want, tuple):
            assert event["event"] == "bounce" and event["type"] == "blocked", (case, event)
            assert event["reason"] == "TLS required but not supported", case
            assert event["tls_failure"]["result_type"] == want[1], (case, event)
            assert event["tls"] == 0
            assert peers.find(server, token) is None, f"{case}: a blocked message reached the server"
            blocked_by_user.setdefault(setting, set()).add(email)
        else:
            assert event["event"] == "delivered", (case, event)
            stored = peers.find(server, token, timeout=10)
            assert stored is not None, f"{case}: delivered event but nothing in the Maildir"
            got = peers.tls_version(stored) or "plain"
            assert got == want, f"{case}: arrived over {got}, expected {want}"
            assert event["tls"] == (0 if want == "plain" else 1), case
            if want != "plain":
                assert event["tls_version"] == want, case

    # The Event Webhook received the same final events (posted in JSON-array batches).
    deadline = time.time() + 30
    while time.time() < deadline and len({e["email"] for e in receiver.events if e["email"] in sent}) < len(sent):
        time.sleep(0.2)
    posted = {e["email"]: e for e in receiver.events if e["event"] in ("delivered", "bounce")}
    assert set(posted) == set(sent)
    for email, event in events.items():
        assert posted[email]["sg_event_id"] == event["sg_event_id"]
        assert posted[email].get("tls_failure") == event.get("tls_failure")

    # The blocks list of each user holds exactly its blocked addresses.
    for setting in SETTINGS:
        key = relay.key(f"u-{setting}")
        sg = SendGridAPIClient(api_key=key, host=relay.url)
        listed = json.loads(sg.client.suppression.blocks.get().body)
        assert {b["email"] for b in listed} == blocked_by_user.get(setting, set()), setting
        assert all(b["reason"] == "TLS required but not supported" for b in listed)


def test_blocked_mail_is_not_retried_and_can_be_unblocked(relay, postfix_peers):
    key = relay.key("acme")
    sg = SendGridAPIClient(api_key=key, host=relay.url)
    sg.client.user.settings.enforced_tls.patch(request_body={"require_tls": True})
    email = f"once-{uuid.uuid4().hex[:8]}@plain.test"
    sg.client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
        "subject": "x", "content": [{"type": "text/plain", "value": "y"}]})
    relay.final_events({email})
    time.sleep(3)  # several retry periods (--retry-base 1): a block must not be retried
    mine = [e["event"] for e in relay.events() if e["email"] == email]
    assert mine == ["processed", "bounce"]
    assert sg.client.suppression.blocks._(email).delete().status_code == 204
    assert json.loads(sg.client.suppression.blocks.get().body) == []
