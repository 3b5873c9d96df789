"""``python -m polars_redis.cli``: the same as the ``polars-redis`` command."""

import sys

from polars_redis.cli import main

if __name__ == "__main__":
    sys.exit(main())
