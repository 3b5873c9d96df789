#!/usr/bin/env bash
# Quick start: set everything up, then run the tour (`polars-redis demo`)
# against Redis. With no argument it starts a throw-away local Redis Stack on
# a free port (and stops it afterwards); pass a URL to use your own server
# instead:
#
#   bash scripts/quickstart.sh                       # local Redis Stack
#   bash scripts/quickstart.sh redis://host:6379/0   # your server (writes keys under demo:*, 10-minute TTL)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# shellcheck source=/dev/null
source .redis/env.sh  # tells the demo where Redis Stack is

exec .venv/bin/polars-redis demo "$@"
