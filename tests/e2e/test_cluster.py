"""Several nodes on one PostgreSQL database: one queue, shared settings, no double sends.

The big test is the one issue 4 asks for: two nodes, a Postfix receiver, 2,000 messages sent
through both nodes' APIs, node A killed with `kill -9` while delivering. Every message must
arrive; a message may arrive twice only if node A had begun delivering it (its copy came from
node A, whose result died with it), and those are counted and printed."""
import json
import re
import time
import uuid
from collections import Counter, defaultdict

import pytest
import requests

from conftest import PostgresDatabase, Sealpost, psql
from webhook_receiver import Receiver


@pytest.fixture
def cluster(tmp_path, postfix_peers):
    pg = PostgresDatabase()
    a = Sealpost(tmp_path / "a", db=pg.url)
    b = Sealpost(tmp_path / "b", db=pg.url)
    for node in (a, b):
        node.workdir.mkdir()
    a.cli("accounts", "create", "acme")
    key = a.key("acme")
    route = f"cluster.test=localhost:{postfix_peers.port_of('plain')}"
    # A 10 s lease (renewed every 3.3 s): on 2 cores shared with the receiver, PostgreSQL and the
    # other node, a 5 s lease could expire under a live node's feet and make both deliver.
    for node, name in ((a, "node-a.test"), (b, "node-b.test")):
        node.start("--rate-limit", "1000000", "--route", route, "--helo-name", name, "--lease", "10")
    yield a, b, key, pg
    a.stop()
    b.stop()
    pg.drop()


