"""Reading Redis strings: one row per key, its value as one typed column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_redis import _internal
from polars_redis._collections import make_scanner, read, scan
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType
from polars_redis._options import ReadFrom, ScanOptions
from polars_redis._plugin import BatchStream, bind, iter_batches
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client

if TYPE_CHECKING:
    from typing_extensions import Unpack


class StringScanOptions(ScanOptions, total=False):
    """The keyword options of :func:`read_strings` and :func:`iter_strings`
    (those of :func:`scan_strings`)."""

    value_type: DType
    value_column_name: str


@checked
@with_scan_options
def scan_strings(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    value_type: DType = pl.String,
    value_column_name: str = "value",
    keys: Sequence[str | bytes] | None = None,
    include_key: bool = True,
    key_column_name: str = "_key",
    key_dtype: DType = pl.String,
    include_ttl: bool = False,
    ttl_column_name: str = "_ttl",
    include_row_index: bool = False,
    row_index_column_name: str = "_index",
    batch_size: int = _internal.DEFAULT_BATCH_SIZE,
    count_hint: int | None = None,
    strict: bool = True,
    formats: Mapping[str, str] | None = None,
    parallelism: int = _internal.DEFAULT_PARALLELISM,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    deadline: float | None = None,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = _internal.DEFAULT_RETRIES,
    read_from: ReadFrom = "primary",
    progress: ProgressLike = False,
) -> pl.LazyFrame:
    """Lazily read Redis strings into a LazyFrame, one row per key.

    Keys come from ``SCAN ... MATCH pattern TYPE string`` (keys of other types
    are never fetched), or from an explicit ``keys`` list. Values are fetched
    with one ``MGET`` per batch of keys. Every key appears at most once; a key
    deleted before it is fetched produces no row.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    value_type
        Polars dtype of the value, parsed from its text form like a hash
        field: integers, floats, booleans, dates, datetimes, times, durations,
        decimals, categoricals, enums, strings, or ``pl.Binary`` for the raw bytes.
    value_column_name
        Name of the value column (default ``value``).
    {scan_options}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the value,
        ``_ttl`` (if requested). Filters on the key column (``==``, ``is_in``,
        ``str.starts_with``) become direct lookups or a narrower ``MATCH``;
        ``head`` stops scanning early.

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_strings(url, "visits:*", value_type=pl.Int64)
    >>> lf.filter(pl.col("value") > 10).sort("_key").collect()
    shape: (2, 2)
    ┌──────────┬───────┐
    │ _key     ┆ value │
    │ ---      ┆ ---   │
    │ str      ┆ i64   │
    ╞══════════╪═══════╡
    │ visits:a ┆ 12    │
    │ visits:c ┆ 40    │
    └──────────┴───────┘
    """
    args = locals()
    return scan("strings", _string_scanner(args), args)


@checked
def read_strings(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[StringScanOptions]
) -> pl.DataFrame:
    """Read Redis strings into a DataFrame; ``scan_strings(...).collect()``.

    Takes the same arguments as :func:`scan_strings`.

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.read_strings(url, keys=["greeting", "missing"], value_type=pl.Binary)
    shape: (1, 2)
    ┌──────────┬──────────┐
    │ _key     ┆ value    │
    │ ---      ┆ ---      │
    │ str      ┆ binary   │
    ╞══════════╪══════════╡
    │ greeting ┆ b"hello" │
    └──────────┴──────────┘
    """
    args = bind(scan_strings, url, pattern, **options)
    return read("strings", _string_scanner(args), args)


@checked
def iter_strings(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[StringScanOptions]
) -> BatchStream:
    """Read Redis strings batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_strings` and yields DataFrames of
    at most ``batch_size`` rows. Only a few batches are read ahead of the
    consumer; closing the :class:`BatchStream` (or breaking out of the loop) stops the scan.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> total = 0
    >>> for batch in redis.iter_strings(url, "visits:*", value_type=pl.Int64, batch_size=2):
    ...     total += batch["value"].sum()
    >>> total
    55
    """
    args = bind(scan_strings, url, pattern, **options)
    return iter_batches(*_string_scanner(args), args)


def _string_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    return make_scanner(_internal.string_scanner, args, "value")
