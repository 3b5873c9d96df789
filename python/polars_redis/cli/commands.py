"""The everyday jobs of the command line: infer a schema, export a keyspace
to a file, import a file, and run SQL over scans. Each returns the process
exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

import polars_redis as redis
from polars_redis._progress import Progress, renderer
from polars_redis.cli.formats import file_format, parse_schema
from polars_redis.cli.urls import UsageError

# The scan of each type; the first three take a schema (None infers it).
SCANS: dict[str, Callable[..., pl.LazyFrame]] = {
    "hashes": redis.scan_hashes,
    "json": redis.scan_json,
    "streams": redis.scan_streams,
    "strings": redis.scan_strings,
    "sets": redis.scan_sets,
    "lists": redis.scan_lists,
    "zsets": redis.scan_zsets,
    "timeseries": redis.scan_timeseries,
}
WITH_SCHEMA = ("hashes", "json", "streams")
WRITES: dict[str, Callable[..., redis.WriteResult]] = {
    "hashes": redis.write_hashes,
    "json": redis.write_json,
    "streams": redis.write_streams,
    "strings": redis.write_strings,
    "sets": redis.write_sets,
    "lists": redis.write_lists,
    "zsets": redis.write_zsets,
    "timeseries": redis.write_timeseries,
}
INFERS = {
    "hashes": redis.infer_hash_schema,
    "json": redis.infer_json_schema,
    "streams": redis.infer_stream_schema,
}


def scan(
    kind: str, url: str, pattern: str, schema_text: str | None, progress: Any = False
) -> pl.LazyFrame:
    """The scan of ``kind`` over ``pattern``; hashes, JSON and streams infer
    their schema unless one is given."""
    schema = parse_schema(schema_text)
    if kind in WITH_SCHEMA:
        return SCANS[kind](url, pattern, schema, progress=progress)
    if schema is not None:
        raise UsageError(f"--schema applies to {', '.join(WITH_SCHEMA)}, not {kind}")
    return SCANS[kind](url, pattern, progress=progress)


def infer(args: argparse.Namespace) -> int:
    inferred = INFERS[args.type](args.url, args.pattern, sample_size=args.sample_size)
    print(f"{args.type} {args.pattern!r}: {inferred.sample_count} keys sampled")
    with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=80):
        print(inferred.describe())
    return 0


class _Counter:
    """Keeps the last progress report, and draws it when asked to (with
    ``total`` when the call itself does not know it)."""

    def __init__(self, draw: bool, total: int | None = None) -> None:
        self.rows = 0
        self._total = total
        self._bar = renderer() if draw else None

    def __call__(self, p: Progress) -> None:
        self.rows = p.rows
        if self._bar is not None:
            self._bar(p if p.total is not None else replace(p, total=self._total))


def _cheap_height(path: str, lf: pl.LazyFrame) -> int | None:
    """The rows of a Parquet or Arrow file, from its metadata; None for
    the text formats (counting them would read the whole file)."""
    if Path(path).suffix.lower() not in (".parquet", ".arrow", ".ipc", ".feather"):
        return None
    return int(lf.select(pl.len()).collect().item())


def export(args: argparse.Namespace) -> int:
    _, sink = file_format(args.out)
    counter = _Counter(draw=not args.no_progress)
    lf = scan(args.type, args.url, args.pattern, args.schema, progress=counter)
    if args.filter:
        try:
            lf = lf.filter(pl.sql_expr(args.filter))
        except pl.exceptions.PolarsError as exc:
            raise UsageError(f"--filter: not a SQL expression Polars can read: {exc}") from None
    getattr(lf, sink)(args.out)
    print(f"read {counter.rows:,} rows from {args.type} {args.pattern!r}, wrote {args.out}")
    return 0


def import_file(args: argparse.Namespace) -> int:
    read, _ = file_format(args.file)
    options: dict[str, Any] = {"if_exists": args.if_exists, "raise_on_error": False}
    if args.key_column is not None:
        options["key_column"] = args.key_column
    if args.key_prefix:
        options["key_prefix"] = args.key_prefix
    if args.ttl is not None:
        options["ttl"] = args.ttl
    lf = read(args.file)
    options["progress"] = _Counter(draw=not args.no_progress, total=_cheap_height(args.file, lf))
    result = WRITES[args.type](lf, args.url, **options)
    print(result)
    return 0 if result.ok else 1


def _table(spec: str) -> tuple[str, str, str]:
    name, sep, source = spec.partition("=")
    kind, sep2, pattern = source.partition(":")
    if not (sep and sep2 and name and pattern):
        raise UsageError(f"--table: expected NAME=TYPE:PATTERN (users=hashes:user:*), got {spec!r}")
    if kind not in SCANS:
        raise UsageError(f"--table {spec!r}: unknown type {kind!r}; one of {', '.join(SCANS)}")
    return name, kind, pattern


def sql(args: argparse.Namespace) -> int:
    if not args.table:
        raise UsageError("sql: name the scans the query reads with --table NAME=TYPE:PATTERN")
    tables = {
        name: scan(kind, args.url, pattern, None)
        for name, kind, pattern in (_table(spec) for spec in args.table)
    }
    result = pl.SQLContext(tables).execute(args.query)
    if args.out:
        _, sink = file_format(args.out)
        getattr(result, sink)(args.out)
        print(f"wrote {args.out}")
        return 0
    with pl.Config(tbl_rows=args.max_rows, tbl_hide_dataframe_shape=False):
        print(result.collect())
    return 0


def fail(command: str, message: str) -> int:
    print(f"polars-redis {command}: {message}", file=sys.stderr)
    return 2
