"""TLS reporting (RFC 8460) end to end, on SQLite and on PostgreSQL: real deliveries through the
DNSSEC lab to domains that publish `_smtp._tls` (an HTTPS collector, tests/e2e/tlsrpt_collector.py,
and a `mailto:` mailbox on the lab's Postfix receiver), then `sealpost tlsrpt send --date <today>
--include-unfinished` run as two processes at once: each domain gets exactly one report, whose
JSON has RFC 8460's fields and whose counts are the sessions the test made; a second run sends
nothing more. Without `--include-unfinished` an unfinished day is refused with exit code 2.

Each message is sent after the previous one's final event, so each is one SMTP session:
ee.dane.test 2 (DANE-authenticated), insecure.test 2 (no policy, TLS), eebad.dane.test 1 (TLSA
not matching: validation-failure), plain.dane.test 1 (no STARTTLS behind TLSA), notlsa.dane.test
1 (two TLSRPTv1 records: the domain asked for nothing, RFC 8460 §3)."""
import datetime
import email
import gzip
import json
import re
import subprocess
import time
import uuid

import dkim
import requests
from conftest import BIN
from test_dkim import dnsmasq  # noqa: F401 (the fixture)
from tlsrpt_collector import TLSRPTCollector

BACKENDS = ["sqlite", "postgres"]


def spki_sha256(cert):
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True, check=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()


def check_rfc8460_shape(report):
    """The fields RFC 8460 §4.4 requires, with their types."""
    assert set(report) == {"organization-name", "date-range", "contact-info", "report-id", "policies"}, report
    assert set(report["date-range"]) == {"start-datetime", "end-datetime"}
    for p in report["policies"]:
        assert set(p) <= {"policy", "summary", "failure-details"} and {"policy", "summary"} <= set(p)
        assert p["policy"]["policy-type"] in ("sts", "tlsa", "no-policy-found")
        assert set(p["summary"]) == {"total-successful-session-count", "total-failure-session-count"}
        for f in p.get("failure-details", []):
            assert {"result-type", "failed-session-count"} <= set(f)