def send(node, key, personalizations, send_at=None):
    body = {"personalizations": personalizations, "from": {"email": "s@acme.test"}, "subject": "cluster",
            "content": [{"type": "text/plain", "value": "see subject"}]}
    if send_at:
        body["send_at"] = send_at
    r = requests.post(node.url + "/v3/mail/send", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 202, r.text


class Arrivals:
    """Messages the Postfix peer stored for one test run, read once each."""

    def __init__(self, peers, run):
        self.dir = peers.base / "mail" / str(peers.port_of("plain")) / "new"
        self.run = run
        self.seen = {}  # file name -> (token, sending node) or None for other tests' mail

    def scan(self):
        if self.dir.exists():
            for f in self.dir.iterdir():
                if f.name not in self.seen:
                    text = f.read_text(errors="replace")
                    token = re.search(rf"Subject: ({self.run}-\d+)", text)
                    node = re.search(r"Received: from (node-[ab])\.test", text)
                    self.seen[f.name] = (token.group(1), node.group(1) if node else "?") if token else None
        return [v for v in self.seen.values() if v]


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_nodes_2000_messages_one_killed(cluster, postfix_peers, capsys):
    a, b, key, pg = cluster
    run = uuid.uuid4().hex[:10]
    arrivals = Arrivals(postfix_peers, run)
    arrivals.scan()
    total, per_request = 2000, 10
    # Held back a few seconds, so that both nodes are delivering when A dies.
    send_at = int(time.time()) + 6
    for r in range(total // per_request):
        node = a if r % 2 == 0 else b
        send(node, key, [{"to": [{"email": f"r{r}-{i}@cluster.test"}], "subject": f"{run}-{r * per_request + i}"}
                         for i in range(per_request)], send_at=send_at)
    # Kill node A once about a third of the mail has arrived: it has sessions in flight.
    wait_for(lambda: len(arrivals.scan()) >= total // 3, 120, "the first third to arrive")
    a.kill9()
    killed_at = len(arrivals.scan())
    # B takes over A's leases once they expire (--lease 5) and finishes the queue.
    wait_for(lambda: len({t for t, _ in arrivals.scan()}) >= total, 180, "every message to arrive")
    time.sleep(2)  # anything still arriving late would be a duplicate: wait for it

    copies = defaultdict(list)
    for token, node in arrivals.scan():
        copies[token].append(node)
    assert len(copies) == total, f"missing: {total - len(copies)}"
    duplicates = {t: nodes for t, nodes in copies.items() if len(nodes) > 1}
    by_node = Counter(node for nodes in copies.values() for node in nodes)
    with capsys.disabled():  # the figures the issue asks to report, in every run's output
        print(f"\ncluster: {total} messages, node A killed after {killed_at} arrivals; "
              f"received from A {by_node['node-a']}, from B {by_node['node-b']}; duplicates {len(duplicates)}")
    for token, nodes in duplicates.items():
        # Only a delivery the killed node had begun may repeat, once, by the other node.
        assert sorted(nodes) == ["node-a", "node-b"], (token, nodes)
    assert len(duplicates) <= 32, "at most one message in doubt per SMTP session node A had open"
    assert by_node["node-a"] > 0 and by_node["node-b"] > 0, "both nodes delivered"

    # The database agrees: every recipient delivered, one delivered event each.
    states = dict(psql("SELECT state, COUNT(*) FROM deliveries GROUP BY state", url=pg.url))
    assert states == {"delivered": str(total)}, states
    assert psql("SELECT COUNT(*), COUNT(DISTINCT email) FROM events WHERE event = 'delivered'", url=pg.url) == [[str(total), str(total)]]


def test_settings_and_webhooks_across_nodes(cluster, postfix_peers):
    a, b, key, pg = cluster
    receiver = Receiver()
    try:
        h = {"Authorization": f"Bearer {key}"}
        r = requests.patch(b.url + "/v3/user/webhooks/event/settings", headers=h, timeout=10,
                           json={"enabled": True, "url": receiver.url, "processed": True, "delivered": True, "bounce": True})
        assert r.status_code == 200, r.text
        run = uuid.uuid4().hex[:10]
        arrivals = Arrivals(postfix_peers, run)
        for r_ in range(30):
            send(a if r_ % 2 else b, key, [{"to": [{"email": f"w{r_}-{i}@cluster.test"}], "subject": f"{run}-{r_ * 10 + i}"} for i in range(10)])
        wait_for(lambda: len(arrivals.scan()) >= 300, 120, "300 deliveries")
        wait_for(lambda: len(receiver.events) >= 600, 60, "600 webhook events")
        time.sleep(2)
        ids = [e["sg_event_id"] for e in receiver.events]
        assert len(ids) == 600 and len(set(ids)) == 600, "each event posted once, by one of the nodes"

        # A settings change through node B governs the next delivery started by node A.
        r = requests.patch(b.url + "/v3/user/settings/enforced_tls", headers=h, json={"require_tls": True}, timeout=10)
        assert r.json()["require_tls"] is True
        send(a, key, [{"to": [{"email": "blocked@cluster.test"}], "subject": f"{run}-blocked"}])
        wait_for(lambda: any(e["email"] == "blocked@cluster.test" and e["event"] == "bounce" for e in receiver.events),
                 60, "the block event")
        bounce = next(e for e in receiver.events if e["email"] == "blocked@cluster.test" and e["event"] == "bounce")
        assert bounce["type"] == "blocked" and bounce["reason"] == "TLS required but not supported"
        assert not any(t == f"{run}-blocked" for t, _ in arrivals.scan()), "nothing went out in plaintext"
    finally:
        receiver.close()


def test_heartbeat_keeps_a_slow_delivery_with_its_node(tmp_path):
    """A delivery that outlasts the lease stays with the node sending it: the heartbeat renews
    the lease, so the other node never claims and sends it a second time."""
    from hostile_smtp import SlowAcceptServer

    slow = SlowAcceptServer(delay=4)
    pg = PostgresDatabase()
    nodes = [Sealpost(tmp_path / n, db=pg.url) for n in ("a", "b")]
    try:
        for node in nodes:
            node.workdir.mkdir()
        nodes[0].cli("accounts", "create", "acme")
        key = nodes[0].key("acme")
        for node in nodes:
            node.start("--route", f"slow.test=127.0.0.1:{slow.port}", "--lease", "1.5", "--rate-limit", "100000")
        send(nodes[0], key, [{"to": [{"email": f"s{i}@slow.test"}], "subject": f"slow {i}"} for i in range(3)])
        wait_for(lambda: psql("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'", url=pg.url) == [["3"]], 60, "3 deliveries")
        time.sleep(2)
        # Each message took 4 s against a 1.5 s lease: without the heartbeat the other node
        # would have claimed each one again and the server would have seen 6 DATA commands.
        assert slow.received.count(b"DATA\r\n") == 3, slow.received.count(b"DATA\r\n")
        assert psql("SELECT COUNT(*) FROM events WHERE event = 'delivered'", url=pg.url) == [["3"]]
    finally:
        for node in nodes:
            node.stop()
        slow.close()
        pg.drop()
