#!/bin/bash
# dnssec-lab.sh start|stop -- a loopback DNSSEC lab for the DANE and MTA-STS tests: nsd
# (authoritative, 127.0.0.1:NSD_PORT) under unbound (validating, 127.0.0.1:UNBOUND_PORT, the
# DS of `test.` its only trust anchor). Zones are made and signed at every start, never
# committed (RRSIGs expire). Everything lives in LAB_DIR; stop kills only the PIDs there.
#   LAB_DIR      work folder (required)
#   NSD_PORT, UNBOUND_PORT   loopback ports
#   MX_PORT      the delivery port of the lab's MX hosts (TLSA at _MX_PORT._tcp.<host>)
#   CERTS        tests/peers/pf-peers.sh's certs folder (selfsigned, labmx, localhost, ca)
#   TLSRPT_PORT  the port of the TLS-RPT tests' HTTPS collector, tlsrpt.sts.test (in rua= URIs)
# Zones (all MX hosts are the pf-peers lab receivers on 127.0.0.2x:MX_PORT, but mx-rtls,
# 127.0.0.25, where the REQUIRETLS tests run their own receiver):
#   dane.test      signed: one recipient domain per DANE case (see the zone below)
#   bogus.test     signed, the RRSIG over its TLSA RRset corrupted -> SERVFAIL for TLSA only
#   insecure.test  unsigned, no DS: TLSA published but not DNSSEC-validated
#   sts.test       unsigned, TTL 1: MTA-STS TXT records and policy host names (`set-sts-id` changes
#                  one id and reloads nsd)
set -euo pipefail
: "${LAB_DIR:?set LAB_DIR}" "${NSD_PORT:?}" "${UNBOUND_PORT:?}"
cd "$LAB_DIR"

