"""The API over HTTPS (TLS 1.2+), driven by the official SendGrid library with a test CA;
plain HTTP on a non-loopback address warns at start."""
import json
import ssl
import subprocess

import pytest
import requests
from sendgrid import SendGridAPIClient

from conftest import BIN


@pytest.fixture
def certs(tmp_path):
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Sealpost Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "api.key", "-out", "api.csr", "-subj", "/CN=localhost")
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "api.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "api.pem",
        "-days", "2", "-extfile", "ext.cnf")
    return tmp_path


def test_sendgrid_library_over_https(sealpost, certs, monkeypatch):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.url = sealpost.url.replace("http://", "https://")
    # The fixture's health check speaks plain HTTP; wait here instead.
    import time
    log = open(sealpost.log_path, "a")
    sealpost.proc = subprocess.Popen(
        [BIN, "serve", "--database", sealpost.db, "--http", f"127.0.0.1:{sealpost.port}",
         "--tls-cert", str(certs / "api.pem"), "--tls-key", str(certs / "api.key")], stdout=log, stderr=subprocess.STDOUT)
    base = f"https://localhost:{sealpost.port}"
    for _ in range(100):
        try:
            requests.get(base + "/healthz", verify=str(certs / "ca.pem"), timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs / "ca.pem"))
    sg = SendGridAPIClient(api_key=key, host=base)
    r = sg.client.user.settings.enforced_tls.patch(request_body={"require_tls": True, "version": 1.3})
    assert json.loads(r.body) == {"require_tls": True, "require_valid_cert": False, "version": 1.3}
    assert json.loads(sg.client.user.settings.enforced_tls.get().body)["version"] == 1.3
    # Plain HTTP to the TLS port is not answered as HTTP; TLS 1.1 is refused.
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{sealpost.port}/healthz", timeout=2)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(certs / "ca.pem"))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    import socket
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", sealpost.port), timeout=3) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass
    assert f"https://127.0.0.1:{sealpost.port}" in sealpost.log()


def test_plain_http_off_loopback_warns(sealpost):
    sealpost.cli("accounts", "create", "acme")
    import time
    log = open(sealpost.log_path, "a")
    sealpost.proc = subprocess.Popen([BIN, "serve", "--database", sealpost.db,
                                      "--http", f"0.0.0.0:{sealpost.port}"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if "listening" in sealpost.log():
            break
        time.sleep(0.1)
    assert "plain HTTP on a non-loopback address" in sealpost.log()
    r = requests.get(f"http://127.0.0.1:{sealpost.port}/healthz", timeout=5)
    assert r.status_code == 200
