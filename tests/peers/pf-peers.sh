#!/bin/sh
# pf-peers.sh up|down|status|clear -- loopback-only Postfix receiving peers (private instance)
# Everything lives under $PEERS_BASE (default ./pf-peers); /etc/postfix and /var/spool/postfix are untouched.
set -eu
BASE=$(realpath -m "${PEERS_BASE:-./pf-peers}")
P=${PEERS_PORT:-2525}            # first port; the others are offsets from it (see "ports" below)
PF="postfix -c $BASE/etc"

install_postfix() {
  command -v postfix >/dev/null && return 0
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix swaks >/dev/null
  # "No configuration" leaves /etc/postfix/main.cf absent, so the system instance (port 25) never runs.
}

stop_master() { # stop a private instance and wait for its master pid to exit (no broad kills)
  pidf=$1/spool/pid/master.pid; [ -f "$pidf" ] || return 0
  pid=$(tr -d ' ' < "$pidf"); postfix -c "$1/etc" stop 2>/dev/null || true
  i=0; while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
}

make_certs() { # test CA + leaf certs, all for loopback names
  C=$BASE/certs; mkdir -p "$C"; [ -f "$C/stshost.chain.crt" ] && return 0
  ( cd "$C"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=Peers Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  leaf() { # name SAN [extendedKeyUsage value]
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "${3:-serverAuth}" "$2" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  }
  leaf localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
  leaf wrongname "DNS:wrong.example"
  # extended key usage marked critical (as trustme and some enterprise CAs issue it)
  leaf ekucritical "DNS:localhost,IP:127.0.0.1,IP:::1" "critical,serverAuth"
  leaf clientonly "DNS:localhost,IP:127.0.0.1,IP:::1" "critical,clientAuth"
  # the DNSSEC lab's CA-signed MX (tests/peers/dnssec-lab.sh): DANE-TA and MTA-STS names, no IP
  leaf labmx "DNS:mx-ta.dane.test,DNS:mx.sts.test"
  # the lab's MTA-STS policy host: every mta-sts.<domain>.sts.test but badcert's
  leaf stshost "$(printf 'DNS:mta-sts.%s.sts.test,' enforce notlisted wrongname testing nofetch cached)DNS:tlsrpt.sts.test"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.crt -days 825 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>/dev/null
  # expired (back-dated) CA-signed cert for localhost: needs "openssl ca" (x509 -req cannot back-date in OpenSSL 3.0)
  mkdir -p cadb; : > cadb/index.txt; echo 1000 > cadb/serial
  printf '[ca]\ndefault_ca=c\n[c]\ndatabase=cadb/index.txt\nserial=cadb/serial\nnew_certs_dir=cadb\ncertificate=ca.crt\nprivate_key=ca.key\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n' > cadb/ca.cnf
  openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>/dev/null
  openssl ca -batch -config cadb/ca.cnf -in expired.csr -out expired.crt -notext \
    -startdate 20200101000000Z -enddate 20210101000000Z 2>/dev/null
  for n in localhost wrongname expired ekucritical clientonly labmx stshost; do cat $n.crt ca.crt > $n.chain.crt; done
  cp selfsigned.crt selfsigned.chain.crt
  chmod 600 ./*.key )
}

write_config() {
  E=$BASE/etc; mkdir -p "$E" "$BASE/spool" "$BASE/data" "$BASE/log" "$BASE/mail"
  chown postfix "$BASE/data"; chown nobody:nogroup "$BASE/mail"
  cat > "$E/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $BASE/spool
data_directory = $BASE/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $BASE/log/maillog
maillog_file_prefixes = $BASE/log
myhostname = sink.localhost
mydomain = localhost
myorigin = \$myhostname
mydestination =
relayhost =
inet_interfaces = loopback-only
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
in_flow_delay = 0
biff = no
alias_maps =
alias_database =
local_recipient_maps =
message_size_limit = 52428800
# every domain is a "virtual mailbox" domain; per-port store transports write Maildirs
virtual_mailbox_domains = static:ALL
virtual_mailbox_base = $BASE/mail
virtual_mailbox_maps = static:other/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_limit = 0
# TLS: per-service overrides in master.cf
smtpd_tls_security_level = none
smtpd_tls_chain_files = $BASE/certs/localhost.key, $BASE/certs/localhost.chain.crt
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database = btree:\$data_directory/smtpd_scache
smtp_tls_security_level = none
CF
  # the "reject" receiver's answers: gone-* is unknown (5xx), busy-* is tried later (4xx)
  printf '/^gone-/ 550 5.1.1 Recipient address rejected: User unknown\n/^busy-/ 450 4.2.1 Mailbox busy\n' > "$E/reject.regexp"
  # service table: port  name  extra -o options (no spaces inside one option)
  cat > "$BASE/ports" <<PORTS
$((P+0)) plain     -o smtpd_tls_security_level=none
$((P+1)) selfsign  -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/selfsigned.key,$BASE/certs/selfsigned.chain.crt
$((P+2)) ca        -o smtpd_tls_security_level=may
$((P+3)) tls12max  -o smtpd_tls_security_level=may -o smtpd_tls_protocols=>=TLSv1.2,<=TLSv1.2
$((P+4)) tls13only -o smtpd_tls_security_level=may -o smtpd_tls_protocols=>=TLSv1.3
$((P+5)) tls11only -o smtpd_tls_security_level=may -o smtpd_tls_protocols=>=TLSv1.1,<=TLSv1.1 -o tls_medium_cipherlist=DEFAULT:@SECLEVEL=0
$((P+6)) wrongname -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/wrongname.key,$BASE/certs/wrongname.chain.crt
$((P+7)) expired   -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/expired.key,$BASE/certs/expired.chain.crt
$((P+8)) required  -o smtpd_tls_security_level=encrypt
$((P+9)) ekucritical -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/ekucritical.key,$BASE/certs/ekucritical.chain.crt
$((P+10)) clientonly -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/clientonly.key,$BASE/certs/clientonly.chain.crt
$((P+11)) noutf8    -o smtpd_tls_security_level=may -o smtputf8_enable=no
$((P+12)) reject    -o smtpd_tls_security_level=may -o smtpd_recipient_restrictions=check_recipient_access,regexp:$E/reject.regexp,permit_mynetworks,reject
$((P+15)) benchplain -o smtpd_tls_security_level=none -o smtpd_data_restrictions=check_client_access,static:DISCARD
$((P+16)) benchtls   -o smtpd_tls_security_level=may -o smtpd_data_restrictions=check_client_access,static:DISCARD
PORTS
  # the DNSSEC lab's MX hosts: one loopback address each, all on port P+20 (the lab's --mx-port,
  # so TLSA records sit at _<P+20>._tcp.<host>): address name extra -o options
  cat > "$BASE/hosts" <<HOSTS
127.0.0.21 labself  -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/selfsigned.key,$BASE/certs/selfsigned.chain.crt
127.0.0.22 labca    -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/labmx.key,$BASE/certs/labmx.chain.crt
127.0.0.23 labplain -o smtpd_tls_security_level=none
127.0.0.24 labbench -o smtpd_tls_security_level=may -o smtpd_tls_chain_files=$BASE/certs/selfsigned.key,$BASE/certs/selfsigned.chain.crt -o smtpd_data_restrictions=check_client_access,static:DISCARD
HOSTS
  {
  cat "$(dirname "$0")/master-base.cf"
  echo 'virtual   unix  -       n       n       -       -       virtual'
  while read -r port name opts; do
    for addr in 127.0.0.1 '[::1]'; do
      echo "$addr:$port inet n - n - - smtpd -o syslog_name=sink-$port -o content_filter=store$port: $opts"
    done
    echo "store$port unix - n n - - virtual -o virtual_mailbox_maps=static:$port/"
  done < "$BASE/ports"
  while read -r addr name opts; do
    echo "$addr:$((P+20)) inet n - n - - smtpd -o syslog_name=sink-$name -o content_filter=store$name: $opts"
    echo "store$name unix - n n - - virtual -o virtual_mailbox_maps=static:$name/"
  done < "$BASE/hosts"
  } > "$E/master.cf"
}

case "${1:-}" in
up)
  install_postfix; make_certs; write_config
  $PF check
  if $PF status 2>/dev/null; then $PF reload; else $PF start; fi
  ;;
down)   # stop the master (by its pid file) and delete everything
  stop_master "$BASE"; rm -rf "$BASE" ;;
stop)   stop_master "$BASE" ;;
status) $PF status; cat "$BASE/ports" ;;
clear)  rm -rf "$BASE"/mail/*/ ;;   # forget delivered mail
*) echo "usage: $0 up|down|stop|status|clear" >&2; exit 2 ;;
esac
