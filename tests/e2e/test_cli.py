"""The admin CLI: same database whether or not the server runs; flags and environment variables."""
import os
import time
import re
import sqlite3

import requests

PATH = "/v3/user/settings/enforced_tls"


def test_create_tenants_and_keys(sealpost):
    acme = sealpost.cli("accounts", "create", "acme").stdout.strip()
    assert re.fullmatch(r"\d+", acme)
    cust = sealpost.cli("customers", "create", "--parent", "acme", "acme-cust").stdout.strip()
    assert re.fullmatch(r"\d+", cust) and cust != acme
    sealpost.cli("subusers", "create", "--parent", "acme", "acme-sub")
    out = sealpost.cli("keys", "create", "--user", "acme", "--scope", "user.settings.enforced_tls.read", "--name", "ro").stdout
    key = out.strip().splitlines()[-1]
    assert re.fullmatch(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", key)

    dup = sealpost.cli("accounts", "create", "acme", check=False)
    assert dup.returncode != 0 and "already taken" in dup.stderr
    bad = sealpost.cli("subusers", "create", "--parent", "acme-sub", "x", check=False)
    assert bad.returncode != 0 and "not a parent account" in bad.stderr
    bad = sealpost.cli("keys", "create", "--user", "acme", "--scope", "nope.scope", check=False)
    assert bad.returncode != 0 and "unknown scope" in bad.stderr
    bad = sealpost.cli("keys", "create", "--user", "ghost", check=False)
    assert bad.returncode != 0 and "no user named ghost" in bad.stderr
    bad = sealpost.cli("accounts", "create", "has space", check=False)
    assert bad.returncode != 0
    assert sealpost.cli("keys", "revoke", "AAAAAAAAAAAAAAAAAAAAAA", check=False).returncode == 1


def test_keys_are_hashed_and_never_logged(sealpost):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    secret = key.split(".")[2]
    sealpost.start()
    assert requests.get(sealpost.url + PATH, headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code == 200
    assert requests.get(sealpost.url + PATH, headers={"Authorization": f"Bearer {key}x"}, timeout=10).status_code == 401
    sealpost.terminate()
    log = sealpost.log()
    assert "listening" in log and f"127.0.0.1:{sealpost.port}" in log
    assert "path=/v3/user/settings/enforced_tls" in log and "status=200" in log
    assert secret not in log
    for path in [sealpost.db, sealpost.db + "-wal"]:
        if os.path.exists(path):
            assert secret.encode() not in open(path, "rb").read()
    stored = sqlite3.connect(sealpost.db).execute("SELECT length(secret_hash) FROM api_keys").fetchall()
    assert stored == [(32,)]


def test_revoke_while_the_server_runs_and_audit(sealpost):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    key_id = key.split(".")[1]
    sealpost.start()
    h = {"Authorization": f"Bearer {key}"}
    assert requests.patch(sealpost.url + PATH, headers=h, json={"require_tls": True}, timeout=10).status_code == 200
    entry = sealpost.url + PATH + "/domains/.legacy.test"
    assert requests.put(entry, headers=h, json={"version": 1.2}, timeout=10).status_code == 200
    assert requests.delete(entry, headers=h, timeout=10).status_code == 204
    assert sealpost.cli("keys", "revoke", key_id).returncode == 0
    r = requests.get(sealpost.url + PATH, headers=h, timeout=10)
    assert r.status_code == 401
    assert r.json() == {"errors": [{"field": None, "message": "authorization required"}]}
    trail = sealpost.cli("audit", "--user", "acme").stdout.strip().splitlines()
    assert len(trail) == 3, trail
    assert f"key={key_id}" in trail[0] and 'new={"require_tls":true,"require_valid_cert":false,"version":1.1}' in trail[0]
    assert trail[1].endswith(' domain=.legacy.test old=none new={"require_tls":false,"require_valid_cert":false,"version":1.2}')
    assert trail[2].endswith(' domain=.legacy.test old={"require_tls":false,"require_valid_cert":false,"version":1.2} new=none')
    assert all(f"user=acme via=api key={key_id}" in line for line in trail)
    assert sealpost.cli("audit").stdout.strip().splitlines() == trail


def test_environment_variables(sealpost, tmp_path):
    db = str(tmp_path / "env.sqlite")
    env = {"SEALPOST_DATABASE": db}
    sealpost.cli("accounts", "create", "envacct", env=env)
    key = sealpost.cli("keys", "create", "--user", "envacct", env=env).stdout.strip().splitlines()[-1]
    assert os.path.exists(db)
    port = sealpost.port
    sealpost.db = db
    sealpost.start(env={"SEALPOST_RATE_LIMIT": "2"})
    h = {"Authorization": f"Bearer {key}"}
    if time.time() % 60 > 50:  # the limit's window is the minute: count inside one
        time.sleep(61 - time.time() % 60)
    codes = [requests.get(f"http://127.0.0.1:{port}{PATH}", headers=h, timeout=10).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_http_from_environment(sealpost, tmp_path):
    import subprocess
    from conftest import BIN, free_port
    port = free_port()
    env = dict(os.environ, SEALPOST_HTTP=f"127.0.0.1:{port}", SEALPOST_DATABASE=str(tmp_path / "h.sqlite"))
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        for _ in range(300):
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok\n"
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_options_fail_clearly(sealpost):
    r = sealpost.cli("serve", "--http", "nonsense", check=False)
    assert r.returncode != 0 and "HOST:PORT" in r.stderr
    r = sealpost.cli("serve", "--rate-limit", "0", check=False)
    assert r.returncode != 0 and "rate limit" in r.stderr


def test_metrics_count_requests_and_settings_changes(sealpost):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start()
    h = {"Authorization": f"Bearer {key}"}
    requests.patch(sealpost.url + PATH, headers=h, json={"require_tls": True}, timeout=10)
    requests.get(sealpost.url + PATH, timeout=10)
    text = requests.get(sealpost.url + "/metrics", timeout=10).text
    assert 'sealpost_enforced_tls_updates_total{changed="true"} 1' in text
    assert 'sealpost_api_auth_failures_total{status="401"} 1' in text
    assert "hb_requests" in text or "http_requests" in text


def test_unreachable_postgres_is_a_clear_error_without_the_password():
    """A wrong URL or a database that is down must not hang `serve` or `migrate` silently."""
    import subprocess as sp
    from conftest import BIN
    started = time.time()
    r = sp.run([BIN, "migrate", "--database", "postgres://app:hunter2secret@127.0.0.1:1/mail?sslmode=disable"],
               capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "no connection within 15 s" in r.stderr and "postgres://app:***@127.0.0.1:1/mail" in r.stderr, r.stderr
    assert "hunter2secret" not in r.stderr + r.stdout
    assert time.time() - started < 45
