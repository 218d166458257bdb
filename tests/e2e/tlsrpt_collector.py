"""An HTTPS TLS-RPT collector (RFC 8460 §5.3.2) on loopback: records every POST (path, headers,
body) and answers 200, or `status` when set. Its certificate is the test CA's stshost leaf,
which names tlsrpt.sts.test."""
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TLSRPTCollector:
    def __init__(self, port, cert, key):
        self.posts, self.lock, self.status = [], threading.Lock(), 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.posts.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self):
        with self.lock:
            return list(self.posts)
