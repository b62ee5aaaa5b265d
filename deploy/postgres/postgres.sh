#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the hub: Debian's server, `initdb` in a run folder, one
# port on 127.0.0.1, a `hub` role and database.
#
#   deploy/postgres/postgres.sh start    # make and start the cluster; prints its settings
#   deploy/postgres/postgres.sh stop     # stop it (the folder stays until the next start)
#   deploy/postgres/postgres.sh status   # exit 1 unless it answers
#
# The settings use eventsourcing's own names, written to `<run>/env` for `source`:
#   POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DBNAME.
# Environment: HUB_POSTGRES_RUN, the run folder (default /tmp/hub-postgres). As root, the
# server runs as the `postgres` user (initdb refuses root). Needs Debian's `postgresql` package;
# `start` installs it where it is absent and we are root.
set -euo pipefail

run="${HUB_POSTGRES_RUN:-/tmp/hub-postgres}"
say() { printf 'postgres.sh: %s\n' "$*" >&2; }

server_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true; }
bin="$(server_bin)"
if { [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; } && [ "${1:-}" = start ]; then
  # A fresh machine has the client only: install Debian's server where we may.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's postgresql (once) ..."
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    bin="$(server_bin)"
  fi
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  say "no PostgreSQL server here: apt-get update && apt-get install -y postgresql"; exit 2
fi

as_owner() {  # run a server command as the folder's owner (postgres when we are root)
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ -f "$run/env" ] && status >/dev/null 2>&1; then say "already running"; cat "$run/env"; return 0; fi
  rm -rf "$run"; mkdir -p "$run"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$run"
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  printf 'hub\n' > "$run/password"; [ "$(id -u)" = 0 ] && chown postgres "$run/password"
  as_owner "$bin/initdb" -D "$run/data" -U hub --pwfile="$run/password" -A scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 > "$run/initdb.out" 2>&1 \
    || { say "initdb failed:"; cat "$run/initdb.out" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$run/data" -l "$run/server.log" -w -t 60 \
    -o "-p $port -k $run -c listen_addresses=127.0.0.1 -c fsync=on" start > /dev/null \
    || { say "the server did not start:"; tail -n 20 "$run/server.log" >&2; exit 1; }
  PGPASSWORD=hub "$bin/psql" -h 127.0.0.1 -p "$port" -U hub -d postgres -qAt \
    -c "create database hub" > /dev/null
  cat > "$run/env" <<ENV
POSTGRES_HOST=127.0.0.1
POSTGRES_PORT=$port
POSTGRES_USER=hub
POSTGRES_PASSWORD=hub
POSTGRES_DBNAME=hub
ENV
  say "started on 127.0.0.1:$port (settings in $run/env)"
  cat "$run/env"
}

stop() {
  if [ ! -d "$run/data" ]; then say "nothing to stop in $run"; return 0; fi
  as_owner "$bin/pg_ctl" -D "$run/data" -m fast -w stop > /dev/null 2>&1 || true
  say "stopped"
}

status() {
  [ -f "$run/data/postmaster.pid" ] || { say "not running"; return 1; }
  as_owner "$bin/pg_ctl" -D "$run/data" status > /dev/null && cat "$run/env"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
