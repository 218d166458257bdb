"""End-to-end fixtures: the real `sealpost` binary, a fresh SQLite file, a free port."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SEALPOST_BIN", str(REPO / ".build" / "debug" / "sealpost"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sealpost:
    """One database and the server process on it; admin commands run against the same file."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.db = str(workdir / "sealpost.sqlite")
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
from peers import postfix_peers  # noqa: E402,F401


@pytest.fixture
def sealpost(tmp_path):
    s = Sealpost(tmp_path)
    yield s
    s.stop()


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
    sealpost.start("--rate-limit", "100000")
    return ids, keys
