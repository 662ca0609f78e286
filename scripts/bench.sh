#!/usr/bin/env bash
# `npm run bench` (full run, a few minutes) and `npm run bench -- --smoke` (one iteration of each scenario).
# Installs and starts what is missing like `npm test` does, builds, then runs the bench, which brings up its own
# private Postgres, Redis, API and worker on loopback and stops all of it at the end.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_packages
ensure_dockerd
ensure_node_modules
build
say "bench $*"
node dist/bench/src/main.js "$@"
