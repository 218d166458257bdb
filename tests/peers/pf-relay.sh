#!/bin/sh
# pf-relay.sh up|down -- a second private Postfix instance used as the *sending* anchor:
# mail injected on 127.0.0.1:$((P+50)) is put on HOLD; relay-bench.sh releases it and times delivery
# through Postfix's smtp(8) client to loopback sinks chosen by recipient domain (transport_maps).
set -eu
R=$(realpath -m "${RELAY_BASE:-./pf-relay}")
P=${PEERS_PORT:-2525}
CERTS=$(realpath -m "${PEERS_BASE:-./pf-peers}")/certs     # CA from pf-peers.sh
SINKPORT=${SINK_PORT:-$((P+75))}                           # smtp-sink port
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
myhostname = relay.localhost
mydestination =
relayhost =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
in_flow_delay = 0
biff = no
alias_maps =
alias_database =
local_recipient_maps =
# must not be "none": tlsproxy(8) derives its client role from it (tlsproxy_client_security_level);
# with "none" tlsproxy crashes (signal 11) and smtp_tls_connection_reuse=yes deliveries defer. Transports override it.
smtp_tls_security_level = may
smtp_tls_CAfile = $CERTS/ca.crt
smtp_tls_session_cache_database = btree:\$data_directory/smtp_scache
smtp_tls_loglevel = 0
# recipient domain -> transport:[ip]:port
transport_maps = inline:{ sink.bench=bplain:[127.0.0.1]:$SINKPORT, plain.bench=bplain:[127.0.0.1]:$((P+15)), tls.bench=btls:[127.0.0.1]:$((P+16)), tlsreuse.bench=btlsreuse:[127.0.0.1]:$((P+16)), may.bench=bmay:[127.0.0.1]:$((P+16)), py.bench=bplain:[127.0.0.1]:$((P+76)), pytls.bench=btls:[127.0.0.1]:$((P+77)) }
CF
  { cat "$(dirname "$0")/master-base.cf"; cat <<MC
127.0.0.1:$((P+50)) inet n - n - - smtpd -o smtpd_data_restrictions=check_client_access,static:HOLD
bplain    unix  -       -       n       -       -       smtp -o smtp_tls_security_level=none
bmay      unix  -       -       n       -       -       smtp -o smtp_tls_security_level=may
btls      unix  -       -       n       -       -       smtp -o smtp_tls_security_level=encrypt
btlsreuse unix  -       -       n       -       -       smtp -o smtp_tls_security_level=encrypt -o smtp_tls_connection_reuse=yes
MC
  } > "$R/etc/master.cf"
  $PF check
  if $PF status 2>/dev/null; then $PF reload; else $PF start; fi ;;
down) pidf=$R/spool/pid/master.pid   # stop by the master's pid file, wait for it, delete everything
  if [ -f "$pidf" ]; then pid=$(tr -d ' ' < "$pidf"); $PF stop 2>/dev/null || true
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; fi
  rm -rf "$R" ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
