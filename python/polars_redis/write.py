"""Writing DataFrames back to Redis: ``write_hashes``, ``write_hash_fields``,
``write_json``, ``write_strings``, ``write_sets``, ``write_lists``, ``write_zsets``,
``write_streams`` and ``write_timeseries``.

Every function takes the frame, the URL and keyword options, checks the
whole frame before anything is sent (missing columns, null or duplicate
keys, values that cannot be stored: :class:`InvalidInputError` naming the
rows, key and column), then writes each key as one atomic unit, pipelined
over several connections. The frame crosses into Rust through the Arrow
PyCapsule interface (no per-cell Python work) and values are formatted
there, by the same text rules the ``read_*`` functions parse.

Conflict modes (``if_exists``):

``"replace"`` (default)
    Each key is replaced atomically (``MULTI``/``DEL``/write/expiry/``EXEC``;
    strings: one ``SET``): the old value is gone, no stale hash field or list
    element survives, whatever type the key held before.
``"append"``
    Merge into the existing value: hash fields are updated (others kept),
    JSON documents are merged (RFC 7396; arrays replaced), string values
    replaced keeping the existing TTL (not concatenated), set and sorted-set members added
    (scores updated), list elements pushed at the tail, stream entries and
    time-series samples added. With a TTL the data and the expiry are
    applied by one server-side script, so a key of another type never gets
    its TTL changed by a failed append. A key of another type fails with
    ``WRONGTYPE`` and is left as it is. Appends to lists, streams and time
    series are not retried after a dropped connection (they would add twice).
``"skip"``
    Write only keys that do not exist (checked and written atomically per
    key); the others are reported in :attr:`WriteResult.skipped_keys`.
``"fail"``
    If any key exists, write nothing and raise :class:`WriteError` listing
    them. A key created by someone else after that check is reported as a
    failure, never overwritten.

Nulls: a null hash or stream field is not written (it reads back as null;
with ``"append"`` the stored field is left as it is); a null JSON attribute
is JSON ``null`` (left out with ``"append"``); a row whose values are all
null, and a null string value, member, element, score, timestamp or sample
value, is rejected before anything is sent.

A frame read with ``include_ttl=True`` writes back with ``ttl_column="_ttl"``
(otherwise ``_ttl`` would become a field); ``write_streams`` and
``write_timeseries`` take the ``_id``/``_ts`` columns of ``read_streams`` and
``read_timeseries`` by default.

TTL: ``ttl`` sets one TTL (seconds or a ``timedelta``) for every key;
``ttl_column`` takes it per row from an integer (seconds), ``Duration`` or
``Datetime`` (absolute expiry) column, null meaning no TTL. The expiry is
applied in the same atomic unit as the value, so no key is ever left
without it. A TTL that would delete the key at once (zero or negative, or an
expiry time in the past) is refused before anything is sent, naming the
rows, so ``written`` always counts keys that exist afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Union

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import format_pairs
from polars_redis._lazy_write import Prefetched, lazy_batches
from polars_redis._plugin import to_bytes
from polars_redis._progress import ProgressLike, Tracker, tracker
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError, WriteError

if TYPE_CHECKING:
    from typing_extensions import Unpack

IfExists = Literal["fail", "skip", "replace", "append"]
Key = Union[str, bytes]


class WriteOptions(TypedDict, total=False):
    """The keyword options every ``write_*`` function takes (see :func:`write_hashes`)."""

    key_column: str | None
    formats: Mapping[str, str] | None
    key_prefix: str | bytes
    ttl: int | timedelta | None
    ttl_column: str | None
    if_exists: IfExists
    batch_size: int
    parallelism: int
    raise_on_error: bool
    connect_timeout: float | None
    command_timeout: float | None
    rate_limit: float | None
    latency_budget_ms: float | None
    progress: ProgressLike


_DEFAULTS: WriteOptions = {
    "key_column": "_key",
    "formats": None,
    "key_prefix": "",
    "ttl": None,
    "ttl_column": None,
    "if_exists": "replace",
    "batch_size": _internal.DEFAULT_WRITE_BATCH_SIZE,
    "parallelism": _internal.DEFAULT_WRITE_PARALLELISM,
    "raise_on_error": True,
    "connect_timeout": None,
    "command_timeout": None,
    "rate_limit": None,
    "latency_budget_ms": None,
    "progress": False,
}


@dataclass(frozen=True)
class KeyFailure:
    """A key that was not written, or whose outcome is unknown."""

    key: Key
    """The Redis key (``str`` when it is UTF-8, else ``bytes``)."""
    first_row: int
    """Its first row in the frame (0-based)."""
    rows: int
    """How many rows of the frame it covers."""
    message: str
    """The Redis error (``WRONGTYPE ...``, ``OOM ...``, ``NOPERM ...``) or what went wrong."""


@dataclass(frozen=True)
class WriteResult:
    """What a write did. ``written + skipped + failed + unknown == rows``.

    Counts are rows of the frame; for sets, lists, sorted sets, streams and
    time series one key covers many rows.
    """

    rows: int
    """Rows in the frame."""
    written: int
    """Rows written."""
    skipped: int
    """Rows not written because their key existed (``if_exists="skip"``, or
    every other row when ``"fail"`` found existing keys)."""
    failed: int
    """Rows whose key the server refused; see :attr:`failures`."""
    unknown: int
    """Rows whose key may or may not be written: the connection dropped
    before the reply and the commands were not safe to retry."""
    keys_written: int
    """Keys written."""
    skipped_keys: list[Key] = field(default_factory=list)
    """Keys skipped, in frame order."""
    failures: list[KeyFailure] = field(default_factory=list)
    """Keys that failed, with the error, in frame order."""
    unknown_keys: list[KeyFailure] = field(default_factory=list)
    """Keys whose outcome is unknown, in frame order."""

    def merge(self, other: WriteResult) -> WriteResult:
        """The result of both writes: counts added, key lists joined (this
        one's first). For the parts of a frame each written by its own
        ``write_*`` call (a worker per partition), see :meth:`sum`.

        Examples
        --------
        >>> df = pl.DataFrame({"_key": ["a:1", "a:2", "a:3"], "n": [1, 2, 3]})
        >>> first = redis.write_hashes(df.head(2), url)
        >>> print(first.merge(redis.write_hashes(df.tail(1), url)))
        3 of 3 rows written (3 keys), 0 skipped, 0 failed, 0 unknown
        """
        return WriteResult.sum([self, other])

    @classmethod
    def sum(cls, results: Iterable[WriteResult]) -> WriteResult:
        """The merged result of many writes (all zero for none), in order.

        Examples
        --------
        >>> df = pl.DataFrame({"_key": ["b:1", "b:2", "b:3"], "n": [1, 2, 3]})
        >>> parts = [df.slice(i, 1) for i in range(3)]
        >>> total = redis.WriteResult.sum(redis.write_hashes(p, url) for p in parts)
        >>> (total.rows, total.written, total.ok)
        (3, 3, True)
        """
        done = list(results)
        return cls(
            rows=sum(r.rows for r in done),
            written=sum(r.written for r in done),
            skipped=sum(r.skipped for r in done),
            failed=sum(r.failed for r in done),
            unknown=sum(r.unknown for r in done),
            keys_written=sum(r.keys_written for r in done),
            skipped_keys=[k for r in done for k in r.skipped_keys],
            failures=[f for r in done for f in r.failures],
            unknown_keys=[f for r in done for f in r.unknown_keys],
        )

    @property
    def ok(self) -> bool:
        """True when every row was written or deliberately skipped."""
        return self.failed == 0 and self.unknown == 0

    @property
    def errors(self) -> dict[Key, str]:
        """The error of every failed key."""
        return {f.key: f.message for f in self.failures}

    def __str__(self) -> str:
        text = (
            f"{self.written} of {self.rows} rows written ({self.keys_written} keys), "
            f"{self.skipped} skipped, {self.failed} failed, {self.unknown} unknown"
        )
        for f in self.failures[:5]:
            text += f"; {f.key!r} failed: {f.message}"
        if len(self.failures) > 5:
            text += f"; {len(self.failures) - 5} more failed keys"
        for f in self.unknown_keys[:5]:
            text += f"; {f.key!r} unknown: {f.message}"
        if len(self.unknown_keys) > 5:
            text += f"; {len(self.unknown_keys) - 5} more keys with unknown outcome"
        return text


@checked
@with_scan_options
def write_hashes(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    field_ttl: Mapping[str, int | timedelta] | None = None,
    field_ttl_column: Mapping[str, str] | None = None,
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write a DataFrame as Redis hashes, one hash per row.

    Every column except the key column (and ``ttl_column``) becomes a hash
    field. Values are stored as text that :func:`read_hashes` parses back to
    the same value: booleans ``true``/``false``, integers, floats in their
    shortest exact form, dates ``YYYY-MM-DD``, datetimes ISO-8601 (with the
    offset of their time zone), times, durations (integer count of the
    unit), decimals (exact), categoricals and enums as their text, binary as
    raw bytes, and Struct/List values as JSON; float vectors
    (``pl.Array``/``pl.List`` of ``pl.Float32``/``pl.Float64``) as the
    little-endian blobs RediSearch vector fields index (see ``docs/vectors.md``).

    Parameters
    ----------
    df
        The rows to write. A LazyFrame is written batch by batch as Polars'
        streaming engine produces them (see the module notes on keys that
        span batches); ``if_exists="fail"`` collects it first.
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` or
        ``unix:///path/redis.sock``.
    field_ttl
        Per-field expiry (Redis 7.4+ ``HEXPIRE``): field name to seconds (or
        a ``timedelta``, rounded up), the same for every row, e.g.
        ``{"price": 60}``. Set in the same atomic unit as the value (the
        ``MULTI`` of ``"replace"``, the write script of the other modes), for
        the rows where the field is written (not null). Note that Redis drops
        a field's expiry when the field is overwritten, so an ``"append"``
        without ``field_ttl`` leaves updated fields persistent.
    field_ttl_column
        Field name to the column holding its expiry per row: integer seconds,
        a Duration, or a Datetime (absolute expiry, ``HPEXPIREAT``); null
        means no expiry for that row's field. The column is not written as a
        field, so a frame read with ``field_ttl=True`` writes back with
        ``field_ttl_column={"price": "price_ttl"}``. A TTL that would delete
        the field at once (zero or negative, or a time in the past) is refused
        before anything is sent, naming the row. A server before Redis 7.4
        raises :class:`UnsupportedError` naming its version, before anything
        is written. See ``docs/feature-store.md``.
    **options
        Keyword options shared by every ``write_*`` function
        (:class:`WriteOptions`), listed below.
    key_column
        Column holding the keys (not written as a field). ``None``: the key is
        ``key_prefix`` followed by the row index (0, 1, ...).
    formats
        Column name to stored form for Date, Datetime, Time and Duration
        columns: a strftime format (``"%d/%m/%Y"``) or ``"epoch_s"``,
        ``"epoch_ms"``, ``"epoch_us"``, ``"epoch_ns"`` (an integer count since
        1970-01-01 UTC; since midnight for Time; a Duration's length). Reading
        with the same ``formats=`` gives the values back; a value the form
        cannot hold exactly (a time of day under ``"%Y-%m-%d"``) is refused
        before anything is sent. Default: ISO-8601 as above.
    key_prefix
        Text put before every key, e.g. ``"user:"``.
    ttl
        One TTL for every key, in seconds or as a ``timedelta`` (rounded up
        to whole seconds).
    ttl_column
        Take the TTL per row from this column instead: integer seconds, a
        Duration, or a Datetime (absolute expiry); null means no TTL. Rows
        whose TTL is not positive or whose expiry time has passed are refused.
    if_exists
        ``"replace"``, ``"append"``, ``"skip"`` or ``"fail"``; see the module
        documentation. For hashes ``"append"`` updates the given fields and
        keeps the others; a null leaves the stored field as it is.
    batch_size
        Rows per pipeline ({write_batch_size_bounds}).
    parallelism
        Pipelines in flight, each on its own connection
        ({write_parallelism_bounds}).
    raise_on_error
        If True (default), raise :class:`WriteError` (carrying the result)
        when any key failed or has an unknown outcome; if False, return the
        result and let the caller inspect it.
    connect_timeout, command_timeout
        Seconds allowed to connect (default 10) and to wait for one reply
        (default 60).
    rate_limit
        At most this many rows written per second, over all connections of
        the write together (default: no limit; it also caps the rows of one
        pipeline, so the pace is even). See ``docs/production.md``.
    latency_budget_ms
        The longest one request of the write (a pipeline, a checked
        transaction, a script call) may occupy a server, in milliseconds
        (default: no limit): batches are sized from the time per row observed
        on each server, at most ``batch_size`` rows, and only one is in
        flight per server, so an online command waits about this long at
        most behind the write, at a cost in throughput. See
        ``docs/production.md``.
    progress
        ``True`` draws a progress bar on stderr (tqdm when installed, else a
        plain line): rows done (their keys answered), keys written, the
        rate, and the total for a DataFrame (its height; a LazyFrame's is
        not known before it is run). A callable instead receives a
        :class:`Progress` (with :attr:`~Progress.keys`) about five times a
        second and at the end, where the counts are the result's.

    Returns
    -------
    WriteResult
        Rows written, skipped, failed and unknown, with the keys.

    Raises
    ------
    InvalidInputError
        Before anything is sent: a missing column, a null or repeated key, a
        row whose values are all null, a value that cannot be stored, a
        column of a dtype no write can store (``pl.Object``), a TTL that
        would expire the key at once.
    AuthenticationError
        The server needs a password and none (or a wrong one) was given.
    RedisConnectionError
        The server cannot be reached, or the URL's scheme does not match its
        TLS setting (``rediss://`` to a plain server or ``redis://`` to a
        TLS-only one: the message says which to use).
    WriteError
        Keys failed (``WRONGTYPE``, ``OOM``, ``NOPERM``, ...), have an
        unknown outcome, or exist with ``if_exists="fail"``.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"id": [1, 2], "name": ["Ann", "Bob"], "age": [36, 41]})
    >>> result = redis.write_hashes(df, url, key_column="id", key_prefix="user:", ttl=3600)
    >>> (result.written, result.keys_written)
    (2, 2)
    >>> redis.read_hashes(url, "user:*", {"name": pl.String, "age": pl.Int64}).sort("_key")
    shape: (2, 3)
    ┌────────┬──────┬─────┐
    │ _key   ┆ name ┆ age │
    │ ---    ┆ ---  ┆ --- │
    │ str    ┆ str  ┆ i64 │
    ╞════════╪══════╪═════╡
    │ user:1 ┆ Ann  ┆ 36  │
    │ user:2 ┆ Bob  ┆ 41  │
    └────────┴──────┴─────┘
    """
    ttls = [
        (name, math.ceil(ttl.total_seconds()) if isinstance(ttl, timedelta) else ttl)
        for name, ttl in (field_ttl or {}).items()
    ]
    columns = list((field_ttl_column or {}).items())
    return _write(_internal.write_hashes, df, url, options, ttls, columns)


@checked
def write_json(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write a DataFrame as RedisJSON documents, one per row (``JSON.SET``).

    Every column except the key column (and ``ttl_column``) becomes an
    attribute of the document. Integers, floats and booleans are JSON
    numbers and booleans; strings, dates, datetimes, times and decimals are
    JSON strings in the same text form as :func:`write_hashes` uses (exact);
    durations are integers; Struct and List values are nested objects and
    arrays; null is ``null``. A NaN or infinite float, or binary data that is
    not UTF-8, is rejected (JSON cannot hold it). Needs the RedisJSON module:
    a server without it raises :class:`UnsupportedError` before anything is sent.

    Takes the same options as :func:`write_hashes`. ``if_exists="append"``
    merges each row into the stored document with ``JSON.MERGE`` (RFC 7396:
    attributes updated, nested objects merged, arrays replaced); null
    attributes are left out, so the stored ones stay as they are.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"_key": ["doc:1"], "tags": [["a", "b"]], "n": [1]})
    >>> redis.write_json(df, url).written
    1
    """
    return _write(_internal.write_json, df, url, options)


@checked
def write_strings(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    value_column: str = "value",
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write one Redis string per row from ``value_column``.

    Each key is one ``SET`` carrying the TTL (``EX``/``PXAT``) and the
    condition (``NX`` for ``"skip"``/``"fail"``), so value and TTL are
    always applied together. ``if_exists="append"`` replaces the value but
    keeps the key's existing TTL (``KEEPTTL``) unless a TTL is given; it does
    not concatenate. Other columns are not written. Takes the same options
    as :func:`write_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"_key": ["greeting"], "value": ["hello"]})
    >>> redis.write_strings(df, url, ttl=60).written
    1
    """
    return _write(_internal.write_strings, df, url, options, value_column)


