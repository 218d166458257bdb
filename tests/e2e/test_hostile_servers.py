"""Receiving servers that lie or misbehave (issue: reliability and security). Under require_tls
nothing is ever sent in plaintext; broken servers fail the delivery cleanly (deferred, not lost,
not marked delivered) and other deliveries go on."""
import sqlite3
import time
import uuid

import pytest
from sendgrid import SendGridAPIClient

from hostile_smtp import HostileServer

MODES = ["hide", "refuse454", "refuse502", "inject", "overlong", "endless", "invalid", "drip", "dropdata"]


@pytest.fixture
def hostile():
    servers = {m: HostileServer(m) for m in MODES}
    yield servers
    for s in servers.values():
        s.close()


def send(sg, email, token):
    r = sg.client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
        "subject": f"secret {token}", "content": [{"type": "text/plain", "value": f"secret body {token}"}]})
    assert r.status_code == 202


def test_hostile_servers(sealpost, hostile):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("subusers", "create", "--parent", "acme", "strict")
    lax, strict = sealpost.key("acme"), sealpost.key("strict")
    routes = []
    for mode, server in hostile.items():
        routes += ["--route", f"{mode}.test=localhost:{server.port}"]
    sealpost.start("--smtp-timeout", "3", "--retry-base", "30", *routes)
    SendGridAPIClient(api_key=strict, host=sealpost.url).client.user.settings.enforced_tls.patch(request_body={"require_tls": True})
    lax_sg = SendGridAPIClient(api_key=lax, host=sealpost.url)
    strict_sg = SendGridAPIClient(api_key=strict, host=sealpost.url)
    token = uuid.uuid4().hex

    # STARTTLS stripping: under require_tls nothing but EHLO/STARTTLS/QUIT reaches the server.
    for mode in ("hide", "refuse454", "refuse502"):
        send(strict_sg, f"strict@{mode}.test", token)
    deadline = time.time() + 20
    while time.time() < deadline and sum(1 for e in sealpost.events() if e["event"] == "bounce") < 3:
        time.sleep(0.2)
    for mode in ("hide", "refuse454", "refuse502"):
        got = bytes(hostile[mode].received)
        assert b"MAIL FROM" not in got and b"DATA" not in got and token.encode() not in got, (mode, got)
        e = [x for x in sealpost.events() if x["email"] == f"strict@{mode}.test"][-1]
        assert e["event"] == "bounce" and e["type"] == "blocked" and e["tls_failure"]["result_type"] == "starttls-not-supported", e

    # Opportunistic mail to the same servers goes in plaintext, as designed.
    for mode in ("hide", "refuse454", "refuse502"):
        send(lax_sg, f"lax@{mode}.test", token)
    deadline = time.time() + 20
    while time.time() < deadline and sum(1 for e in sealpost.events() if e["event"] == "delivered") < 3:
        time.sleep(0.2)
    for mode in ("hide", "refuse454", "refuse502"):
        e = [x for x in sealpost.events() if x["email"] == f"lax@{mode}.test"][-1]
        assert e["event"] == "delivered" and e["tls"] == 0, e
        assert f"secret body {token}".encode() in bytes(hostile[mode].received)

    # STARTTLS response injection: the plaintext after "220" is discarded unread (as Postfix
    # does), the handshake goes ahead and the message is delivered over TLS. Acting on the forged
    # "250" would shift every later reply by one, and the transaction could not succeed.
    send(lax_sg, "lax@inject.test", token)
    deadline = time.time() + 20
    while time.time() < deadline and not any(e["email"] == "lax@inject.test" and e["event"] != "processed" for e in sealpost.events()):
        time.sleep(0.2)
    mine = [e for e in sealpost.events() if e["email"] == "lax@inject.test"]
    assert [e["event"] for e in mine] == ["processed", "delivered"], mine
    assert mine[-1]["tls"] == 1 and mine[-1]["response"] == "250 2.0.0 accepted", mine[-1]
    before, _, after = bytes(hostile["inject"].received).partition(b"<tls>")
    assert after, "the TLS handshake happened"
    assert [line.split(b" ")[0] for line in before.split(b"\r\n") if line] == [b"EHLO", b"STARTTLS"], before
    assert after.startswith(b"EHLO "), after[:40]
    assert b"MAIL FROM:<s@relay.test>" in after and f"secret body {token}".encode() in after
    assert "forged" not in str(sealpost.events()), "the injected reply was never taken for an answer"

    # Garbage, endless and slow servers: the attempt fails cleanly and is deferred;
    # nothing is marked delivered.
    started = time.time()
    for mode in ("overlong", "endless", "invalid", "drip", "dropdata"):
        send(lax_sg, f"lax@{mode}.test", token)
    # Meanwhile a good delivery still goes through (the broken ones do not block the engine).
    send(lax_sg, "ok@hide.test", token)
    deadline = time.time() + 30
    while time.time() < deadline:
        deferred = {e["email"] for e in sealpost.events() if e["event"] == "deferred"}
        if len(deferred) >= 5:
            break
        time.sleep(0.3)
    evs = sealpost.events()
    assert any(e["email"] == "ok@hide.test" and e["event"] == "delivered" for e in evs)
    for mode in ("overlong", "endless", "invalid", "drip", "dropdata"):
        mine = [e["event"] for e in evs if e["email"] == f"lax@{mode}.test"]
        assert mine == ["processed", "deferred"], (mode, mine)
    assert time.time() - started < 30, "timeouts bounded the slow servers"
    assert b"<dropped>" in bytes(hostile["dropdata"].received)
    states = dict(sqlite3.connect(sealpost.db).execute(
        "SELECT recipient, state FROM deliveries WHERE recipient LIKE 'lax@%' AND recipient NOT LIKE '%hide.test' "
        "AND recipient NOT LIKE '%refuse%' AND recipient NOT LIKE '%inject.test'").fetchall())
    assert set(states.values()) == {"queued"}, states  # kept for a retry, never lost, never delivered
