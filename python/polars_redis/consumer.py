"""Reading streams as they grow: consumer groups (``XREADGROUP``, at least
once) and tailing (``XREAD BLOCK``), one or several streams at a time.

The names are those of polars-redis 0.1.x (``read_stream``, ``scan_stream``,
``iter_stream``, ``ack_entries``), with exact acknowledgement semantics:
entries delivered to a consumer stay pending until acknowledged, and a
batch is acknowledged only after the caller asked for the next one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, Union

import polars as pl
from polars.io.plugins import register_io_source

from polars_redis import _internal
from polars_redis._dtypes import SchemaLike, field_specs, format_pairs
from polars_redis._plugin import _finish
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError
from polars_redis.infer import infer_stream_schema
from polars_redis.streams import read_streams

if TYPE_CHECKING:
    from typing_extensions import Unpack

StreamNames = Union[str, bytes, Sequence[Union[str, bytes]]]


def _names(stream: StreamNames) -> list[bytes]:
    items = [stream] if isinstance(stream, (str, bytes)) else list(stream)
    return [s.encode() if isinstance(s, str) else bytes(s) for s in items]


def _glob_escape(name: bytes) -> bytes:
    """``name`` as a glob pattern matching only itself."""
    out = bytearray()
    for byte in name:
        if byte in b"*?[]\\":
            out += b"\\"
        out.append(byte)
    return bytes(out)


def _schema(
    url: str | Client, streams: list[bytes], schema: SchemaLike | None
) -> Mapping[str, Any]:
    """The given schema, or the fields inferred from each stream (the first
    stream's dtype wins for a field several streams hold)."""
    if schema is not None:
        return schema
    merged: dict[str, Any] = {}
    for name in streams:
        for field, dtype in infer_stream_schema(url, _glob_escape(name)).items():
            merged.setdefault(field, dtype)
    return merged


def _polars_schema(args: dict[str, Any], schema: Mapping[str, Any]) -> pl.Schema:
    columns: dict[str, Any] = {}
    if args["stream_column"] is not None:
        columns[args["stream_column"]] = pl.String
    if args["id_column"] is not None:
        columns[args["id_column"]] = pl.String
    if args["timestamp_column"] is not None:
        columns[args["timestamp_column"]] = pl.Datetime("ms")
    if args["sequence_column"] is not None:
        columns[args["sequence_column"]] = pl.UInt64
    columns.update(schema)
    return pl.Schema(columns)


class StreamBatches(Iterator[pl.DataFrame]):
    """The batches of :func:`iter_stream`: an iterator of DataFrames that
    acknowledges what it delivered (with ``ack=True``) only when the next
    batch is asked for or the iterator is closed normally.

    Closing normally is :meth:`close`, leaving a ``with`` block without an
    exception, or running out of entries. An exception in the ``with`` block,
    :meth:`abandon`, or a crash leaves the last batch pending in the group:
    another consumer (``claim_min_idle_ms``) or this one after a restart
    (``start_id`` ``"0"``, the default) reads it again.
    """

    def __init__(self, reading: _internal.StreamReading, schema: pl.Schema, follow: bool) -> None:
        self._reading: _internal.StreamReading | None = reading
        self._schema = schema
        self._follow = follow

    def __iter__(self) -> StreamBatches:
        return self

    def __next__(self) -> pl.DataFrame:
        while (reading := self._reading) is not None:
            table = reading.next_batch()
            if table is None:  # closed meanwhile (from another thread)
                break
            batch = _finish(pl.DataFrame(table), self._schema)
            if batch.height:
                return batch
            if not self._follow:
                self.close()
        raise StopIteration

    def __enter__(self) -> StreamBatches:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()

    def ack(self) -> int:
        """Acknowledge every entry delivered so far (the last batch included) now.

        Returns
        -------
        int
            The number of entries acknowledged.
        """
        if self._reading is None:
            return 0
        return int(self._reading.ack())

    def close(self) -> None:
        """Stop reading; with ``ack=True``, acknowledge the last batch first."""
        reading, self._reading = self._reading, None
        if reading is not None:
            reading.close(True)

    def abandon(self) -> None:
        """Stop reading and leave the last batch pending (never acknowledged)."""
        reading, self._reading = self._reading, None
        if reading is not None:
            reading.close(False)


def _reader(args: dict[str, Any], schema: Mapping[str, Any]) -> _internal.StreamReading:
    group, consumer = args["group"], args["consumer"]
    if (group is None) != (consumer is None):
        msg = "pass both group= and consumer=, or neither"
        raise InvalidInputError(msg)
    reader_args = {
        "url": args["url"],
        "streams": args["streams"],
        "group": group.encode() if isinstance(group, str) else group,
        "consumer": consumer.encode() if isinstance(consumer, str) else consumer,
        "create_group_from": args["group_start_id"] if args["create_group"] else None,
        "claim_min_idle_ms": args["claim_min_idle_ms"],
        "start_id": args["start_id"],
        "batch_size": args["batch_size"],
        "block_ms": args["block_ms"],
        "ack": args["ack"],
        "id_column": args["id_column"],
        "timestamp_column": args["timestamp_column"],
        "sequence_column": args["sequence_column"],
        "stream_column": args["stream_column"],
        "strict": args["strict"],
        "formats": format_pairs(args["formats"]),
        "connect_timeout": args["connect_timeout"],
        "command_timeout": args["command_timeout"],
    }
    return _internal.stream_reader(reader_args, field_specs(schema))


def _columns(args: dict[str, Any], streams: list[bytes]) -> dict[str, Any]:
    """The reader's column names from the 0.1.x ``include_*`` / ``*_column`` options."""
    stream_column = args.get("stream_column")
    if stream_column is None and len(streams) > 1:
        stream_column = "_stream"
    return {
        "streams": streams,
        "id_column": args["id_column"] if args["include_id"] else None,
        "timestamp_column": args["timestamp_column"] if args["include_timestamp"] else None,
        "sequence_column": args["sequence_column"] if args["include_sequence"] else None,
        "stream_column": stream_column,
    }


def _ack_option(ack: bool, auto_ack: bool | None) -> bool:
    return ack or bool(auto_ack)


@checked
def iter_stream(
    url: str | Client,
    stream: StreamNames,
    *,
    schema: SchemaLike | None = None,
    group: str | bytes | None = None,
    consumer: str | bytes | None = None,
    batch_size: int = 100,
    block_ms: int | None = 1000,
    start_id: str | None = None,
    follow: bool = True,
    ack: bool = False,
    auto_ack: bool | None = None,
    create_group: bool = True,
    group_start_id: str = "0",
    claim_min_idle_ms: int | None = None,
    include_id: bool = True,
    id_column: str = "_id",
    include_timestamp: bool = True,
    timestamp_column: str = "_ts",
    include_sequence: bool = False,
    sequence_column: str = "_seq",
    stream_column: str | None = None,
    strict: bool = True,
    formats: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
) -> StreamBatches:
    """Read one or several streams batch by batch as entries arrive.

    Without ``group``, the streams are tailed (``XREAD``): every entry after
    ``start_id`` is read once, in id order per stream. With ``group`` and
    ``consumer``, entries are read as a member of a consumer group
    (``XREADGROUP``): each entry goes to one consumer of the group, and stays
    pending in the group until acknowledged (at-least-once delivery).

    Each batch gathers up to ``batch_size`` entries (from each stream) or
    what arrived within ``block_ms``, whichever comes first; empty rounds are
    not yielded. Each wait is at most ``block_ms`` with the GIL released, so
    Ctrl-C and :meth:`StreamBatches.close` take effect within ``block_ms``.
    Several streams are read with one command per hash slot (on a cluster,
    streams of different slots are read from their masters side by side).

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` or
        ``unix:///path/redis.sock``.
    stream
        A stream name, or a list of them (then a ``_stream`` column says
        which stream each entry is from).
    schema
        Mapping of entry field name to Polars dtype, read as
        :func:`scan_streams` reads them. ``None`` infers it now from each
        stream's first and last entries (see :func:`infer_stream_schema`).
    group, consumer
        Read as ``consumer`` of consumer group ``group``.
    batch_size
        Most entries per batch (from each stream).
    block_ms
        Longest wait for a batch to fill, in milliseconds; ``None`` does not
        wait (only with ``follow=False``).
    start_id
        Without a group: read the entries after this id (``"0"``: all of
        them, ``"$"``: only those added from now on; default ``"$"`` when
        following, ``"0"`` otherwise). In a group: ``">"`` reads only entries
        never delivered to the group; an id (default ``"0"``) first re-reads
        this consumer's own pending entries after it (those it received and
        never acknowledged, e.g. before a crash), then goes on with ``">"``.
    follow
        True (default): keep waiting for new entries until the iterator is
        closed. False: stop at the first round that finds nothing within
        ``block_ms``.
    ack
        In a group, acknowledge (``XACK``) each batch when the next one is
        asked for, or when the iterator is closed normally (:meth:`~StreamBatches.close`,
        the end of a ``with`` block without an exception, or running out of
        entries), never before. A batch whose processing raised stays
        pending. Entries deleted while pending (``MAXLEN`` trimming) give no
        row and are acknowledged with their batch.
    auto_ack
        The 0.1.x name of ``ack``.
    create_group, group_start_id
        Create the group when missing (``XGROUP CREATE ... MKSTREAM``; the
        stream too), delivering the entries after ``group_start_id``
        (``"0"``: all, ``"$"``: new ones only).
    claim_min_idle_ms
        Before reading new entries, claim the group's entries pending for at
        least this long with any consumer (``XAUTOCLAIM``): a crashed
        consumer's entries are then processed by this one. Claimed entries
        come in batches of their own.
    include_id, id_column, include_timestamp, timestamp_column, include_sequence, sequence_column
        The entry id (String), its millisecond part (``Datetime("ms")``) and
        its sequence part (UInt64) as columns (default ``_id`` and ``_ts``).
    stream_column
        Name of the first column holding the stream name (default
        ``_stream`` when several streams are read, none for one).
    strict
        A value that does not parse as its dtype raises :class:`ParseError`
        (True) or is null.
    formats
        Field name to stored form of a Date, Datetime, Time or Duration
        field not stored as ISO-8601: a strftime format (``"%d/%m/%Y"``) or
        ``"epoch_s"``, ``"epoch_ms"``, ``"epoch_us"``, ``"epoch_ns"``, as for
        :func:`scan_streams`. A name that is not a schema field, or a form its
        dtype cannot hold, raises :class:`InvalidInputError` before anything
        is read.
    connect_timeout, command_timeout
        Seconds allowed to connect and to wait for one reply (beyond ``block_ms``).

    Returns
    -------
    StreamBatches
        An iterator of DataFrames, usable as a context manager.

    Raises
    ------
    RedisServerError
        The group is missing (with ``create_group=False``), or a tailed
        stream was deleted.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> with redis.iter_stream(
    ...     url, "events:1", schema={"amount": pl.Float64}, group="billing",
    ...     consumer="worker-1", ack=True, follow=False, block_ms=100,
    ... ) as batches:
    ...     total = sum(batch["amount"].sum() for batch in batches)
    >>> total
    36.5
    >>> redis.pending(url, "events:1", "billing").height
    0
    """
    args = locals()
    streams = _names(stream)
    args.update(_columns(args, streams))
    args["ack"] = _ack_option(ack, auto_ack)
    if block_ms is None and follow:
        msg = "block_ms=None does not wait: pass follow=False, or a block_ms to wait for entries"
        raise InvalidInputError(msg)
    if group is None and start_id is None:
        args["start_id"] = "$" if follow else "0"
    schema = _schema(url, streams, schema)
    reading = _reader(args, schema)
    return StreamBatches(reading, _polars_schema(args, schema), follow)


def _read(args: dict[str, Any]) -> pl.DataFrame:
    """What :func:`read_stream` reads, from the arguments of :func:`scan_stream`."""
    streams = _names(args["stream"])
    args.update(_columns(args, streams))
    args["ack"] = _ack_option(args["ack"], args["auto_ack"])
    url, schema, count = args["url"], args["schema"], args["count"]
    if args["group"] is None and args["block_ms"] is None:
        return _snapshot(args, streams)
    if args["group"] is None:
        args["start_id"] = args["start_id"] or "$"
        args["batch_size"] = count or 1000
        schema = _schema(url, streams, schema)
        with StreamBatches(_reader(args, schema), _polars_schema(args, schema), False) as batches:
            first = next(batches, None)
            polars_schema = _polars_schema(args, schema)
            return first if first is not None else pl.DataFrame(schema=polars_schema)
    args["batch_size"] = min(count or 10_000, 10_000)
    schema = _schema(url, streams, schema)
    polars_schema = _polars_schema(args, schema)
    frames: list[pl.DataFrame] = []
    rows = 0
    with StreamBatches(_reader(args, schema), polars_schema, False) as batches:
        for batch in batches:
            frames.append(batch)
            rows += batch.height
            if count is not None and rows >= count:
                break
    if not frames:
        return pl.DataFrame(schema=polars_schema)
    return pl.concat(frames)


def _snapshot(args: dict[str, Any], streams: list[bytes]) -> pl.DataFrame:
    """``read_stream`` without a group or a wait: an ``XRANGE`` read."""
    stream_column = args["stream_column"]
    df = read_streams(
        args["url"],
        schema=_schema(args["url"], streams, args["schema"]),
        keys=streams,
        start_id=args["start_id"] or "-",
        end_id=args["end_id"],
        count_per_stream=args["count"],
        include_id=args["id_column"] is not None,
        id_column_name=args["id_column"] or "_id",
        include_timestamp=args["timestamp_column"] is not None,
        timestamp_column_name=args["timestamp_column"] or "_ts",
        include_sequence=args["sequence_column"] is not None,
        sequence_column_name=args["sequence_column"] or "_seq",
        include_key=stream_column is not None,
        key_column_name=stream_column or "_key",
        strict=args["strict"],
        formats=args["formats"],
        connect_timeout=args["connect_timeout"],
        command_timeout=args["command_timeout"],
    )
    return df


@checked
def scan_stream(
    url: str | Client,
    stream: StreamNames,
    *,
    schema: SchemaLike | None = None,
    group: str | bytes | None = None,
    consumer: str | bytes | None = None,
    start_id: str | None = None,
    end_id: str = "+",
    count: int | None = None,
    block_ms: int | None = None,
    ack: bool = False,
    auto_ack: bool | None = None,
    create_group: bool = True,
    group_start_id: str = "0",
    claim_min_idle_ms: int | None = None,
    include_id: bool = True,
    id_column: str = "_id",
    include_timestamp: bool = True,
    timestamp_column: str = "_ts",
    include_sequence: bool = False,
    sequence_column: str = "_seq",
    stream_column: str | None = None,
    strict: bool = True,
    formats: Mapping[str, str] | None = None,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
) -> pl.LazyFrame:
    """Read entries of one or several streams, lazily: the entries are read
    when the LazyFrame is collected (each collect reads anew; the schema is
    fixed, given or inferred, when this is called).

    Three modes, as in polars-redis 0.1.x:

    * with ``group`` and ``consumer``: read the group's entries for this
      consumer (``XREADGROUP``; ``start_id`` as in :func:`iter_stream`),
      ``count`` of them (default: every entry there, or arriving within
      ``block_ms`` of the last one). They stay pending unless ``ack=True``,
      which acknowledges them once the frame is read (use
      :func:`ack_entries` after processing for at-least-once delivery);
    * with ``block_ms`` and no group: wait up to ``block_ms`` for entries
      after ``start_id`` (default ``"$"``: new ones), at most ``count``
      (default 1000);
    * otherwise a snapshot of the id range ``start_id`` (default ``"-"``) to
      ``end_id`` (``XRANGE``), the first ``count`` entries of each stream.

    Parameters
    ----------
    url
        ``redis://...`` URL.
    stream
        A stream name or a list of them.
    schema
        Entry field name to Polars dtype; ``None`` infers it now.
    group, consumer, create_group, group_start_id, claim_min_idle_ms, start_id
        As for :func:`iter_stream`.
    end_id
        The last id of a snapshot read.
    count
        Most entries to read (per stream).
    block_ms
        Longest wait for entries, in milliseconds.
    ack, auto_ack
        Acknowledge the group entries read, once the frame is read.
    include_id, id_column, include_timestamp, timestamp_column
        The id and timestamp columns.
    include_sequence, sequence_column, stream_column
        The sequence and stream columns.
    strict
        A value that does not parse raises :class:`ParseError` (True) or is null.
    formats
        Stored forms of temporal fields, as for :func:`iter_stream`.
    connect_timeout, command_timeout
        Seconds allowed to connect and to wait for one reply.

    Returns
    -------
    LazyFrame
        The stream column (with several streams), ``_id``, ``_ts``, then the
        schema fields.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_stream(url, "events:1", schema={"amount": pl.Float64})
    >>> lf.select(pl.col("amount").sum()).collect().item()
    36.5
    """
    args = locals()
    streams = _names(stream)
    args["schema"] = _schema(url, streams, schema)
    columns = _columns(args, streams)
    polars_schema = _polars_schema(columns, args["schema"])

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        _batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        df = _read(dict(args))
        if with_columns is not None:
            df = df.select(with_columns)
        if predicate is not None:
            df = df.filter(predicate)
        if n_rows is not None:
            df = df.head(n_rows)
        yield df

    return register_io_source(source, schema=polars_schema)


class StreamReadOptions(TypedDict, total=False):
    """The keyword options of :func:`read_stream` (those of :func:`scan_stream`)."""

    schema: SchemaLike | None
    group: str | bytes | None
    consumer: str | bytes | None
    start_id: str | None
    end_id: str
    count: int | None
    block_ms: int | None
    ack: bool
    auto_ack: bool | None
    create_group: bool
    group_start_id: str
    claim_min_idle_ms: int | None
    include_id: bool
    id_column: str
    include_timestamp: bool
    timestamp_column: str
    include_sequence: bool
    sequence_column: str
    stream_column: str | None
    strict: bool
    formats: Mapping[str, str] | None
    connect_timeout: float | None
    command_timeout: float | None


@checked
def read_stream(
    url: str | Client, stream: StreamNames, **options: Unpack[StreamReadOptions]
) -> pl.DataFrame:
    """Read entries of one or several streams into a DataFrame;
    ``scan_stream(...).collect()``.

    Takes the same arguments as :func:`scan_stream`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = redis.read_stream(
    ...     url, "events:1", schema={"amount": pl.Float64},
    ...     group="audit", consumer="a-1", count=2,
    ... )
    >>> df.height, redis.pending(url, "events:1", "audit").height
    (2, 2)
    >>> redis.ack_entries(url, "events:1", "audit", df["_id"].to_list())
    2
    """
    return scan_stream(url, stream, **options).collect()


@checked
def ack_entries(
    url: str | Client,
    stream: str | bytes,
    group: str | bytes,
    entry_ids: Sequence[str | bytes],
) -> int:
    """Acknowledge entries of a stream in a consumer group (``XACK``).

    Parameters
    ----------
    url
        ``redis://...`` URL.
    stream
        The stream name.
    group
        The consumer group.
    entry_ids
        The ids to acknowledge (e.g. ``df["_id"].to_list()``).

    Returns
    -------
    int
        How many of them were pending and are acknowledged now.

    Examples
    --------
    >>> import polars_redis as redis
    >>> df = redis.read_stream(url, "events:1", group="audit", consumer="a-1")
    >>> redis.ack_entries(url, "events:1", "audit", df["_id"].to_list())
    3
    """
    ids = [i.encode() if isinstance(i, str) else bytes(i) for i in entry_ids]
    return int(_internal.ack_entries(url, _names(stream)[0], _names(group)[0], ids))


@checked
def pending(
    url: str | Client,
    stream: str | bytes,
    group: str | bytes,
    *,
    consumer: str | bytes | None = None,
) -> pl.DataFrame:
    """The entries of a consumer group delivered and not yet acknowledged (``XPENDING``).

    Parameters
    ----------
    url
        ``redis://...`` URL.
    stream
        The stream name.
    group
        The consumer group.
    consumer
        Only the entries pending with this consumer.

    Returns
    -------
    DataFrame
        ``_id`` (String), ``consumer`` (String), ``idle_ms`` (milliseconds
        since last delivered, Int64), ``deliveries`` (times delivered,
        Int64), in id order.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.read_stream(url, "events:1", group="audit", consumer="a-1", count=1)
    >>> redis.pending(url, "events:1", "audit").select("consumer", "deliveries")
    shape: (1, 2)
    ┌──────────┬────────────┐
    │ consumer ┆ deliveries │
    │ ---      ┆ ---        │
    │ str      ┆ i64        │
    ╞══════════╪════════════╡
    │ a-1      ┆ 1          │
    └──────────┴────────────┘
    """
    who = None if consumer is None else _names(consumer)[0]
    table = _internal.pending_entries(url, _names(stream)[0], _names(group)[0], who)
    return pl.DataFrame(table).cast({"_id": pl.String, "consumer": pl.String})
