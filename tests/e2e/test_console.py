"""The console's static side against a live server: the redirect, the three assets, the security
headers on every answer under /console (404s too), and no asset naming an outside host (the SVG
namespace URI aside). The page itself is driven in a real browser by test_console_browser.py."""
import re

import requests

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def headers_ok(r):
    assert r.headers["Content-Security-Policy"] == CSP, r.headers
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Referrer-Policy"] == "no-referrer"


def test_console_assets_headers_and_no_outside_hosts(sealpost):
    sealpost.start()
    r = requests.get(sealpost.url + "/console", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "/console/"
    headers_ok(r)
    bodies = {}
    for path, kind in (("/console/", "text/html"), ("/console/console.js", "text/javascript"), ("/console/console.css", "text/css")):
        r = requests.get(sealpost.url + path, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(kind), (path, r.headers)
        headers_ok(r)
        bodies[path] = r.text
    for path in ("/console/nope", "/console/a/b.js"):
        r = requests.get(sealpost.url + path, timeout=10)
        assert r.status_code == 404 and r.json() == {"errors": [{"field": None, "message": "resource not found"}]}
        headers_ok(r)
    html = bodies["/console/"]
    assert '<meta name="viewport" content="width=device-width">' in html
    assert '<script src="console.js" defer></script>' in html and "<script>" not in html, "no inline script"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    for path, text in bodies.items():
        outside = [u for u in re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", text) if u != "http://www.w3.org"]
        assert outside == [], (path, outside)
    # The page keeps the key in sessionStorage only, and sends it as a Bearer header.
    js = bodies["/console/console.js"]
    assert "sessionStorage" in js and "localStorage" not in js and "document.cookie" not in js
    assert '"Bearer " + sessionStorage.getItem(KEY)' in js
