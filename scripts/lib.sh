#!/usr/bin/env bash
# Shared set-up steps for scripts/up.sh and scripts/test.sh. Every step is idempotent: it checks first,
# then installs or starts only what is missing. Needs root on a Debian machine (apt-get, dockerd).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_DIR="${CERULEAN_LOG_DIR:-/var/log/cerulean}"
mkdir -p "$LOG_DIR"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: Docker engine, Postgres, Redis, busybox and etcd for the node image, iproute2, *.localhost resolution.
ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  # Each cluster's Kubernetes API server stores its objects in etcd (apps/kube-apiserver); NodeImageBuilder copies
  # /usr/bin/etcd into the node image like node and busybox.
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx sh && file -L /bin/busybox 2>/dev/null | grep -q static || missing+=(busybox-static)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  # Every node runs pods through containerd + runc with the CNI plugins, copied from the host into the node image
  # (containerd and runc come with docker.io; the plugins do not).
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || missing+=(containernetworking-plugins)
  # Cluster networks are confined with host-side rules (libs/node-provider NodeNetworkFirewall).
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  # The installation registry (libs/node-provider LocalRegistry) runs Debian's docker-registry (the CNCF distribution),
  # copied into an image built here like the node image.
  [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
  # Cluster API servers are published as https://<name>.hcp.<location>.cerulean.localhost:<port>: myhostname
  # (nss) resolves every *.localhost name to loopback; its package adds itself to /etc/nsswitch.conf.
  getent hosts probe.cerulean.localhost >/dev/null 2>&1 || missing+=(libnss-myhostname)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" cgroupfs-mount file >/dev/null
  fi
  # Only docker-registry's binary is used: the package's own service (every interface, port 5000) must not run on the host.
  if [ -d /run/systemd/system ] && systemctl is-enabled docker-registry >/dev/null 2>&1; then
    as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
}

# Headless Chromium for the dashboard's browser tests (playwright-core drives /usr/bin/chromium; no download).
# A current kubectl (Debian sid's, 1.36; bookworm's own is 1.20) from the shared installer when there is one, else the
# one on PATH: the tests drive it, and runCommand's pod image carries it (KUBECTL names it for the worker).
ensure_kubectl() {
  if [ -z "${KUBECTL:-}" ] && [ -f "$REPO_ROOT/../shared/tools/kubectl/get-kubectl.sh" ]; then
    KUBECTL="$(bash "$REPO_ROOT/../shared/tools/kubectl/get-kubectl.sh" | tail -1)"
    export KUBECTL
  fi
}

ensure_browser() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
  fi
}

# The state letter of a process (R running, S sleeping, Z zombie…), or nothing when there is no such process.
process_state() { sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null || true; }

# A dockerd killed a moment ago lingers as a zombie until it is reaped (a container's PID 1 may never reap it) and
# its pid file stays: a new dockerd then refuses to start ("pid file found"). Wait up to 10 s for it to go; a
# zombie holds no socket or port, so its pid file is then stale and removed. A live daemon's file is left alone.
clear_stale_pidfile() {
  local pidfile="$1" pid state deadline=$((SECONDS + 10))
  [ -s "$pidfile" ] || return 0
  pid="$(tr -dc 0-9 <"$pidfile")"
  while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(process_state "$pid")"
    [ "$state" = Z ] || return 0 # gone (dockerd ignores a dead pid's file) or alive (not ours to touch)
    sleep 0.2
  done
  say "removing $pidfile of zombie dockerd $pid"
  as_root rm -f "$pidfile"
}

# The Docker engine, started by hand (no systemd). --live-restore keeps nodes running across daemon restarts.
# A start right after a crash can fail (the old daemon's pid file, its socket still held): it is tried again, up
# to 5 times, each start given 20 s to answer.
ensure_dockerd() {
  if docker info >/dev/null 2>&1; then return; fi
  if ! mountpoint -q /sys/fs/cgroup 2>/dev/null; then as_root cgroupfs-mount || true; fi
  local pidfile=/var/run/docker.pid attempt pid deadline
  for attempt in 1 2 3 4 5; do
    clear_stale_pidfile "$pidfile"
    say "starting dockerd (attempt $attempt)"
    pid="$(as_root bash -c "nohup dockerd --live-restore >>'$LOG_DIR/dockerd.log' 2>&1 & echo \$!")"
    deadline=$((SECONDS + 20))
    while [ "$SECONDS" -lt "$deadline" ]; do
      docker info >/dev/null 2>&1 && return
      case "$(process_state "$pid")" in '' | Z) break ;; esac # it gave up: start it again
      sleep 0.2
    done
    sleep "$attempt"
  done
  echo "dockerd did not start; see $LOG_DIR/dockerd.log" >&2
  tail -20 "$LOG_DIR/dockerd.log" >&2 || true
  return 1
}

# node_modules, installed from the committed lockfile (npm install, not npm ci: see machine-notes).
ensure_node_modules() {
  cd "$REPO_ROOT"
  # A symlinked node_modules is another checkout's install (a git worktree): npm install would replace the
  # link with a fresh, partial directory. Leave it to its owner.
  if [ -L node_modules ]; then return; fi
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    # From the committed lockfile as it is: --no-save leaves package.json and package-lock.json untouched.
    npm install --no-save --no-audit --no-fund --loglevel=error
  fi
}

# A secret file (0600, folder 0700) holding 32 random bytes as hex, made once; prints its content. The file appears
# whole (a hard link of a finished private file), so concurrent first starts agree on one value, like libs/pki's
# secretFileOnce.
secret_file_once() {
  local path="$1" tmp
  if [ ! -s "$path" ]; then
    mkdir -p "$(dirname "$path")"
    chmod 700 "$(dirname "$path")"
    tmp="$path.$$.tmp"
    (umask 077 && head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$tmp" && echo >>"$tmp")
    ln "$tmp" "$path" 2>/dev/null || true
    rm -f "$tmp"
  fi
  chmod 600 "$path"
  tr -d '\n' <"$path"
}

build() {
  cd "$REPO_ROOT"
  say "building"
  npm run --silent build
}

build_node_image() {
  cd "$REPO_ROOT"
  say "building the node image (no registry needed)"
  node dist/libs/node-provider/src/cli/build-node-image.js
}

# The real Azure CLI for the az end-to-end tests: a Debian sid chroot with azure-cli (test-support/az/make-chroot.sh,
# 4-6 minutes and 2 GB the first time). Built once at CERULEAN_AZ_ROOT and reused while it is complete.
ensure_az_chroot() {
  local root="${CERULEAN_AZ_ROOT:-/tmp/sidroot}"
  if [ -x "$root/usr/bin/az" ] && [ -s "$root/.az-version.json" ]; then return; fi
  say "building the az CLI chroot at $root (once)"
  as_root env AZ_ROOT="$root" bash "$REPO_ROOT/test-support/az/make-chroot.sh" >>"$LOG_DIR/az-chroot.log" 2>&1 || {
    echo "building the az chroot failed; see $LOG_DIR/az-chroot.log" >&2
    tail -20 "$LOG_DIR/az-chroot.log" >&2
    return 1
  }
}
