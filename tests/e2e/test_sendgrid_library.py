"""The official SendGrid Python library, unchanged, pointed at a real `sealpost serve`."""
import json

import pytest
from python_http_client.exceptions import BadRequestsError, ForbiddenError, HTTPError, UnauthorizedError
from sendgrid import SendGridAPIClient

# Every test here runs on SQLite and on PostgreSQL (see conftest.pytest_generate_tests).
BACKENDS = ["sqlite", "postgres"]

DEFAULT = {"require_tls": False, "require_valid_cert": False, "version": 1.1}


def client(sealpost, key, **kw):
    return SendGridAPIClient(api_key=key, host=sealpost.url, **kw)


def body(response):
    return json.loads(response.body)


def test_get_and_patch(sealpost, tenants):
    _, keys = tenants
    tls = client(sealpost, keys["acme"]).client.user.settings.enforced_tls
    r = tls.get()
    assert r.status_code == 200
    assert body(r) == DEFAULT
    r = tls.patch(request_body={"require_tls": True, "version": 1.2})
    assert r.status_code == 200
    assert body(r) == {"require_tls": True, "require_valid_cert": False, "version": 1.2}
    assert r.body == b'{"require_tls":true,"require_valid_cert":false,"version":1.2}'
    r = tls.patch(request_body={"require_valid_cert": True})
    assert body(r) == {"require_tls": True, "require_valid_cert": True, "version": 1.2}
    assert body(tls.get()) == {"require_tls": True, "require_valid_cert": True, "version": 1.2}
    assert int(r.headers["X-RateLimit-Limit"]) == 100000


def test_impersonate_subuser_and_customer_account(sealpost, tenants):
    ids, keys = tenants
    sub = client(sealpost, keys["acme"], impersonate_subuser="acme-sub").client.user.settings.enforced_tls
    assert body(sub.patch(request_body={"require_tls": True, "version": 1.3})) == {
        "require_tls": True, "require_valid_cert": False, "version": 1.3}
    cust = client(sealpost, keys["acme"], impersonate_subuser=f"account-id {ids['acme-cust']}").client.user.settings.enforced_tls
    assert body(cust.patch(request_body={"require_valid_cert": True})) == {
        "require_tls": False, "require_valid_cert": True, "version": 1.1}
    # Each user's own key sees its own setting; the parent's is untouched.
    assert body(client(sealpost, keys["acme-sub"]).client.user.settings.enforced_tls.get())["version"] == 1.3
    assert body(client(sealpost, keys["acme-cust"]).client.user.settings.enforced_tls.get())["require_valid_cert"] is True
    assert body(client(sealpost, keys["acme"]).client.user.settings.enforced_tls.get()) == DEFAULT


def test_cross_tenant_is_one_and_the_same_403(sealpost, tenants):
    ids, keys = tenants
    answers = set()
    for target in ["globex-sub", f"account-id {ids['globex-cust']}", "nobody", "account-id 424242"]:
        tls = client(sealpost, keys["acme"], impersonate_subuser=target).client.user.settings.enforced_tls
        with pytest.raises(ForbiddenError) as e:
            tls.get()
        answers.add(e.value.body)
        with pytest.raises(ForbiddenError):
            tls.patch(request_body={"require_tls": True})
    assert answers == {b'{"errors":[{"field":null,"message":"access forbidden"}]}'}
    assert body(client(sealpost, keys["globex"], impersonate_subuser="globex-sub").client.user.settings.enforced_tls.get()) == DEFAULT


def test_errors_in_sendgrid_shape(sealpost, tenants):
    _, keys = tenants
    with pytest.raises(UnauthorizedError) as e:
        client(sealpost, "SG.nope.nope").client.user.settings.enforced_tls.get()
    assert json.loads(e.value.body) == {"errors": [{"field": None, "message": "authorization required"}]}
    reader = sealpost.key("acme", "user.settings.enforced_tls.read")
    with pytest.raises(ForbiddenError) as e:
        client(sealpost, reader).client.user.settings.enforced_tls.patch(request_body={"require_tls": True})
    assert json.loads(e.value.body) == {"errors": [{"field": None, "message": "access forbidden"}]}
    with pytest.raises(BadRequestsError) as e:
        client(sealpost, keys["acme"]).client.user.settings.enforced_tls.patch(request_body={"version": 1.0})
    assert json.loads(e.value.body)["errors"][0]["field"] == "version"
    with pytest.raises(HTTPError) as e:
        client(sealpost, keys["acme"]).client.user.settings.nonexistent.get()
    assert e.value.status_code == 404


def test_api_keys_scopes_and_subusers(sealpost, tenants):
    _, keys = tenants
    sg = client(sealpost, keys["acme"])
    r = sg.client.api_keys.post(request_body={"name": "ro", "scopes": ["user.settings.enforced_tls.read"]})
    assert r.status_code == 201
    created = body(r)
    assert created["scopes"] == ["user.settings.enforced_tls.read"]
    ro = client(sealpost, created["api_key"])
    assert ro.client.user.settings.enforced_tls.get().status_code == 200
    assert body(ro.client.scopes.get()) == {"scopes": ["user.settings.enforced_tls.read"]}
    listed = body(sg.client.api_keys.get())["result"]
    assert created["api_key_id"] in [k["api_key_id"] for k in listed]
    assert sg.client.api_keys._(created["api_key_id"]).delete().status_code == 204
    with pytest.raises(UnauthorizedError):
        ro.client.user.settings.enforced_tls.get()

    r = sg.client.subusers.post(request_body={"username": "acme-two", "email": "two@acme.test", "password": "S3cret!pass", "ips": ["127.0.0.1"]})
    assert r.status_code == 201
    assert body(r)["username"] == "acme-two" and b"S3cret" not in r.body
    names = [s["username"] for s in body(sg.client.subusers.get())]
    assert names == ["acme-sub", "acme-two"]
    as_two = client(sealpost, keys["acme"], impersonate_subuser="acme-two").client.user.settings.enforced_tls
    assert body(as_two.patch(request_body={"require_tls": True}))["require_tls"] is True