stop_all() {
    for f in pids/*; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if kill "$pid" 2>/dev/null; then for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done; fi
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
}

answers() { dig @127.0.0.1 -p "$1" +time=1 +tries=1 +norec SOA test. >/dev/null 2>&1; }

spki_sha256() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex | awk '{print $NF}'; }
cert_sha256() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -hex | awk '{print $NF}'; }

make_zones() {
    : "${MX_PORT:?}" "${CERTS:?}"
    local self wrong ca T
    self=$(spki_sha256 "$CERTS/selfsigned.crt")     # the key of 127.0.0.21 (labself)
    wrong=$(spki_sha256 "$CERTS/localhost.crt")     # a real key no lab MX uses
    ca=$(cert_sha256 "$CERTS/ca.crt")               # the test CA (issuer of 127.0.0.22, labca)
    T="_$MX_PORT._tcp"
    local RUA_HTTPS="https://tlsrpt.sts.test:${TLSRPT_PORT:-443}/v1/report"   # the TLS-RPT tests' collector
    rm -rf keys zones && mkdir -p keys zones
    soa() { printf '$ORIGIN %s.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n' "$1"; }
    { soa dane.test; cat <<ZONE
ee MX 10 mx-ee
mx-ee A 127.0.0.21
$T.mx-ee TLSA 3 1 1 $self
eebad MX 10 mx-eebad
mx-eebad A 127.0.0.21
$T.mx-eebad TLSA 3 1 1 $wrong
fallback MX 10 mx-eebad
fallback MX 20 mx-ee
ta MX 10 mx-ta
mx-ta A 127.0.0.22
$T.mx-ta TLSA 2 0 1 $ca
tawrong MX 10 mx-tawrong
mx-tawrong A 127.0.0.22
$T.mx-tawrong TLSA 2 0 1 $ca
unusable MX 10 mx-unusable
mx-unusable A 127.0.0.21
$T.mx-unusable TLSA 1 1 1 $self
$T.mx-unusable TLSA 0 0 1 $ca
plain MX 10 mx-plain
mx-plain A 127.0.0.23
$T.mx-plain TLSA 3 1 1 $self
notlsa MX 10 mx-notlsa
mx-notlsa A 127.0.0.21
cname MX 10 alias
alias CNAME mx-ee
bench MX 10 mx-bench
mx-bench A 127.0.0.24
$T.mx-bench TLSA 3 1 1 $self
rtls MX 10 mx-rtls
mx-rtls A 127.0.0.25
$T.mx-rtls TLSA 3 1 1 $self
_smtp._tls.ee TXT "v=TLSRPTv1; rua=$RUA_HTTPS"
_smtp._tls.eebad TXT "v=TLSRPTv1; rua=mailto:tlsrpt@ee.dane.test"
_smtp._tls.plain TXT "v=TLSRPTv1; rua=$RUA_HTTPS,mailto:tlsrpt@ee.dane.test"
_smtp._tls.notlsa TXT "v=TLSRPTv1; rua=$RUA_HTTPS"
_smtp._tls.notlsa TXT "v=TLSRPTv1; rua=mailto:two-records-mean-none@ee.dane.test"
ZONE
    } > zones/dane.test.zone
    { soa bogus.test; printf '@ MX 10 mx\nmx A 127.0.0.21\n%s.mx TLSA 3 1 1 %s\n' "$T" "$self"; } > zones/bogus.test.zone
    { soa sts.test | sed 's/^\$TTL 300/$TTL 1/'
      for d in enforce notlisted wrongname testing nofetch badcert cached; do
          case $d in notlisted) mx=mx-other ;; wrongname|testing) mx=mx-wrong ;; *) mx=mx ;; esac
          printf '%s MX 10 %s\n_mta-sts.%s TXT "v=STSv1; id=%s1;"\nmta-sts.%s A 127.0.0.1\n' "$d" "$mx" "$d" "$d" "$d"
      done
      printf 'mx A 127.0.0.22\nmx-other A 127.0.0.23\nmx-wrong A 127.0.0.22\ntlsrpt A 127.0.0.1\n'; } > zones/sts.test.zone
    cp zones/sts.test.zone zones/sts.test.zone.signed
    # insecure.test also holds a null MX (RFC 7505) domain, nullmx.insecure.test
    { soa insecure.test; printf '@ MX 10 mx\nmx A 127.0.0.21\n%s.mx TLSA 3 1 1 %s\nnullmx MX 0 .\nrtls MX 10 mx-rtls\nmx-rtls A 127.0.0.25\n_smtp._tls TXT "v=TLSRPTv1; rua=%s"\n' "$T" "$wrong" "$RUA_HTTPS"; } > zones/insecure.test.zone
    key() { (cd keys && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$1"); }
    local KT KD KB
    KT=$(key test.); KD=$(key dane.test.); KB=$(key bogus.test.)
    { soa test; for z in dane bogus insecure; do printf '%s NS ns.%s\nns.%s A 127.0.0.1\n' $z $z $z; done
      printf 'sts NS ns.sts\nns.sts A 127.0.0.1\n'; cat "keys/$KD.ds" "keys/$KB.ds"; } > zones/test.zone        # DS for the signed children only
    ldns-signzone -o dane.test. zones/dane.test.zone "keys/$KD"
    ldns-signzone -o bogus.test. zones/bogus.test.zone "keys/$KB"
    ldns-signzone -o test. zones/test.zone "keys/$KT"
    cp zones/insecure.test.zone zones/insecure.test.zone.signed
    # bogus.test: one character of the RRSIG covering the TLSA RRset changed
    awk 'BEGIN{OFS="\t"} !done && $4=="RRSIG" && $5=="TLSA" { c=substr($NF,1,1); $NF=(c=="A"?"B":"A") substr($NF,2); done=1 } {print}' \
        zones/bogus.test.zone.signed > zones/bogus.tmp && mv zones/bogus.tmp zones/bogus.test.zone.signed
    grep -q RRSIG zones/bogus.test.zone.signed
    cp "keys/$KT.ds" zones/test.ds
    for z in test dane.test bogus.test insecure.test sts.test; do nsd-checkzone "$z." "zones/$z.zone.signed" >/dev/null; done
}

write_configs() {
    cat > nsd.conf <<CONF
server:
    ip-address: 127.0.0.1
    port: $NSD_PORT
    server-count: 1
    username: ""
    zonesdir: "$LAB_DIR/zones"
    database: ""
    zonelistfile: "$LAB_DIR/run/nsd.zonelist"
    xfrdfile: "$LAB_DIR/run/nsd.xfrd.state"
    xfrdir: "$LAB_DIR/run"
    pidfile: "$LAB_DIR/run/nsd.pid"
    logfile: "$LAB_DIR/run/nsd.log"
remote-control:
    control-enable: no
CONF
    for z in test dane.test bogus.test insecure.test sts.test; do printf 'zone:\n    name: "%s."\n    zonefile: "%s.zone.signed"\n' $z $z >> nsd.conf; done
    cat > unbound.conf <<CONF
server:
    interface: 127.0.0.1
    port: $UNBOUND_PORT
    outgoing-interface: 127.0.0.1
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$LAB_DIR/run"
    pidfile: "$LAB_DIR/run/unbound.pid"
    logfile: "$LAB_DIR/run/unbound.log"
    use-syslog: no
    verbosity: 1
    do-not-query-localhost: no
    # test. is an RFC 6761 name: without this unbound answers NXDOMAIN itself
    local-zone: "test." nodefault
    trust-anchor-file: "$LAB_DIR/zones/test.ds"
remote-control:
    control-enable: no
CONF
    # one stub per zone cut: all zones live on the same nsd (else referrals go to port 53)
    for z in test dane.test bogus.test insecure.test sts.test; do printf 'stub-zone:\n    name: "%s."\n    stub-addr: 127.0.0.1@%s\n' $z "$NSD_PORT" >> unbound.conf; done
}

launch() { # name command...: start in the background, wait up to 5 s for DNS answers on $PORT
    local name=$1 port=$2; shift 2
    "$@" > "run/$name.out" 2>&1 &
    echo $! > "pids/$name"
    for _ in $(seq 100); do answers "$port" && return 0; kill -0 "$(cat "pids/$name")" 2>/dev/null || break; sleep 0.05; done
    echo "dnssec-lab.sh: $name did not come up:" >&2; cat "run/$name.out" >&2; stop_all; exit 1
}

case "${1:-}" in
start)
    mkdir -p run pids
    make_zones > run/make-zones.log 2>&1 || { cat run/make-zones.log >&2; exit 1; }
    write_configs
    launch nsd "$NSD_PORT" nsd -d -c "$LAB_DIR/nsd.conf"          # nsd first: unbound must find it up
    launch unbound "$UNBOUND_PORT" unbound -d -c "$LAB_DIR/unbound.conf"
    ;;
stop) stop_all ;;
set-sts-id) # DOMAIN ID: the _mta-sts TXT id of DOMAIN (under sts.test), nsd reloaded (SIGHUP)
    sed -i -e "s/^\(_mta-sts\.$2 TXT \"v=STSv1; id=\)[A-Za-z0-9]*;/\1$3;/" \
        -e "s/SOA ns hostmaster \([0-9]*\)/SOA ns hostmaster $(date +%s)/" zones/sts.test.zone.signed
    grep -q "^_mta-sts\.$2 TXT \"v=STSv1; id=$3;\"" zones/sts.test.zone.signed
    kill -HUP "$(cat pids/nsd)" ;;
*) echo "usage: LAB_DIR=… NSD_PORT=… UNBOUND_PORT=… MX_PORT=… CERTS=… $0 start|stop" >&2; exit 2 ;;
esac
