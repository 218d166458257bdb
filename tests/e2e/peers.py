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
           "ekucritical": 9, "clientonly": 10, "noutf8": 11,
           "reject": 12}
# the DNSSEC lab's MX hosts (pf-peers.sh "hosts"): name -> loopback address, all on port + LAB_OFFSET
LAB_HOSTS = {"labself": "127.0.0.21", "labca": "127.0.0.22", "labplain": "127.0.0.23", "labbench": "127.0.0.24"}
LAB_OFFSET = 20


def ports_free(base, count=21):
    for p in range(base, base + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True



def wait(predicate, timeout=30, what="condition"):
    """The first truthy value of `predicate()`, polled every 0.2 s; fails after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")

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
        return self.port + (LAB_OFFSET if name in LAB_HOSTS else OFFSETS[name])

    def mail_dir(self, name):
        return self.base / "mail" / (name if name in LAB_HOSTS else str(self.port_of(name))) / "new"

    def connections(self, name):
        """How many SMTP connections the receiver `name` has logged so far."""
        log = self.base / "log" / "maillog"
        tag = f"sink-{name if name in LAB_HOSTS else self.port_of(name)}/"
        text = log.read_text(errors="replace") if log.exists() else ""
        return sum(1 for line in text.splitlines() if tag in line and " connect from " in line)

    @property
    def ca(self):
        return str(self.base / "certs" / "ca.crt")

    def find(self, name, token, timeout=0.0):
        """The stored message that contains `token`, or None."""
        deadline = time.time() + timeout
        directory = self.mail_dir(name)
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
        directory = self.mail_dir(name)
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
        directory = self.mail_dir(name)
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


class DNSSECLab:
    """tests/peers/dnssec-lab.sh on loopback ports: nsd under a validating unbound, zones signed now."""

    def __init__(self, peers: Peers, workdir: Path):
        self.peers = peers
        self.resolver_port = next(p for p in range(45301, 60000, 7) if ports_free(p, 3))
        self.tlsrpt_port = self.resolver_port + 2  # the HTTPS collector of rua=https://tlsrpt.sts.test:PORT/v1/report
        self.env = dict(os.environ, LAB_DIR=str(workdir), NSD_PORT=str(self.resolver_port + 1), TLSRPT_PORT=str(self.tlsrpt_port),
                        UNBOUND_PORT=str(self.resolver_port), MX_PORT=str(peers.port + LAB_OFFSET), CERTS=str(peers.base / "certs"))

    def run(self, action):
        r = subprocess.run(["bash", str(REPO / "tests" / "peers" / "dnssec-lab.sh"), action], env=self.env, capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"dnssec-lab.sh {action} failed: {r.stdout[-2000:]} {r.stderr[-2000:]}")

    def set_sts_id(self, domain, new_id):
        """Changes the `_mta-sts.<domain>.sts.test` TXT id (nsd reloads the zone)."""
        r = subprocess.run(["bash", str(REPO / "tests" / "peers" / "dnssec-lab.sh"), "set-sts-id", domain, new_id], env=self.env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr

    @property
    def serve_args(self):
        """`sealpost serve` flags that deliver through the lab: its resolver, its MX port."""
        return ["--dns-server", f"127.0.0.1:{self.resolver_port}", "--mx-port", str(self.peers.port + LAB_OFFSET)]


@pytest.fixture(scope="session")
def dnssec_lab(postfix_peers):
    for tool in ("nsd", "unbound", "ldns-signzone", "dig"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.fail(f"{tool} is not installed (.ci/run installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="sealpost-dnssec-"))
    lab = DNSSECLab(postfix_peers, workdir)
    lab.run("start")
    yield lab
    lab.run("stop")
    shutil.rmtree(workdir, ignore_errors=True)


class STSHost:
    """tests/peers/sts-host.py: the policy host of every mta-sts.<domain>.sts.test, on loopback."""

    def __init__(self, peers: Peers, workdir: Path):
        self.docroot = workdir / "policies"
        self.docroot.mkdir()
        self.log = workdir / "requests.log"
        self.port = next(p for p in range(46443, 60000, 11) if ports_free(p, 1))
        self.cert, self.key = peers.base / "certs" / "stshost.chain.crt", peers.base / "certs" / "stshost.key"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["python3", str(REPO / "tests" / "peers" / "sts-host.py"), str(self.port), str(self.cert),
                                      str(self.key), str(self.docroot), str(self.log)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def serve(self, domain, policy=None, status=None):
        """Serves `policy` for mta-sts.<domain> (None: 404), answering `status` instead when given."""
        path = self.docroot / f"mta-sts.{domain}"
        path.unlink(missing_ok=True)
        Path(f"{path}.status").unlink(missing_ok=True)
        if policy is not None:
            path.write_text(policy)
        if status is not None:
            Path(f"{path}.status").write_text(str(status))

    def fetches(self, domain):
        text = self.log.read_text() if self.log.exists() else ""
        return sum(1 for line in text.splitlines() if line.startswith(f"mta-sts.{domain} "))


@pytest.fixture
def sts_host(postfix_peers, tmp_path):
    host = STSHost(postfix_peers, tmp_path)
    host.start()
    yield host
    host.stop()
