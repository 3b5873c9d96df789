#!/usr/bin/env bash
# Quick start: set everything up, then run examples/quickstart.py against
# Redis. With no argument it starts a throw-away local Redis Stack on a free
# port (and stops it afterwards); pass a URL to use your own server instead:
#
#   bash scripts/quickstart.sh                       # local Redis Stack
#   bash scripts/quickstart.sh redis://host:6379/0   # your server (writes keys under demo:*)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# shellcheck source=/dev/null
source .redis/env.sh

url="${1:-}"
if [[ -z $url ]]; then
    dir="$(mktemp -d)"
    port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    modules=()
    IFS=: read -r -a module_paths <<<"$POLARS_REDIS_STACK_MODULES"
    for module in "${module_paths[@]}"; do
        modules+=(--loadmodule "$module")
    done
    LD_LIBRARY_PATH="$POLARS_REDIS_STACK_LD_LIBRARY_PATH" "$POLARS_REDIS_STACK_SERVER" \
        --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" --appendonly no \
        --logfile "$dir/redis.log" --daemonize yes --pidfile "$dir/redis.pid" "${modules[@]}"
    trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -rf "$dir"' EXIT
    url="redis://127.0.0.1:$port"
    for _ in $(seq 100); do
        "$POLARS_REDIS_CLI" -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "[quickstart] started a local Redis Stack at $url"
fi

.venv/bin/python examples/quickstart.py "$url"
