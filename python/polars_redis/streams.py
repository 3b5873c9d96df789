"""Reading Redis streams: one row per entry, one column per entry field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType, SchemaLike, field_specs
from polars_redis._options import ReadFrom, ScanOptions
from polars_redis._plugin import (
    BatchStream,
    bind,
    collect,
    iter_batches,
    lazy_scan,
    output_schema,
    scan_args,
)
from polars_redis._progress import ProgressLike
from polars_redis._time import TimeLike, epoch_ms
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError
from polars_redis.infer import explain_detail, schema_for_scan

if TYPE_CHECKING:
    from typing_extensions import Unpack

StreamIdLike = Union[str, TimeLike]


class StreamScanOptions(ScanOptions, total=False):
    """The keyword options of :func:`read_streams` and :func:`iter_streams`
    (those of :func:`scan_streams`)."""

    start_id: StreamIdLike
    end_id: StreamIdLike
    count_per_stream: int | None
    include_id: bool
    id_column_name: str
    include_timestamp: bool
    timestamp_column_name: str
    include_sequence: bool
    sequence_column_name: str
    infer_sample_size: int


@checked
@with_scan_options
def scan_streams(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    *,
    keys: Sequence[str | bytes] | None = None,
    start_id: StreamIdLike = "-",
    end_id: StreamIdLike = "+",
    count_per_stream: int | None = None,
    include_id: bool = True,
    id_column_name: str = "_id",
    include_timestamp: bool = True,
    timestamp_column_name: str = "_ts",
    include_sequence: bool = False,
    sequence_column_name: str = "_seq",
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
    infer_sample_size: int = _internal.DEFAULT_INFER_SAMPLE_SIZE,
) -> pl.LazyFrame:
    """Lazily read Redis streams into a LazyFrame, one row per entry.

    Keys come from ``SCAN ... MATCH pattern TYPE stream`` (so keys of other
    types are never fetched), or from an explicit ``keys`` list. Entries are
    read with ``XRANGE key start end COUNT n`` in pages of ``batch_size``
    entries, each page starting after the last id of the previous one, so a
    long stream is never read in one reply. Rows come stream by stream, each
    stream's entries in id order.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    schema
        Mapping of entry field name to Polars dtype, read by the same rules as
        hash fields (see :func:`scan_hashes`). A field missing from an entry is
        null; fields not in the schema are ignored; a field repeated within one
        entry keeps its last value. ``None`` infers it once, now, from the
        first and last entries of ``infer_sample_size`` sampled streams (see
        :func:`infer_stream_schema`; ``lf.explain()`` shows the result, and a
        field widened to String by mixed values warns).
    keys
        Read exactly these keys instead of scanning. Missing keys give no row;
        a key of another type raises :class:`WrongTypeError`.
    start_id, end_id
        The id range to read, as ``XRANGE`` takes it: ``"-"`` and ``"+"`` for
        the ends, ``"ms"`` or ``"ms-seq"``, and ``"(" + id`` to exclude an id.
        An int (milliseconds) or a ``datetime`` (naive means UTC) stands for
        the entries of that millisecond onwards (start) or up to it (end).
    count_per_stream
        Read at most this many entries (the first in the range) of each stream.
    include_id, id_column_name
        Add the entry id (``"1700000000000-0"``) as a String column (default ``_id``).
    include_timestamp, timestamp_column_name
        Add the id's millisecond part as ``Datetime("ms")`` (default ``_ts``).
        Filters on it (``>``, ``>=``, ``<``, ``<=``, ``==``, ``is_between``)
        narrow the ``XRANGE`` bounds.
    include_sequence, sequence_column_name
        Add the id's sequence part as UInt64 (default ``_seq``).
    include_key, key_column_name, key_dtype
        Add the key as a column (default ``_key``): ``pl.String`` (default; a
        key that is not UTF-8 raises :class:`ParseError`, or is null when not
        ``strict``) or ``pl.Binary`` (the raw bytes of every key).
    include_ttl, ttl_column_name
        Add the seconds left before the stream expires as Int64 (default
        ``_ttl``); null when it never expires.
    include_row_index, row_index_column_name
        Add a UInt32 row number starting at 0 (default ``_index``), first column.
        Filters are then not pushed down (every row is numbered).
    batch_size
        Keys per pipeline, and entries per page and per batch ({batch_size_bounds}).
    count_hint
        ``COUNT`` hint for ``SCAN`` (default: ``batch_size``, at least 100;
        {count_hint_bounds}).
    strict
        If True, a value that does not parse as its dtype raises
        :class:`ParseError` naming the key, field, value and entry id; if False
        it becomes null.
    formats
        Field name to stored form of a Date, Datetime, Time or Duration field
        not stored as ISO-8601: a strftime format or ``"epoch_s"``,
        ``"epoch_ms"``, ``"epoch_us"``, ``"epoch_ns"`` (as for
        :func:`scan_hashes`; a bare integer is never read as a date without it).
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
    infer_sample_size
        Streams sampled when ``schema`` is None.

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), ``_id``,
        ``_ts``, ``_seq`` (those included), the schema fields in order, ``_ttl``
        (if requested). ``head(n)`` stops after ``n`` entries.

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_streams(
    ...     url,
    ...     "events:*",
    ...     schema={"user": pl.String, "amount": pl.Float64},
    ... )
    >>> lf.filter(pl.col("amount") > 10).select("_key", "_id", "user").collect()
    shape: (2, 3)
    ┌──────────┬─────────────────┬───────┐
    │ _key     ┆ _id             ┆ user  │
    │ ---      ┆ ---             ┆ ---   │
    │ str      ┆ str             ┆ str   │
    ╞══════════╪═════════════════╪═══════╡
    │ events:1 ┆ 1700000000000-0 ┆ alice │
    │ events:1 ┆ 1700000000123-0 ┆ bob   │
    └──────────┴─────────────────┴───────┘

    Only the last hour, read with narrowed ``XRANGE`` bounds:

    >>> from datetime import datetime, timedelta, timezone
    >>> since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    >>> recent = lf.filter(pl.col("_ts") >= since).collect()
    """
    args = locals()
    scanner, polars_schema = _stream_scanner(args)
    return lazy_scan(
        scanner, polars_schema, explain_detail("streams", args, args["schema"]), url, progress
    )


@checked
def read_streams(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Unpack[StreamScanOptions],
) -> pl.DataFrame:
    """Read Redis streams into a DataFrame; ``scan_streams(...).collect()``.

    Takes the same arguments as :func:`scan_streams`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> redis.read_streams(
    ...     url, keys=["events:1"], schema={"user": pl.String}, count_per_stream=1
    ... )
    shape: (1, 4)
    ┌──────────┬─────────────────┬─────────────────────┬───────┐
    │ _key     ┆ _id             ┆ _ts                 ┆ user  │
    │ ---      ┆ ---             ┆ ---                 ┆ ---   │
    │ str      ┆ str             ┆ datetime[ms]        ┆ str   │
    ╞══════════╪═════════════════╪═════════════════════╪═══════╡
    │ events:1 ┆ 1700000000000-0 ┆ 2023-11-14 22:13:20 ┆ alice │
    └──────────┴─────────────────┴─────────────────────┴───────┘
    """
    return collect(scan_streams(url, pattern, schema, **options))


@checked
def iter_streams(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Unpack[StreamScanOptions],
) -> BatchStream:
    """Read Redis streams batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_streams` and yields DataFrames of
    at most ``batch_size`` entries. Only a few batches are read ahead of the
    consumer, so peak memory follows ``batch_size``, not the length of the
    streams. Closing the :class:`BatchStream` (or breaking out of the loop) stops the scan.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> total = 0.0
    >>> for batch in redis.iter_streams(url, "events:*", {"amount": pl.Float64}):
    ...     total += batch["amount"].sum()
    """
    args = bind(scan_streams, url, pattern, schema, **options)
    return iter_batches(*_stream_scanner(args), args)


def _stream_id(value: StreamIdLike, name: str) -> str:
    if isinstance(value, str):
        return value
    return str(epoch_ms(value, name))


def _stream_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    """Validate the arguments of :func:`scan_streams` and make its scanner.

    When the schema is inferred here, ``args["schema"]`` is replaced by the result.
    """
    schema = args["schema"] = schema_for_scan("stream", args)

    count = args["count_per_stream"]
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        msg = f"count_per_stream must be an int, got {count!r}"
        raise InvalidInputError(msg)

    def column(include: str, name: str) -> str | None:
        return str(args[name]) if args[include] else None

    scanner = _internal.stream_scanner(
        scan_args(args),
        field_specs(schema),
        _stream_id(args["start_id"], "start_id"),
        _stream_id(args["end_id"], "end_id"),
        count,
        column("include_id", "id_column_name"),
        column("include_timestamp", "timestamp_column_name"),
        column("include_sequence", "sequence_column_name"),
    )
    return scanner, output_schema(scanner, dict(schema))
