"""The pre-flight TLS check against the delivery matrix's real Postfix receivers: for every
receiver and setting, `would_deliver` and `tls_failure` equal what a real delivery then does
(the mail is sent and its final event compared); no check ever sends MAIL FROM (Postfix logs
each session's commands); bad `domain` values are refused without connecting; the check's own
rate limit answers 429; a next hop that does not speak SMTP fails cleanly within the deadline;
`sealpost check` prints the same verdicts."""
import json
import time
import uuid

import requests

from test_delivery_matrix import SETTINGS

RECEIVERS = ["plain", "selfsigned", "ca", "tls12", "tls13", "tls11", "wrongname", "expired", "required"]


def test_check_predicts_every_delivery_of_the_matrix(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    routes = []
    for name in RECEIVERS:
        routes += ["--route", f"{name}.test=localhost:{postfix_peers.port_of(name)}"]
    sealpost.start("--rate-limit", "100000", "--check-rate-limit", "1000", "--trust-roots", postfix_peers.ca, *routes)
    headers = {"Authorization": f"Bearer {key}"}
    log = postfix_peers.base / "log" / "maillog"
    before = len(log.read_text(errors="replace")) if log.exists() else 0

    predicted = {}
    for setting, values in SETTINGS.items():
        for name in RECEIVERS:
            q = {"domain": f"{name}.test", "require_tls": str(values["require_tls"]).lower(),
                 "require_valid_cert": str(values["require_valid_cert"]).lower(), "version": str(values["version"])}
            r = requests.get(sealpost.url + "/v3/user/settings/enforced_tls/check", params=q, headers=headers, timeout=60)
            assert r.status_code == 200, r.text
            report = r.json()
            assert report["domain"] == f"{name}.test"
            assert report["settings"] == values
            [mx] = report["mx"]
            assert mx["host"] == "localhost" and mx["preference"] is None
            assert report["would_deliver"] == mx["would_deliver"]
            if report["would_deliver"]:
                assert report["tls_failure"] is None and report["reason"] is None
            else:
                assert report["tls_failure"] == mx["tls_failure"] and report["reason"].startswith("TLS policy enforced_tls not met")
            if name == "plain":
                assert (mx["starttls"], mx["tls_version"], mx["certificate"]) == (False, None, None)
            else:
                assert mx["starttls"] is True and mx["certificate"]["subject"] and mx["certificate"]["not_after"] > 0
            predicted[(setting, name)] = report

    # Nothing a check did was a transaction: every session it opened ended without MAIL.
    text = log.read_text(errors="replace")[before:]
    sessions = [line for line in text.splitlines() if " disconnect from " in line]
    assert len(sessions) >= len(predicted), len(sessions)
    assert not [line for line in sessions if " mail=" in line], sessions[:3]
    verdicts = {(s, n): r["mx"][0]["certificate"]["verdict"] for (s, n), r in predicted.items() if r["mx"][0]["certificate"]}
    assert verdicts[("validcert", "selfsigned")] == "untrusted" and verdicts[("validcert", "wrongname")] == "host-mismatch"
    assert verdicts[("validcert", "expired")] == "expired" and verdicts[("validcert", "ca")] == "valid"

    # Now deliver for real under each setting: the outcome is what the check said.
    for setting, values in SETTINGS.items():
        assert requests.patch(sealpost.url + "/v3/user/settings/enforced_tls", json=values, headers=headers, timeout=30).ok
        token = uuid.uuid4().hex[:8]
        emails = {f"{setting}-{token}@{name}.test": name for name in RECEIVERS}
        for email in emails:
            body = {"personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@acme.test"}, "subject": "check",
                    "content": [{"type": "text/plain", "value": "x"}]}
            assert requests.post(sealpost.url + "/v3/mail/send", json=body, headers=headers, timeout=30).status_code == 202
        final = sealpost.final_events(set(emails))
        for email, name in emails.items():
            report, event = predicted[(setting, name)], final[email]
            assert (event["event"] == "delivered") == report["would_deliver"], (setting, name, event, report)
            if not report["would_deliver"]:
                assert event["tls_failure"] == report["tls_failure"], (setting, name)
            else:
                assert event.get("tls_version") == report["mx"][0]["tls_version"], (setting, name)


