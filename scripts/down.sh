#!/usr/bin/env bash
# `npm stop`: stops the API and the worker started by `npm start`. Nodes keep running (they are
# reconciled when the worker comes back); Postgres, Redis and dockerd are left as they are.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${CERULEAN_DATA_DIR:-$REPO_ROOT/.data}/run"
for name in api worker; do
  if [ -f "$RUN_DIR/$name.pid" ]; then
    kill "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null && echo "stopped $name" || true
    rm -f "$RUN_DIR/$name.pid"
  fi
done
