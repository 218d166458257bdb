"""DKIM signing checked by a real verifier: dkimpy verifies every signed message that arrives at
the Postfix receiver (API mail with attachments, SMTP-submitted mail, a 1,000-recipient
message), with the public key served by dnsmasq exactly as `POST /v3/whitelabel/domains`
printed it; a changed header or body fails. `validate` answers false before the record is
published and true after; another tenant neither sees the domain nor signs with it; a
subuser signs with its parent's; `--require-authenticated-domains` refuses the rest (403/550)."""
import base64
import json
import signal
import smtplib
import ssl
import subprocess
import time
import uuid

import dkim
import dns.message
import dns.query
import dns.rdatatype
import pytest
import requests

from conftest import free_port

BACKENDS = ["sqlite", "postgres"]


class Dnsmasq:
    """dnsmasq on loopback, restarted with new TXT records (`publish`)."""

    def __init__(self, tmp_path):
        self.port, self.dir, self.proc, self.records = free_port(), tmp_path, None, {}
        self.extra = []  # more dnsmasq.conf lines (mx-host=, address=)
        self.start()

    def start(self):
        lines = [f"port={self.port}", "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "local=/test/"]
        lines += self.extra
        for name, value in self.records.items():
            chunks = [value[i:i + 255] for i in range(0, len(value), 255)]  # one TXT string holds 255 bytes
            lines.append(f"txt-record={name}," + ",".join(f'"{c}"' for c in chunks))
        (self.dir / "dnsmasq.conf").write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(["dnsmasq", "--keep-in-foreground", f"--conf-file={self.dir}/dnsmasq.conf",
                                      f"--pid-file={self.dir}/dnsmasq.pid", "--user=root"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            pytest.fail(f"dnsmasq did not start: {self.proc.stderr.read().decode()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(5)

    def publish(self, name, value):
        self.records[name] = value
        self.stop()
        self.start()

    def txt(self, name, timeout=5):
        """dkimpy's dnsfunc: the TXT record at `name` from this server, its strings joined."""
        name = name.decode() if isinstance(name, bytes) else name
        reply = dns.query.udp(dns.message.make_query(name, dns.rdatatype.TXT), "127.0.0.1", port=self.port, timeout=timeout)
        for rrset in reply.answer:
            for rdata in rrset:
                return b"".join(rdata.strings)
        return None


@pytest.fixture
def dnsmasq(tmp_path):
    d = Dnsmasq(tmp_path)
    yield d
    d.stop()


class API:
    def __init__(self, url, key, on_behalf_of=None):
        self.url, self.headers = url, {"Authorization": f"Bearer {key}"}
        if on_behalf_of:
            self.headers["on-behalf-of"] = on_behalf_of

    def __call__(self, method, path, body=None):
        r = requests.request(method, self.url + path, headers=self.headers, json=body, timeout=60)
        return r.status_code, (r.json() if r.content else None)


def mail(to, frm, token, attachments=False):
    body = {"personalizations": [{"to": [{"email": t} for t in to]}], "from": {"email": frm, "name": "Ex Ample"},
            "subject": f"dkim {token}", "content": [{"type": "text/plain", "value": f"plain {token}\n.dot line\n  spaced  "},
                                                     {"type": "text/html", "value": f"<p>html {token}</p>"}],
            "headers": {"List-Unsubscribe": "<mailto:u@example.test>"}}
    if attachments:
        body["attachments"] = [{"content": base64.b64encode(bytes(range(256)) * 40).decode(), "filename": "bin.dat",
                                "type": "application/octet-stream"}]
    return body


def received(postfix_peers, token):
    data = postfix_peers.find_bytes("ca", token, timeout=30)
    assert data is not None, f"message {token} did not arrive"
    # Postfix prepends its own trace field, which is not signed; the rest is what was signed.
    return data


def test_signed_mail_verifies_and_only_its_tenant_signs(sealpost, postfix_peers, dnsmasq):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("subusers", "create", "--parent", "acme", "acme-sub")
    sealpost.cli("accounts", "create", "globex")
    key, sub_key, globex_key = sealpost.key("acme"), sealpost.key("acme-sub"), sealpost.key("globex")
    certs = postfix_peers.base / "certs"
    sub_port = free_port()
    ca = postfix_peers.port_of("ca")
    sealpost.start("--dns-server", f"127.0.0.1:{dnsmasq.port}", "--route", f"rcpt.test=127.0.0.1:{ca}",
                   "--submission", f"127.0.0.1:{sub_port}", "--smtp-tls-cert", str(certs / "localhost.chain.crt"),
                   "--smtp-tls-key", str(certs / "localhost.key"))
    api, sub, globex = API(sealpost.url, key), API(sealpost.url, sub_key), API(sealpost.url, globex_key)

    status, created = api("POST", "/v3/whitelabel/domains", {"domain": "Example.test", "default": True})
    assert status == 201, created
    assert {k: created[k] for k in ("user_id", "domain", "subdomain", "username", "default", "valid", "legacy",
                                    "automatic_security", "ips")} == {
        "user_id": created["user_id"], "domain": "example.test", "subdomain": "", "username": "acme", "default": True,
        "valid": False, "legacy": False, "automatic_security": False, "ips": []}
    record = created["dns"]["dkim"]
    assert (record["type"], record["host"], record["valid"]) == ("txt", "s1._domainkey.example.test", False)
    assert record["data"].startswith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A")  # RSA-2048 SPKI
    domain_id = created["id"]
    assert api("POST", "/v3/whitelabel/domains", {"domain": "example.test"})[0] == 409  # exists
    assert api("POST", "/v3/whitelabel/domains", {"domain": "x.test", "automatic_security": True})[0] == 400
    assert api("GET", "/v3/whitelabel/domains?domain=example.test")[1] == [created]
    assert globex("GET", f"/v3/whitelabel/domains/{domain_id}")[0] == 404
    assert globex("GET", "/v3/whitelabel/domains") == (200, [])
    assert sub("GET", f"/v3/whitelabel/domains/{domain_id}") == (200, created)  # the parent's, shared
    assert created["dns"]["dkim"]["data"][19:] not in sealpost.log()

    # Not published yet: not valid, and mail goes out unsigned.
    status, result = api("POST", f"/v3/whitelabel/domains/{domain_id}/validate")
    assert status == 200 and result["valid"] is False and result["validation_results"]["dkim"]["valid"] is False
    assert "s1._domainkey.example.test" in result["validation_results"]["dkim"]["reason"]
    token = uuid.uuid4().hex
    assert api("POST", "/v3/mail/send", mail(["a@rcpt.test"], "news@example.test", token))[0] == 202
    assert b"DKIM-Signature" not in received(postfix_peers, token)

    # Published exactly as printed: valid, and signing starts.
    dnsmasq.publish(record["host"], record["data"])
    status, result = api("POST", f"/v3/whitelabel/domains/{domain_id}/validate")
    assert (status, result) == (200, {"id": domain_id, "valid": True, "validation_results": {"dkim": {"valid": True, "reason": None}}})
    assert api("GET", f"/v3/whitelabel/domains/{domain_id}")[1]["valid"] is True

    def verify(data):
        return dkim.verify(data, dnsfunc=dnsmasq.txt)

    # API mail with an attachment, from the domain and from a subdomain of it.
    for frm in ("news@example.test", "a@mail.example.test"):
        token = uuid.uuid4().hex
        assert api("POST", "/v3/mail/send", mail(["b@rcpt.test"], frm, token, attachments=True))[0] == 202
        data = received(postfix_peers, token)
        assert data.count(b"DKIM-Signature:") == 1
        signature = data.split(b"DKIM-Signature:")[1].split(b"\nFrom:")[0].replace(b"\n", b"").replace(b"\t", b"")
        assert b"d=example.test" in signature and b"s=s1" in signature and b"c=relaxed/relaxed" in signature
        assert b"h=from:from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe;" in signature
        assert verify(data), data[:2000]
        assert not verify(data.replace(f"dkim {token}".encode(), f"dkim {token}!".encode()))  # a signed header changed
        assert not verify(data.replace(f"html {token}".encode(), f"html {token}!".encode()))  # the body changed
        # Over-signed From: a second From added on the way breaks the signature.
        assert not verify(data.replace(b"\nFrom:", b"\nFrom: evil@attacker.test\nFrom:", 1))

    # The subuser signs with its parent's domain; another tenant's mail from it is not signed.
    token = uuid.uuid4().hex
    assert sub("POST", "/v3/mail/send", mail(["c@rcpt.test"], "sub@example.test", token))[0] == 202
    assert verify(received(postfix_peers, token))
    token = uuid.uuid4().hex
    assert globex("POST", "/v3/mail/send", mail(["d@rcpt.test"], "spoof@example.test", token))[0] == 202
    assert b"DKIM-Signature" not in received(postfix_peers, token)

    # SMTP submission is signed the same way.
    token = uuid.uuid4().hex
    s = smtplib.SMTP("localhost", sub_port, timeout=30)
    s.starttls(context=ssl.create_default_context(cafile=postfix_peers.ca))
    s.login("apikey", key)
    s.sendmail("news@example.test", ["e@rcpt.test"], (
        f"From: News <news@example.test>\r\nTo: e@rcpt.test\r\nSubject: smtp {token}\r\n"
        f"Content-Type: text/plain\r\n\r\nsubmitted {token}\r\n..leading dot\r\n").encode())
    s.quit()
    assert verify(received(postfix_peers, token))

    # One message to 1,000 recipients: one signature, every copy verifies (one checked here).
    token = uuid.uuid4().hex
    rcpts = [f"r{i}-{token[:6]}@rcpt.test" for i in range(1000)]
    assert api("POST", "/v3/mail/send", mail(rcpts, "news@example.test", token))[0] == 202
    final = sealpost.final_events(set(rcpts), timeout=180)
    assert {e["event"] for e in final.values()} == {"delivered"}
    assert verify(received(postfix_peers, token))
    postfix_peers.remove("ca", token)

    # PATCH default; DELETE: the tenant's mail is no longer signed.
    assert api("PATCH", f"/v3/whitelabel/domains/{domain_id}", {"default": False})[1]["default"] is False
    assert globex("DELETE", f"/v3/whitelabel/domains/{domain_id}")[0] == 404
    assert api("DELETE", f"/v3/whitelabel/domains/{domain_id}") == (204, None)
    token = uuid.uuid4().hex
    assert api("POST", "/v3/mail/send", mail(["f@rcpt.test"], "news@example.test", token))[0] == 202
    assert b"DKIM-Signature" not in received(postfix_peers, token)


def test_require_authenticated_domains_refuses_other_senders(sealpost, postfix_peers, dnsmasq):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    out = sealpost.cli("domains", "create", "--user", "acme", "--selector", "k1", "auth.test").stdout
    domain_id, txt = out.split("\t")[0], out.split('"')[1]
    assert "TXT k1._domainkey.auth.test" in out and txt.startswith("v=DKIM1; k=rsa; p=")
    dnsmasq.publish("k1._domainkey.auth.test", txt)
    certs = postfix_peers.base / "certs"
    sub_port = free_port()
    sealpost.start("--dns-server", f"127.0.0.1:{dnsmasq.port}", "--route", f"rcpt.test=127.0.0.1:{postfix_peers.port_of('ca')}",
                   "--require-authenticated-domains", "--submission", f"127.0.0.1:{sub_port}",
                   "--smtp-tls-cert", str(certs / "localhost.chain.crt"), "--smtp-tls-key", str(certs / "localhost.key"))
    api = API(sealpost.url, key)
    refusal = {"errors": [{"field": "from", "message": (
        "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. "
        "Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements")}]}
    # Created but not validated yet: refused; validated: accepted and signed.
    assert api("POST", "/v3/mail/send", mail(["a@rcpt.test"], "x@auth.test", "t0")) == (403, refusal)
    assert api("POST", f"/v3/whitelabel/domains/{domain_id}/validate")[1]["valid"] is True
    token = uuid.uuid4().hex
    assert api("POST", "/v3/mail/send", mail(["a@rcpt.test"], "x@auth.test", token))[0] == 202
    assert dkim.verify(received(postfix_peers, token), dnsfunc=dnsmasq.txt)
    assert api("POST", "/v3/mail/send", mail(["a@rcpt.test"], "x@other.test", "t1")) == (403, refusal)

    s = smtplib.SMTP("localhost", sub_port, timeout=30)
    s.starttls(context=ssl.create_default_context(cafile=postfix_peers.ca))
    s.login("apikey", key)
    with pytest.raises(smtplib.SMTPDataError) as e:
        s.sendmail("x@other.test", ["b@rcpt.test"], b"From: x@other.test\r\nSubject: no\r\n\r\nno\r\n")
    assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.7.1 The from address does not match")
    token = uuid.uuid4().hex
    assert s.sendmail("x@auth.test", ["b@rcpt.test"], f"From: x@auth.test\r\nSubject: {token}\r\n\r\nyes\r\n".encode()) == {}
    s.quit()
    assert dkim.verify(received(postfix_peers, token), dnsfunc=dnsmasq.txt)

    # The command line lists, rotates (signing stops until revalidated) and deletes.
    listed = sealpost.cli("domains", "list", "--user", "acme").stdout
    assert "auth.test\towner=acme\tselector=k1\tvalid=true" in listed
    rotated = sealpost.cli("domains", "rotate", "--selector", "k2", domain_id).stdout
    assert "selector=k2\tvalid=false" in rotated and rotated.split('"')[1] != txt
    assert api("POST", "/v3/mail/send", mail(["a@rcpt.test"], "x@auth.test", "t2"))[0] == 403
    assert sealpost.cli("domains", "delete", domain_id).stdout.strip() == f"deleted {domain_id}"
    assert sealpost.cli("domains", "list").stdout == ""
