"""``polars-redis stats``: what a keyspace holds. Counts by type and by key
prefix and the TTL distribution are exact (one ``SCAN`` and a pipelined
``TYPE`` + ``PTTL`` per key, via :func:`polars_redis.scan_keys`); memory and
sizes, which cost the server a ``MEMORY USAGE`` and a length command per key,
are measured on a uniform sample and scaled, and the output says so."""

from __future__ import annotations

import argparse
from typing import Any

import polars as pl

import polars_redis as redis

# Upper bounds (seconds) of the TTL buckets, and their names.
_TTL_BUCKETS = [(60, "< 1 min"), (3600, "< 1 h"), (86_400, "< 1 day"), (604_800, "< 7 days")]


def _ttl_bucket() -> pl.Expr:
    ttl = pl.col("_ttl")
    bucket: Any = pl.when(ttl.is_null()).then(pl.lit("no expiry"))
    for limit, name in _TTL_BUCKETS:
        bucket = bucket.when(ttl < limit).then(pl.lit(name))
    return bucket.otherwise(pl.lit(">= 7 days")).alias("ttl")  # type: ignore[no-any-return]


def _prefix(delimiter: str, depth: int) -> pl.Expr:
    parts = pl.col("_key").str.split(delimiter)
    return (
        pl.when(parts.list.len() > depth)
        .then(parts.list.slice(0, depth).list.join(delimiter) + delimiter + "*")
        .otherwise(pl.col("_key"))
        .alias("prefix")
    )


def _show(title: str, df: pl.DataFrame, rows: int) -> None:
    print(f"\n{title}")
    with pl.Config(tbl_rows=rows, tbl_hide_dataframe_shape=True, fmt_str_lengths=60):
        print(df)


def stats(args: argparse.Namespace) -> int:
    keys = redis.scan_keys(args.url, args.pattern, include_ttl=True)
    total = keys.height
    print(f"{total:,} keys match {args.pattern!r} (exact counts: every key's TYPE and PTTL)")
    if total == 0:
        return 0
    share = (pl.col("keys") / total * 100).round(1).alias("%")
    by_type = keys.group_by("type").agg(pl.len().alias("keys")).with_columns(share)
    _show("By type", by_type.sort("keys", descending=True), 20)
    by_prefix = keys.group_by(_prefix(args.delimiter, args.depth)).agg(pl.len().alias("keys"))
    _show(
        f"By prefix (first {args.depth} segment(s) before {args.delimiter!r}; top {args.top})",
        by_prefix.with_columns(share).sort("keys", descending=True).head(args.top),
        args.top,
    )
    ttl = keys.group_by(_ttl_bucket()).agg(pl.len().alias("keys")).with_columns(share)
    _show("TTL", ttl.sort("keys", descending=True), 10)

    sample = keys.sample(min(total, args.sample), seed=0)
    info = redis.key_info(args.url, sample["_key"].to_list())
    measured = info.filter(pl.col("key_type") != "none")
    scale = total / max(sample.height, 1)
    memory = measured.group_by(pl.col("key_type").alias("type")).agg(
        pl.len().alias("sampled"),
        pl.col("memory_usage").mean().round(0).alias("mean bytes"),
        (pl.col("memory_usage").sum() * scale / 2**20).round(1).alias("est. total MiB"),
        pl.col("length").mean().round(1).alias("mean length"),
    )
    _show(
        f"Memory per type (sampled: {sample.height:,} of {total:,} keys, MEMORY USAGE)",
        memory.sort("est. total MiB", descending=True),
        20,
    )
    big = measured.sort("memory_usage", descending=True).head(args.top)
    _show(
        f"Biggest keys of the sample (top {args.top}; keys outside the sample are not seen)",
        big.select("key", pl.col("key_type").alias("type"), "memory_usage", "length"),
        args.top,
    )
    return 0
