#!/usr/bin/env python3
"""A loopback HTTPS host for MTA-STS policies (RFC 8461 §3.3), for the tests.

    sts-host.py PORT CERT KEY DOCROOT LOG

GET /.well-known/mta-sts.txt answers the file DOCROOT/<Host without port> as text/plain, or 404
when there is none; DOCROOT/<host>.status holds another status code to answer instead (500, 302…).
Every request is appended to LOG as `<host> <path> <status>`, so a test can count fetches."""
import http.server
import os
import ssl
import sys

PORT, CERT, KEY, DOCROOT, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = os.path.join(DOCROOT, os.path.basename(host))
        status, body = 404, b"not found\n"
        if self.path == "/.well-known/mta-sts.txt" and host and os.path.exists(path):
            status, body = 200, open(path, "rb").read()
        if host and os.path.exists(path + ".status"):
            status = int(open(path + ".status").read().strip())
        with open(LOG, "a") as log:
            log.write(f"{host} {self.path} {status}\n")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        if status in (301, 302):
            self.send_header("Location", f"https://{host}/elsewhere.txt")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
