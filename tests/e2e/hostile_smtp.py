"""Misbehaving SMTP servers for the tests, on loopback. Each records every byte it received."""
import asyncio
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path


def self_signed_context():
    """A server TLS context with a fresh self-signed certificate for localhost."""
    d = Path(tempfile.mkdtemp(prefix="hostile-cert-"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "k.pem", "-out", d / "c.pem",
                    "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "c.pem", d / "k.pem")
    return ctx


class HostileServer:
    """mode:
    hide       -- EHLO without STARTTLS (a stripping man-in-the-middle)
    refuse454  -- offers STARTTLS, answers it with 454
    refuse502  -- offers STARTTLS, answers it with 502
    inject     -- answers STARTTLS with "220" plus a forged reply in the same packet (CVE-2011-0411 class),
                  then does the TLS handshake and goes on over TLS ("<tls>" marks where in `received`)
    overlong   -- a 100 KB greeting line
    endless    -- an EHLO reply that never ends ("250-…" forever)
    invalid    -- a greeting that is not an SMTP reply
    drip       -- sends its greeting one byte per second
    dropdata   -- accepts everything up to DATA, then drops the connection in the middle of the message
    """

    def __init__(self, mode):
        self.mode = mode
        self.received = bytearray()
        self.connections = 0
        self.tls_context = self_signed_context() if mode == "inject" else None
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(self.handle, "127.0.0.1", 0))
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)

    async def handle(self, reader, writer):
        self.connections += 1
        try:
            await self.converse(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def line(self, reader):
        data = await reader.readline()
        self.received.extend(data)
        if not data:
            raise ConnectionError("closed")
        return data.decode("latin-1").strip()

    async def converse(self, reader, writer):
        m = self.mode
        if m == "overlong":
            writer.write(b"220 " + b"x" * 100_000 + b"\r\n")
            await writer.drain()
            await asyncio.sleep(5)
            return
        if m == "invalid":
            writer.write(b"hello there, not smtp\r\n")
            await writer.drain()
            await asyncio.sleep(5)
            return
        if m == "drip":
            for b in b"220 slow.test ESMTP\r\n":
                writer.write(bytes([b]))
                await writer.drain()
                await asyncio.sleep(1)
            return
        writer.write(b"220 hostile.test ESMTP\r\n")
        await writer.drain()
        while True:
            cmd = await self.line(reader)
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                if m == "endless":
                    try:
                        while True:
                            writer.write(b"250-more\r\n" * 100)
                            await writer.drain()
                    except ConnectionError:
                        return
                ext = b"" if m == "hide" else b"250-STARTTLS\r\n"
                writer.write(b"250-hostile.test\r\n" + ext + b"250 8BITMIME\r\n")
            elif verb == "STARTTLS":
                if m == "refuse454":
                    writer.write(b"454 4.7.0 TLS not available\r\n")
                elif m == "refuse502":
                    writer.write(b"502 5.5.1 no\r\n")
                elif m == "inject" and self.tls_context:
                    writer.write(b"220 2.0.0 go ahead\r\n250 2.0.0 forged reply\r\n")
                    await writer.drain()
                    await writer.start_tls(self.tls_context)
                    self.received.extend(b"<tls>")
                    self.tls_context = None  # one STARTTLS per connection
                    continue
                else:
                    writer.write(b"502 5.5.1 no\r\n")
            elif verb == "MAIL" or verb == "RCPT" or verb == "RSET" or verb == "NOOP":
                writer.write(b"250 2.0.0 ok\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                if m == "dropdata":
                    await reader.read(10)  # part of the message, then the line goes dead
                    self.received.extend(b"<dropped>")
                    return
                while True:
                    data = await self.line(reader)
                    if data == ".":
                        break
                writer.write(b"250 2.0.0 accepted\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"500 5.5.2 what\r\n")
            await writer.drain()

    def close(self):
        async def shutdown():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class SlowAcceptServer(HostileServer):
    """A well-behaved server that takes `delay` seconds to answer the end of DATA."""

    def __init__(self, delay):
        self.delay = delay
        super().__init__("slowaccept")

    async def converse(self, reader, writer):
        writer.write(b"220 slow.test ESMTP\r\n")
        await writer.drain()
        while True:
            cmd = await self.line(reader)
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                writer.write(b"250-slow.test\r\n250 PIPELINING\r\n")
            elif verb == "DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                while (await self.line(reader)) != ".":
                    pass
                await asyncio.sleep(self.delay)
                writer.write(b"250 2.0.0 accepted slowly\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
