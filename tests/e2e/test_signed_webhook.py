"""The signed Event Webhook, checked with SendGrid's own verifier: the official `sendgrid`
library's `EventWebhook().verify_signature` accepts every batch Sealpost posts and rejects a
tampered body or timestamp; the key pair is per user and survives a restart."""
import json
import time
import uuid

from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader
from python_http_client.exceptions import HTTPError

from peers import wait
from webhook_receiver import Receiver

BACKENDS = ["sqlite", "postgres"]


def send(sg, to, token):
    sg.client.mail.send.post(request_body={
        "personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@relay.test"},
        "subject": f"t {token}", "content": [{"type": "text/plain", "value": token}]})


def test_signed_webhook_verified_by_sendgrid_library(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("accounts", "create", "other")
    key, other = sealpost.key("acme"), sealpost.key("other")
    route = ("--route", f"ca.test=localhost:{postfix_peers.port_of('ca')}", "--trust-roots", postfix_peers.ca)
    sealpost.start(*route)
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    signed = sg.client.user.webhooks.event.settings.signed
    assert json.loads(signed.get().body) == {"public_key": ""}
    try:
        signed.patch(request_body={"enabled": "yes"})
        raise AssertionError("a non-boolean enabled was accepted")
    except HTTPError as e:
        assert e.status_code == 400
        assert json.loads(e.body) == {"errors": [{"field": "enabled", "message": "enabled is required and must be a boolean"}]}

    public_key = json.loads(signed.patch(request_body={"enabled": True}).body)["public_key"]
    assert public_key.startswith("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")  # DER SPKI of a P-256 key
    assert json.loads(signed.patch(request_body={"enabled": True}).body)["public_key"] == public_key  # on already: kept
    assert json.loads(signed.get().body)["public_key"] == public_key
    other_key = json.loads(SendGridAPIClient(api_key=other, host=sealpost.url)
                           .client.user.webhooks.event.settings.signed.patch(request_body={"enabled": True}).body)["public_key"]
    assert other_key != public_key  # one key pair per user

    receiver = Receiver()
    try:
        sg.client.user.webhooks.event.settings.patch(request_body={
            "enabled": True, "url": receiver.url, "processed": True, "delivered": True})
        tokens = [uuid.uuid4().hex for _ in range(3)]
        for t in tokens:
            send(sg, f"{t}@ca.test", t)
        wait(lambda: len(receiver.events) >= 6, 60, "6 webhook events")

        # The key pair survives a restart: later batches verify with the same public key.
        sealpost.stop()
        sealpost.start(*route)
        assert json.loads(signed.get().body)["public_key"] == public_key
        send(sg, "late@ca.test", "late")
        wait(lambda: len(receiver.events) >= 8, 60, "events after the restart")

        verifier = EventWebhook()
        ecdsa = verifier.convert_public_key_to_ecdsa(public_key)
        assert len(receiver.raw) >= 2
        for headers, body in receiver.raw:
            assert EventWebhookHeader.SIGNATURE in headers, (headers, body)
            signature = headers[EventWebhookHeader.SIGNATURE]
            timestamp = headers[EventWebhookHeader.TIMESTAMP]
            assert abs(int(timestamp) - time.time()) < 300
            payload = body.decode()
            assert verifier.verify_signature(payload, signature, timestamp, ecdsa), payload
            assert not verifier.verify_signature(payload.replace("delivered", "bounce", 1) if "delivered" in payload
                                                 else payload + " ", signature, timestamp, ecdsa)
            assert not verifier.verify_signature(payload, signature, str(int(timestamp) + 1), ecdsa)
            assert not verifier.verify_signature(payload, signature, timestamp,
                                                 verifier.convert_public_key_to_ecdsa(other_key))

        # Off: the key is forgotten, posts go out unsigned, enabling again makes a new key.
        assert json.loads(signed.patch(request_body={"enabled": False}).body) == {"public_key": ""}
        before = len(receiver.raw)
        send(sg, "unsigned@ca.test", "unsigned")
        wait(lambda: len(receiver.raw) > before, 60, "an unsigned batch")
        assert all(EventWebhookHeader.SIGNATURE not in h for h, _ in receiver.raw[before:])
        assert json.loads(signed.patch(request_body={"enabled": True}).body)["public_key"] != public_key
        assert public_key not in sealpost.log()
    finally:
        receiver.close()
