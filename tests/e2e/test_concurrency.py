"""200 mixed GET/PATCH over many connections for several users."""
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

# Every test here runs on SQLite and on PostgreSQL (see conftest.pytest_generate_tests).
BACKENDS = ["sqlite", "postgres"]

PATH = "/v3/user/settings/enforced_tls"


def test_mixed_load_keeps_each_users_last_acknowledged_patch(sealpost, tenants):
    ids, keys = tenants
    # (key, on-behalf-of) for four users: a parent, its subuser, its customer account, another parent.
    users = {
        "acme": (keys["acme"], None),
        "acme-sub": (keys["acme"], "acme-sub"),
        "acme-cust": (keys["acme"], f"account-id {ids['acme-cust']}"),
        "globex": (keys["globex"], None),
    }
    patches_per_user = 10
    gets = 200 - patches_per_user * len(users)
    statuses = []
    lock = threading.Lock()
    last_ack = {}
    local = threading.local()

    def session():
        # One connection per worker thread: requests reuses it (keep-alive).
        if not hasattr(local, "s"):
            local.s = requests.Session()
        return local.s

    def headers(user):
        key, obo = users[user]
        h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if obo:
            h["on-behalf-of"] = obo
        return h

    def patch_chain(user):
        # PATCHes of one user are sequential so "last acknowledged" is well defined;
        # the users' chains and all GETs run at the same time on other connections.
        rng = random.Random(user)
        for _ in range(patches_per_user):
            change = {"require_tls": rng.random() < 0.5, "require_valid_cert": rng.random() < 0.5,
                      "version": rng.choice([1.1, 1.2, 1.3])}
            r = session().patch(sealpost.url + PATH, headers=headers(user), data=json.dumps(change), timeout=30)
            with lock:
                statuses.append(r.status_code)
                if r.status_code == 200:
                    assert r.json() == change
                    last_ack[user] = change

    def get(i):
        user = list(users)[i % len(users)]
        r = session().get(sealpost.url + PATH, headers=headers(user), timeout=30)
        with lock:
            statuses.append(r.status_code)
        assert set(r.json()) == {"require_tls", "require_valid_cert", "version"}

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(patch_chain, u) for u in users] + [pool.submit(get, i) for i in range(gets)]
        for f in futures:
            f.result()

    assert len(statuses) == 200
    assert statuses.count(200) == 200, f"non-200 answers: {[s for s in statuses if s != 200]}"
    for user in users:
        r = requests.get(sealpost.url + PATH, headers=headers(user), timeout=10)
        assert r.json() == last_ack[user], user
        trail = sealpost.cli("audit", "--user", user).stdout.strip().splitlines()
        assert len(trail) == patches_per_user, user
