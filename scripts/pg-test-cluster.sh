#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: a temp data dir, loopback only, no durability (fsync off), dropped on stop.
#   scripts/pg-test-cluster.sh start            → prints "PG_TEST_DIR=<dir>" and "PG_TEST_URL=postgres://…" (eval-able)
#   scripts/pg-test-cluster.sh restart <dir> [fast|immediate]
#                                               → stop and start again (same port, same data); immediate kills every
#                                                 backend at once, so none can commit while the others die
#   scripts/pg-test-cluster.sh stop <dir>       → fast stop and remove the data dir
# PG_BIN: the bin directory (default: the newest /usr/lib/postgresql/*/bin, Debian's layout); PG_PORT: default 54329.
# Run by root it runs the server as nobody (postgres refuses to run as root).
set -euo pipefail
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ -z "$BIN" ] || [ ! -x "$BIN/pg_ctl" ]; then
  echo "pg-test-cluster: no PostgreSQL binaries (apt-get install -y postgresql, or set PG_BIN)" >&2
  exit 2
fi
AS=()
if [ "$(id -u)" = 0 ]; then AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); fi

case "${1:-}" in
  start)
    PORT=${PG_PORT:-54329}
    D=$(mktemp -d "${TMPDIR:-/tmp}/pg-test.XXXXXX")
    if [ "$(id -u)" = 0 ]; then chown nobody:nogroup "$D"; fi
    "${AS[@]}" "$BIN/initdb" -D "$D/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
    "${AS[@]}" "$BIN/pg_ctl" -D "$D/data" -l "$D/pg.log" -w -s -o "-c listen_addresses=127.0.0.1 -p $PORT -k $D -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start
    "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'CREATE DATABASE app' >/dev/null
    echo "PG_TEST_DIR=$D"
    echo "PG_TEST_URL=postgres://postgres@127.0.0.1:$PORT/app"
    ;;
  restart)
    D=${2:?usage: $0 restart <dir> [fast|immediate]}
    MODE=${3:-fast}
    case "$MODE" in fast|immediate) ;; *) echo "pg-test-cluster: restart mode is fast or immediate" >&2; exit 64 ;; esac
    "${AS[@]}" "$BIN/pg_ctl" -D "$D/data" -l "$D/pg.log" -w -s -m "$MODE" restart
    ;;
  stop)
    D=${2:?usage: $0 stop <dir>}
    "${AS[@]}" "$BIN/pg_ctl" -D "$D/data" -w -s -m fast stop || true
    rm -rf "$D"
    ;;
  *)
    echo "usage: $0 start | restart <dir> [fast|immediate] | stop <dir>" >&2
    exit 64
    ;;
esac
