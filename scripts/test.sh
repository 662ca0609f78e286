#!/usr/bin/env bash
# `npm test`: installs what is missing (Debian packages, the Docker engine, node_modules), builds, and runs
# every test: unit tests, then integration/end-to-end tests against a private Postgres and Redis, the real
# Docker engine and the real node image. Safe on a fresh Debian machine and when run again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_packages
ensure_browser
ensure_dockerd
ensure_node_modules
# Cheap checks first: ESLint and Prettier (`npm run format` rewrites what prettier --check refuses).
say "lint"
npm run --silent lint
build
export CERULEAN_AZ_ROOT="${CERULEAN_AZ_ROOT:-/tmp/sidroot}"
ensure_az_chroot

export CERULEAN_IT_DIR="${CERULEAN_IT_DIR:-/tmp/cerulean-it}"
# The Azure SDKs verify TLS with Node's trust store: the run's CA must be known before jest starts.
mkdir -p "$CERULEAN_IT_DIR/data"
node -e "require('./dist/apps/api/src/common/tls').ensureServerTls(process.argv[1]).catch(e => { console.error(e); process.exit(1); })" "$CERULEAN_IT_DIR/data"
export NODE_EXTRA_CA_CERTS="$CERULEAN_IT_DIR/data/tls/ca.pem"

say "unit tests"
npx jest -c jest.config.js --selectProjects unit --ci
say "Kubernetes API server tests (private etcd, the real kubectl)"
ensure_kubectl
npx jest -c jest.config.js --selectProjects kube --ci --runInBand --forceExit
say "integration and end-to-end tests (real Postgres, Redis, Docker)"
npx jest -c jest.config.js --selectProjects integration --ci --runInBand --forceExit
say "oav traffic check (the real clients' ARM exchanges of the run above against the saved Azure specs)"
# The global setup starts the API with CERULEAN_TRAFFIC_DIR=$CERULEAN_IT_DIR/traffic. Any oav error fails the run;
# the bench smoke and chaos steps still run first, so one run shows everything that is wrong.
oav_failed=0
node dist/bench/src/validate-traffic.js "$CERULEAN_IT_DIR/traffic" || oav_failed=1
say "bench smoke (one iteration of each scenario: checks it runs end to end and writes well-formed JSON)"
CERULEAN_BENCH_DIR="${CERULEAN_IT_DIR}-bench" node dist/bench/src/main.js --smoke --out="$CERULEAN_IT_DIR/bench-smoke.json"
node dist/bench/src/validate.js "$CERULEAN_IT_DIR/bench-smoke.json"
say "chaos (short seeded run: faults on this run's own processes, Postgres, Redis and nodes; then the invariants)"
CERULEAN_CHAOS_DIR="${CERULEAN_IT_DIR}-chaos" node dist/bench/src/chaos.js --faults=20 --operations=10 --minutes=8 --clusters=2 --seed=1
if [ "$oav_failed" = 1 ]; then
  say "FAILED: the oav traffic check found errors (listed under its step above)"
  exit 1
fi
