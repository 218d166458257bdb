"""The console in a real browser: headless Chromium driven by Selenium against a real `sealpost serve`
after real deliveries (a plaintext Postfix receiver, a self-signed one, a CA-signed one, a
DANE-authenticated MX of the DNSSEC lab, and a block of a subuser's require_tls). Every number and
verdict the page shows is compared with what the API answers for the same question; every change
made on the page is read back through the API. Screenshots go to `$SEALPOST_ARTIFACTS/console`
(default `tests/artifacts/console`); `SEALPOST_SCREENSHOT=docs/console-overview.png` also writes
the README's picture of the overview."""
import datetime
import os
import shutil
import uuid
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import REPO

ARTIFACTS = Path(os.environ.get("SEALPOST_ARTIFACTS", REPO / "tests" / "artifacts")) / "console"
CHROMIUM = os.environ.get("SEALPOST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SEALPOST_CHROMEDRIVER", "/usr/bin/chromedriver")
ZERO_LEVELS = {"none": 0, "encrypted": 0, "verified": 0, "dane": 0}


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,1000", "--lang=en-US"):
        options.add_argument(arg)
    # Debian's chromedriver by path: Selenium Manager would try to download one.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


class Page:
    """The console as a user sees it, with the waits a slow call needs."""

    def __init__(self, driver):
        self.d = driver

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, condition, what, timeout=30):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda _: condition())
        except TimeoutException:
            raise AssertionError(f"timed out waiting for {what}; error={self.text('error')!r} "
                                 f"signin-error={self.text('signin-error')!r}") from None

    def text(self, element_id):
        return self.js("const e = document.getElementById(arguments[0]); return e ? e.textContent : null", element_id)

    def idle(self):
        """No call in flight: the loading state is cleared."""
        self.wait(lambda: self.text("status") == "", "the page to finish loading")

    def el(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def visible(self, element_id):
        return self.js("return !document.getElementById(arguments[0]).closest('[hidden]')", element_id)

    def storage(self):
        return self.js("return {session: Object.assign({}, sessionStorage), local: localStorage.length, cookie: document.cookie}")

    def sign_in(self, key):
        field = self.el("#apikey")
        field.clear()
        field.send_keys(key, Keys.ENTER)  # the form submits from the keyboard

    def view(self, name):
        """Opened from the keyboard: the view's button takes focus and Enter activates it."""
        button = self.el(f'nav button[data-view="{name}"]')
        assert self.js("arguments[0].focus(); return document.activeElement === arguments[0]", button), name
        button.send_keys(Keys.ENTER)
        self.wait(lambda: self.visible("view-" + name) and self.text("status") == "", f"the {name} view")

    def rows(self, table_id, attr):
        return self.js(f"return [...document.querySelectorAll('#{table_id} tbody tr')].map(r => r.getAttribute('{attr}'))")

    def widths(self):
        """The page's scroll width and the viewport's: equal when nothing scrolls sideways."""
        return self.js("return [document.documentElement.scrollWidth, window.innerWidth]")

    def shot(self, name):
        path = ARTIFACTS / f"{name}.png"
        self.d.save_screenshot(str(path))
        return path


def test_console_in_a_real_browser(sealpost, postfix_peers, dnssec_lab, browser):
    sealpost.cli("accounts", "create", "acme")
    sealpost.cli("subusers", "create", "--parent", "acme", "acme-sub")
    cust_id = sealpost.cli("customers", "create", "--parent", "acme", "acme-cust").stdout.strip()
    key, sub_key, cust_key = sealpost.key("acme"), sealpost.key("acme-sub"), sealpost.key("acme-cust")
    routes = []
    for name in ("plain", "selfsigned", "ca"):
        routes += ["--route", f"{name}.test=localhost:{postfix_peers.port_of(name)}"]
    sealpost.start(*dnssec_lab.serve_args, "--trust-roots", postfix_peers.ca, "--rate-limit", "100000",
                   "--check-rate-limit", "1000", "--smtp-timeout", "5", *routes)
    url = sealpost.url

    def api(method, path, k=key, on_behalf_of=None, **kw):
        headers = {"Authorization": f"Bearer {k}"}
        if on_behalf_of:
            headers["on-behalf-of"] = on_behalf_of
        return requests.request(method, url + path, headers=headers, timeout=60, **kw)

    # Deliveries beforehand: two in plaintext, one each encrypted, verified and DANE for the parent;
    # the subuser requires TLS, so its mail to the plaintext receiver is blocked.
    assert api("PATCH", "/v3/user/settings/enforced_tls", k=sub_key, json={"require_tls": True}).status_code == 200
    token = uuid.uuid4().hex[:8]
    parent_mail = [f"p1-{token}@plain.test", f"p2-{token}@plain.test", f"s-{token}@selfsigned.test", f"c-{token}@ca.test",
                   f"e-{token}@ee.dane.test"]
    blocked = f"b-{token}@plain.test"
    for k, to in [(key, to) for to in parent_mail] + [(sub_key, blocked)]:
        r = api("POST", "/v3/mail/send", k=k, json={"personalizations": [{"to": [{"email": to}]}], "from": {"email": "s@acme.test"},
                                                     "subject": "console", "content": [{"type": "text/plain", "value": to}]})
        assert r.status_code == 202, r.text
    final = sealpost.final_events(parent_mail + [blocked], timeout=90)
    assert {final[to]["event"] for to in parent_mail} == {"delivered"} and final[blocked]["type"] == "blocked"
    unsub = f"u-{token}@plain.test"
    assert api("POST", "/v3/asm/suppressions/global", json={"recipient_emails": [unsub]}).status_code == 201
    start = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=29)).isoformat()
    stats = api("GET", "/v3/user/settings/enforced_tls/stats", params={"start_date": start}).json()
    today = stats[-1]
    assert today["levels"] == {"none": 2, "encrypted": 1, "verified": 1, "dane": 1}, today
    # The impact findings are written at the end of each delivery round.
    page = Page(browser)
    page.wait(lambda: api("GET", "/v3/user/settings/enforced_tls/impact").json()["messages_seen"] >= len(parent_mail),
              "the impact findings")

    # A wrong key shows the API's own words, and nothing is kept.
    browser.get(url + "/console")
    assert browser.current_url == url + "/console/"
    page.wait(lambda: page.el("#apikey") == browser.switch_to.active_element, "the key field to have focus")
    page.sign_in("SG.not-a-key")
    page.wait(lambda: page.text("signin-error") != "", "the sign-in error")
    assert page.text("signin-error") == "authorization required"
    assert page.storage() == {"session": {}, "local": 0, "cookie": ""} and not page.visible("app")

    # Sign in; the overview's chart and table say what the stats route says.
    page.sign_in(key)
    page.wait(lambda: page.visible("app") and page.js("return document.querySelectorAll('#chart rect').length") > 0, "the chart")
    page.idle()
    assert page.storage() == {"session": {"sealpost.key": key}, "local": 0, "cookie": ""}
    assert page.el("#apikey").get_attribute("value") == ""
    bars = page.js("""return [...document.querySelectorAll('#chart rect')].map(r =>
        [r.getAttribute('data-date'), r.getAttribute('data-level'), Number(r.getAttribute('data-count')), r.querySelector('title').textContent])""")
    # Stacked bottom-up along the ladder: none, encrypted, verified, dane.
    expected = [[d["date"], level, d["levels"][level]] for d in stats for level in ZERO_LEVELS if d["levels"][level]]
    assert [b[:3] for b in bars] == expected
    assert [b[3] for b in bars] == [f"{d} {level}: {n}" for d, level, n in expected]
    heights = page.js("return [...document.querySelectorAll('#chart rect')].map(r => Number(r.getAttribute('height')))")
    assert heights[0] == pytest.approx(2 * heights[1]), "two plaintext messages stand twice as tall as one encrypted"
    table = page.js("""return Object.fromEntries([...document.querySelectorAll('#levels tbody tr')].map(r =>
        [r.getAttribute('data-date'), Object.fromEntries([...r.querySelectorAll('td[data-level]')].map(c =>
        [c.getAttribute('data-level'), Number(c.textContent)]))]))""")
    totals = {level: sum(d["levels"][level] for d in stats) for level in ZERO_LEVELS}
    assert table == {**{d["date"]: d["levels"] for d in stats if any(d["levels"].values())}, "total": totals}
    assert page.text("share") == "40% of delivered mail was verified or DANE-authenticated (2 of 5)."
    settings = api("GET", "/v3/user/settings/enforced_tls").json()
    assert settings == {"require_tls": False, "require_valid_cert": False, "version": 1.1}
    assert (page.el("#require_tls").is_selected(), page.el("#require_valid_cert").is_selected(),
            Select(page.el("#version")).first_selected_option.text) == (False, False, "1.1")
    overview = page.shot("overview")
    if os.environ.get("SEALPOST_SCREENSHOT"):
        shutil.copyfile(overview, os.environ["SEALPOST_SCREENSHOT"])

    # A reload keeps the session.
    browser.refresh()
    page.wait(lambda: page.visible("app") and page.js("return document.querySelectorAll('#chart rect').length") > 0,
              "the overview after a reload")
    page.idle()

    # What if: requiring TLS would block the plaintext receiver's domain; looking changes nothing.
    page.view("whatif")
    page.el("#w-require_tls").click()
    page.el("#whatif button[type=submit]").click()
    page.wait(lambda: page.text("impact-summary") != "", "the impact report")
    impact = api("GET", "/v3/user/settings/enforced_tls/impact", params={"require_tls": "true", "version": "1.1"}).json()
    assert [b["domain"] for b in impact["would_block"]] == ["plain.test"]
    assert page.rows("impact", "data-domain") == ["plain.test"]
    cells = page.js("return [...document.querySelectorAll('#impact tbody td')].map(c => c.textContent)")
    assert cells == ["plain.test", "2", "starttls-not-supported (enforced_tls, needs encrypt)"]
    assert page.text("impact-summary") == (f"1 of {impact['domains_seen']} domains ({impact['messages_seen']} messages seen) "
                                           "would be blocked.")
    page.el("#w-require_tls").click()  # off again: a valid certificate implies TLS anyway
    page.el("#w-require_valid_cert").click()
    page.el("#whatif button[type=submit]").click()
    impact = api("GET", "/v3/user/settings/enforced_tls/impact", params={"require_valid_cert": "true"}).json()
    assert sorted(b["domain"] for b in impact["would_block"]) == ["plain.test", "selfsigned.test"]
    page.wait(lambda: page.rows("impact", "data-domain") == [b["domain"] for b in impact["would_block"]], "the require_valid_cert report")
    cells = page.js("return [...document.querySelectorAll('#impact tbody tr[data-domain=\"selfsigned.test\"] td')].map(c => c.textContent)")
    assert cells == ["selfsigned.test", "1", "certificate-not-trusted (enforced_tls, needs verify)"], cells
    assert api("GET", "/v3/user/settings/enforced_tls").json() == settings, "looking changes nothing"
    page.shot("whatif")

    # Toggle require_tls: saved through the real PATCH, shown in the audit trail.
    page.view("overview")
    page.el("#require_tls").click()
    page.el("#settings button[type=submit]").click()
    page.wait(lambda: page.text("settings-saved").startswith("Saved"), "the save")
    page.idle()
    assert api("GET", "/v3/user/settings/enforced_tls").json() == {"require_tls": True, "require_valid_cert": False, "version": 1.1}
    audit = api("GET", "/v3/user/settings/enforced_tls/audit", params={"limit": 1}).json()
    assert audit[0]["new"]["require_tls"] is True and audit[0]["old"]["require_tls"] is False and audit[0]["domain"] is None
    first = page.js("return document.querySelector('#audit li').textContent")
    assert first.startswith(datetime.datetime.fromtimestamp(audit[0]["at"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert '"require_tls":true' in first.split("→")[1] and '"require_tls":false' in first.split("→")[0]
    assert f"key {audit[0]['key_id']}" in first

    # Domains: add an entry, see it through the API, delete it.
    page.view("domains")
    assert page.rows("domains", "data-domain") == []
    page.el("#d-domain").send_keys(".Example.ORG")
    page.el("#d-require_tls").click()
    Select(page.el("#d-version")).select_by_visible_text("1.2")
    page.el("#domain-form button[type=submit]").click()
    page.wait(lambda: page.rows("domains", "data-domain") == [".example.org"], "the new entry")
    assert api("GET", "/v3/user/settings/enforced_tls/domains/.example.org").json() == {
        "domain": ".example.org", "require_tls": True, "require_valid_cert": False, "version": 1.2}
    assert page.js("return [...document.querySelectorAll('#domains tbody td')].slice(0, 4).map(c => c.textContent)") == [
        ".example.org", "yes", "no", "1.2"]
    page.el('#domains button[data-delete=".example.org"]').click()
    page.wait(lambda: page.rows("domains", "data-domain") == [], "the deleted entry")
    assert api("GET", "/v3/user/settings/enforced_tls/domains/.example.org").status_code == 404

    # Pre-flight check, with the loading state shown while it runs.
    page.js("""window.seen = []; new MutationObserver(() => window.seen.push(document.getElementById('status').textContent))
        .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true})""")
    page.el("#c-domain").send_keys("selfsigned.test", Keys.ENTER)
    page.wait(lambda: page.rows("check", "data-host") == ["localhost"], "the check table")
    page.idle()
    assert "Loading…" in page.js("return window.seen")
    check = api("GET", "/v3/user/settings/enforced_tls/check", params={"domain": "selfsigned.test"}).json()
    # The account now requires TLS, not a valid certificate: a self-signed receiver still gets mail.
    assert check["would_deliver"] is True and check["tls_failure"] is None
    [mx] = check["mx"]
    cells = page.js("return [...document.querySelectorAll('#check tbody td')].map(c => c.textContent)")
    assert cells[0] == "localhost", "a route has no MX preference"
    assert cells[2:5] == ["yes", mx["tls_version"], "untrusted"] and mx["certificate"]["verdict"] == "untrusted"
    assert cells[7] == "would deliver"
    assert page.text("check-summary") == "selfsigned.test: would deliver"
    page.shot("domains")

    # Lists: the parent's global unsubscribe, removed from the page.
    page.view("lists")
    assert page.rows("list-unsubscribes", "data-email") == [unsub] and page.rows("list-blocks", "data-email") == []
    page.el(f'#list-unsubscribes button[data-remove="{unsub}"]').click()
    page.wait(lambda: page.rows("list-unsubscribes", "data-email") == [], "the removed unsubscribe")
    assert api("GET", "/v3/suppression/unsubscribes").json() == []

    # Switch to the subuser: its block is listed (and removed), its setting changed; the parent's stays.
    Select(page.el("#actas")).select_by_value("acme-sub")
    page.wait(lambda: page.rows("list-blocks", "data-email") == [blocked], "the subuser's block")
    assert page.storage()["session"] == {"sealpost.key": key, "sealpost.actas": "acme-sub"}
    page.el(f'#list-blocks button[data-remove="{blocked}"]').click()
    page.wait(lambda: page.rows("list-blocks", "data-email") == [], "the removed block")
    assert api("GET", "/v3/suppression/blocks", k=sub_key).json() == []
    page.view("overview")
    assert page.el("#require_tls").is_selected(), "the subuser's own setting"
    assert page.js("return document.querySelectorAll('#chart rect').length") == 0, "the subuser delivered nothing"
    assert page.text("share") == "No mail delivered in the last 30 days."
    Select(page.el("#version")).select_by_visible_text("1.2")
    page.el("#settings button[type=submit]").click()
    page.wait(lambda: page.text("settings-saved") == 'Saved: {"require_tls":true,"require_valid_cert":false,"version":1.2}', "the save")
    assert api("GET", "/v3/user/settings/enforced_tls", k=sub_key).json() == {"require_tls": True, "require_valid_cert": False, "version": 1.2}
    assert api("GET", "/v3/user/settings/enforced_tls").json() == {"require_tls": True, "require_valid_cert": False, "version": 1.1}
    sub_audit = api("GET", "/v3/user/settings/enforced_tls/audit", k=sub_key, params={"limit": 1}).json()
    assert sub_audit[0]["on_behalf_of"] == "acme-sub" and sub_audit[0]["new"]["version"] == 1.2

    # A customer account, by id; the choice survives a reload.
    page.el("#account-id").send_keys(cust_id, Keys.ENTER)
    page.wait(lambda: page.storage()["session"].get("sealpost.actas") == f"account-id {cust_id}", "the customer account")
    page.idle()
    page.el("#require_valid_cert").click()
    page.el("#settings button[type=submit]").click()
    page.wait(lambda: page.text("settings-saved") == 'Saved: {"require_tls":false,"require_valid_cert":true,"version":1.1}',
              "the customer's save")
    assert api("GET", "/v3/user/settings/enforced_tls", k=cust_key).json() == {"require_tls": False, "require_valid_cert": True, "version": 1.1}
    browser.refresh()
    page.wait(lambda: page.visible("app") and Select(page.el("#actas")).first_selected_option.get_attribute("value")
              == f"account-id {cust_id}", "the customer after a reload")
    page.idle()
    assert page.el("#require_valid_cert").is_selected()

    # Sign out: the key is gone from storage, the sign-in form is back.
    page.el("#signout").click()
    page.wait(lambda: page.visible("signin-view") and not page.visible("app"), "the sign-in form")
    assert page.storage() == {"session": {}, "local": 0, "cookie": ""}
    browser.refresh()
    page.wait(lambda: page.visible("signin-view"), "the sign-in form after a reload")
    assert not page.visible("app")


def test_console_at_phone_width(sealpost, browser):
    """390 px wide (an iPhone's CSS width): every view fits without horizontal scrolling (wide
    tables scroll inside their own box), the wrong key's error reads the same."""
    sealpost.cli("accounts", "create", "acme")
    key = sealpost.key("acme")
    sealpost.start("--rate-limit", "100000")
    headers = {"Authorization": f"Bearer {key}"}
    # Long values: a domain entry and an audit line with JSON in it.
    long_domain = "a-rather-long-subdomain-name-for-a-narrow-screen.example-with-a-long-name.org"
    assert requests.put(f"{sealpost.url}/v3/user/settings/enforced_tls/domains/{long_domain}", json={"require_tls": True},
                        headers=headers, timeout=10).status_code == 200
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    page = Page(browser)
    browser.get(sealpost.url + "/console/")
    assert page.js("return window.innerWidth") == 390
    page.sign_in("SG.wrong")
    page.wait(lambda: page.text("signin-error") == "authorization required", "the sign-in error")
    width, viewport = page.widths()
    assert width <= viewport, ("sign-in", width)
    page.sign_in(key)
    page.wait(lambda: page.visible("app"), "the app")
    page.idle()
    for view in ("overview", "whatif", "domains", "lists"):
        page.view(view)
        width, viewport = page.widths()
        assert width <= viewport, (view, width, viewport)
        page.shot(f"phone-{view}")
    assert page.rows("domains", "data-domain") == [long_domain]
