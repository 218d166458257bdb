"""A receiving SMTP server that offers REQUIRETLS (RFC 8689), on aiosmtpd: Debian's Postfix 3.7
does not implement it. It offers REQUIRETLS only after STARTTLS (as the RFC asks), accepts the
MAIL FROM parameter only then, and records every message with its MAIL FROM parameters and the
TLS version it came over. `advertise=False` makes the same server without REQUIRETLS."""
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class _RequireTLSSMTP(SMTP):
    def __init__(self, *args, advertise, **kwargs):
        super().__init__(*args, **kwargs)
        self.advertise = advertise

    def _getparams(self, params):
        result = super()._getparams(params)
        # aiosmtpd refuses parameters it does not know (555); REQUIRETLS is known here, over TLS.
        if result is not None and self.advertise and self.session.ssl and result.get("REQUIRETLS") is True:
            result.pop("REQUIRETLS")
        return result


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.server.advertise and session.ssl:
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        self.server.ehlos.append({"tls": bool(session.ssl), "lines": list(responses)})
        return responses

    async def handle_DATA(self, server, session, envelope):
        so = (session.ssl or {}).get("ssl_object")
        with self.server.lock:
            self.server.messages.append({
                "mail_from": envelope.mail_from, "mail_options": list(envelope.mail_options), "rcpt_tos": list(envelope.rcpt_tos),
                "tls": so.version() if so else None, "data": envelope.original_content.decode("utf-8", "replace")})
        return "250 2.0.0 OK stored"


class RequireTLSReceiver:
    def __init__(self, host, port, cert, key, advertise=True):
        self.host, self.port, self.advertise = host, port, advertise
        self.messages, self.ehlos, self.lock = [], [], threading.Lock()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        handler = _Handler(self)
        outer = self

        class _Controller(Controller):
            def factory(self):
                return _RequireTLSSMTP(handler, advertise=outer.advertise, hostname="rtls.localhost", tls_context=ctx,
                                       decode_data=False, enable_SMTPUTF8=True)

        self.controller = _Controller(handler, hostname=host, port=port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    def find(self, text):
        with self.lock:
            return next((m for m in self.messages if text in m["data"]), None)