def test_bad_domains_rate_limit_and_a_non_smtp_next_hop(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}",
                   "--route", "web.test=127.0.0.1:1", "--check-rate-limit", "10")
    headers = {"Authorization": f"Bearer {key}"}
    url = sealpost.url + "/v3/user/settings/enforced_tls/check"
    for bad in ["192.0.2.1", "[127.0.0.1]", "localhost:25", "", ".example.test", "a@b.test"]:
        r = requests.get(url, params={"domain": bad}, headers=headers, timeout=10)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["errors"][0]["field"] == "domain"
    r = requests.get(url, params={"domain": "plain.test", "version": "2"}, headers=headers, timeout=10)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "version")
    assert requests.get(url, params={"domain": "plain.test"}, timeout=10).status_code == 401
    narrow = sealpost.key("acme", "mail.send")
    assert requests.get(url, params={"domain": "plain.test"}, headers={"Authorization": f"Bearer {narrow}"},
                        timeout=10).status_code == 403

    # Port 1 refuses at once: a clean failure with a reason, no tls_failure.
    started = time.time()
    report = requests.get(url, params={"domain": "web.test"}, headers=headers, timeout=60).json()
    assert time.time() - started < 30
    assert report["would_deliver"] is False and report["tls_failure"] is None
    assert report["reason"].startswith("Not reached: ") and report["mx"][0]["reason"] == report["reason"]

    # The check's own limit: 10 a minute per key (one used above, if still in this minute's
    # window), then 429 in SendGrid's shape.
    used_window = int(started // 60)
    if time.time() % 60 > 45:  # the window is the minute: start inside one
        time.sleep(61 - time.time() % 60)
    allowed = 9 if int(time.time() // 60) == used_window else 10
    answers = [requests.get(url, params={"domain": "plain.test"}, headers=headers, timeout=30) for _ in range(12)]
    codes = [a.status_code for a in answers]
    assert codes[:allowed] == [200] * allowed and codes[allowed] == 429, codes
    assert answers[codes.index(429)].json() == {"errors": [{"field": None, "message": "too many requests"}]}

    # The command line decides the same, from the same options.
    out = sealpost.cli("check", "--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}", "--require-tls",
                       "--json", "plain.test", check=False)
    assert out.returncode == 1
    cli = json.loads(out.stdout)
    assert (cli["would_deliver"], cli["tls_failure"]["result_type"], cli["tls_failure"]["policy"]) == (
        False, "starttls-not-supported", "enforced_tls")
    table = sealpost.cli("check", "--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}", "plain.test").stdout
    assert "localhost" in table and "would deliver" in table.splitlines()[-1]


def test_impact_lists_exactly_what_the_matrix_blocks(sealpost, postfix_peers):
    """After real deliveries under opportunistic settings, the report for require_tls 1.2, 1.3 and
    require_valid_cert names exactly the receivers the delivery matrix blocks under those
    settings, with their message counts; the current settings block nothing."""
    from test_delivery_matrix import EXPECT
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    routes = []
    for name in RECEIVERS:
        routes += ["--route", f"{name}.test=localhost:{postfix_peers.port_of(name)}"]
    sealpost.start("--rate-limit", "100000", "--trust-roots", postfix_peers.ca, *routes)
    headers = {"Authorization": f"Bearer {key}"}
    assert requests.put(sealpost.url + "/v3/user/settings/enforced_tls/domains/quiet.test", json={"require_tls": True},
                        headers=headers, timeout=30).status_code == 200
    counts = {name: 1 + i % 3 for i, name in enumerate(RECEIVERS)}  # 1, 2 or 3 messages per domain
    emails = set()
    for name, n in counts.items():
        for i in range(n):
            email = f"impact{i}-{uuid.uuid4().hex[:6]}@{name}.test"
            emails.add(email)
            body = {"personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@acme.test"}, "subject": "impact",
                    "content": [{"type": "text/plain", "value": "x"}]}
            assert requests.post(sealpost.url + "/v3/mail/send", json=body, headers=headers, timeout=30).status_code == 202
    assert {e["event"] for e in sealpost.final_events(emails).values()} == {"delivered"}

    def report(**q):
        deadline = time.time() + 30
        while True:  # findings are written at the end of each delivery round
            r = requests.get(sealpost.url + "/v3/user/settings/enforced_tls/impact", params=q, headers=headers, timeout=30)
            assert r.status_code == 200, r.text
            body = r.json()
            if body["messages_seen"] >= len(emails) or time.time() > deadline:
                return body
            time.sleep(0.5)

    now = report()
    assert (now["domains_seen"], now["messages_seen"], now["would_block"]) == (len(RECEIVERS), len(emails), [])
    assert now["not_seen_recently"] == ["quiet.test"]
    assert now["period"]["end"] - now["period"]["start"] >= 29 * 86400
    for setting, q in [("tls12", {"require_tls": "true", "version": "1.2"}), ("tls13", {"require_tls": "true", "version": "1.3"}),
                       ("validcert", {"require_valid_cert": "true"})]:
        got = report(**q)
        expected = {name: outcome[1] for name, outcome in EXPECT[setting].items() if name in RECEIVERS and isinstance(outcome, tuple)}
        assert {b["domain"]: b["tls_failure"]["result_type"] for b in got["would_block"]} == {
            f"{n}.test": t for n, t in expected.items()}, setting
        assert {b["domain"]: b["messages"] for b in got["would_block"]} == {f"{n}.test": counts[n] for n in expected}
        assert all(b["tls_failure"]["policy"] == "enforced_tls" and b["last_seen"] > 0 for b in got["would_block"])
    cli = json.loads(sealpost.cli("impact", "--user", "acme", "--require-tls", "--version", "1.3", "--json").stdout)
    assert sorted(b["domain"] for b in cli["would_block"]) == sorted(f"{n}.test" for n, o in EXPECT["tls13"].items()
                                                                      if n in RECEIVERS and isinstance(o, tuple))


def test_check_follows_dane_like_delivery(sealpost, postfix_peers, dnssec_lab):
    """The lab's DANE domains: the check names DANE's state per host, and its verdict and
    tls_failure equal the first event of a real delivery (delivered, or deferred with the
    same tls_failure)."""
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--retry-base", "60", "--smtp-timeout", "5")
    headers = {"Authorization": f"Bearer {key}"}
    domains = ["ee.dane.test", "eebad.dane.test", "ta.dane.test", "tawrong.dane.test", "plain.dane.test", "bogus.test",
               "insecure.test", "fallback.dane.test", "unusable.dane.test"]
    reports = {}
    for d in domains:
        r = requests.get(sealpost.url + "/v3/user/settings/enforced_tls/check", params={"domain": d}, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        reports[d] = r.json()
        assert reports[d]["policies"]["dane"] is True
    assert reports["ee.dane.test"]["mx"][0]["dane"].startswith("usable")
    assert reports["ee.dane.test"]["mx"][0]["preference"] == 10
    assert reports["insecure.test"]["mx"][0]["dane"].startswith("off")
    assert reports["unusable.dane.test"]["mx"][0]["dane"] == "tlsa-invalid"
    assert [m["would_deliver"] for m in reports["fallback.dane.test"]["mx"]] == [False, True]
    deliveries_match(sealpost, headers, reports)


def test_check_follows_mta_sts_like_delivery(sealpost, postfix_peers, dnssec_lab, sts_host):
    """The lab's MTA-STS domains: the check shows the policy mode and each host's state; a host
    outside the policy is never connected to (no address looked at, nothing in the receiver's
    log); verdicts and tls_failure equal the first event of a real delivery."""
    from test_mta_sts import ENFORCE, ENFORCE_WILDCARD, TESTING
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--mta-sts-port", str(sts_host.port),
                   "--retry-base", "60", "--smtp-timeout", "5")
    headers = {"Authorization": f"Bearer {key}"}
    sts_host.serve("enforce.sts.test", ENFORCE)
    sts_host.serve("notlisted.sts.test", ENFORCE)
    sts_host.serve("wrongname.sts.test", ENFORCE_WILDCARD)
    sts_host.serve("testing.sts.test", TESTING)
    domains = [f"{d}.sts.test" for d in ("enforce", "notlisted", "wrongname", "testing")]
    plain_connections = postfix_peers.connections("labplain")
    reports = {}
    for d in domains:
        r = requests.get(sealpost.url + "/v3/user/settings/enforced_tls/check", params={"domain": d}, headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        reports[d] = r.json()
    assert [reports[d]["policies"]["mta_sts"] for d in domains] == ["enforce", "enforce", "enforce", "testing"]
    notlisted = reports["notlisted.sts.test"]["mx"][0]
    assert notlisted["mta_sts"] == "enforce (mx not in policy)" and notlisted["reason"].startswith("Never connected to: ")
    assert notlisted["addresses"] == [] and postfix_peers.connections("labplain") == plain_connections
    assert reports["wrongname.sts.test"]["tls_failure"]["result_type"] == "certificate-host-mismatch"
    assert reports["enforce.sts.test"]["would_deliver"] and reports["testing.sts.test"]["would_deliver"]
    deliveries_match(sealpost, headers, reports)


def deliveries_match(sealpost, headers, reports):
    """Sends one message to each domain of `reports` and checks the first event of each against
    the check's verdict: delivered when it said so, else deferred with the same tls_failure."""
    token = uuid.uuid4().hex[:8]
    emails = {f"c-{token}@{d}": d for d in reports}
    for email in emails:
        body = {"personalizations": [{"to": [{"email": email}]}], "from": {"email": "s@acme.test"}, "subject": "check",
                "content": [{"type": "text/plain", "value": "x"}]}
        assert requests.post(sealpost.url + "/v3/mail/send", json=body, headers=headers, timeout=30).status_code == 202
    deadline = time.time() + 60
    while True:
        first = {}
        for e in sealpost.events():
            if e["email"] in emails and e["event"] in ("delivered", "deferred", "bounce") and e["email"] not in first:
                first[e["email"]] = e
        if len(first) == len(emails) or time.time() > deadline:
            break
        time.sleep(0.3)
    assert len(first) == len(emails), sorted(set(emails) - set(first))
    for email, d in emails.items():
        report, event = reports[d], first[email]
        assert (event["event"] == "delivered") == report["would_deliver"], (d, event, report)
        if not report["would_deliver"]:
            assert event["event"] == "deferred" and event["tls_failure"] == report["tls_failure"], (d, event, report)
