"""REQUIRETLS (RFC 8689) end to end: submitted over SMTP with `MAIL FROM:<…> REQUIRETLS` (smtplib)
or over the API with `mail_settings.require_tls`, behind the DNSSEC lab. Receivers that offer
REQUIRETLS are aiosmtpd servers (tests/e2e/requiretls_receiver.py; Debian's Postfix 3.7 has no
REQUIRETLS): one as the DANE-authenticated MX of rtls.dane.test and the insecure MX of
rtls.insecure.test (127.0.0.25 on the lab's MX port), one behind a `--route` with a certificate
from the test CA (PKIX), and one on a route that does not offer REQUIRETLS. The lab's Postfix
receiver (ee.dane.test, DANE-matching) is a secure MX without REQUIRETLS."""
import smtplib
import ssl
import uuid

import requests
from conftest import free_port
from peers import LAB_OFFSET
from requiretls_receiver import RequireTLSReceiver


def test_requiretls(sealpost, postfix_peers, dnssec_lab):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    certs = postfix_peers.base / "certs"
    lab_port = postfix_peers.port + LAB_OFFSET
    pkix_port, nortls_port, sub_port = free_port(), free_port(), free_port()
    with RequireTLSReceiver("127.0.0.25", lab_port, certs / "selfsigned.crt", certs / "selfsigned.key") as dane_rx, \
            RequireTLSReceiver("127.0.0.1", pkix_port, certs / "localhost.chain.crt", certs / "localhost.key") as pkix_rx, \
            RequireTLSReceiver("127.0.0.1", nortls_port, certs / "localhost.chain.crt", certs / "localhost.key",
                               advertise=False) as nortls_rx:
        sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--retry-base", "60", "--smtp-timeout", "5",
                       "--route", f"pkix.test=localhost:{pkix_port}", "--route", f"nortls.test=localhost:{nortls_port}",
                       "--submission", f"127.0.0.1:{sub_port}", "--smtp-tls-cert", str(certs / "localhost.chain.crt"),
                       "--smtp-tls-key", str(certs / "localhost.key"))
        token = uuid.uuid4().hex[:8]

        # Over SMTP: REQUIRETLS is offered after STARTTLS only, and its parameter taken only then.
        s = smtplib.SMTP("localhost", sub_port, timeout=30)
        s.ehlo("client.test")
        assert not s.has_extn("requiretls")
        s.starttls(context=ssl.create_default_context(cafile=postfix_peers.ca))
        s.ehlo("client.test")
        assert s.has_extn("requiretls")
        s.login("apikey", key)
        submitted = f"smtp-{token}@rtls.dane.test"
        s.sendmail("s@acme.test", [submitted], f"From: s@acme.test\r\nSubject: r\r\n\r\nto {submitted}\r\n".encode(),
                   mail_options=["REQUIRETLS"])
        # The same message to a secure MX without REQUIRETLS, once with and once without the option.
        refused_secure, control = f"nortls-{token}@ee.dane.test", f"control-{token}@ee.dane.test"
        s.sendmail("s@acme.test", [refused_secure], f"From: s@acme.test\r\nSubject: r\r\n\r\nto {refused_secure}\r\n".encode(),
                   mail_options=["REQUIRETLS"])
        s.sendmail("s@acme.test", [control], f"From: s@acme.test\r\nSubject: r\r\n\r\nto {control}\r\n".encode())
        s.quit()

        def send(to, require=True, headers=None):
            body = {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": "r",
                    "content": [{"type": "text/plain", "value": f"to {to}"}],
                    "mail_settings": {"require_tls": {"enable": require}}}
            if headers:
                body["headers"] = headers
            r = requests.post(sealpost.url + "/v3/mail/send", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
            assert r.status_code == 202, r.text

        pkix, nortls, insecure, waived, off = (f"pkix-{token}@pkix.test", f"route-{token}@nortls.test",
                                               f"insecure-{token}@rtls.insecure.test", f"waived-{token}@rtls.insecure.test",
                                               f"off-{token}@rtls.insecure.test")
        send(pkix)
        send(nortls)
        send(insecure)
        send(waived, headers={"TLS-Required": "No"})  # ignored with REQUIRETLS (RFC 8689 §5)
        send(off, require=False)
        addresses = {submitted, refused_secure, control, pkix, nortls, insecure, waived, off}
        final = sealpost.final_events(addresses, timeout=90)

        # Delivered, with the option passed on, over verified TLS: DANE, then PKIX by a route.
        for to, rx in ((submitted, dane_rx), (pkix, pkix_rx)):
            e = final[to]
            assert (e["event"], e["tls"], e["tls_policy"]) == ("delivered", 1, "requiretls"), e
            got = rx.find(f"to {to}")
            assert got is not None and "REQUIRETLS" in got["mail_options"] and got["tls"] in ("TLSv1.2", "TLSv1.3"), got
        # Mail without the option goes as ever, and is not marked.
        for to, rx in ((control, None), (off, dane_rx)):
            assert final[to]["event"] == "delivered", final[to]
        got = dane_rx.find(f"to {off}")
        assert got is not None and "REQUIRETLS" not in got["mail_options"]
        assert postfix_peers.find("labself", f"to {control}", timeout=5) is not None

        # Refused, each with its bounce: no REQUIRETLS at a secure MX, or at a routed host; an insecure MX.
        expected = {
            refused_secure: ("requiretls-not-supported", "does not offer REQUIRETLS"),
            nortls: ("requiretls-not-supported", "does not offer REQUIRETLS"),
            insecure: ("requiretls-not-supported", "was not found securely"),
            waived: ("requiretls-not-supported", "was not found securely"),
        }
        for to, (result_type, why) in expected.items():
            e = final[to]
            assert (e["event"], e["type"], e["status"]) == ("bounce", "blocked", "5.7.30"), e
            assert e["reason"].startswith("REQUIRETLS not met: ") and why in e["reason"], e
            assert (e["tls_failure"]["result_type"], e["tls_failure"]["policy"]) == (result_type, "requiretls"), e
            assert not any(ev["event"] == "deferred" for ev in sealpost.events() if ev["email"] == to), "bounced at once"
        # Nothing of them reached a receiver.
        assert postfix_peers.find("labself", f"to {refused_secure}", timeout=2) is None
        assert nortls_rx.find(f"to {nortls}") is None and nortls_rx.messages == []
        assert dane_rx.find(f"to {insecure}") is None and dane_rx.find(f"to {waived}") is None
        # The host without REQUIRETLS was asked EHLO twice (before and after TLS), and sent no MAIL.
        assert [e["tls"] for e in nortls_rx.ehlos] == [False, True]
