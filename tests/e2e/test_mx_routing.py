"""MX routing through a real DNS server on loopback (dnsmasq): preference order and fallback,
implicit MX (A/AAAA when there is no MX), IPv6, null MX and unknown domains bouncing at once."""
import signal
import subprocess
import time
import uuid

import pytest
from sendgrid import SendGridAPIClient

from conftest import free_port


@pytest.fixture
def dns(tmp_path):
    port = free_port()
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text("\n".join([
        f"port={port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "local=/test/",
        # preference 10 points at an address where nothing listens: delivery must fall back to 20
        "mx-host=example.test,mx1.example.test,10",
        "mx-host=example.test,mx2.example.test,20",
        "host-record=mx1.example.test,127.0.0.2",
        "host-record=mx2.example.test,127.0.0.1",
        # no MX at all: the domain's own address is the implicit MX
        "host-record=nomx.test,127.0.0.1",
        # only an IPv6 address
        "host-record=v6only.test,::1",
        # RFC 7505 null MX: the domain accepts no mail
        "mx-host=nullmx.test,.,0",
        "",
    ]))
    proc = subprocess.Popen(["dnsmasq", "--keep-in-foreground", f"--conf-file={conf}", f"--pid-file={tmp_path}/dnsmasq.pid",
                             "--user=root"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    if proc.poll() is not None:
        pytest.fail(f"dnsmasq did not start: {proc.stderr.read().decode()}")
    yield port
    proc.send_signal(signal.SIGTERM)
    proc.wait(5)


def test_mx_lookup_fallback_implicit_mx_ipv6_and_nxdomain(sealpost, postfix_peers, dns):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--dns-server", f"127.0.0.1:{dns}", "--mx-port", str(postfix_peers.port_of("ca")), "--smtp-timeout", "5")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    token = uuid.uuid4().hex
    emails = {"a@example.test": "mx2.example.test", "b@nomx.test": "nomx.test", "c@v6only.test": "v6only.test",
              "d@nosuchdomain.test": None, "e@nullmx.test": None}
    for email in emails:
        r = sg.client.mail.send.post(request_body={
            "personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@relay.test"},
            "subject": f"mx {token} {email}", "content": [{"type": "text/plain", "value": "x"}]})
        assert r.status_code == 202
    events = sealpost.final_events(emails)
    for email, mx in emails.items():
        e = events[email]
        if mx is None:
            assert e["event"] == "bounce" and e["type"] == "bounce", e
            assert ("null MX" if "nullmx" in email else "does not exist") in e["reason"], e
            assert [x["event"] for x in sealpost.events() if x["email"] == email] \
                == ["processed", "bounce"], "bounced at once, never deferred"
        else:
            assert e["event"] == "delivered", e
            assert e["mx"] == mx
            assert postfix_peers.find("ca", f"mx {token} {email}", timeout=5)
    log = sealpost.log()
    assert "mx=mx1.example.test" in log, "the preferred MX was tried first"
