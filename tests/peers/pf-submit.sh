#!/bin/sh
# pf-submit.sh up|down -- a private Postfix instance configured the way servers relay through
# SendGrid: every message to a relayhost (Sealpost's submission port) with SMTP AUTH as user
# `apikey`, TLS required (smtp_tls_security_level=encrypt). Mail is injected on 127.0.0.1:$INJECT_PORT.
#   SUBMIT_BASE  folder (default ./pf-submit)   SUBMIT_PORT  Sealpost's --submission port
#   SUBMIT_KEY   the API key                    INJECT_PORT  where this Postfix listens
#   PEERS_BASE   pf-peers.sh's folder (its CA)
set -eu
R=$(realpath -m "${SUBMIT_BASE:-./pf-submit}")
CERTS=$(realpath -m "${PEERS_BASE:-./pf-peers}")/certs
PF="postfix -c $R/etc"
case "${1:-}" in
up)
  mkdir -p "$R/etc" "$R/spool" "$R/data" "$R/log"; chown postfix "$R/data"
  cat > "$R/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $R/spool
data_directory = $R/data
maillog_file = $R/log/maillog
maillog_file_prefixes = $R/log
myhostname = client.localhost
mydestination =
relayhost = [127.0.0.1]:$SUBMIT_PORT
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
in_flow_delay = 0
biff = no
alias_maps =
alias_database =
local_recipient_maps =
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = inline:{ [127.0.0.1]:$SUBMIT_PORT=apikey:$SUBMIT_KEY }
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
smtp_tls_security_level = encrypt
smtp_tls_CAfile = $CERTS/ca.crt
smtp_tls_session_cache_database = btree:\$data_directory/smtp_scache
smtp_tls_loglevel = 1
CF
  { cat "$(dirname "$0")/master-base.cf"; cat <<MC
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
127.0.0.1:$INJECT_PORT inet n - n - - smtpd
MC
  } > "$R/etc/master.cf"
  $PF check
  if $PF status 2>/dev/null; then $PF reload; else $PF start; fi ;;
down) pidf=$R/spool/pid/master.pid
  if [ -f "$pidf" ]; then pid=$(tr -d ' ' < "$pidf"); $PF stop 2>/dev/null || true
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; fi
  rm -rf "$R" ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