@checked
def write_hash_fields(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    field_column: str = "field",
    value_column: str = "value",
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write Redis hashes from long form: rows are grouped by key, one field per row.

    The inverse of :func:`read_hash_fields`: each row is one field of the
    hash named by its key, its name from ``field_column`` and its value from
    ``value_column`` (stored as text by the rules of :func:`write_hashes`).
    All fields of one key are written together, atomically (``HSET`` in
    chunks); a field repeated within a key keeps its last value. With
    ``if_exists="append"`` the given fields are set and the others kept. A
    null field name or value is refused before anything is sent, as is any
    column besides the key, TTL, field and value columns. Takes the same
    options as :func:`write_hashes`; a per-row ``ttl_column`` must agree
    within a key.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame(
    ...     {
    ...         "_key": ["feat:1", "feat:1", "feat:2"],
    ...         "field": ["clicks_7d", "views_7d", "clicks_7d"],
    ...         "value": [3, 40, 5],
    ...     }
    ... )
    >>> result = redis.write_hash_fields(df, url)
    >>> (result.rows, result.keys_written)
    (3, 2)
    >>> schema = {"clicks_7d": pl.Int64, "views_7d": pl.Int64}
    >>> redis.read_hashes(url, keys=["feat:1"], schema=schema)
    shape: (1, 3)
    ┌────────┬───────────┬──────────┐
    │ _key   ┆ clicks_7d ┆ views_7d │
    │ ---    ┆ ---       ┆ ---      │
    │ str    ┆ i64       ┆ i64      │
    ╞════════╪═══════════╪══════════╡
    │ feat:1 ┆ 3         ┆ 40       │
    └────────┴───────────┴──────────┘
    """
    return _write(_internal.write_hash_fields, df, url, options, field_column, value_column)


@checked
def write_sets(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    member_column: str = "member",
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write Redis sets: rows are grouped by key, one member per row.

    All members of one key are written together, atomically.
    ``if_exists="append"`` adds members (``SADD``). A per-row ``ttl_column``
    must agree within a key. Takes the same options as :func:`write_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"_key": ["tags:1", "tags:1", "tags:2"], "member": ["a", "b", "c"]})
    >>> result = redis.write_sets(df, url)
    >>> (result.written, result.keys_written)
    (3, 2)
    """
    return _write(_internal.write_sets, df, url, options, member_column)


@checked
def write_lists(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    element_column: str = "element",
    order_column: str | None = None,
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write Redis lists: rows are grouped by key, one element per row.

    Elements are pushed (``RPUSH``) in row order, or in ascending order of
    ``order_column`` (numeric or temporal; ties keep row order).
    ``if_exists="append"`` pushes them after the existing elements; such
    appends are not retried after a dropped connection (they would
    duplicate elements), so keys whose reply was lost are reported in
    :attr:`WriteResult.unknown_keys`. Takes the same options as
    :func:`write_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"_key": ["q", "q"], "element": ["second", "first"], "pos": [2, 1]})
    >>> redis.write_lists(df, url, order_column="pos").written
    2
    """
    return _write(_internal.write_lists, df, url, options, element_column, order_column)


@checked
def write_zsets(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    member_column: str = "member",
    score_column: str = "score",
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write Redis sorted sets: rows are grouped by key, one member and score per row.

    Scores must be numeric and not NaN; a member repeated within one key is
    rejected. ``if_exists="append"`` adds members and updates the scores of
    existing ones (``ZADD``). Takes the same options as :func:`write_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame(
    ...     {"_key": ["board", "board"], "member": ["ann", "bob"], "score": [3.5, 1.0]}
    ... )
    >>> redis.write_zsets(df, url).keys_written
    1
    """
    return _write(_internal.write_zsets, df, url, options, member_column, score_column)


@checked
def write_streams(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    id_column: str | None = "_id",
    derived_columns: Sequence[str] = ("_ts", "_seq"),
    maxlen: int | None = None,
    approximate: bool = True,
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write Redis stream entries: rows are grouped by key, one entry per row.

    Every column except the key, TTL and id columns is an entry field (null
    fields are left out of the entry). Entries are added in row order with
    ``XADD``, with ids from ``id_column`` (``"<ms>-<seq>"``; default ``_id``,
    as :func:`read_streams` names it) or, when the frame has no such column,
    ``*`` (ids chosen by Redis). Columns in ``derived_columns`` (by default
    ``_ts`` and ``_seq``, which :func:`read_streams` derives from the id) are
    not written, so a frame read with :func:`read_streams` writes back as
    the same entries. ``maxlen`` trims each stream (``MAXLEN ~`` unless
    ``approximate=False``). ``if_exists="append"`` adds entries to the
    existing stream; like list appends they are not retried after a dropped
    connection. Takes the same options as :func:`write_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"_key": ["events", "events"], "kind": ["login", "logout"]})
    >>> redis.write_streams(df, url, maxlen=1000).written
    2
    """
    if isinstance(df, (pl.DataFrame, pl.LazyFrame)):
        columns = df.collect_schema().names()
        if id_column is not None and id_column not in columns and id_column == "_id":
            id_column = None
        df = df.drop([c for c in derived_columns if c in columns and c != id_column])
    return _write(_internal.write_streams, df, url, options, id_column, maxlen, approximate)


@checked
def write_timeseries(
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    *,
    timestamp_column: str = "_ts",
    value_column: str = "value",
    retention: int | timedelta | None = None,
    labels: Mapping[str, str] | None = None,
    **options: Unpack[WriteOptions],
) -> WriteResult:
    """Write RedisTimeSeries samples with ``TS.MADD``: rows grouped by key.

    Each row is one sample: ``timestamp_column`` (default ``_ts``, as
    :func:`read_timeseries` names it: a Datetime, or integer milliseconds
    since the epoch; sub-millisecond digits are rejected) and
    ``value_column`` (default ``value``, numeric). A series that does not exist is created with
    ``TS.CREATE`` using ``retention`` (milliseconds or a ``timedelta``) and
    ``labels``; ``"replace"`` recreates it. A timestamp repeated within one
    key is rejected. ``"append"`` adds samples to existing series (not
    retried after a dropped connection). Needs the RedisTimeSeries module: a
    server without it raises :class:`UnsupportedError` before anything is sent.
    Takes the same options as :func:`write_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame(
    ...     {"_key": ["temp:1"] * 2, "_ts": [1000, 2000], "value": [20.5, 21.0]}
    ... )
    >>> redis.write_timeseries(df, url, labels={"room": "kitchen"}).written
    2
    """
    retention_ms = None
    if retention is not None:
        retention_ms = _milliseconds(retention, "retention")
    return _write(
        _internal.write_timeseries,
        df,
        url,
        options,
        timestamp_column,
        value_column,
        retention_ms,
        list((labels or {}).items()),
    )


def _write(
    native: Callable[..., dict[str, Any]],
    df: pl.DataFrame | pl.LazyFrame,
    url: str | Client,
    options: WriteOptions,
    *extra: Any,
) -> WriteResult:
    """Run one native write with the shared options, and raise or report.
    A LazyFrame is written batch by batch as Polars produces it (see
    ``_lazy_write``), into one combined result."""
    args: dict[str, Any] = {**_DEFAULTS, **options}
    shared = {
        "url": url,
        "key_column": args["key_column"],
        "formats": format_pairs(args["formats"]),
        "key_prefix": to_bytes(args["key_prefix"]),
        "ttl": _seconds(args["ttl"]) if args["ttl"] is not None else None,
        "ttl_column": args["ttl_column"],
        "if_exists": args["if_exists"],
        "batch_size": args["batch_size"],
        "parallelism": args["parallelism"],
        "connect_timeout": args["connect_timeout"],
        "command_timeout": args["command_timeout"],
        "rate_limit": args["rate_limit"],
        "latency_budget_ms": args["latency_budget_ms"],
        "progress": None,
    }
    total = None if isinstance(df, pl.LazyFrame) else df.height
    track = tracker(args["progress"], native.__name__, total)
    counts = _CallCounts(track)
    if track is not None:
        shared["progress"] = counts
    try:
        if isinstance(df, pl.LazyFrame):
            grouped = native in _GROUPED_WRITES
            batches, key_column = lazy_batches(df, args["key_column"], args["if_exists"], grouped)
            shared["key_column"] = key_column
            result = _write_batches(native, batches, shared, extra, counts)
        else:
            result = counts.ended(_result(native(_exportable(df), shared, *extra)))
    finally:
        if track is not None:
            track.finish()
    if args["raise_on_error"] and not result.ok:
        raise WriteError(f"write incomplete: {result}", result)
    return result


def _write_batches(
    native: Callable[..., dict[str, Any]],
    batches: Iterator[pl.DataFrame],
    shared: dict[str, Any],
    extra: tuple[Any, ...],
    counts: _CallCounts,
) -> WriteResult:
    """Write a LazyFrame's batches one after the other, the next one taken
    from Polars and checked on a background thread meanwhile; one result."""
    parts = []
    with Prefetched(batches) as prefetched:
        for batch in prefetched:
            result = counts.ended(_result(native(_exportable(batch), shared, *extra)))
            parts.append((batch.height, result))
            del batch  # not kept while Polars produces the next one
    return _combined(parts)


class _CallCounts:
    """Feeds a write's progress tracker: the native write reports the rows
    done and keys written of its own call (cumulative) while it runs, and
    each call's result gives the exact counts once it ends."""

    def __init__(self, track: Tracker | None) -> None:
        self._track = track
        self._rows = 0
        self._keys = 0

    def __call__(self, rows: int, keys: int) -> None:
        if self._track is not None:
            self._track.add(rows - self._rows, keys - self._keys)
        self._rows, self._keys = rows, keys

    def ended(self, result: WriteResult) -> WriteResult:
        """Count the rest of a finished call; its result, unchanged."""
        self(result.rows, result.keys_written)
        self._rows = self._keys = 0
        return result


#: The writes whose rows are grouped by key (many rows per key).
_GROUPED_WRITES = (
    _internal.write_hash_fields,
    _internal.write_sets,
    _internal.write_lists,
    _internal.write_zsets,
    _internal.write_streams,
    _internal.write_timeseries,
)


def _combined(batches: Sequence[tuple[int, WriteResult]]) -> WriteResult:
    """One result for the consecutive batches of a LazyFrame, each with its row count."""
    results = [result for _, result in batches]
    offsets = [0]
    for rows, _ in batches:
        offsets.append(offsets[-1] + rows)

    def shifted(failures: list[KeyFailure], offset: int) -> list[KeyFailure]:
        return [replace(f, first_row=f.first_row + offset) for f in failures]

    return WriteResult(
        rows=sum(r.rows for r in results),
        written=sum(r.written for r in results),
        skipped=sum(r.skipped for r in results),
        failed=sum(r.failed for r in results),
        unknown=sum(r.unknown for r in results),
        keys_written=sum(r.keys_written for r in results),
        skipped_keys=[k for r in results for k in r.skipped_keys],
        failures=[f for r, o in zip(results, offsets) for f in shifted(r.failures, o)],
        unknown_keys=[f for r, o in zip(results, offsets) for f in shifted(r.unknown_keys, o)],
    )


def _exportable(df: pl.DataFrame) -> pl.DataFrame:
    """Check dtypes Arrow cannot carry; all-null (``pl.Null``) columns go as
    null strings, which every write treats exactly like nulls.

    ``pl.Object`` is refused here, whatever the column's role: it reaches
    Arrow as 8 bytes per cell (the address of the Python object) with
    nothing to tell it from binary data, so the core cannot catch it."""
    wide = tuple(t for t in (getattr(pl, "Int128", None), getattr(pl, "UInt128", None)) if t)
    casts: dict[str, pl.DataType] = {}
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Object):
            msg = (
                f"column {name!r} is {dtype} (Python objects), which cannot be written to "
                "Redis: cast it to String or another dtype, or drop it (nothing was written)"
            )
            raise InvalidInputError(msg)
        if wide and isinstance(dtype, wide):
            msg = f"column {name!r}: {dtype} cannot be written (no 128-bit Arrow integers); cast it"
            raise InvalidInputError(msg)
        exportable = _without_null(dtype)
        if exportable != dtype:
            casts[name] = exportable
    return df.cast(casts) if casts else df  # type: ignore[arg-type]


def _without_null(dtype: pl.DataType) -> pl.DataType:
    """``dtype`` with every (nested) ``Null`` replaced by ``String``."""
    if isinstance(dtype, pl.Null):
        return pl.String()
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _without_null(f.dtype) for f in dtype.fields})  # type: ignore[arg-type]
    if isinstance(dtype, pl.List):
        return pl.List(_without_null(dtype.inner))  # type: ignore[arg-type]
    if isinstance(dtype, pl.Array):
        return pl.Array(_without_null(dtype.inner), dtype.shape)  # type: ignore[arg-type]
    return dtype


