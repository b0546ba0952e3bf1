#!/usr/bin/env bash
# The one test command: starts what the tests need if it is not already there (reference-tool
# venv, PostgreSQL, RabbitMQ, s3s-fs, Prometheus, ExifTool, Chromium with playwright-core), then runs rustfmt --check, clippy -D warnings and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m== %s\033[0m\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds name
  for _ in $(seq "$2"); do port_open "$1" && return 0; sleep 1; done
  echo "$3 did not come up on 127.0.0.1:$1" >&2; return 1
}

# 1. Reference tools (LibRaw via rawpy, OpenEXR, ascmhl, OpenColorIO, asc-fdl, oiiotool).
VENV="${PLATEFARM_VENV:-$HOME/.cache/platefarm/venv}"
if ! "$VENV/bin/python" -c "import rawpy, OpenEXR, ascmhl, PyOpenColorIO, fdl, numpy, jsonschema, OpenImageIO, schemathesis, kubernetes_validate, yaml" 2>/dev/null; then
  log "creating the reference-tool venv at $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r scripts/requirements-test.txt
fi
export PLATEFARM_PYTHON="$VENV/bin/python"

# 2. PostgreSQL (catalog conformance) and RabbitMQ (queue conformance).
if ! port_open 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port 5432 60 PostgreSQL
fi
if ! port_open 5672; then
  log "starting RabbitMQ"
  rabbitmq-server -detached || true
  wait_port 5672 120 RabbitMQ
fi
# Queue depth with unacknowledged messages comes from the management API; the observability
# test scrapes the broker's own metrics on :15692 (both idempotent).
rabbitmq-plugins enable --quiet rabbitmq_management rabbitmq_prometheus >/dev/null 2>&1 || true

# 2a. Prometheus and promtool (crates/cli/tests/observability.rs runs a real Prometheus).
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  log "installing Prometheus (server and promtool)"
  apt-get install -y -qq prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq prometheus >/dev/null; }
fi
# The Debian package starts a Prometheus service on :9090; the test runs its own.

# 2b. s3s-fs, the S3 server the S3 store tests start (crates/testkit/src/s3.rs). 0.15+ needs a
# newer rustc than ours; fall back to an unlocked install if the lock file no longer resolves.
if ! command -v s3s-fs >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs" ]; then
  log "installing s3s-fs (S3 server for the store tests)"
  cargo install s3s-fs@0.14.1 --features binary --locked || cargo install s3s-fs@0.14.1 --features binary
fi

# 2b'. ExifTool, the oracle of crates/ingest/tests/exiftool.rs.
if ! command -v exiftool >/dev/null; then
  log "installing ExifTool"
  apt-get install -y -qq libimage-exiftool-perl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq libimage-exiftool-perl >/dev/null; }
fi

# 2c. Chromium and playwright-core: crates/cli/tests/web.rs drives the web page in a real browser.
if [ ! -x "${PLATEFARM_CHROMIUM:-/usr/bin/chromium}" ]; then
  log "installing Chromium"
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
NODE_PREFIX="${PLATEFARM_NODE_PREFIX:-$HOME/.cache/platefarm/node}"
if [ ! -d "$NODE_PREFIX/node_modules/playwright-core" ]; then
  log "installing playwright-core into $NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error playwright-core@1 >/dev/null
fi
export PLATEFARM_NODE_PREFIX="$NODE_PREFIX"

# 3. The checks.
log "docker-compose config"
command -v docker-compose >/dev/null || apt-get install -y -qq docker-compose >/dev/null 2>&1 || true
if command -v docker-compose >/dev/null; then
  docker-compose config -q
else
  echo "docker-compose unavailable: compose file not validated" >&2
fi

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo deny check licenses bans sources"
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked
cargo deny check licenses bans sources 2>&1 | tail -1
log "cargo test"
cargo test --workspace --locked
log "all checks passed"
