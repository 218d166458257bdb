"""`GET /v3/stats` (SendGrid's, through the official library) and `GET /v3/user/settings/enforced_tls/stats`
after real deliveries, on SQLite and PostgreSQL: Postfix receivers in plaintext, with a self-signed
certificate, a CA-signed one and TLS 1.2 only (by `--route`), a DANE-authenticated MX and a TLSA
mismatch (deferred) behind the DNSSEC lab, a globally unsubscribed recipient (dropped), and a
subuser whose require_tls blocks a plaintext receiver. The expected numbers are what the test
sent; the TLS versions are cross-checked with the delivered events."""
import datetime
import time
import uuid
from collections import Counter

import requests
from sendgrid import SendGridAPIClient

BACKENDS = ["sqlite", "postgres"]


def test_stats_count_what_was_sent(sealpost, postfix_peers, dnssec_lab):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("subusers", "create", "--parent", "acme", "acme-sub")
    key, sub_key = sealpost.key("acme"), sealpost.key("acme-sub")
    narrow = sealpost.key("acme", "mail.send")
    routes = []
    for name in ("plain", "selfsigned", "ca", "tls12"):
        routes += ["--route", f"{name}.test=localhost:{postfix_peers.port_of(name)}"]
    sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--retry-base", "600", "--smtp-timeout", "5", *routes)
    api = lambda k: {"Authorization": f"Bearer {k}"}  # noqa: E731
    r = requests.patch(sealpost.url + "/v3/user/settings/enforced_tls", json={"require_tls": True}, headers=api(sub_key), timeout=10)
    assert r.status_code == 200
    token = uuid.uuid4().hex[:8]
    unsub = f"gone-{token}@plain.test"
    assert requests.post(sealpost.url + "/v3/asm/suppressions/global", json={"recipient_emails": [unsub]}, headers=api(key),
                         timeout=10).status_code == 201

    def send(k, to):
        r = requests.post(sealpost.url + "/v3/mail/send", headers=api(k), timeout=30, json={
            "personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": "stats",
            "content": [{"type": "text/plain", "value": f"to {to}"}]})
        assert r.status_code == 202, r.text

    delivered = [f"{n}-{token}@{d}" for n, d in (("p", "plain.test"), ("s", "selfsigned.test"), ("c", "ca.test"),
                                                  ("t", "tls12.test"), ("e", "ee.dane.test"))]
    deferred, blocked = f"bad-{token}@eebad.dane.test", f"b-{token}@plain.test"
    for to in delivered + [deferred, unsub]:
        send(key, to)
    send(sub_key, blocked)
    final = sealpost.final_events(delivered + [blocked], timeout=90)
    deadline = time.time() + 60
    while not any(e["email"] == deferred and e["event"] == "deferred" for e in sealpost.events()):
        assert time.time() < deadline
        time.sleep(0.2)
    assert all(final[to]["event"] == "delivered" for to in delivered) and final[blocked]["type"] == "blocked"

    today = datetime.datetime.now(datetime.timezone.utc).date()
    start = (today - datetime.timedelta(days=2)).isoformat()
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    r = sg.client.stats.get(query_params={"start_date": start})
    assert r.status_code == 200
    days = r.to_dict
    assert [d["date"] for d in days] == [(today - datetime.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    zero = {m: 0 for m in ("blocks", "bounce_drops", "bounces", "clicks", "deferred", "delivered", "invalid_emails", "opens",
                           "processed", "requests", "spam_report_drops", "spam_reports", "unique_clicks", "unique_opens",
                           "unsubscribe_drops", "unsubscribes")}
    assert days[0]["stats"] == [{"metrics": zero}] and days[1]["stats"] == [{"metrics": zero}]
    assert days[2]["stats"] == [{"metrics": dict(zero, requests=7, processed=6, delivered=5, deferred=1, unsubscribe_drops=1)}]

    # The subuser's own, through on-behalf-of; the parent's do not include them.
    r = requests.get(sealpost.url + "/v3/stats", params={"start_date": today.isoformat()},
                     headers=dict(api(key), **{"on-behalf-of": "acme-sub"}), timeout=10)
    assert r.json() == [{"date": today.isoformat(), "stats": [{"metrics": dict(zero, requests=1, processed=1, blocks=1)}]}]

    # By week and month: one bucket here, dated by start_date when it starts inside it.
    for by in ("week", "month"):
        r = requests.get(sealpost.url + "/v3/stats", params={"start_date": today.isoformat(), "aggregated_by": by},
                         headers=api(key), timeout=10)
        assert r.json() == [{"date": today.isoformat(),
                             "stats": [{"metrics": dict(zero, requests=7, processed=6, delivered=5, deferred=1, unsubscribe_drops=1)}]}]

    # Delivered mail by the highest TLS level reached, and by version (as the events say).
    r = requests.get(sealpost.url + "/v3/user/settings/enforced_tls/stats", params={"start_date": today.isoformat()},
                     headers=api(key), timeout=10)
    assert r.status_code == 200
    (tls,) = r.json()
    # plain: none; selfsigned: encrypted; ca and tls12 (the CA-signed localhost certificate): verified; ee: dane.
    assert tls["levels"] == {"none": 1, "encrypted": 1, "verified": 2, "dane": 1}
    versions = Counter(final[to]["tls_version"] for to in delivered if final[to].get("tls_version"))
    assert versions["1.2"] >= 1 and sum(versions.values()) == 4
    assert tls["versions"] == dict({"1.1": 0, "1.2": 0, "1.3": 0}, **versions)

    # Refusals in SendGrid's shape; the scope is stats.read.
    for params, field in (({}, "start_date"), ({"start_date": "2026-13-01"}, "start_date"),
                          ({"start_date": today.isoformat(), "end_date": start}, "end_date"),
                          ({"start_date": today.isoformat(), "aggregated_by": "year"}, "aggregated_by")):
        r = requests.get(sealpost.url + "/v3/stats", params=params, headers=api(key), timeout=10)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field, (params, r.text)
    r = requests.get(sealpost.url + "/v3/stats", params={"start_date": start}, headers=api(narrow), timeout=10)
    assert r.status_code == 403
    scopes = requests.get(sealpost.url + "/v3/scopes", headers=api(key), timeout=10).json()["scopes"]
    assert "stats.read" in scopes, "full-access keys hold scopes added later"
