"""Load generator of scripts/bench-submission: N messages of about 1 KiB over C concurrent
connections, each connection STARTTLS (+ AUTH PLAIN as `apikey` when a key is given) and
then MAIL/RCPT/DATA per message; or the same messages as HTTP Mail Send requests on C
keep-alive connections. Prints one line: messages, seconds, messages per second.

  submission_load.py smtp HOST PORT CAFILE N C [KEY]
  submission_load.py http URL KEY N C
"""
import http.client
import json
import smtplib
import ssl
import sys
import threading
import time
import urllib.parse

BODY = "x" * 60 + "\r\n"
SEND_AT = int(time.time()) + 3 * 3600  # queued, not delivered, while measuring acceptance


def message(i):
    headers = (f"From: s@sender.test\r\nTo: r{i}@sink.test\r\nSubject: bench {i}\r\n"
               f"X-SMTPAPI: {{\"send_at\": {SEND_AT}}}\r\n\r\n")
    return (headers + BODY * 15).encode()


def smtp_worker(host, port, cafile, key, items, errors):
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        s = smtplib.SMTP(host, port, timeout=60)
        s.ehlo("bench.test")
        s.starttls(context=ctx)
        s.ehlo("bench.test")
        if key:
            s.login("apikey", key)
        for i in items:
            s.mail("s@sender.test")
            s.rcpt(f"r{i}@sink.test")
            code, _ = s.data(message(i))
            if code != 250:
                errors.append(code)
        s.quit()
    except Exception as e:  # a failure is counted, not hidden
        errors.append(repr(e))


def http_worker(url, key, items, errors):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for i in items:
        body = json.dumps({"personalizations": [{"to": [{"email": f"r{i}@sink.test"}]}], "from": {"email": "s@sender.test"},
                           "subject": f"bench {i}", "content": [{"type": "text/plain", "value": BODY * 15}],
                           "send_at": SEND_AT})
        c.request("POST", "/v3/mail/send", body=body, headers=headers)
        r = c.getresponse()
        r.read()
        if r.status != 202:
            errors.append(r.status)
    c.close()


def main():
    mode = sys.argv[1]
    if mode == "smtp":
        host, port, cafile, n, conc = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        key = sys.argv[7] if len(sys.argv) > 7 else None
        target = lambda items, errors: smtp_worker(host, port, cafile, key, items, errors)  # noqa: E731
    else:
        url, key, n, conc = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        target = lambda items, errors: http_worker(url, key, items, errors)  # noqa: E731
    errors = []
    shares = [list(range(k, n, conc)) for k in range(conc)]
    threads = [threading.Thread(target=target, args=(share, errors)) for share in shares]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        print(f"errors: {len(errors)} first {errors[:3]}", file=sys.stderr)
        sys.exit(1)
    print(f"{n} {elapsed:.3f} {n / elapsed:.1f}")


if __name__ == "__main__":
    main()
