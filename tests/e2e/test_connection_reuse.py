"""Connections kept between sessions (--connection-cache-time), against a real Postfix receiver
with a self-signed certificate: two messages in two sessions share one connection (one connect,
one TLS handshake: Postfix's own tally of the connection's commands says so); after the sender
raises its setting to require_valid_cert, the kept connection is not used for its mail (a new
connection is judged and the message blocked, nothing reaches the server); an idle kept
connection ends with QUIT."""
import re
import time
import uuid

from sendgrid import SendGridAPIClient

from peers import wait


def disconnects(peers, name):
    """Postfix's `disconnect from` tallies for the receiver `name`, oldest first (e.g. `ehlo=2 ...`)."""
    log = peers.base / "log" / "maillog"
    tag = f"sink-{peers.port_of(name)}/"
    text = log.read_text(errors="replace") if log.exists() else ""
    return [re.sub(r"^.* disconnect from \S+ ", "", line) for line in text.splitlines() if tag in line and " disconnect from " in line]


def start(sealpost, peers, cache_time, domain, receiver):
    """Sealpost with `--connection-cache-time cache_time`, `domain` routed to the receiver; a client of acme's."""
    sealpost.cli("accounts", "create", "acme")
    sealpost.start("--trust-roots", peers.ca, "--helo-name", "relay.test", "--connection-cache-time", cache_time,
                   "--route", f"{domain}=localhost:{peers.port_of(receiver)}")
    return SendGridAPIClient(api_key=sealpost.key("acme"), host=sealpost.url)


def send(sg, email, token):
    r = sg.client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
        "subject": f"reuse {token}", "content": [{"type": "text/plain", "value": f"token {token}"}]})
    assert r.status_code == 202


def test_sessions_share_a_kept_connection_that_each_judges_under_its_own_policy(sealpost, postfix_peers):
    peers = postfix_peers
    sg = start(sealpost, peers, "5", "reuse.test", "selfsigned")
    connects0, tallies0 = peers.connections("selfsigned"), len(disconnects(peers, "selfsigned"))

    tokens = [uuid.uuid4().hex for _ in range(3)]
    emails = [f"r{i}-{t[:8]}@reuse.test" for i, t in enumerate(tokens)]
    # Two sessions, one after the other (the second is queued once the first is delivered).
    for email, token in zip(emails[:2], tokens[:2]):
        send(sg, email, token)
        event = sealpost.final_events({email})[email]
        assert event["event"] == "delivered" and event["tls"] == 1 and event["tls_version"] == "1.3", event
        assert peers.find("selfsigned", token, timeout=10) is not None
    assert peers.connections("selfsigned") == connects0 + 1, "the second session opened a connection of its own"
    assert "connection=reused" in sealpost.log() and "connection=new" in sealpost.log()

    # Fail closed: the kept connection (a self-signed certificate, fine while opportunistic)
    # is not good enough under require_valid_cert; a new connection is judged and refused.
    sg.client.user.settings.enforced_tls.patch(request_body={"require_valid_cert": True})
    send(sg, emails[2], tokens[2])
    event = sealpost.final_events({emails[2]})[emails[2]]
    assert event["event"] == "bounce" and event["type"] == "blocked", event
    assert event["reason"] == "TLS required but not supported"
    assert event["tls_failure"]["result_type"] == "certificate-not-trusted", event
    assert peers.find("selfsigned", tokens[2], timeout=2) is None, "a blocked message reached the server"
    assert peers.connections("selfsigned") == connects0 + 2

    # Postfix's tally per connection: the kept one carried both messages over one handshake and
    # ended with QUIT when the third session turned it down; the new one was refused after TLS.
    wait(lambda: len(disconnects(peers, "selfsigned")) >= tallies0 + 2, timeout=30, what="both connections closed")
    tallies = disconnects(peers, "selfsigned")[tallies0:]
    assert tallies == ["ehlo=2 starttls=1 mail=2 rcpt=2 data=2 quit=1 commands=10", "ehlo=1 starttls=1 quit=1 commands=3"], tallies


def test_an_idle_kept_connection_ends_with_quit(sealpost, postfix_peers):
    peers = postfix_peers
    sg = start(sealpost, peers, "1", "idle.test", "plain")
    tallies0 = len(disconnects(peers, "plain"))
    token = uuid.uuid4().hex
    email = f"idle-{token[:8]}@idle.test"
    send(sg, email, token)
    assert sealpost.final_events({email})[email]["event"] == "delivered"
    started = time.time()
    wait(lambda: len(disconnects(peers, "plain")) > tallies0, timeout=20, what="the kept connection closed")
    assert time.time() - started >= 0.5, "closed before its idle time"
    assert disconnects(peers, "plain")[tallies0:] == ["ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"]
