#!/usr/bin/env bash
# Installs every test peer that is missing, non-interactively: Debian's packages (real Postfix
# receivers, dnsmasq for MX, PostgreSQL, swaks, OpenSSL, SQLite headers, SASL modules) and the Python peers
# of tests/requirements.txt. Does nothing when all are present, so `scripts/test` calls it on
# every run; `.ci/run` is just `scripts/test`. Needs root (or sudo) for apt-get on a new machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

# command or file that shows the package is there -> Debian package
declare -A PACKAGES=(
    [postfix]=postfix
    [dnsmasq]=dnsmasq
    [swaks]=swaks
    [openssl]=openssl
    [/usr/include/sqlite3.h]=libsqlite3-dev
    [psql]=postgresql-client
    # the DNSSEC lab (tests/peers/dnssec-lab.sh): authoritative, validating resolver, signer, dig
    [nsd]=nsd
    [unbound]=unbound
    [ldns-signzone]=ldnsutils
    [dig]=bind9-dnsutils
    # the console's browser test (tests/e2e/test_console_browser.py): headless Chromium, Selenium's driver
    [chromium]=chromium
    [chromedriver]=chromium-driver
)
missing=()
for probe in "${!PACKAGES[@]}"; do
    if [[ $probe == /* ]]; then [ -e "$probe" ] || missing+=("${PACKAGES[$probe]}")
    else command -v "$probe" >/dev/null 2>&1 || missing+=("${PACKAGES[$probe]}"); fi
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# Postfix's SMTP AUTH client (the relay-through-Sealpost test) needs Cyrus SASL's PLAIN/LOGIN.
ls /usr/lib/*/sasl2/libplain.so >/dev/null 2>&1 || missing+=(libsasl2-modules)

if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian test peers: ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix "No configuration": no system instance is set up (port 25 stays free); the tests
    # run private instances on loopback ports (tests/peers/pf-peers.sh).
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
    echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c "import sendgrid, openapi_core, pytest, yaml, schemathesis, dkim, dns.resolver, aiosmtpd, selenium" 2>/dev/null; then
    echo "==> installing Python test peers (tests/requirements.txt)"
    python3 -m pip install -q -r tests/requirements.txt
fi
