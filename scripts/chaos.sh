#!/usr/bin/env bash
# `npm run chaos -- --faults=10 --operations=12 --minutes=15 --seed=1 --clusters=2` (issue 18): a private Cerulean
# under injected faults (its own worker/API killed and frozen, its own Postgres/Redis restarted, its own nodes killed;
# never the machine's dockerd), then the invariants. Installs and starts what is missing like `npm test`, builds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_packages
ensure_dockerd
ensure_node_modules
build
say "chaos $*"
node dist/bench/src/chaos.js "$@"
