#!/usr/bin/env bash
# The platform's own Postgres cluster (Debian's 15/main) and Redis, started without systemd, each with a password
# generated at first start and kept under the data folder's secrets/ (0600): any local user could otherwise write
# itself an Owner role assignment. Idempotent; an install from before (well-known password, Redis without one) is
# moved to the generated credentials.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_CLUSTER="${CERULEAN_PG_CLUSTER:-15/main}"
PG_PORT="${CERULEAN_PG_PORT:-5432}"
REDIS_PORT="${CERULEAN_REDIS_PORT:-6379}"
REDIS_DIR="${CERULEAN_REDIS_DIR:-/var/lib/cerulean-redis}"
secrets_dir() { echo "${CERULEAN_DATA_DIR:-$REPO_ROOT/.data}/secrets"; }

pg_psql() { su postgres -c "psql --cluster '$PG_CLUSTER' -v ON_ERROR_STOP=1 -qtA $*"; }

# pg_hba: peer on the socket, SCRAM passwords over TCP. A file with any weaker method (trust, password, md5, ident)
# is replaced by this one (the original kept once as pg_hba.conf.cerulean-orig).
PG_HBA_MANAGED='# Managed by Cerulean (scripts/platform-services.sh): peer on the local socket, SCRAM passwords over TCP.
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     peer
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256'

ensure_pg_hba() {
  local hba="/etc/postgresql/$PG_CLUSTER/pg_hba.conf"
  if awk '!/^[[:space:]]*(#|$)/ { m = ($1 == "local") ? $4 : $5; if (m != "peer" && m != "scram-sha-256" && m != "reject") bad = 1 } END { exit !bad }' "$hba"; then
    say "pg_hba.conf of $PG_CLUSTER allows weak authentication: replacing it (SCRAM over TCP, peer on the socket)"
    [ -e "$hba.cerulean-orig" ] || cp -p "$hba" "$hba.cerulean-orig"
    printf '%s\n' "$PG_HBA_MANAGED" >"$hba"
    chown postgres:postgres "$hba"
    chmod 640 "$hba"
    return 0
  fi
  return 1
}

ensure_postgres() {
  local version="${PG_CLUSTER%%/*}" name="${PG_CLUSTER#*/}" password hba_changed=0
  password="$(secret_file_once "$(secrets_dir)/postgres.password")"
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "$PG_CLUSTER"; then
    say "creating the Postgres cluster $PG_CLUSTER"
    as_root pg_createcluster "$version" "$name" -p "$PG_PORT" >/dev/null
  fi
  ensure_pg_hba && hba_changed=1
  if ! pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1==v && $2==n {print $4}' | grep -qx online; then
    say "starting Postgres $PG_CLUSTER"
    as_root pg_ctlcluster "$version" "$name" start
  elif [ "$hba_changed" = 1 ]; then
    as_root pg_ctlcluster "$version" "$name" reload
  fi
  for _ in $(seq 1 50); do
    pg_psql "-c 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # On stdin, not the command line: every local user can read command lines. Set on every run: this is also how an
  # install from before (password 'cerulean') moves to the generated one. SCRAM is Postgres 15's default encryption.
  pg_psql "-c \"SELECT 1 FROM pg_roles WHERE rolname='cerulean'\"" | grep -q 1 || pg_psql "-c 'CREATE ROLE cerulean LOGIN'"
  printf "SET password_encryption = 'scram-sha-256';\nALTER ROLE cerulean LOGIN PASSWORD '%s';\n" "$password" | pg_psql >/dev/null
  pg_psql "-c \"SELECT 1 FROM pg_database WHERE datname='cerulean'\"" | grep -q 1 || pg_psql "-c 'CREATE DATABASE cerulean OWNER cerulean'"
}

# redis-cli with the password from the environment (REDISCLI_AUTH), never on its command line.
redis_as_platform() { REDISCLI_AUTH="$1" redis-cli -p "$REDIS_PORT" "${@:2}"; }

ensure_redis() {
  local password conf="$REDIS_DIR/redis.conf"
  password="$(secret_file_once "$(secrets_dir)/redis.password")"
  mkdir -p "$REDIS_DIR"
  chmod 700 "$REDIS_DIR"
  # The configuration holds the password, so it goes in a private file rather than on redis-server's command line.
  (umask 077 && cat >"$conf" <<EOT
# Written by Cerulean (scripts/platform-services.sh) on every start.
port $REDIS_PORT
bind 127.0.0.1
protected-mode yes
requirepass $password
daemonize yes
dir $REDIS_DIR
pidfile $REDIS_DIR/redis.pid
appendonly yes
logfile $LOG_DIR/redis.log
EOT
  )
  # Unauthenticated first: a server without a password answers an AUTH with an error and then every command.
  if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    # A Redis started before passwords: it keeps its data and requires the password from now on.
    say "Redis on 127.0.0.1:$REDIS_PORT has no password: setting the generated one"
    printf '%s' "$password" | redis-cli -p "$REDIS_PORT" -x config set requirepass >/dev/null
  fi
  if redis_as_platform "$password" ping 2>/dev/null | grep -q PONG; then return; fi
  if redis-cli -p "$REDIS_PORT" ping 2>&1 | grep -qE 'NOAUTH|WRONGPASS'; then
    echo "A Redis on 127.0.0.1:$REDIS_PORT requires a password other than $(secrets_dir)/redis.password; stop it or set CERULEAN_REDIS_PORT" >&2
    return 1
  fi
  say "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server "$conf"
  for _ in $(seq 1 50); do
    redis_as_platform "$password" ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  echo "Redis did not start; see $LOG_DIR/redis.log" >&2
  return 1
}
