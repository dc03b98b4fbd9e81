#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests (CI runs the warehouse suites against it too).
#
#   scripts/pg.sh start DIR PORT   install PostgreSQL (Debian package) when missing, create a cluster in DIR,
#                                  start it on 127.0.0.1:PORT (socket in DIR), print its admin URL
#   scripts/pg.sh stop DIR         stop that server and delete DIR
#
# The cluster trusts every connection, so it listens on 127.0.0.1 only and accepts nothing else; its user is
# `monitor` (a superuser). Durability is switched off (fsync=off): the data lives as long as one test run.
# DIR must not exist yet, or be empty; as root, its parent directories must be searchable by user postgres
# (initdb refuses to run as root, so the server runs as postgres).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# The newest installed server's binaries (the Debian package puts them in /usr/lib/postgresql/<major>/bin).
pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

# Run a server binary as the cluster's owner: user postgres when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_postgres() {
  echo "[pg] apt-get install postgresql" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

start() {
  local dir=$1 port=$2
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "[pg] $dir is not empty" >&2
    exit 1
  fi
  local bin
  bin=$(pg_bin) || { install_postgres; bin=$(pg_bin); }
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "[pg] something already listens on 127.0.0.1:$port" >&2
    exit 1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  chmod 0700 "$dir"
  touch "$dir/.pg.sh"  # what `stop` checks before deleting the directory
  (
    cd "$dir"  # the owner may not be allowed into the caller's working directory
    as_owner "$bin/initdb" -D "$dir/data" -U monitor -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
  )
  cat >"$dir/data/pg_hba.conf" <<'EOF'
# scripts/pg.sh: a throw-away test server; trust, on the unix socket and 127.0.0.1 only
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/data/pg_hba.conf"
  # pg_ctl -w returns once the server accepts connections (or has failed: then its log says why)
  if ! (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off" start >/dev/null) \
    || ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U monitor; then
    echo "[pg] the server did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
  echo "postgresql://monitor@127.0.0.1:$port/postgres"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ ! -e "$dir/.pg.sh" ]; then
    echo "[pg] $dir was not made by $0 start: not touching it" >&2
    exit 1
  fi
  local bin
  if [ -f "$dir/data/postmaster.pid" ] && bin=$(pg_bin); then
    (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null) || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
