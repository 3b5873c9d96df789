#!/usr/bin/env bash
# Idempotent development / CI setup (Debian 12, as root):
#   1. Redis servers under .redis/ (scripts/install-redis.sh)
#   2. .venv with requirements-dev.txt
#   3. the polars-redis package built and installed into .venv (maturin develop --release)
#   4. the redis-harness binary the tests and benchmarks start servers with
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

log() { printf '\n[setup] %s\n' "$*" >&2; }

log "Redis servers"
bash scripts/install-redis.sh

if [[ ! -x .venv/bin/python ]]; then
    log "creating .venv"
    rm -rf .venv
    if ! python3 -m venv .venv; then
        # Debian's own python3 ships venv separately.
        rm -rf .venv
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv
        python3 -m venv .venv
    fi
fi

export VIRTUAL_ENV="$REPO/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# Reinstall the requirements only when requirements-dev.txt changed.
stamp=".venv/.requirements-dev.sha256"
want="$(sha256sum requirements-dev.txt | cut -d' ' -f1)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
    log "installing requirements-dev.txt into .venv"
    .venv/bin/python -m pip install -q -r requirements-dev.txt
    echo "$want" >"$stamp"
else
    log "requirements-dev.txt already installed"
fi

[[ -f pyproject.toml ]] || {
    echo "[setup] error: pyproject.toml not found in $REPO" >&2
    exit 1
}
log "building and installing polars-redis into .venv (maturin develop --release)"
.venv/bin/maturin develop --release

log "building the test harness (redis-harness: starts servers for tests and benchmarks)"
cargo build -q -p redis-test-support --bin redis-harness

log "done"
