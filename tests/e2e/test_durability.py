"""A write answered 200 survives `kill -9`; SIGTERM stops the server cleanly."""
import json
import threading

import requests

PATH = "/v3/user/settings/enforced_tls"


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def test_acknowledged_patch_survives_kill_9(sealpost, tenants):
    _, keys = tenants
    settings = [
        {"require_tls": True, "require_valid_cert": False, "version": 1.2},
        {"require_tls": False, "require_valid_cert": True, "version": 1.3},
        {"require_tls": True, "require_valid_cert": True, "version": 1.1},
    ]
    for wanted in settings:
        r = requests.patch(sealpost.url + PATH, headers=auth(keys["acme"]), data=json.dumps(wanted), timeout=10)
        assert r.status_code == 200
        sealpost.kill9()  # immediately after the answer: no chance for a clean shutdown
        sealpost.start()
        assert requests.get(sealpost.url + PATH, headers=auth(keys["acme"]), timeout=10).json() == wanted


def test_kill_9_during_a_stream_of_patches_loses_no_acknowledged_write(sealpost, tenants):
    _, keys = tenants
    acked = []
    sent = []
    stop = threading.Event()

    def writer():
        s = requests.Session()
        i = 0
        while not stop.is_set():
            body = {"require_tls": i % 2 == 0, "require_valid_cert": i % 3 == 0, "version": [1.1, 1.2, 1.3][i % 3]}
            sent.append(body)
            try:
                r = s.patch(sealpost.url + PATH, headers=auth(keys["globex"]), data=json.dumps(body), timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 200:
                acked.append(body)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    while len(acked) < 30:
        pass
    sealpost.kill9()
    stop.set()
    t.join(10)
    sealpost.start()
    final = requests.get(sealpost.url + PATH, headers=auth(keys["globex"]), timeout=10).json()
    # The last acknowledged write, or the one in flight when the process died (committed but unanswered).
    assert final in (acked[-1], sent[-1])
    trail = sealpost.cli("audit", "--user", "globex").stdout.strip().splitlines()
    assert len(trail) in (len(acked), len(acked) + 1)


def test_sigterm_stops_cleanly(sealpost, tenants):
    _, keys = tenants
    assert requests.get(sealpost.url + PATH, headers=auth(keys["acme"]), timeout=10).status_code == 200
    assert sealpost.terminate() == 0
