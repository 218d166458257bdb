#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests and benchmarks, on 127.0.0.1 only:
#   tests/peers/pg.sh start   -> prints postgres://sealpost:sealpost@127.0.0.1:PORT/sealpost
#   tests/peers/pg.sh stop
# Data in ${SEALPOST_PG_DIR:-/tmp/sealpost-pg}, port ${SEALPOST_PG_PORT:-55432}. Needs Debian's
# postgresql package (initdb, pg_ctl). As root, the server runs as the `postgres` user, since
# PostgreSQL refuses to run as root. Starting an already running cluster just prints the URL.
set -euo pipefail
dir="${SEALPOST_PG_DIR:-/tmp/sealpost-pg}"
port="${SEALPOST_PG_PORT:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
url="postgres://sealpost:sealpost@127.0.0.1:$port/sealpost?sslmode=disable"

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
start)
    if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then echo "$url"; exit 0; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
        as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    # Durability as in production (fsync on); more connections for several nodes and benches.
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB" start >/dev/null
    psql() { command psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    if [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'sealpost'")" != 1 ]; then
        psql -c "CREATE ROLE sealpost LOGIN CREATEDB PASSWORD 'sealpost'" -c "CREATE DATABASE sealpost OWNER sealpost"
    fi
    # The tests drop their databases WITH (FORCE), which must also end an autovacuum worker that
    # happens to be in one: that takes pg_signal_backend (autovacuum's backends belong to no role).
    psql -c "GRANT pg_signal_backend TO sealpost" >/dev/null
    echo "$url"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
