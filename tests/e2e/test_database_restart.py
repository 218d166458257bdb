"""Database faults under load (issue 9): the PostgreSQL server is restarted (fast shutdown,
then start) while two nodes accept and deliver mail. Both nodes recover without being
restarted; every message answered 202 is delivered or reported; duplicates only of deliveries
in flight; no message of a require_tls sender leaves in plaintext; intake during the outage
answers 503 in SendGrid's error shape, never 500, never a hang."""
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from conftest import PG_ADMIN_URL, REPO, PostgresDatabase, Sealpost, psql

PG_SH = REPO / "tests" / "peers" / "pg.sh"


def restart_postgres():
    """The private test cluster's fast shutdown (in-flight queries are cut), then a start."""
    subprocess.run(["bash", str(PG_SH), "stop"], check=True, capture_output=True, timeout=60)
    time.sleep(1.0)
    subprocess.run(["bash", str(PG_SH), "start"], check=True, capture_output=True, timeout=60)


@pytest.fixture
def nodes(tmp_path, postfix_peers):
    if ":55432/" not in PG_ADMIN_URL:
        pytest.skip("needs the private cluster of tests/peers/pg.sh (it is restarted)")
    pg = PostgresDatabase()
    a, b = Sealpost(tmp_path / "a", db=pg.url), Sealpost(tmp_path / "b", db=pg.url)
    for node in (a, b):
        node.workdir.mkdir()
    a.cli("accounts", "create", "acme")
    a.cli("subusers", "create", "--parent", "acme", "strict")
    lax, strict = a.key("acme"), a.key("strict")
    routes = ["--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}",
              "--route", f"tls.test=localhost:{postfix_peers.port_of('ca')}"]
    for node, name in ((a, "node-a.test"), (b, "node-b.test")):
        node.start("--rate-limit", "1000000", "--helo-name", name, "--lease", "5", "--retry-base", "1",
                   "--trust-roots", postfix_peers.ca, *routes)
    r = requests.patch(a.url + "/v3/user/settings/enforced_tls", json={"require_tls": True, "version": 1.2},
                       headers={"Authorization": f"Bearer {strict}"}, timeout=10)
    assert r.status_code == 200, r.text
    yield a, b, lax, strict, pg
    a.stop()
    b.stop()
    pg.drop()


def test_postgres_restart_while_two_nodes_work(nodes, postfix_peers, capsys):
    a, b, lax, strict, pg = nodes
    run = uuid.uuid4().hex[:8]
    results = []  # (email, sender, domain, status, body, seconds)
    lock = threading.Lock()
    stop = threading.Event()

    def sender(node, label, key, sender_name, domain):
        i = 0
        while not stop.is_set():
            email = f"{run}-{sender_name}-{label}-{i}@{domain}"
            started = time.time()
            try:
                r = requests.post(node.url + "/v3/mail/send", headers={"Authorization": f"Bearer {key}"}, timeout=60, json={
                    "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@acme.test"},
                    "subject": email, "content": [{"type": "text/plain", "value": "restart test"}]})
                status, body = r.status_code, (r.json() if r.content else None)
            except requests.RequestException as e:
                status, body = "no answer", str(e)
            with lock:
                results.append((email, sender_name, domain, status, body, time.time() - started))
            i += 1
            time.sleep(0.01)

    threads = [threading.Thread(target=sender, args=(node, label, key, name, domain))
               for node, label in ((a, "a"), (b, "b"))
               for key, name, domain in ((lax, "lax", "plain.test"), (strict, "strict", "tls.test"), (strict, "strict", "plain.test"))]
    for t in threads:
        t.start()
    time.sleep(4)
    restarted_at = time.time()
    restart_postgres()
    back_at = time.time()
    time.sleep(6)
    stop.set()
    for t in threads:
        t.join(90)

    statuses = Counter(r[3] for r in results)
    slowest = max(r[5] for r in results)
    with capsys.disabled():
        print(f"\ndatabase restart: {len(results)} requests, answers {dict(statuses)}, "
              f"outage {back_at - restarted_at:.1f} s, slowest answer {slowest:.1f} s")
    odd = [r for r in results if r[3] not in (202, 503)]
    assert not odd, odd[:5]  # never a 500, never no answer
    for email, _, _, status, body, _ in results:
        if status == 503:
            assert body == {"errors": [{"field": None, "message": "service unavailable: the database cannot be reached; retry shortly"}]}, body
    assert slowest < 30, "no request hung"
    assert statuses[202] > 0

    # Every 202 ends with its event: delivered, or (require_tls to a server without STARTTLS) blocked.
    accepted = [r for r in results if r[3] == 202]
    final = a.final_events({r[0] for r in accepted}, timeout=180)
    for email, sender_name, domain, *_ in accepted:
        e = final[email]
        if sender_name == "strict" and domain == "plain.test":
            assert (e["event"], e.get("type"), e.get("tls_failure", {}).get("result_type")) == ("bounce", "blocked", "starttls-not-supported"), e
        else:
            assert e["event"] == "delivered", e

    # What arrived: every delivered message, never a require_tls one in plaintext, duplicates
    # only of the deliveries in flight when the database went away.
    time.sleep(2)
    copies = Counter()
    tls_of = {}
    for port_name in ("plain", "ca"):
        directory = postfix_peers.base / "mail" / str(postfix_peers.port_of(port_name)) / "new"
        for f in directory.iterdir() if directory.exists() else []:
            text = f.read_text(errors="replace")
            for line in text.splitlines():
                if line.startswith("Subject: ") and line[9:].startswith(run):
                    copies[(port_name, line[9:])] += 1
                    tls_of[line[9:]] = postfix_peers.tls_version(text)
    for email, sender_name, domain, *_ in accepted:
        port_name = "ca" if domain == "tls.test" else "plain"
        if sender_name == "strict" and domain == "plain.test":
            assert copies[("plain", email)] == 0, f"{email} left in plaintext"
        else:
            assert copies[(port_name, email)] >= 1, f"{email} delivered but not received"
        if sender_name == "strict" and domain == "tls.test":
            assert tls_of[email] in ("1.2", "1.3"), (email, tls_of[email])
    assert not any(name == "plain" and "-strict-" in subject for (name, subject) in copies), "a require_tls message reached the plaintext server"
    duplicates = sum(1 for n in copies.values() if n > 1)
    with capsys.disabled():
        print(f"database restart: {len(accepted)} accepted, {duplicates} received twice")
    assert duplicates <= 64, "duplicates only of deliveries in flight (at most the sessions open at the cut)"

    # Both nodes recovered by themselves: still running, answering, and taking mail.
    for node in (a, b):
        assert node.proc.poll() is None
        r = requests.post(node.url + "/v3/mail/send", headers={"Authorization": f"Bearer {lax}"}, timeout=30, json={
            "personalizations": [{"to": [{"email": f"after-{run}@plain.test"}]}], "from": {"email": "s@acme.test"},
            "subject": "after", "content": [{"type": "text/plain", "value": "after"}]})
        assert r.status_code == 202, r.text
    states = dict(psql("SELECT state, COUNT(*) FROM deliveries GROUP BY state", url=pg.url))
    assert set(states) <= {"delivered", "blocked", "queued"}, states
