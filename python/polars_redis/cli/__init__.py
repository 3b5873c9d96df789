"""The ``polars-redis`` command line: what is in a keyspace (``stats``,
``infer``), moving data between Redis and files (``export``, ``import``),
Polars SQL over Redis scans (``sql``), and a ``demo``.

Passwords come from ``REDIS_URL`` or ``--password-file``, never from the
command line, and are never printed. Exit status: 0 on success, 1 when an
import left keys failed or unknown, 2 on an error (printed on stderr).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from polars_redis.cli import commands
from polars_redis.cli.demo import tour
from polars_redis.cli.server import local_server
from polars_redis.cli.stats import stats
from polars_redis.cli.urls import UsageError, looks_like_url, server_url
from polars_redis.exceptions import PolarsRedisError

__all__ = ["main"]

_URL_HELP = "redis://[[user]@]host[:port][/db] (default: $REDIS_URL)"


def _demo(args: argparse.Namespace) -> int:
    if args.url is not None:
        tour(args.url, search=True)
        return 0
    with local_server() as (url, modules):
        print(f"[demo] started a throw-away local Redis at {url}")
        tour(url, search=modules)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polars-redis", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--password-file", metavar="FILE", help="read the password from the first line of FILE"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    stats_ = sub.add_parser("stats", help="what a keyspace holds: types, prefixes, TTLs, memory")
    stats_.add_argument("url", nargs="?", help=_URL_HELP)
    stats_.add_argument("pattern", nargs="?", default="*", help="key pattern (default '*')")
    stats_.add_argument("--delimiter", default=":", help="separates key segments (default ':')")
    stats_.add_argument("--depth", type=int, default=1, help="segments in a prefix (default 1)")
    stats_.add_argument("--sample", type=int, default=2000, help="keys measured (default 2000)")
    stats_.add_argument("--top", type=int, default=10, help="prefixes and big keys shown")
    stats_.set_defaults(run=stats)

    infer = sub.add_parser("infer", help="the inferred schema of a pattern, field by field")
    infer.add_argument("url", nargs="?", help=_URL_HELP)
    infer.add_argument("pattern", help="key pattern, e.g. 'user:*'")
    infer.add_argument("--type", choices=list(commands.INFERS), default="hashes")
    infer.add_argument("--sample-size", type=int, default=1000, help="keys sampled (default 1000)")
    infer.set_defaults(run=commands.infer)

    export = sub.add_parser("export", help="stream a keyspace into a Parquet/CSV/NDJSON/Arrow file")
    export.add_argument("url", nargs="?", help=_URL_HELP)
    export.add_argument("pattern", help="key pattern, e.g. 'user:*'")
    export.add_argument("out", help="OUT.parquet, .csv, .ndjson or .arrow")
    export.add_argument("--type", choices=list(commands.SCANS), default="hashes")
    export.add_argument("--schema", help="name:dtype,... or @schema.json (default: inferred)")
    export.add_argument("--filter", help="a SQL condition, e.g. \"age > 30 AND city = 'ams'\"")
    export.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    export.set_defaults(run=commands.export)

    load = sub.add_parser("import", help="write a Parquet/CSV/NDJSON/Arrow file into Redis")
    load.add_argument("file", help="IN.parquet, .csv, .ndjson or .arrow")
    load.add_argument("url", nargs="?", help=_URL_HELP)
    load.add_argument("--type", choices=list(commands.WRITES), default="hashes")
    load.add_argument("--key-column", help="the column of keys (default: _key)")
    load.add_argument("--key-prefix", default="", help="prepended to every key")
    load.add_argument("--ttl", type=int, help="seconds until every written key expires")
    load.add_argument(
        "--if-exists", choices=["fail", "skip", "replace", "append"], default="replace"
    )
    load.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    load.set_defaults(run=commands.import_file)

    sql = sub.add_parser("sql", help="Polars SQL over Redis scans")
    sql.add_argument("url", nargs="?", help=_URL_HELP)
    sql.add_argument("query", help="SELECT ... FROM users ...")
    sql.add_argument(
        "--table", action="append", metavar="NAME=TYPE:PATTERN", help="e.g. users=hashes:user:*"
    )
    sql.add_argument("--out", help="write the result to a file instead of printing it")
    sql.add_argument("--max-rows", type=int, default=20, help="rows printed (default 20)")
    sql.set_defaults(run=commands.sql)

    demo = sub.add_parser("demo", help="start a throw-away local Redis and run the tour")
    demo.add_argument("url", nargs="?", help="run the tour against this server instead")
    demo.set_defaults(run=_demo)
    return parser


def _resolve_url(args: argparse.Namespace) -> None:
    """Fill ``args.url`` from REDIS_URL when it was left out, and put in the
    password of ``--password-file``. ``demo`` without a URL starts its own server."""
    if args.command == "demo" and args.url is None:
        if args.password_file is not None:
            raise UsageError("--password-file needs a URL")
        return
    if args.command == "stats" and args.url and not looks_like_url(args.url):
        args.url, args.pattern = None, args.url  # `stats PATTERN` with REDIS_URL
    if args.url is not None and not looks_like_url(args.url):
        raise UsageError(
            f"{args.url!r} is not a URL: redis://host:6379, rediss://... or unix://..."
        )
    args.url = server_url(args.url, args.password_file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _resolve_url(args)
        return int(args.run(args))
    except UsageError as exc:
        return commands.fail(args.command, str(exc))
    except PolarsRedisError as exc:
        return commands.fail(args.command, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        return 130
