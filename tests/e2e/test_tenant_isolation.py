"""Tenant isolation matrix: two parents, each with a subuser, a customer account and keys of
several scopes. Every cross-tenant attempt is refused exactly like an attempt on something that
does not exist, and a revoked key stops working at once on every endpoint."""
import requests

# Every test here runs on SQLite and on PostgreSQL (see conftest.pytest_generate_tests).
BACKENDS = ["sqlite", "postgres"]

ENDPOINTS = [  # (method, path, body) — every route that acts on a user
    ("GET", "/v3/user/settings/enforced_tls", None),
    ("PATCH", "/v3/user/settings/enforced_tls", {"require_tls": True}),
    ("GET", "/v3/api_keys", None),
    ("POST", "/v3/api_keys", {"name": "x"}),
    ("GET", "/v3/suppression/blocks", None),
    ("GET", "/v3/user/webhooks/event/settings", None),
    ("PATCH", "/v3/user/webhooks/event/settings", {"enabled": False}),
]


def call(sealpost, method, path, key, obo=None, body=None):
    h = {"Authorization": f"Bearer {key}"}
    if obo is not None:
        h["on-behalf-of"] = obo
    return requests.request(method, sealpost.url + path, headers=h, json=body, timeout=10)


def test_cross_tenant_attempts_look_like_nothing_exists(sealpost, tenants):
    ids, keys = tenants
    foreign_targets = ["globex-sub", f"account-id {ids['globex-cust']}", "globex", f"account-id {ids['globex']}"]
    missing_targets = ["no-such-subuser", "account-id 987654321"]
    for method, path, body in ENDPOINTS:
        answers = set()
        for target in foreign_targets + missing_targets:
            r = call(sealpost, method, path, keys["acme"], target, body)
            assert r.status_code == 403, (method, path, target, r.status_code)
            answers.add(r.content)
        assert len(answers) == 1, (method, path, answers)
        # A subuser's or customer's own key may not use the header at all, even for itself.
        for who, me in (("acme-sub", "acme-sub"), ("acme-cust", f"account-id {ids['acme-cust']}")):
            r = call(sealpost, method, path, keys[who], me, body)
            assert r.status_code == 403 and r.content in answers, (method, path, who)
    # Nothing of globex changed.
    for target in (None, "globex-sub", f"account-id {ids['globex-cust']}"):
        r = call(sealpost, "GET", "/v3/user/settings/enforced_tls", keys["globex"], target)
        assert r.json() == {"require_tls": False, "require_valid_cert": False, "version": 1.1}


def test_ids_in_urls_do_not_cross_tenants(sealpost, tenants):
    ids, keys = tenants
    globex_key_id = keys["globex"].split(".")[1]
    unknown = "AAAAAAAAAAAAAAAAAAAAAA"
    for method in ("GET", "DELETE"):
        foreign = call(sealpost, method, f"/v3/api_keys/{globex_key_id}", keys["acme"])
        missing = call(sealpost, method, f"/v3/api_keys/{unknown}", keys["acme"])
        assert foreign.status_code == missing.status_code == 404
        assert foreign.content == missing.content
    # Acting for its own subuser does not reach another parent's key either.
    r = call(sealpost, "DELETE", f"/v3/api_keys/{globex_key_id}", keys["acme"], "acme-sub")
    assert r.status_code == 404
    assert call(sealpost, "GET", "/v3/user/settings/enforced_tls", keys["globex"]).status_code == 200
    # Subuser lists are per parent.
    assert [s["username"] for s in call(sealpost, "GET", "/v3/subusers", keys["acme"]).json()] == ["acme-sub"]
    assert [s["username"] for s in call(sealpost, "GET", "/v3/subusers", keys["globex"]).json()] == ["globex-sub"]


def test_scopes_are_enforced_on_every_endpoint(sealpost, tenants):
    _, keys = tenants
    nothing = sealpost.key("acme", "user.settings.enforced_tls.read")  # holds one unrelated scope
    for method, path, body in ENDPOINTS[1:]:
        r = call(sealpost, method, path, nothing, None, body)
        assert r.status_code == 403, (method, path)
        assert r.json() == {"errors": [{"field": None, "message": "access forbidden"}]}
    r = requests.post(sealpost.url + "/v3/mail/send", headers={"Authorization": f"Bearer {nothing}"}, json={}, timeout=10)
    assert r.status_code == 403


def test_a_revoked_key_stops_at_once_everywhere(sealpost, tenants):
    _, keys = tenants
    key = sealpost.key("acme")
    for method, path, body in ENDPOINTS:
        assert call(sealpost, method, path, key, None, body).status_code in (200, 201), (method, path)
    sealpost.cli("keys", "revoke", key.split(".")[1])
    for method, path, body in ENDPOINTS + [("GET", "/v3/scopes", None), ("GET", "/v3/subusers", None),
                                           ("POST", "/v3/mail/send", {"personalizations": []})]:
        r = call(sealpost, method, path, key, None, body)
        assert r.status_code == 401, (method, path, r.status_code)
