"""Crash safety: mail is sent continuously while `kill -9` hits the server at random moments and
it is started again, several times. At the end, every message answered 202 must have been
delivered or reported by a final event — none lost. Duplicates (a delivery in flight when the
process died is sent again) are counted and reported, not hidden.

Used by tests/e2e/test_crash_safety.py (short) and scripts/crash-test (long)."""
import json
import random
import sqlite3
import threading
import time
import uuid

import requests


def run(sealpost, peers, kills, duration_between, seed=1):
    rng = random.Random(seed)
    sealpost.cli("accounts", "create", "crash")
    key = sealpost.key("crash")
    args = ["--route", f"crash.test=localhost:{peers.port_of('ca')}", "--trust-roots", peers.ca,
            "--retry-base", "1", "--rate-limit", "1000000"]
    sealpost.start(*args)
    accepted = {}  # email -> token
    refused = 0
    stop = threading.Event()
    lock = threading.Lock()

    def sender():
        nonlocal refused
        s = requests.Session()
        while not stop.is_set():
            token = uuid.uuid4().hex
            email = f"{token[:12]}@crash.test"
            body = {"personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
                    "subject": f"crash {token}", "content": [{"type": "text/plain", "value": token}]}
            try:
                r = s.post(sealpost.url + "/v3/mail/send", headers={"Authorization": f"Bearer {key}"}, json=body, timeout=5)
            except requests.RequestException:
                with lock:
                    refused += 1
                time.sleep(0.05)
                continue
            with lock:
                if r.status_code == 202:
                    accepted[email] = token
                else:
                    refused += 1

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(kills):
        time.sleep(rng.uniform(0.2, duration_between))
        sealpost.kill9()
        time.sleep(rng.uniform(0.0, 0.3))
        sealpost.start(*args)
    time.sleep(duration_between)
    stop.set()
    for t in threads:
        t.join()

    # Let everything drain, then count.
    deadline = time.time() + 120
    con = sqlite3.connect(sealpost.db)
    while time.time() < deadline:
        queued, = con.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'queued'").fetchone()
        if queued == 0:
            break
        time.sleep(0.5)
    final = {}
    # Every stored event, not the CLI's default first 10,000 (two per message: a long run has more).
    for line in sealpost.cli("events", "--limit", str(10**9)).stdout.splitlines():
        e = json.loads(line)
        if e["event"] in ("delivered", "bounce"):
            final[e["email"]] = e["event"]
    store = peers.base / "mail" / str(peers.port_of("ca")) / "new"
    arrivals = {}
    for f in store.iterdir():
        text = f.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("Subject: crash "):
                token = line.split()[-1]
                arrivals[token] = arrivals.get(token, 0) + 1
                break
    lost = [e for e, t in accepted.items() if e not in final and t not in arrivals]
    reported_only = [e for e, t in accepted.items() if e in final and final[e] != "delivered"]
    missing_mail = [e for e, t in accepted.items() if final.get(e) == "delivered" and t not in arrivals]
    duplicates = sum(n - 1 for n in arrivals.values() if n > 1)
    return {
        "accepted": len(accepted), "refused_or_failed_requests": refused, "kills": kills,
        "delivered": sum(1 for e in accepted if final.get(e) == "delivered"), "bounced": len(reported_only),
        "lost": len(lost), "delivered_event_but_no_mail": len(missing_mail), "duplicates": duplicates,
    }
