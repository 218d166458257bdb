"""Limits a client cannot push past: header size, body size, JSON nesting, connection count.
Every refusal is an answer in SendGrid's error shape, never a hang or a bare status line."""
import json
import socket

import requests


def raw_exchange(port, request: bytes) -> tuple[bytes, dict, bytes]:
    """Sends raw bytes, reads until the server closes; returns status line, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {k.strip().lower().decode(): v.strip().decode() for k, _, v in (l.partition(b":") for l in lines[1:])}
    return lines[0], headers, body


def test_oversized_headers_body_and_nesting_are_refused_cleanly(sealpost, tenants):
    _, keys = tenants
    status, headers, body = raw_exchange(sealpost.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 431"), status
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert json.loads(body) == {"errors": [{"field": None, "message": "request header fields too large"}]}
    status, _, body = raw_exchange(sealpost.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n")
    assert status.startswith(b"HTTP/1.1 431"), status
    status, _, body = raw_exchange(sealpost.port, b"GARBAGE\x00 / HTTP/9\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 400"), status
    assert json.loads(body)["errors"][0]["message"] == "malformed HTTP request"

    h = {"Authorization": f"Bearer {keys['acme']}", "Content-Type": "application/json"}
    r = requests.patch(sealpost.url + "/v3/user/settings/enforced_tls", headers=h, data=b'{"x":"' + b"y" * 70_000 + b'"}', timeout=10)
    assert r.status_code == 413 and r.json()["errors"][0]["message"] == "content too large"
    deep = b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    r = requests.patch(sealpost.url + "/v3/user/settings/enforced_tls", headers=h, data=deep, timeout=10)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] is None
    # The server is unharmed.
    assert requests.get(sealpost.url + "/v3/user/settings/enforced_tls", headers=h, timeout=10).status_code == 200


def test_connections_over_the_limit_get_503_then_room_again(sealpost):
    server = sealpost
    server.start("--max-connections", "3")
    held = [requests.Session() for _ in range(3)]
    for s in held:  # three keep-alive connections, each really open
        assert s.get(server.url + "/healthz", timeout=5).status_code == 200
    status, headers, body = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 503"), status
    assert headers["retry-after"] == "1" and headers["connection"] == "close"
    assert json.loads(body) == {"errors": [{"field": None, "message": "too many connections; retry shortly"}]}
    # The refused connection is not counted; one held connection closing makes room.
    held.pop().close()
    for _ in range(50):
        status, _, _ = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if status.startswith(b"HTTP/1.1 200"):
            break
    assert status.startswith(b"HTTP/1.1 200"), status
    for s in held:  # the admitted connections were never disturbed
        assert s.get(server.url + "/healthz", timeout=5).status_code == 200
