#!/usr/bin/env bash
# The platform's own Postgres cluster (Debian's 15/main) and Redis, started without systemd.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${CERULEAN_PG_PORT:-5432}"
REDIS_PORT="${CERULEAN_REDIS_PORT:-6379}"

ensure_postgres() {
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "15/main"; then
    say "creating the Postgres cluster 15/main"
    as_root pg_createcluster 15 main >/dev/null
  fi
  if ! pg_lsclusters -h | awk '$1=="15" && $2=="main" {print $4}' | grep -qx online; then
    say "starting Postgres"
    as_root pg_ctlcluster 15 main start
  fi
  for _ in $(seq 1 50); do
    su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 0.2
  done
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='cerulean'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE ROLE cerulean LOGIN PASSWORD 'cerulean'\""
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='cerulean'\"" | grep -q 1 ||
    su postgres -c "psql -qc 'CREATE DATABASE cerulean OWNER cerulean'"
}

ensure_redis() {
  if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then return; fi
  say "starting Redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p /var/lib/cerulean-redis
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir /var/lib/cerulean-redis \
    --appendonly yes --logfile "$LOG_DIR/redis.log"
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  echo "Redis did not start; see $LOG_DIR/redis.log" >&2
  return 1
}
