"""Limits a client cannot push past: header size, body size, JSON nesting."""
import socket

import requests


def test_oversized_headers_body_and_nesting_are_refused_cleanly(sealpost, tenants):
    _, keys = tenants
    with socket.create_connection(("127.0.0.1", sealpost.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        answer = s.recv(200)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    h = {"Authorization": f"Bearer {keys['acme']}", "Content-Type": "application/json"}
    r = requests.patch(sealpost.url + "/v3/user/settings/enforced_tls", headers=h, data=b'{"x":"' + b"y" * 70_000 + b'"}', timeout=10)
    assert r.status_code == 413 and r.json()["errors"][0]["message"] == "content too large"
    deep = b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    r = requests.patch(sealpost.url + "/v3/user/settings/enforced_tls", headers=h, data=deep, timeout=10)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] is None
    # The server is unharmed.
    assert requests.get(sealpost.url + "/v3/user/settings/enforced_tls", headers=h, timeout=10).status_code == 200