def _seconds(ttl: Any) -> int:
    """Whole seconds (a timedelta rounded up); the core checks the value."""
    if isinstance(ttl, timedelta):
        return math.ceil(ttl.total_seconds())
    if isinstance(ttl, int) and not isinstance(ttl, bool):
        return ttl
    msg = f"ttl must be whole seconds (int) or a timedelta, got {ttl!r}"
    raise InvalidInputError(msg)


def _milliseconds(value: Any, name: str) -> int:
    if isinstance(value, timedelta):
        ms = math.ceil(value.total_seconds() * 1000)
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    else:
        msg = f"{name} must be milliseconds (int) or a timedelta, got {value!r}"
        raise InvalidInputError(msg)
    if ms < 0:
        msg = f"{name} must not be negative, got {value!r}"
        raise InvalidInputError(msg)
    return ms


def _key(raw: bytes) -> Key:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def _failures(items: Sequence[tuple[bytes, int, int, str]]) -> list[KeyFailure]:
    return [KeyFailure(_key(k), first, rows, message) for k, first, rows, message in items]


def _result(raw: dict[str, Any]) -> WriteResult:
    return WriteResult(
        rows=raw["rows"],
        written=raw["written"],
        skipped=raw["skipped"],
        failed=raw["failed"],
        unknown=raw["unknown"],
        keys_written=raw["keys_written"],
        skipped_keys=[_key(k) for k in raw["skipped_keys"]],
        failures=_failures(raw["failures"]),
        unknown_keys=_failures(raw["unknown_keys"]),
    )
