"""Sandbox mode with the official library's helper classes (`Mail`, `MailSettings`,
`SandBoxMode`): 200 with an empty body, nothing queued, no event, nothing delivered. The same
request without sandbox mode is a real send."""
import sqlite3
import time
import uuid

from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Content, From, Mail, MailSettings, SandBoxMode, To


def mail(token, sandbox):
    m = Mail(from_email=From("s@relay.test"), to_emails=To(f"r-{token}@plain.test"), subject=f"sandbox {token}",
             plain_text_content=Content("text/plain", f"body {token}"))
    settings = MailSettings()
    settings.sandbox_mode = SandBoxMode(sandbox)
    m.mail_settings = settings
    return m


def test_sandbox_mode_queues_nothing(sealpost, postfix_peers):
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--route", f"plain.test=localhost:{postfix_peers.port_of('plain')}")
    sg = SendGridAPIClient(api_key=key, host=sealpost.url)
    token = uuid.uuid4().hex
    r = sg.send(mail(token, True))
    assert (r.status_code, r.body) == (200, b"")
    time.sleep(1.5)
    assert sqlite3.connect(sealpost.db).execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)
    assert sealpost.events() == []
    assert postfix_peers.find("plain", token) is None

    # The same request as a real send goes out.
    real = uuid.uuid4().hex
    r = sg.send(mail(real, False))
    assert r.status_code == 202
    assert sealpost.final_events({f"r-{real}@plain.test"})[f"r-{real}@plain.test"]["event"] == "delivered"
    assert postfix_peers.find("plain", real, timeout=10) is not None
    assert postfix_peers.find("plain", token) is None
