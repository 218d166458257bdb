"""Real answers of a live server checked against Sealpost's own /openapi.json, and the
Enforced TLS route also against SendGrid's official description (tests/fixtures/sendgrid-oai)."""
import json
from pathlib import Path

import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_spec_validator import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def nullable_as_31(node):
    """SendGrid's file is declared 3.1 but uses 3.0's `nullable: true` (ignored by 3.1), while
    real SendGrid answers carry `"field": null`. Read it as its authors meant: type [T, "null"]."""
    if isinstance(node, dict):
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        for v in node.values():
            nullable_as_31(v)
    elif isinstance(node, list):
        for v in node:
            nullable_as_31(v)
    return node


def spec_for(doc, base_url):
    doc = json.loads(json.dumps(doc))
    doc["servers"] = [{"url": base_url}]
    return OpenAPI.from_dict(doc)


def exchanges(sealpost, ids, keys):
    """(method, path, key, on-behalf-of, body) covering every route and each answer it documents."""
    ro = sealpost.key("acme", "user.settings.enforced_tls.read")
    key_id = keys["acme"].split(".")[1]
    big = {"pad": "x" * 100_000}
    tls = "/v3/user/settings/enforced_tls"
    return [
        ("GET", tls, keys["acme"], None, None),                                  # 200
        ("GET", tls, keys["acme"], "acme-sub", None),                            # 200 on behalf
        ("GET", tls, keys["acme"], f"account-id {ids['acme-cust']}", None),      # 200 customer
        ("GET", tls, None, None, None),                                          # 401
        ("GET", tls, keys["acme"], "globex-sub", None),                          # 403
        ("PATCH", tls, keys["acme"], None, {"require_tls": True, "version": 1.3}),  # 200
        ("PATCH", tls, keys["acme"], None, {"version": 2}),                      # 400
        ("PATCH", tls, keys["acme"], None, big),                                 # 413
        ("PATCH", tls, ro, None, {"require_tls": False}),                        # 403
        ("PATCH", tls, "SG.x.y", None, {}),                                      # 401
        ("POST", "/v3/api_keys", keys["acme"], None, {"name": "n", "scopes": ["user.settings.enforced_tls.read"]}),  # 201
        ("POST", "/v3/api_keys", keys["acme"], None, {"scopes": 3}),             # 400
        ("POST", "/v3/api_keys", ro, None, {"name": "n"}),                       # 403
        ("GET", "/v3/api_keys", keys["acme"], None, None),                       # 200
        ("GET", f"/v3/api_keys/{key_id}", keys["acme"], None, None),             # 200
        ("GET", "/v3/api_keys/AAAAAAAAAAAAAAAAAAAAAA", keys["acme"], None, None),  # 404
        ("DELETE", f"/v3/api_keys/{ro.split('.')[1]}", keys["acme"], None, None),  # 204
        ("GET", "/v3/scopes", keys["acme"], None, None),                         # 200
        ("GET", "/v3/scopes", None, None, None),                                 # 401
        ("POST", "/v3/subusers", keys["acme"], None, {"username": "acme-3", "email": "3@acme.test", "password": "pw"}),  # 201
        ("POST", "/v3/subusers", keys["acme"], None, {"username": "acme-3", "email": "3@acme.test"}),  # 409 exists
        ("POST", "/v3/subusers", keys["acme-sub"], None, {"username": "x9", "email": "x@y.test"}),     # 403
        ("GET", "/v3/subusers", keys["acme"], None, None),                       # 200
        ("GET", "/v3/subusers?limit=9999", keys["acme"], None, None),            # 400
        ("POST", "/v3/mail/send", keys["acme"], None, {"personalizations": [{"to": [{"email": "x@nowhere.test"}]}],
                                                       "from": {"email": "a@b.test"}, "subject": "s",
                                                       "content": [{"type": "text/plain", "value": "v"}]}),  # 202
        ("POST", "/v3/mail/send", keys["acme"], None, {"personalizations": []}),  # 400
        ("POST", "/v3/mail/send", ro, None, {}),                                   # 403
        ("GET", "/v3/suppression/blocks", keys["acme"], None, None),               # 200
        ("GET", "/v3/suppression/blocks?limit=0", keys["acme"], None, None),       # 400
        ("GET", "/v3/suppression/blocks/x@nowhere.test", keys["acme"], None, None),  # 200
        ("DELETE", "/v3/suppression/blocks/x@nowhere.test", keys["acme"], None, None),  # 404
        ("DELETE", "/v3/suppression/blocks", keys["acme"], None, {"delete_all": True}),  # 204
        ("DELETE", "/v3/suppression/blocks", keys["acme"], None, {}),              # 400
        ("GET", "/v3/suppression/bounces", keys["acme"], "acme-sub", None),        # 200 on behalf
        ("GET", "/v3/suppression/bounces", ro, None, None),                        # 403
        ("GET", "/v3/suppression/bounces/x@nowhere.test", keys["acme"], None, None),  # 200
        ("DELETE", "/v3/suppression/bounces/x@nowhere.test", keys["acme"], None, None),  # 404
        ("DELETE", "/v3/suppression/bounces", keys["acme"], None, {"emails": ["x@nowhere.test"]}),  # 204
        ("GET", "/v3/suppression/invalid_emails", keys["acme"], None, None),       # 200
        ("GET", "/v3/suppression/invalid_emails/x@nowhere.test", keys["acme"], None, None),  # 200
        ("DELETE", "/v3/suppression/invalid_emails/x@nowhere.test", keys["acme"], None, None),  # 404
        ("DELETE", "/v3/suppression/invalid_emails", keys["acme"], None, {"delete_all": True, "emails": []}),  # 400
        ("POST", "/v3/asm/suppressions/global", keys["acme"], None, {"recipient_emails": ["u@nowhere.test"]}),  # 201
        ("POST", "/v3/asm/suppressions/global", keys["acme"], None, {"recipient_emails": []}),  # 400
        ("GET", "/v3/suppression/unsubscribes", keys["acme"], None, None),         # 200
        ("GET", "/v3/asm/suppressions/global/u@nowhere.test", keys["acme"], None, None),  # 200
        ("DELETE", "/v3/asm/suppressions/global/u@nowhere.test", keys["acme"], None, None),  # 204
        ("DELETE", "/v3/asm/suppressions/global/u@nowhere.test", keys["acme"], None, None),  # 404
        ("GET", "/v3/user/settings/enforced_tls/check?domain=nowhere.test", keys["acme"], None, None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/check?domain=nowhere.test&require_tls=true&version=1.3", keys["acme"], "acme-sub", None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/check?domain=192.0.2.1", keys["acme"], None, None),  # 400
        ("GET", "/v3/user/settings/enforced_tls/impact?require_tls=true&days=7", keys["acme"], None, None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/impact", keys["acme"], "acme-sub", None),  # 200 on behalf
        ("GET", "/v3/user/settings/enforced_tls/impact?days=31", keys["acme"], None, None),  # 400
        ("GET", "/v3/user/settings/enforced_tls/impact", keys["acme-cust"], "acme-sub", None),  # 403
        ("GET", "/v3/user/settings/enforced_tls/check?domain=nowhere.test", keys["acme-cust"], "acme-sub", None),  # 403
        ("GET", "/v3/stats?start_date=2026-01-01&end_date=2026-01-03", keys["acme"], None, None),  # 200
        ("GET", "/v3/stats?start_date=2026-01-01&end_date=2026-03-03&aggregated_by=month", keys["acme"], "acme-sub", None),  # 200
        ("GET", "/v3/stats", keys["acme"], None, None),  # 400
        ("GET", "/v3/user/settings/enforced_tls/audit", keys["acme"], None, None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/audit?limit=5", keys["acme"], "acme-sub", None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/audit?limit=0", keys["acme"], None, None),  # 400
        ("GET", "/v3/stats?start_date=2026-01-01", keys["acme-cust"], "acme-sub", None),  # 403
        ("GET", "/v3/user/settings/enforced_tls/stats?start_date=2026-01-01&end_date=2026-01-02", keys["acme"], None, None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/stats?start_date=2026-02-30", keys["acme"], None, None),  # 400
        ("POST", "/v3/whitelabel/domains", keys["acme"], None, {"domain": "example.test"}),  # 201
        ("POST", "/v3/whitelabel/domains", keys["acme"], None, {"domain": "example.test"}),  # 409
        ("POST", "/v3/whitelabel/domains", keys["acme"], None, {"domain": "192.0.2.1"}),  # 400
        ("POST", "/v3/whitelabel/domains", ro, None, {"domain": "example.test"}),  # 403
        ("GET", "/v3/whitelabel/domains", keys["acme"], None, None),  # 200
        ("GET", "/v3/whitelabel/domains", keys["acme"], "acme-sub", None),  # 200 on behalf
        ("GET", "/v3/whitelabel/domains?limit=0", keys["acme"], None, None),  # 400
        ("GET", "/v3/whitelabel/domains/1", keys["acme"], None, None),  # 200
        ("GET", "/v3/whitelabel/domains/1", keys["globex"], None, None),  # 404 (another tenant's)
        ("PATCH", "/v3/whitelabel/domains/1", keys["acme"], None, {"default": True}),  # 200
        ("PATCH", "/v3/whitelabel/domains/1", keys["acme"], None, {"default": "yes"}),  # 400
        ("POST", "/v3/whitelabel/domains/1/validate", keys["acme"], None, None),  # 200 (not published: valid false)
        ("POST", "/v3/whitelabel/domains/999/validate", keys["acme"], None, None),  # 404
        ("DELETE", "/v3/whitelabel/domains/1", keys["acme"], None, None),  # 204
        ("DELETE", "/v3/whitelabel/domains/1", keys["acme"], None, None),  # 404
        ("GET", "/v3/user/webhooks/event/settings/signed", keys["acme"], None, None),  # 200
        ("PATCH", "/v3/user/webhooks/event/settings/signed", keys["acme"], None, {"enabled": True}),  # 200
        ("PATCH", "/v3/user/webhooks/event/settings/signed", keys["acme"], None, {}),  # 400
        ("PATCH", "/v3/user/webhooks/event/settings/signed", ro, None, {"enabled": False}),  # 403
        ("GET", "/v3/user/webhooks/event/settings", keys["acme"], None, None),     # 200
        ("PATCH", "/v3/user/webhooks/event/settings", keys["acme"], None, {"enabled": True, "url": "http://127.0.0.1:9/x", "bounce": True}),  # 200
        ("PATCH", "/v3/user/webhooks/event/settings", keys["acme"], None, {"enabled": "yes"}),  # 400
        ("PUT", "/v3/user/settings/enforced_tls/domains/.Example.test", keys["acme"], None, {"require_tls": True}),  # 200
        ("PUT", "/v3/user/settings/enforced_tls/domains/192.0.2.1", keys["acme"], None, {}),  # 400
        ("GET", "/v3/user/settings/enforced_tls/domains", keys["acme"], None, None),  # 200
        ("GET", "/v3/user/settings/enforced_tls/domains/.example.test", keys["acme"], None, None),  # 200
        ("PUT", "/v3/user/settings/enforced_tls/domains/a.test", ro, None, {}),  # 403 (read scope only)
        ("DELETE", "/v3/user/settings/enforced_tls/domains/.example.test", keys["acme"], None, None),  # 204
        ("DELETE", "/v3/user/settings/enforced_tls/domains/.example.test", keys["acme"], None, None),  # 404
        ("GET", "/healthz", None, None, None),
        ("GET", "/metrics", None, None, None),
        ("GET", "/openapi.json", None, None, None),
    ]


def template(path):
    path = path.split("?")[0]
    if path.startswith("/v3/api_keys/"):
        return "/v3/api_keys/{api_key_id}"
    for prefix in ("/v3/suppression/blocks/", "/v3/suppression/bounces/", "/v3/suppression/invalid_emails/",
                   "/v3/asm/suppressions/global/"):
        if path.startswith(prefix):
            return prefix + "{email}"
    if path.startswith("/v3/whitelabel/domains/"):
        return "/v3/whitelabel/domains/{id}/validate" if path.endswith("/validate") else "/v3/whitelabel/domains/{domain_id}"
    if path.startswith("/v3/user/settings/enforced_tls/domains/"):
        return "/v3/user/settings/enforced_tls/domains/{domain}"
    return path


def send(sealpost, method, path, key, obo, body):
    headers = {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if obo:
        headers["on-behalf-of"] = obo
    if body is not None:
        headers["Content-Type"] = "application/json"
    return requests.request(method, sealpost.url + path, headers=headers,
                            data=json.dumps(body) if body is not None else None, timeout=10)


def test_own_document_is_valid_openapi_31(sealpost, tenants):
    doc = requests.get(sealpost.url + "/openapi.json", timeout=10).json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_answer_matches_our_document(sealpost, tenants):
    ids, keys = tenants
    doc = requests.get(sealpost.url + "/openapi.json", timeout=10).json()
    api = spec_for(doc, sealpost.url)
    exercised = set()
    for method, path, key, obo, body in exchanges(sealpost, ids, keys):
        r = send(sealpost, method, path, key, obo, body)
        assert r.status_code < 500, (method, path, r.status_code, r.text)
        api.validate_response(RequestsOpenAPIRequest(r.request), RequestsOpenAPIResponse(r))
        exercised.add((method, template(path)))
    # Every documented operation was exercised at least once.
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in {"get", "post", "patch", "delete"}}
    assert operations <= exercised, operations - exercised


def test_enforced_tls_answers_match_sendgrids_own_description(sealpost, tenants):
    ids, keys = tenants
    official = nullable_as_31(yaml.safe_load((FIXTURES / "sendgrid-oai" / "tsg_enforced_tls_v3.yaml").read_text()))
    api = spec_for(official, sealpost.url)
    tls = "/v3/user/settings/enforced_tls"
    cases = [
        ("GET", keys["acme"], None, None, 200),
        ("PATCH", keys["acme"], None, {"require_tls": True, "require_valid_cert": False, "version": 1.2}, 200),
        ("PATCH", keys["acme"], "acme-sub", {"version": 1.3}, 200),
        ("GET", keys["acme"], f"account-id {ids['acme-cust']}", None, 200),
        ("GET", None, None, None, 401),
        ("GET", keys["acme"], "globex-sub", None, 403),
    ]
    for method, key, obo, body, status in cases:
        r = send(sealpost, method, tls, key, obo, body)
        assert r.status_code == status
        api.validate_response(RequestsOpenAPIRequest(r.request), RequestsOpenAPIResponse(r))
    # SendGrid's 404 for an unknown path has the same error schema.
    r = send(sealpost, "GET", "/v3/user/settings/enforced_tlsx", keys["acme"], None, None)
    assert r.status_code == 404 and r.json() == {"errors": [{"field": None, "message": "resource not found"}]}


def test_stats_answers_match_sendgrids_own_description(sealpost, tenants):
    """`GET /v3/stats` against SendGrid's tsg_stats_v3.yaml: every answer, each aggregation."""
    ids, keys = tenants
    official = nullable_as_31(yaml.safe_load((FIXTURES / "sendgrid-oai" / "tsg_stats_v3.yaml").read_text()))
    api = spec_for(official, sealpost.url)
    for path, obo, status in [
        ("/v3/stats?start_date=2026-01-01&end_date=2026-01-10", None, 200),
        ("/v3/stats?start_date=2026-01-01&end_date=2026-02-10&aggregated_by=week", "acme-sub", 200),
        ("/v3/stats?start_date=2026-01-15&end_date=2026-03-01&aggregated_by=month", f"account-id {ids['acme-cust']}", 200),
    ]:
        r = send(sealpost, "GET", path, keys["acme"], obo, None)
        assert r.status_code == status, r.text
        api.validate_response(RequestsOpenAPIRequest(r.request), RequestsOpenAPIResponse(r))
    weeks = send(sealpost, "GET", "/v3/stats?start_date=2026-01-01&end_date=2026-01-20&aggregated_by=week", keys["acme"], None, None)
    # 2026-01-01 is a Thursday: the first bucket is dated by start_date, then Mondays.
    assert [d["date"] for d in weeks.json()] == ["2026-01-01", "2026-01-05", "2026-01-12", "2026-01-19"]
    months = send(sealpost, "GET", "/v3/stats?start_date=2026-01-15&end_date=2026-03-01&aggregated_by=month", keys["acme"], None, None)
    assert [d["date"] for d in months.json()] == ["2026-01-15", "2026-02-01", "2026-03-01"]
