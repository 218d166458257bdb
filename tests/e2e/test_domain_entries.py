"""Per-recipient-domain Enforced TLS entries against real Postfix receivers, on SQLite and on
PostgreSQL: a looser entry lets mail to a plaintext-only receiver through under `require_tls`; a
stricter dot entry blocks mail to a subdomain under opportunistic settings (block event with
`tls_failure.policy: "domain"`, blocks list); deleting the entry restores the account's setting."""
import json
import uuid

from sendgrid import SendGridAPIClient

BACKENDS = ["sqlite", "postgres"]


def test_entries_replace_the_account_setting_per_domain(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    plain = postfix_peers.port_of("plain")
    sealpost.start("--route", f"loose.test=localhost:{plain}", "--route", f"mx.strict.test=localhost:{plain}",
                   "--route", f"other.test=localhost:{plain}")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    domains = sg.client.user.settings.enforced_tls.domains
    assert sg.client.user.settings.enforced_tls.patch(request_body={"require_tls": True}).status_code == 200
    r = domains._("loose.test").put(request_body={"require_tls": False})
    assert json.loads(r.body) == {"domain": "loose.test", "require_tls": False, "require_valid_cert": False, "version": 1.1}
    r = domains._(".strict.test").put(request_body={"require_tls": True, "version": 1.2})
    assert r.status_code == 200

    token = uuid.uuid4().hex
    loose, strict, other = f"a-{token}@loose.test", f"b-{token}@mx.strict.test", f"c-{token}@other.test"

    def send(to):
        body = {"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"}, "subject": f"entries {token}",
                "content": [{"type": "text/plain", "value": f"to {to}"}]}
        assert sg.client.mail.send.post(request_body=body).status_code == 202

    # The account requires TLS; the looser entry lets loose.test through in plaintext. Then the
    # account goes opportunistic: the stricter dot entry alone blocks mx.strict.test.
    send(loose)
    assert sealpost.final_events({loose})[loose]["event"] == "delivered"
    assert postfix_peers.find("plain", f"to {loose}", timeout=10) is not None
    assert sg.client.user.settings.enforced_tls.patch(request_body={"require_tls": False}).status_code == 200
    send(strict)
    send(other)
    final = sealpost.final_events({strict, other})
    assert final[other]["event"] == "delivered"
    assert (final[strict]["event"], final[strict]["type"], final[strict]["reason"]) == ("bounce", "blocked",
                                                                                      "TLS required but not supported")
    assert final[strict]["tls_failure"]["policy"] == "domain"
    assert final[strict]["tls_failure"]["result_type"] == "starttls-not-supported"
    assert final[strict]["tls_failure"]["minimum_version"] == "1.2"
    assert postfix_peers.find("plain", f"to {strict}", timeout=1) is None
    blocks = json.loads(sg.client.suppression.blocks.get().body)
    assert [b["email"] for b in blocks] == [strict]

    # Deleted, the entry no longer applies: the (now opportunistic) account setting does.
    assert domains._(".strict.test").delete().status_code == 204
    again = f"d-{token}@mx.strict.test"
    send(again)
    assert sealpost.final_events({again})[again]["event"] == "delivered"
    listed = json.loads(domains.get().body)
    assert listed == [{"domain": "loose.test", "require_tls": False, "require_valid_cert": False, "version": 1.1}]
