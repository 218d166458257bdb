"""Real receiving SMTP servers for the delivery tests: one private Postfix instance with a
service per TLS configuration (tests/peers/pf-peers.sh), on loopback ports."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "peers" / "pf-peers.sh"

# name -> port offset, as laid out by pf-peers.sh
OFFSETS = {"plain": 0, "selfsigned": 1, "ca": 2, "tls12": 3, "tls13": 4, "tls11": 5, "wrongname": 6, "expired": 7, "required": 8,
           "ekucritical": 9, "clientonly": 10, "noutf8": 11}


def ports_free(base, count=17):
    for p in range(base, base + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


class Peers:
    def __init__(self, base_dir: Path, port: int):
        self.base = base_dir
        self.port = port
        self.env = dict(os.environ, PEERS_BASE=str(base_dir), PEERS_PORT=str(port))

    def run(self, action):
        r = subprocess.run(["sh", str(SCRIPT), action], env=self.env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"pf-peers.sh {action} failed: {r.stdout[-2000:]} {r.stderr[-2000:]}")

    def port_of(self, name):
        return self.port + OFFSETS[name]

    @property
    def ca(self):
        return str(self.base / "certs" / "ca.crt")

    def find(self, name, token, timeout=0.0):
        """The stored message that contains `token`, or None."""
        deadline = time.time() + timeout
        directory = self.base / "mail" / str(self.port_of(name)) / "new"
        while True:
            if directory.exists():
                for f in directory.iterdir():
                    text = f.read_text(errors="replace")
                    if token in text:
                        return text
            if time.time() >= deadline:
                return None
            time.sleep(0.1)

    def find_bytes(self, name, token, timeout=0.0):
        """The stored message that contains `token`, as the bytes Postfix wrote, or None."""
        deadline = time.time() + timeout
        directory = self.base / "mail" / str(self.port_of(name)) / "new"
        needle = token.encode()
        while True:
            if directory.exists():
                for f in directory.iterdir():
                    data = f.read_bytes()
                    if needle in data:
                        return data
            if time.time() >= deadline:
                return None
            time.sleep(0.1)

    def remove(self, name, token):
        """Deletes the stored messages that contain `token` (a test that stored many)."""
        directory = self.base / "mail" / str(self.port_of(name)) / "new"
        for f in directory.iterdir():
            if token.encode() in f.read_bytes():
                f.unlink()

    @staticmethod
    def tls_version(message):
        """'1.3', '1.2'… from the first Received: header, or None for plaintext."""
        received = re.split(r"\n\S", message.split("\nReceived:", 1)[1], 1)[0] if "\nReceived:" in message else ""
        m = re.search(r"using TLSv(1\.[0-3])", received)
        return m.group(1) if m else None


@pytest.fixture(scope="session")
def postfix_peers():
    if subprocess.run(["sh", "-c", "command -v postfix"], capture_output=True).returncode != 0:
        pytest.fail("postfix is not installed (.ci/run installs it)")
    port = next(p for p in range(42525, 60000, 100) if ports_free(p))
    # Outside pytest's private tmp tree: Postfix's own users must be able to reach the folder.
    base = Path(tempfile.mkdtemp(prefix="sealpost-peers-"))
    os.chmod(base, 0o755)
    peers = Peers(base, port)
    peers.run("up")
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", peers.port_of("ca")), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield peers
    peers.run("down")
    shutil.rmtree(base, ignore_errors=True)
