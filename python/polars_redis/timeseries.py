"""Reading RedisTimeSeries keys: one row per sample (or aggregation bucket)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType
from polars_redis._options import ReadFrom, ScanOptions
from polars_redis._plugin import (
    BatchStream,
    bind,
    collect,
    iter_batches,
    lazy_scan,
    output_schema,
    scan_args,
    selection,
)
from polars_redis._progress import ProgressLike
from polars_redis._time import TimeLike, epoch_ms
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError

Aggregation = Literal[
    "avg",
    "sum",
    "min",
    "max",
    "count",
    "first",
    "last",
    "range",
    "std.p",
    "std.s",
    "var.p",
    "var.s",
    "twa",
]

if TYPE_CHECKING:
    from typing_extensions import Unpack

TimestampLike = Union[Literal["-", "+"], TimeLike]


class TimeSeriesScanOptions(ScanOptions, total=False):
    """The keyword options of :func:`read_timeseries` and :func:`iter_timeseries`
    (those of :func:`scan_timeseries`)."""

    filter: str | Sequence[str] | None
    start: TimestampLike
    end: TimestampLike
    aggregation: Aggregation | None
    bucket_size_ms: int | None
    include_labels: Literal[False] | str | Sequence[str]
    value_column_name: str
    timestamp_column_name: str


@checked
@with_scan_options
def scan_timeseries(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    keys: Sequence[str | bytes] | None = None,
    filter: str | Sequence[str] | None = None,
    start: TimestampLike = "-",
    end: TimestampLike = "+",
    aggregation: Aggregation | None = None,
    bucket_size_ms: int | None = None,
    include_labels: Literal[False] | str | Sequence[str] = False,
    value_column_name: str = "value",
    timestamp_column_name: str = "_ts",
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
    """Lazily read RedisTimeSeries series into a LazyFrame, one row per sample.

    Series are selected by one of: a key ``pattern`` (``SCAN ... TYPE
    TSDB-TYPE``, so keys of other types are never fetched), an explicit
    ``keys`` list, or a label ``filter`` (``TS.QUERYINDEX``); with none of
    them, every series is read. Samples are read with ``TS.RANGE ... COUNT n``
    in pages of ``batch_size`` samples, so a long series is never read in one
    reply. Rows come series by series, each in timestamp order. Needs the
    RedisTimeSeries module: a server without it raises
    :class:`UnsupportedError` (not an empty frame).

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read.
    keys
        Read exactly these keys. Missing keys give no row; a key of another
        type raises :class:`WrongTypeError`.
    filter
        Label expressions as ``TS.QUERYINDEX`` takes them, all of which a
        series must match: ``"sensor=temp"``, ``"room=(a,b)"``,
        ``"room!=c"``, ``"owner="`` (label absent), ... At least one must be
        an ``=`` matcher. A single string is one expression.
    start, end
        Read samples with ``start <= timestamp <= end``: milliseconds since
        the epoch, a ``datetime`` (naive means UTC), or ``"-"`` / ``"+"`` for
        no limit.
    aggregation
        Aggregate server-side per bucket: ``avg``, ``sum``, ``min``, ``max``,
        ``count``, ``first``, ``last``, ``range``, ``std.p``, ``std.s``,
        ``var.p``, ``var.s`` or ``twa``. One row per non-empty bucket, stamped
        with the bucket's start; buckets are aligned to the epoch.
    bucket_size_ms
        Bucket width in milliseconds, at least 1; required with ``aggregation``.
    include_labels
        Label names to add as String columns (null where a series lacks the
        label), after the value column.
    value_column_name
        Name of the Float64 value column.
    timestamp_column_name
        Name of the ``Datetime("ms")`` timestamp column. Filters on it
        (``>``, ``>=``, ``<``, ``<=``, ``==``, ``is_between``) narrow the
        ``TS.RANGE`` bounds (to whole buckets when aggregating; not with ``twa``,
        whose edge buckets depend on the samples around them).
    include_key, key_column_name, key_dtype
        Add the key as a column (default ``_key``): ``pl.String`` (default; a
        key that is not UTF-8 raises :class:`ParseError`, or is null when not
        ``strict``) or ``pl.Binary`` (the raw bytes of every key).
    include_ttl, ttl_column_name
        Add the seconds left before the key expires as Int64 (default
        ``_ttl``); null when it never expires.
    include_row_index, row_index_column_name
        Add a UInt32 row number starting at 0 (default ``_index``), first column.
        Filters are then not pushed down (every row is numbered).
    batch_size
        Keys per pipeline, and samples per page and per batch ({batch_size_bounds}).
    count_hint
        ``COUNT`` hint for ``SCAN`` (default: ``batch_size``, at least 100;
        {count_hint_bounds}).
    strict
        If True, a label value that is not valid UTF-8 raises
        :class:`ParseError` naming the key and label; if False it becomes null.
    formats
        Accepted for symmetry with the other scans; a time series has no
        column stored as text in a temporal form (its timestamps are
        milliseconds), so any column named here is refused.
    parallelism
        Pipelines in flight, each on its own connection ({parallelism_bounds}).
    connect_timeout, command_timeout
        Seconds allowed to connect (default 10) and to wait for one reply (default 60).
    deadline
        Seconds allowed for the whole scan; exceeded raises :class:`RedisTimeoutError`.
    rate_limit, latency_budget_ms
        {load_budget}
    retries
        {retries}
    read_from
        {read_from}
    {progress_option}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), ``_ts``,
        ``value``, the labels in the order given, ``_ttl`` (if requested).
        ``head(n)`` stops after ``n`` samples.

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_timeseries(
    ...     url,
    ...     filter=["sensor=temp"],
    ...     aggregation="avg",
    ...     bucket_size_ms=3_600_000,
    ...     include_labels=["room"],
    ... )
    >>> lf.group_by("room").agg(pl.col("value").max()).sort("room").collect()
    shape: (2, 2)
    ┌─────────┬───────┐
    │ room    ┆ value │
    │ ---     ┆ ---   │
    │ str     ┆ f64   │
    ╞═════════╪═══════╡
    │ kitchen ┆ 23.5  │
    │ office  ┆ 21.0  │
    └─────────┴───────┘
    """
    scanner, polars_schema = _timeseries_scanner(locals())
    if filter is not None:
        what = f"filter {filter!r}"
    else:
        what = selection({"keys": keys, "pattern": pattern})
    return lazy_scan(scanner, polars_schema, f"timeseries {what}", url, progress)


@checked
def read_timeseries(
    url: str | Client,
    pattern: str | bytes | None = None,
    **options: Unpack[TimeSeriesScanOptions],
) -> pl.DataFrame:
    """Read RedisTimeSeries series into a DataFrame; ``scan_timeseries(...).collect()``.

    Takes the same arguments as :func:`scan_timeseries`.

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.read_timeseries(url, keys=["temp:kitchen"], start=0, end=1000)
    shape: (2, 3)
    ┌──────────────┬─────────────────────────┬───────┐
    │ _key         ┆ _ts                     ┆ value │
    │ ---          ┆ ---                     ┆ ---   │
    │ str          ┆ datetime[ms]            ┆ f64   │
    ╞══════════════╪═════════════════════════╪═══════╡
    │ temp:kitchen ┆ 1970-01-01 00:00:00     ┆ 21.5  │
    │ temp:kitchen ┆ 1970-01-01 00:00:00.500 ┆ 22.0  │
    └──────────────┴─────────────────────────┴───────┘
    """
    return collect(scan_timeseries(url, pattern, **options))


@checked
def iter_timeseries(
    url: str | Client,
    pattern: str | bytes | None = None,
    **options: Unpack[TimeSeriesScanOptions],
) -> BatchStream:
    """Read RedisTimeSeries series batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_timeseries` and yields DataFrames
    of at most ``batch_size`` samples. Only a few batches are read ahead of
    the consumer, so peak memory follows ``batch_size``, not the length of the
    series. Closing the :class:`BatchStream` (or breaking out of the loop) stops the scan.

    Examples
    --------
    >>> import polars_redis as redis
    >>> samples = 0
    >>> for batch in redis.iter_timeseries(url, "temp:*", batch_size=10_000):
    ...     samples += batch.height
    """
    args = bind(scan_timeseries, url, pattern, **options)
    return iter_batches(*_timeseries_scanner(args), args)


def _bound(value: TimestampLike, name: str, open_end: str) -> int | None:
    if isinstance(value, str):
        if value == open_end:
            return None
        msg = f'{name} must be "{open_end}", an int (milliseconds) or a datetime, got {value!r}'
        raise InvalidInputError(msg)
    return epoch_ms(value, name)


def _labels(include_labels: Literal[False] | str | Sequence[str]) -> list[str]:
    if include_labels is False:
        return []
    if isinstance(include_labels, str):
        return [include_labels]
    return list(include_labels)


def _timeseries_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    """Validate the arguments of :func:`scan_timeseries` and make its scanner."""
    selection = args["filter"]
    if isinstance(selection, str):
        selection = [selection]
    scanner = _internal.timeseries_scanner(
        scan_args(args),
        _bound(args["start"], "start", "-"),
        _bound(args["end"], "end", "+"),
        args["aggregation"],
        args["bucket_size_ms"],
        list(selection) if selection is not None else None,
        _labels(args["include_labels"]),
        args["timestamp_column_name"],
        args["value_column_name"],
    )
    return scanner, output_schema(scanner, {})