def test_tlsrpt_reports_once_with_the_sessions_made(sealpost, postfix_peers, dnssec_lab):
    certs = postfix_peers.base / "certs"
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    report_args = ["--tlsrpt-organization", "Sealpost Test Org", "--tlsrpt-contact", "tlsrpt-admin@relay.test",
                   "--tlsrpt-from", "tlsrpt@relay.test"]
    lab = [*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca]
    with TLSRPTCollector(dnssec_lab.tlsrpt_port, certs / "stshost.chain.crt", certs / "stshost.key") as collector:
        # Every session on a connection of its own: RFC 8460 counts connections, and a session on
        # a kept connection adds none (test_connection_reuse has those), so here the counts are
        # the sessions made.
        sealpost.start(*lab, "--retry-base", "600", "--smtp-timeout", "5", "--connection-cache-time", "0", *report_args)
        token = uuid.uuid4().hex[:8]
        plan = [("ee.dane.test", "delivered"), ("ee.dane.test", "delivered"), ("insecure.test", "delivered"),
                ("insecure.test", "delivered"), ("eebad.dane.test", "deferred"), ("plain.dane.test", "deferred"),
                ("notlsa.dane.test", "delivered")]
        for i, (domain, outcome) in enumerate(plan):
            to = f"r{i}-{token}@{domain}"
            r = requests.post(sealpost.url + "/v3/mail/send", headers={"Authorization": f"Bearer {key}"}, timeout=30, json={
                "personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": "rpt",
                "content": [{"type": "text/plain", "value": f"to {to}"}]})
            assert r.status_code == 202, r.text
            deadline = time.time() + 60
            while not any(e["email"] == to and e["event"] == outcome for e in sealpost.events()):
                assert time.time() < deadline, f"no {outcome} for {to}: {sealpost.log()[-2000:]}"
                time.sleep(0.2)

        # A pre-flight check connects like a delivery, but is no session of the report.
        check = requests.get(sealpost.url + "/v3/user/settings/enforced_tls/check", params={"domain": "ee.dane.test"},
                             headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert check.status_code == 200 and check.json()["would_deliver"] is True, check.text

        today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
        cli = [BIN, "tlsrpt", "send", "--database", sealpost.db, *lab, *report_args, "--date", today]
        refused = subprocess.run(cli, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "has not ended" in refused.stderr, refused
        assert collector.snapshot() == []

        mail_dir = postfix_peers.mail_dir("labself")
        seen = {f.name for f in mail_dir.iterdir()} if mail_dir.exists() else set()
        # Two senders at once (two nodes' worth): each report goes out once, whoever sends it.
        before = int(time.time())
        runs = [subprocess.Popen(cli + ["--include-unfinished"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in runs]
        after = int(time.time()) + 1
        assert [p.returncode for p in runs] == [0, 0], outs
        counts = [re.match(r"(\d+) sent, (\d+) domains without TLS reporting, 0 failed", o[0]) for o in outs]
        assert all(counts), outs
        assert sum(int(m.group(1)) for m in counts) == 4 and sum(int(m.group(2)) for m in counts) == 1, outs

        posts = collector.snapshot()
        assert len(posts) == 3, [p["path"] for p in posts]
        reports = {}
        for post in posts:
            assert post["path"] == "/v1/report" and post["headers"]["Content-Type"] == "application/tlsrpt+gzip"
            report = json.loads(gzip.decompress(post["body"]))
            check_rfc8460_shape(report)
            (policy,) = report["policies"]
            reports[policy["policy"]["policy-domain"]] = report
        assert set(reports) == {"ee.dane.test", "insecure.test", "plain.dane.test"}
        for domain, report in reports.items():
            assert report["organization-name"] == "Sealpost Test Org" and report["contact-info"] == "tlsrpt-admin@relay.test"
            assert report["date-range"]["start-datetime"] == f"{today}T00:00:00Z"
            end = datetime.datetime.strptime(report["date-range"]["end-datetime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            assert before <= end <= after, (report["date-range"], before, after)
            assert report["report-id"].startswith(f"{today}-{domain}-")

        self_spki = spki_sha256(certs / "selfsigned.crt")
        assert reports["ee.dane.test"]["policies"] == [{
            "policy": {"policy-type": "tlsa", "policy-domain": "ee.dane.test", "policy-string": [f"3 1 1 {self_spki}"],
                       "mx-host": ["mx-ee.dane.test"]},
            "summary": {"total-successful-session-count": 2, "total-failure-session-count": 0}}]
        assert reports["insecure.test"]["policies"] == [{
            "policy": {"policy-type": "no-policy-found", "policy-domain": "insecure.test"},
            "summary": {"total-successful-session-count": 2, "total-failure-session-count": 0}}]
        plain_policy = reports["plain.dane.test"]["policies"][0]
        assert plain_policy["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
        assert plain_policy["failure-details"] == [{
            "result-type": "starttls-not-supported", "sending-mta-ip": "127.0.0.1", "receiving-mx-hostname": "mx-plain.dane.test",
            "receiving-ip": "127.0.0.23", "failed-session-count": 1}]

        # mailto: through Sealpost's own queue to the lab's Postfix receiver (eebad, and plain's second rua).
        def new_reports(domain):
            return [f.read_bytes() for f in postfix_peers.mail_dir("labself").iterdir()
                    if f.name not in seen and f"TLS-Report-Domain: {domain}".encode() in f.read_bytes()]

        mails = {}
        for domain in ("eebad.dane.test", "plain.dane.test"):
            deadline = time.time() + 60
            while not new_reports(domain):
                assert time.time() < deadline, f"no mailed report for {domain}: {sealpost.log()[-2000:]}"
                time.sleep(0.2)
            (raw,) = new_reports(domain)
            msg = email.message_from_bytes(raw)
            assert msg["TLS-Report-Submitter"] == "relay.test" and msg["TLS-Required"] == "No"
            assert msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "tlsrpt"
            (part,) = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
            name = part.get_filename()
            assert re.fullmatch(rf"relay\.test!{re.escape(domain)}!\d+!\d+!{today}-{re.escape(domain)}-[0-9a-f]{{8}}\.json\.gz", name), name
            report = json.loads(gzip.decompress(part.get_payload(decode=True)))
            check_rfc8460_shape(report)
            mails[domain] = report
        assert mails["plain.dane.test"]["report-id"] == reports["plain.dane.test"]["report-id"], "one report, two ruas"
        eebad = mails["eebad.dane.test"]["policies"][0]
        assert eebad["policy"]["policy-type"] == "tlsa" and eebad["policy"]["mx-host"] == ["mx-eebad.dane.test"]
        assert eebad["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
        assert eebad["failure-details"] == [{
            "result-type": "validation-failure", "sending-mta-ip": "127.0.0.1", "receiving-mx-hostname": "mx-eebad.dane.test",
            "receiving-ip": "127.0.0.21", "failed-session-count": 1}]

        # Idempotent: nothing more, over HTTPS or by mail.
        again = subprocess.run(cli + ["--include-unfinished"], capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and again.stdout.startswith("0 sent, 0 domains"), again
        time.sleep(2)
        assert len(collector.snapshot()) == 3
        assert len(new_reports("eebad.dane.test")) == 1 and len(new_reports("plain.dane.test")) == 1


def test_mailed_reports_are_dkim_signed_when_the_from_domain_is_authenticated(sealpost, postfix_peers, dnsmasq):
    """A `mailto:` report from an authenticated domain verifies with dkimpy; its session (a
    receiver without STARTTLS, found by MX through dnsmasq) is reported as a failure."""
    dnsmasq.extra = ["mx-host=rpt.test,mx.rpt.test,10", "address=/mx.rpt.test/127.0.0.1"]
    dnsmasq.publish("_smtp._tls.rpt.test", "v=TLSRPTv1; rua=mailto:tlsrpt@rpt.test")
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    args = ["--dns-server", f"127.0.0.1:{dnsmasq.port}", "--mx-port", str(postfix_peers.port_of("plain")),
            "--tlsrpt-from", "tlsrpt@relay.test"]
    sealpost.start(*args)
    auth = {"Authorization": f"Bearer {key}"}
    created = requests.post(sealpost.url + "/v3/whitelabel/domains", json={"domain": "relay.test"}, headers=auth, timeout=10).json()
    dnsmasq.publish(created["dns"]["dkim"]["host"], created["dns"]["dkim"]["data"])
    r = requests.post(sealpost.url + f"/v3/whitelabel/domains/{created['id']}/validate", headers=auth, timeout=10)
    assert r.json()["valid"] is True, r.text
    token = uuid.uuid4().hex[:8]
    to = f"a-{token}@rpt.test"
    assert requests.post(sealpost.url + "/v3/mail/send", headers=auth, timeout=10, json={
        "personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": "rpt",
        "content": [{"type": "text/plain", "value": f"to {to}"}]}).status_code == 202
    assert sealpost.final_events({to}, timeout=60)[to]["event"] == "delivered"
    mail_dir = postfix_peers.mail_dir("plain")
    seen = {f.name for f in mail_dir.iterdir()} if mail_dir.exists() else set()
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    out = subprocess.run([BIN, "tlsrpt", "send", "--database", sealpost.db, *args, "--date", today, "--include-unfinished"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("1 sent, 0 domains"), out
    deadline, raw = time.time() + 60, None
    while raw is None:
        assert time.time() < deadline, sealpost.log()[-2000:]
        raw = next((f.read_bytes() for f in mail_dir.iterdir()
                    if f.name not in seen and b"TLS-Report-Domain: rpt.test" in f.read_bytes()), None)
        time.sleep(0.2)
    assert dkim.verify(raw, dnsfunc=dnsmasq.txt), "signed by relay.test"
    assert b"d=relay.test" in raw and b"tls-report-domain:tls-report-submitter" in raw, "RFC 8460 5.3: both in h="
    assert not dkim.verify(raw.replace(b"TLS-Report-Domain: rpt.test", b"TLS-Report-Domain: rpt.tesT"), dnsfunc=dnsmasq.txt)
    (part,) = [p for p in email.message_from_bytes(raw).walk() if p.get_content_type() == "application/tlsrpt+gzip"]
    (policy,) = json.loads(gzip.decompress(part.get_payload(decode=True)))["policies"]
    assert policy == {
        "policy": {"policy-type": "no-policy-found", "policy-domain": "rpt.test"},
        "summary": {"total-successful-session-count": 0, "total-failure-session-count": 1},
        "failure-details": [{"result-type": "starttls-not-supported", "sending-mta-ip": "127.0.0.1",
                             "receiving-mx-hostname": "mx.rpt.test", "receiving-ip": "127.0.0.1", "failed-session-count": 1}]}
