#!/usr/bin/env bash
# Set up a fresh machine for cab and run the demo sweep or the test suite. Idempotent.
#
#   deploy/bootstrap.sh demo    venv + Docker engine + images, then `cab run examples/demo.yaml` and
#                               `cab site build demo` (prints where the site is and how to open it)
#   deploy/bootstrap.sh test    the same setup, then the whole test suite (pytest)
#   deploy/bootstrap.sh real-model   the same setup, then the local real model's image
#                               (images/model-gemma3-270m), examples/real-model.yaml (every TUI against
#                               it), its results by TUI and its results site
#   deploy/bootstrap.sh setup   setup only
#
# Environment: CAB_CA_BUNDLE (extra CA bundle for pip/npm/apt inside image builds; defaults to the
# host's bundle when it exists, so builds behind a TLS-intercepting proxy trust what the host trusts),
# CAB_HOME (all local state, default ~/.cab), PYTHON (interpreter, default python3).
set -euo pipefail

mode="${1:-setup}"
shift || true
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- Python environment ----------------------------------------------------------------------
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "cab needs Python >= 3.11 (found $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11"
stamp=".venv/.cab-installed"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing cab into .venv"
  "$python" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi
export PATH="$repo/.venv/bin:$PATH"

# --- Docker engine ---------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! command -v dockerd >/dev/null; then
      say "installing docker.io"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io mmdebstrap >/dev/null
    fi
    if ! pgrep -x dockerd >/dev/null; then
      say "starting dockerd"
      mkdir -p /var/log
      nohup dockerd >/var/log/cab-dockerd.log 2>&1 &
    fi
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not come up; see /var/log/cab-dockerd.log"
  else
    die "no Docker engine reachable: install Docker (or run this script as root on Debian) and retry"
  fi
fi
if [ "$(id -u)" = 0 ] && ! command -v mmdebstrap >/dev/null && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null || true
fi
# docker-registry: a local registry for the CAB_IMAGE_REGISTRY tests (started by the tests, never here)
if [ "$(id -u)" = 0 ] && [ ! -x /usr/bin/docker-registry ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null || true
  # the package's own service would serve :5000 on every interface; the tests run their own
  command -v systemctl >/dev/null && systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

# --- Images ----------------------------------------------------------------------------------
if [ -z "${CAB_CA_BUNDLE:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export CAB_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
fi
say "building images (cached when unchanged)"
cab images build

# --- Results site: the pinned terminal player (npm) and a headless browser for its tests -----
# Debian's chromium: Playwright drives it through executable_path and never downloads a browser.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  site_pkgs=()
  [ -x /usr/bin/chromium ] || site_pkgs+=(chromium fonts-dejavu-core)
  command -v npm >/dev/null || site_pkgs+=(npm)
  if [ "${#site_pkgs[@]}" -gt 0 ]; then
    say "installing ${site_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${site_pkgs[@]}" >/dev/null
  fi
fi
say "fetching the pinned terminal player (cached when present)"
.venv/bin/python -m cab_site.vendor >/dev/null

# --- Services the tests use ------------------------------------------------------------------
start_services() {
  if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 \
     && command -v redis-server >/dev/null; then
    say "starting redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 && command -v pg_ctlcluster >/dev/null; then
    say "starting postgresql"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
}

case "$mode" in
  setup) say "ready: try 'cab doctor'" ;;
  demo)
    say "running the demo sweep"
    cab run examples/demo.yaml "$@" || exit $?
    say "building the results site (leaderboard, cell pages, badges)"
    exec cab site build demo
    ;;
  real-model)
    say "building the local model image (llama-server + Gemma 3 270M; cached when unchanged)"
    cab images build model-gemma3-270m
    say "running every TUI against the real model (examples/real-model.yaml)"
    cab run examples/real-model.yaml "$@" || exit $?
    cab results real-model --by tui
    say "building the results site"
    exec cab site build real-model
    ;;
  test)
    start_services
    # test-only tools: docker-compose (compose.yaml up/down); chromium is installed above for every mode
    missing=()
    command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
    if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing ${missing[*]} for the tests"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    say "running the test suite"
    exec pytest "$@"
    ;;
  *) die "unknown mode '$mode': use demo, test, real-model or setup" ;;
esac
