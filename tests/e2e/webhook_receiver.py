"""A small Event Webhook receiver: records every POSTed JSON array; can be told to fail."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.batches = []
        self.raw = []  # (headers, body bytes) of every accepted POST, for signature checks
        self.fail_with = None  # an HTTP status to answer instead of 200
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.fail_with:
                    self.send_response(outer.fail_with)
                    self.end_headers()
                    return
                with outer.lock:
                    outer.batches.append(json.loads(body))
                    outer.raw.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def events(self):
        with self.lock:
            return [e for batch in self.batches for e in batch]

    def close(self):
        self.server.shutdown()
