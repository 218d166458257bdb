"""End-to-end fixtures: the real `sealpost` binary, a fresh database (a SQLite file, or a
PostgreSQL database for modules that list it in BACKENDS), a free port."""
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SEALPOST_BIN", str(REPO / ".build" / "debug" / "sealpost"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PG_ADMIN_URL = os.environ.get("SEALPOST_TEST_POSTGRES", "")


def psql(sql, url=None):
    """Runs SQL with psql against the test server (`SEALPOST_TEST_POSTGRES`) and returns rows."""
    r = subprocess.run(["psql", url or PG_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qtA", "-F", "\t", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"psql failed: {r.stderr}")
    return [line.split("\t") for line in r.stdout.splitlines() if line]


class PostgresDatabase:
    """A fresh database on the test PostgreSQL server, migrated with `sealpost migrate`."""

    def __init__(self):
        if not PG_ADMIN_URL:
            pytest.fail("SEALPOST_TEST_POSTGRES is not set (scripts/test starts tests/peers/pg.sh)")
        self.name = "sealpost_e2e_" + uuid.uuid4().hex[:12]
        psql(f"CREATE DATABASE {self.name}")
        base, _, query = PG_ADMIN_URL.partition("?")
        self.url = base.rsplit("/", 1)[0] + "/" + self.name + ("?" + query if query else "")
        r = subprocess.run([BIN, "migrate", "--database", self.url], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"sealpost migrate failed: {r.stderr}")

    def drop(self):
        # FORCE ends the sessions still in it; an autovacuum worker among them needs
        # pg_signal_backend (granted by tests/peers/pg.sh) or a moment to finish, so retry briefly.
        for attempt in range(10):
            try:
                psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
                return
            except AssertionError:
                if attempt == 9:
                    raise
                time.sleep(0.5)


class Sealpost:
    """One database and the server process on it; admin commands run against the same database."""

    def __init__(self, workdir: Path, db: str | None = None):
        self.workdir = workdir
        self.db = db or str(workdir / "sealpost.sqlite")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = workdir / "serve.log"
        self.extra_env = {}

    def cli(self, *args, check=True, env=None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ, **(env or {}))
        if "SEALPOST_DATABASE" not in (env or {}):
            args = (*args, "--database", self.db)
        result = subprocess.run([BIN, *args], capture_output=True, text=True, env=full_env, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"sealpost {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def key(self, user, *scopes) -> str:
        args = ["keys", "create", "--user", user]
        for s in scopes:
            args += ["--scope", s]
        out = self.cli(*args).stdout.strip().splitlines()
        return out[-1]

    def start(self, *extra, env=None):
        if self.db.startswith("postgres") and "--lease" not in extra:
            # Nodes on PostgreSQL take over a killed node's work when its leases expire.
            extra = (*extra, "--lease", "3")
        log = open(self.log_path, "a")
        args = [BIN, "serve", "--database", self.db, "--http", f"127.0.0.1:{self.port}", *extra]
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})))
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sealpost serve exited with {self.proc.returncode}: {self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("sealpost serve did not come up in 30 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def events(self):
        """Every stored Event Webhook event, oldest first (`sealpost events`)."""
        return [json.loads(line) for line in self.cli("events").stdout.splitlines()]

    def final_events(self, emails, timeout=60):
        """The final event (delivered or bounce) of each address, waiting until all have one."""
        emails = set(emails)
        deadline = time.time() + timeout
        while True:
            final = {e["email"]: e for e in self.events() if e["email"] in emails and e["event"] in ("delivered", "bounce")}
            if len(final) == len(emails):
                return final
            if time.time() >= deadline:
                raise AssertionError(f"no final event for {sorted(emails - set(final))[:5]}; log tail: {self.log()[-2000:]}")
            time.sleep(0.2)


# The session-wide Postfix receivers (tests/peers/pf-peers.sh), for every test that asks for them.
from peers import dnssec_lab, postfix_peers, sts_host  # noqa: E402,F401


def pytest_generate_tests(metafunc):
    """A module with `BACKENDS = ["sqlite", "postgres"]` runs each of its tests on both."""
    backends = getattr(metafunc.module, "BACKENDS", None)
    if backends and "sealpost" in metafunc.fixturenames:
        metafunc.parametrize("sealpost", backends, indirect=True)


@pytest.fixture
def sealpost(request, tmp_path):
    backend = getattr(request, "param", "sqlite")
    pg = PostgresDatabase() if backend == "postgres" else None
    s = Sealpost(tmp_path, db=pg.url if pg else None)
    s.backend = backend
    yield s
    s.stop()
    if pg:
        pg.drop()


@pytest.fixture
def tenants(sealpost):
    """Two parents, each with a subuser and a customer account; full-access keys for each."""
    ids = {}
    ids["acme"] = int(sealpost.cli("accounts", "create", "acme").stdout.strip())
    ids["acme-sub"] = int(sealpost.cli("subusers", "create", "--parent", "acme", "acme-sub").stdout.strip())
    ids["acme-cust"] = int(sealpost.cli("customers", "create", "--parent", "acme", "acme-cust").stdout.strip())
    ids["globex"] = int(sealpost.cli("accounts", "create", "globex").stdout.strip())
    ids["globex-sub"] = int(sealpost.cli("subusers", "create", "--parent", "globex", "globex-sub").stdout.strip())
    ids["globex-cust"] = int(sealpost.cli("customers", "create", "--parent", "globex", "globex-cust").stdout.strip())
    keys = {name: sealpost.key(name) for name in ids}
    # A resolver on a closed loopback port: every lookup (mail to nowhere.test, pre-flight checks
    # of generated domains) fails at once instead of waiting for a network CI does not have.
    sealpost.start("--rate-limit", "100000", "--check-rate-limit", "100000", "--dns-server", f"127.0.0.1:{free_port()}")
    return ids, keys
