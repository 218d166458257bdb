"""Bad API input, generated: schemathesis against Sealpost's own /openapi.json and against
SendGrid's official description of the Enforced TLS endpoint. Zero 5xx, every answer matches
the schema (status, content type, headers, body), valid input is never refused."""
import json
import os
import subprocess
import time
from pathlib import Path

import yaml

from test_openapi import nullable_as_31

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "positive_data_acceptance", "unsupported_method", "missing_required_header",
    "ignored_auth", "negative_data_rejection",
])


def schemathesis(target, key, *extra, examples=20):
    r = subprocess.run(["schemathesis", "run", target, "-H", f"Authorization: Bearer {key}", "--checks", CHECKS,
                        "-n", str(examples), "--seed", "42", "--no-color", *extra],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
                                PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))))
    # The failures section (with "Invalid component" and the reproducing curl) comes before the
    # summary: keep enough of the output to show both.
    return r.returncode, r.stdout[-30000:] + r.stderr[-2000:]


def no_server_errors(path, url, key, examples):
    """schemathesis with the one check that holds for any description: no answer is a 5xx."""
    r = subprocess.run(["schemathesis", "run", str(path), "--url", url, "-H", f"Authorization: Bearer {key}",
                        "--checks", "not_a_server_error", "-n", str(examples), "--seed", "42", "--no-color"],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
                                PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))))
    return r.returncode, r.stdout[-30000:] + r.stderr[-2000:]


def clear_of_the_hour(margin=240):
    """`send_at`'s maximum in the document moves on at every full hour (72 h from the end of the
    current hour): a run that crossed one would see send_at = maximum + 1 accepted. Wait the
    boundary out first when the run could reach it."""
    left = 3600 - time.time() % 3600
    if left < margin:
        time.sleep(left + 1)


def test_own_document(sealpost, tenants):
    _, keys = tenants
    clear_of_the_hour()
    code, out = schemathesis(f"{sealpost.url}/openapi.json", keys["acme"])
    assert code == 0, out
    assert "No issues found" in out or "0 failures" in out or "passed" in out, out


def test_sendgrid_description_of_enforced_tls(sealpost, tenants, tmp_path):
    _, keys = tenants
    spec = nullable_as_31(yaml.safe_load((FIXTURES / "sendgrid-oai" / "tsg_enforced_tls_v3.yaml").read_text()))
    spec["servers"] = [{"url": sealpost.url}]
    # SendGrid's file lists no 400 or 405; Sealpost answers those for bad input and methods, as
    # documented in docs/api.md. Add them so the run checks their shape instead of their existence.
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for op in spec["paths"]["/v3/user/settings/enforced_tls"].values():
        op["responses"].setdefault("400", {"description": "bad input", "content": {"application/json": {"schema": error}}})
        op["responses"].setdefault("429", {"description": "rate limit", "content": {"application/json": {"schema": error}}})
    path = tmp_path / "sendgrid.json"
    path.write_text(json.dumps(spec))
    code, out = schemathesis(str(path), keys["acme"], "--url", sealpost.url)
    assert code == 0, out


def test_sendgrid_description_of_mail_send(sealpost, tenants, tmp_path):
    """SendGrid's whole mail-send schema, templates and tracking included: Sealpost refuses what
    it does not implement (400 naming the field), so only "no 5xx" and the answers' shape are
    checked, never that SendGrid-valid input is accepted."""
    _, keys = tenants
    spec = nullable_as_31(yaml.safe_load((FIXTURES / "sendgrid-oai" / "tsg_mail_v3.yaml").read_text()))
    spec["servers"] = [{"url": sealpost.url}]
    spec["paths"] = {"/v3/mail/send": spec["paths"]["/v3/mail/send"]}
    path = tmp_path / "sendgrid-mail.json"
    path.write_text(json.dumps(spec))
    code, out = no_server_errors(path, sealpost.url, keys["acme"], examples=40)
    assert code == 0, out


def sendgrid_subset(name, paths):
    """SendGrid's description of `paths` (those Sealpost serves), pointed at the server."""
    spec = nullable_as_31(yaml.safe_load((FIXTURES / "sendgrid-oai" / name).read_text()))
    spec["paths"] = {p: spec["paths"][p] for p in paths}
    return spec


def test_sendgrid_descriptions_of_suppressions_domains_and_webhooks(sealpost, tenants, tmp_path):
    """SendGrid's own descriptions of the suppression, domain-authentication and webhook routes
    (issue 12): no input they allow makes Sealpost answer 5xx."""
    _, keys = tenants
    for name, paths in [
        ("tsg_suppressions_v3.yaml", [
            "/v3/suppression/blocks", "/v3/suppression/blocks/{email}", "/v3/suppression/bounces",
            "/v3/suppression/bounces/{email}", "/v3/suppression/invalid_emails", "/v3/suppression/invalid_emails/{email}",
            "/v3/suppression/unsubscribes", "/v3/asm/suppressions/global", "/v3/asm/suppressions/global/{email}"]),
        ("tsg_domain_authentication_v3.yaml", [
            "/v3/whitelabel/domains", "/v3/whitelabel/domains/{domain_id}", "/v3/whitelabel/domains/{id}/validate"]),
        ("tsg_webhooks_v3.yaml", ["/v3/user/webhooks/event/settings"]),
        ("tsg_stats_v3.yaml", ["/v3/stats"]),
    ]:
        spec = sendgrid_subset(name, paths)
        spec["servers"] = [{"url": sealpost.url}]
        path = tmp_path / (name + ".json")
        path.write_text(json.dumps(spec))
        code, out = no_server_errors(path, sealpost.url, keys["acme"], examples=20)
        assert code == 0, (name, out)
