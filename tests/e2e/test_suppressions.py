"""Suppression lists against real Postfix receivers, on SQLite and on PostgreSQL: a 5xx from
the receiver puts the address on the bounce list, a domain that does not exist or takes no mail
(the DNS lab's NXDOMAIN and null MX) on the invalid-emails list; the next send to it is
`dropped` and never attempted (the receiver logs no connection); the bypass switches; global
unsubscribes; bulk and single deletes; subusers' own lists; the same over SMTP submission."""
import json
import smtplib
import socket
import ssl
import time
import uuid

import requests

from peers import wait
from webhook_receiver import Receiver

BACKENDS = ["sqlite", "postgres"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class API:
    def __init__(self, sealpost, key, on_behalf_of=None):
        self.url, self.headers = sealpost.url, {"Authorization": f"Bearer {key}"}
        if on_behalf_of:
            self.headers["on-behalf-of"] = on_behalf_of

    def __call__(self, method, path, body=None):
        r = requests.request(method, self.url + path, headers=self.headers, json=body, timeout=30)
        return r.status_code, (r.json() if r.content else None)

    def send(self, *to, mail_settings=None, token="t"):
        body = {"personalizations": [{"to": [{"email": t}]} for t in to], "from": {"email": "s@acme.test"},
                "subject": f"suppressions {token}", "content": [{"type": "text/plain", "value": f"body {token}"}]}
        if mail_settings:
            body["mail_settings"] = mail_settings
        return self("POST", "/v3/mail/send", body)


def events_of(sealpost, email, kind):
    return [e for e in sealpost.events() if e["email"].lower() == email.lower() and e["event"] == kind]


def wait_for(predicate, what):
    return wait(predicate, 60, what)


def test_bounces_invalid_and_unsubscribes_drop_later_sends(sealpost, postfix_peers, dnssec_lab):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("subusers", "create", "--parent", "acme", "acme-sub")
    key, sub_key = sealpost.key("acme"), sealpost.key("acme-sub")
    certs = postfix_peers.base / "certs"
    sub_port = free_port()
    # Every session on a connection of its own (no kept connections), so the receiver's count of
    # connections is the count of delivery attempts.
    sealpost.start(*dnssec_lab.serve_args, "--connection-cache-time", "0",
                   "--route", f"reject.test=localhost:{postfix_peers.port_of('reject')}",
                   "--submission", f"127.0.0.1:{sub_port}", "--smtp-tls-cert", str(certs / "localhost.chain.crt"),
                   "--smtp-tls-key", str(certs / "localhost.key"))
    api, sub = API(sealpost, key), API(sealpost, sub_key)
    receiver = Receiver()
    assert api("PATCH", "/v3/user/webhooks/event/settings", {"enabled": True, "url": receiver.url, "dropped": True})[0] == 200
    t = uuid.uuid4().hex[:8]
    gone, ok, nxdomain, nullmx = f"gone-{t}@reject.test", f"ok-{t}@reject.test", f"x-{t}@nosuch.insecure.test", \
        f"y-{t}@nullmx.insecure.test"

    # First sends: the receiver's 5xx is a bounce, the domains without mail are invalid.
    assert api.send(gone, ok, nxdomain, nullmx, token=t)[0] == 202
    final = sealpost.final_events({gone, ok, nxdomain, nullmx})
    assert final[ok]["event"] == "delivered"
    assert (final[gone]["event"], final[gone]["type"], final[gone]["status"]) == ("bounce", "bounce", "5.1.1")
    assert final[nxdomain]["event"] == final[nullmx]["event"] == "bounce"
    status, bounces = api("GET", "/v3/suppression/bounces")
    assert status == 200
    assert [(b["email"], b["status"]) for b in bounces] == [(gone, "5.1.1")]
    assert bounces[0]["reason"] == final[gone]["reason"] and bounces[0]["reason"].startswith("550 5.1.1 ")
    assert abs(bounces[0]["created"] - time.time()) < 120
    status, invalid = api("GET", "/v3/suppression/invalid_emails")
    assert sorted(i["email"] for i in invalid) == sorted([nxdomain, nullmx])
    assert all(set(i) == {"created", "email", "reason"} for i in invalid)
    assert api("GET", f"/v3/suppression/bounces/{gone}") == (200, bounces)
    assert api("GET", f"/v3/suppression/bounces/{ok}") == (200, [])

    # Second sends: dropped, nothing attempted; the other recipient still goes out.
    connections = postfix_peers.connections("reject")
    ok2 = f"ok2-{t}@reject.test"
    assert api.send(gone.upper(), nxdomain, nullmx, ok2, token=t)[0] == 202
    assert sealpost.final_events({ok2})[ok2]["event"] == "delivered"
    drops = {e["email"].lower(): e for e in sealpost.events() if e["event"] == "dropped"}
    assert {k: (v["reason"], v["status"]) for k, v in drops.items()} == {
        gone: ("Bounced Address", "5.0.0"), nxdomain: ("Invalid", "5.0.0"), nullmx: ("Invalid", "5.0.0")}
    assert len([e for e in sealpost.events() if e["email"].lower() == gone and e["event"] == "processed"]) == 1
    assert postfix_peers.connections("reject") == connections + 1  # ok2's only
    assert sealpost.cli("events").stdout.count('"dropped"') == 3
    # The Event Webhook gets them too, as SendGrid posts them.
    posted = wait(lambda: len(receiver.events) >= 3 and receiver.events, 60, "dropped events at the webhook")
    assert sorted((e["email"].lower(), e["event"], e["reason"]) for e in posted) == sorted(
        (k, "dropped", v["reason"]) for k, v in drops.items())
    assert all(e["sg_message_id"] and e["smtp-id"] and e["timestamp"] for e in posted)
    receiver.close()

    # Bypass switches: bounce management lets the bounced address through (attempted again);
    # list management cannot be combined with another switch.
    status, body = api.send(gone, mail_settings={"bypass_list_management": {"enable": True},
                                                 "bypass_bounce_management": {"enable": True}})
    assert status == 400 and body["errors"][0]["field"] == "mail_settings.bypass_list_management"
    before = len(events_of(sealpost, gone, "bounce"))
    assert api.send(gone, mail_settings={"bypass_bounce_management": {"enable": True}})[0] == 202
    wait_for(lambda: len(events_of(sealpost, gone, "bounce")) > before, "the bypassing send's bounce")

    # Global unsubscribes: added (201), checked, dropped, bypassed, removed.
    unsub = f"u-{t}@reject.test"
    assert api("POST", "/v3/asm/suppressions/global", {"recipient_emails": [unsub]}) == (201, {"recipient_emails": [unsub]})
    assert api("POST", "/v3/asm/suppressions/global", {"recipient_emails": ["not an address"]})[0] == 400
    assert api("GET", f"/v3/asm/suppressions/global/{unsub}") == (200, {"recipient_email": unsub})
    assert api("GET", f"/v3/asm/suppressions/global/{ok}") == (200, {})
    status, listed = api("GET", "/v3/suppression/unsubscribes")
    assert [(u["email"], set(u)) for u in listed] == [(unsub, {"created", "email"})]
    assert api.send(unsub)[0] == 202
    wait_for(lambda: events_of(sealpost, unsub, "dropped"), "the unsubscribed drop")
    assert events_of(sealpost, unsub, "dropped")[0]["reason"] == "Unsubscribed Address"
    assert api.send(unsub, mail_settings={"bypass_unsubscribe_management": {"enable": True}})[0] == 202
    assert sealpost.final_events({unsub})[unsub]["event"] == "delivered"

    # Over SMTP: the same lists, the same drop; the transaction itself is accepted.
    s = smtplib.SMTP("localhost", sub_port, timeout=30)
    s.starttls(context=ssl.create_default_context(cafile=postfix_peers.ca))
    s.login("apikey", key)
    assert s.sendmail("s@acme.test", [gone], b"From: s@acme.test\r\nTo: " + gone.encode() + b"\r\nSubject: smtp\r\n\r\nsmtp\r\n") == {}
    s.quit()
    wait_for(lambda: len(events_of(sealpost, gone, "dropped")) == 2, "the SMTP drop")

    # The subuser has its own lists: the parent's bounce does not suppress its mail; the parent
    # sees and clears the subuser's lists with on-behalf-of.
    assert sub("GET", "/v3/suppression/bounces") == (200, [])
    before = len(events_of(sealpost, gone, "bounce"))
    assert sub.send(gone)[0] == 202
    wait_for(lambda: len(events_of(sealpost, gone, "bounce")) > before, "the subuser's attempt")
    on_behalf = API(sealpost, key, on_behalf_of="acme-sub")
    assert [b["email"] for b in wait_for(lambda: on_behalf("GET", "/v3/suppression/bounces")[1], "subuser bounce")] == [gone]
    assert on_behalf("DELETE", "/v3/suppression/bounces", {"delete_all": True}) == (204, None)
    assert sub("GET", "/v3/suppression/bounces") == (200, [])
    assert [b["email"] for b in api("GET", "/v3/suppression/bounces")[1]] == [gone]  # the parent's own list is untouched

    # Deletes: both selectors at once is refused; by list of emails; one address; unknown → 404.
    assert api("DELETE", "/v3/suppression/invalid_emails", {"delete_all": True, "emails": [nxdomain]})[0] == 400
    assert api("DELETE", "/v3/suppression/invalid_emails", {})[0] == 400
    assert api("DELETE", "/v3/suppression/invalid_emails", {"emails": [nxdomain]}) == (204, None)
    assert [i["email"] for i in api("GET", "/v3/suppression/invalid_emails")[1]] == [nullmx]
    assert api("DELETE", f"/v3/suppression/bounces/{gone}") == (204, None)
    assert api("DELETE", f"/v3/suppression/bounces/{gone}")[1] == {"errors": [{"field": None, "message": "resource not found"}]}
    assert api("DELETE", f"/v3/asm/suppressions/global/{unsub}") == (204, None)
    assert api("GET", f"/v3/asm/suppressions/global/{unsub}") == (200, {})
    assert api("DELETE", "/v3/suppression/blocks", {"delete_all": True}) == (204, None)

    # Scopes: a key with only mail.send may not read the lists.
    narrow = API(sealpost, sealpost.key("acme", "mail.send"))
    assert narrow("GET", "/v3/suppression/bounces")[0] == 403
    assert narrow("POST", "/v3/asm/suppressions/global", {"recipient_emails": [unsub]})[0] == 403
