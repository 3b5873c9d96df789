#!/usr/bin/env bash
# The project's test command. Run from anywhere; works from the repo root.
# Needs scripts/setup.sh to have run (Redis binaries, .venv, built package).
# Runs every step, then exits non-zero if any of them failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f .redis/env.sh ]]; then
    echo "error: .redis/env.sh is missing; run 'bash scripts/setup.sh' (or scripts/install-redis.sh) first" >&2
    exit 1
fi
# shellcheck source=/dev/null
source .redis/env.sh

export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

failed=()
step() {
    local name=$1
    shift
    printf '\n==================== %s ====================\n' "$name"
    printf '$ %s\n' "$*"
    local start=$SECONDS
    if "$@"; then
        printf -- '---- %s: ok (%ss)\n' "$name" "$((SECONDS - start))"
    else
        local rc=$?
        printf -- '---- %s: FAILED (exit %s, %ss)\n' "$name" "$rc" "$((SECONDS - start))"
        failed+=("$name")
    fi
}

py_paths=()
for p in python tests bench scripts; do
    [[ -e $p ]] && py_paths+=("$p")
done

step "cargo fmt" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "cargo test" cargo test --workspace
step "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
step "layers" python3 scripts/check-layers.py
step "ruff check" .venv/bin/ruff check "${py_paths[@]}"
step "ruff format" .venv/bin/ruff format --check "${py_paths[@]}"
step "mypy" .venv/bin/mypy python/polars_redis
# The Python fixtures start servers through the Rust harness's binary.
export POLARS_REDIS_HARNESS="${CARGO_TARGET_DIR:-$PWD/target}/debug/redis-harness"
step "build redis-harness" cargo build -p redis-test-support --bin redis-harness
step "pytest" .venv/bin/python -m pytest tests -q
# The docs site: broken links or a docstring that does not render fail the build.
step "docs site" env NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir target/site

echo
if ((${#failed[@]})); then
    echo "FAILED steps: ${failed[*]}"
    exit 1
fi
echo "all test steps passed"
