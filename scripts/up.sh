#!/usr/bin/env bash
# `npm start`: brings the whole platform up on this machine and prints where to reach it.
# Installs and starts what is missing (Debian packages, Docker engine, Postgres, Redis, node_modules),
# builds, migrates, builds the node image, then (re)starts the API and the worker. Safe to run again.
source "$(dirname "${BASH_SOURCE[0]}")/platform-services.sh"
cd "$REPO_ROOT"

export CERULEAN_DATA_DIR="${CERULEAN_DATA_DIR:-$REPO_ROOT/.data}"
# No password here: the API, the worker and the migration read the generated ones from $CERULEAN_DATA_DIR/secrets.
export CERULEAN_DATABASE_URL="${CERULEAN_DATABASE_URL:-postgres://cerulean@127.0.0.1:$PG_PORT/cerulean}"
export CERULEAN_REDIS_URL="${CERULEAN_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
RUN_DIR="$CERULEAN_DATA_DIR/run"
mkdir -p "$RUN_DIR" "$CERULEAN_DATA_DIR/logs"

ensure_packages
ensure_dockerd
ensure_postgres
ensure_redis
ensure_node_modules
ensure_kubectl
build
say "migrating the database"
node dist/libs/domain/src/cli/migrate.js
build_node_image

stop_process() {
  local pidfile="$RUN_DIR/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
}

start_process() {
  local name="$1" entry="$2" log="$CERULEAN_DATA_DIR/logs/$1.log"
  : >"$log"
  nohup node "$entry" >>"$log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

stop_process api
stop_process worker
say "starting the API and the worker"
start_process worker dist/apps/worker/src/main.js
start_process api dist/apps/api/src/main.js

API_LOG="$CERULEAN_DATA_DIR/logs/api.log"
for _ in $(seq 1 150); do
  grep -q "API listening on" "$API_LOG" 2>/dev/null && break
  if ! kill -0 "$(cat "$RUN_DIR/api.pid")" 2>/dev/null; then
    echo "the API exited; see $API_LOG" >&2
    tail -30 "$API_LOG" >&2
    exit 1
  fi
  sleep 0.2
done
grep -q "worker started" "$CERULEAN_DATA_DIR/logs/worker.log" 2>/dev/null || sleep 2

endpoint=$(sed -n 's/.*API listening on \(https:[^ ]*\).*/\1/p' "$API_LOG" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
ca=$(sed -n 's/.*NODE_EXTRA_CA_CERTS=\([^ ]*\).*/\1/p' "$API_LOG" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
subscription=$(sed -n 's/.*Default subscription: \([0-9a-f-]*\).*/\1/p' "$API_LOG" | tail -1)

cat <<EOT

Cerulean is up.
  ARM endpoint    $endpoint
  dashboard       $endpoint/dashboard   (sign in as a service principal, e.g. the admin principal below)
  subscription    $subscription
  trust the CA    export NODE_EXTRA_CA_CERTS=$ca      (curl: --cacert $ca)
  admin principal $CERULEAN_DATA_DIR/secrets/bootstrap-principal.json (0600)
  logs            $CERULEAN_DATA_DIR/logs/{api,worker}.log
  stop            npm stop

Try:  curl --cacert $ca "$endpoint/<tenant>/oauth2/v2.0/token" -d grant_type=client_credentials -d client_id=<client id> \\
        --data-urlencode client_secret=<secret> --data-urlencode 'scope=https://management.core.windows.net//.default'
      or az (see the README): az cloud register / az login --service-principal -u <client id> -p <secret> --tenant <tenant>
EOT

# The bootstrap admin credential is printed once (again only when the API issued a new one).
cred="$CERULEAN_DATA_DIR/secrets/bootstrap-principal.json"
mark="$CERULEAN_DATA_DIR/secrets/bootstrap-principal.printed"
if [ -s "$cred" ]; then
  sum=$(sha256sum "$cred" | cut -c1-64)
  if [ "$(cat "$mark" 2>/dev/null)" != "$sum" ]; then
    node -e '
      const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log("\nBootstrap admin service principal (Owner at /), shown once; it stays in " + process.argv[1] + ":");
      console.log("  tenant          " + c.tenantId);
      console.log("  client id       " + c.clientId);
      console.log("  client secret   " + c.clientSecret);' "$cred"
    echo "$sum" >"$mark"
    chmod 600 "$mark"
  fi
fi
