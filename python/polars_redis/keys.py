"""Key management: list, inspect, expire, persist, rename and delete many
keys at once.

Every function sends one pipeline per Redis node (each key to the master of
its hash slot on a cluster, following ``MOVED``/``ASK``), and reports what
happened to each key: the ``*Result`` dataclasses count the keys changed,
missing or refused and name the failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Union

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType
from polars_redis._plugin import to_bytes
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import InvalidInputError
from polars_redis.write import Key, _key, _seconds

#: Keys as a list (``str`` or ``bytes``) or a Polars Series of them.
Keys = Union[Sequence[Union[str, bytes]], pl.Series]

_KEY_TYPES = Literal[
    "string", "list", "set", "zset", "hash", "stream", "json", "ReJSON-RL",
    "timeseries", "TSDB-TYPE", "vectorset",
]  # fmt: skip

#: What the server said about a missing key, in ``errors``.
NO_SUCH_KEY = "no such key"


@dataclass(frozen=True)
class DeleteResult:
    """What :func:`delete_keys` did. ``deleted + not_found + failed`` is the
    number of keys (zero of each with ``dry_run``)."""

    deleted: int
    """Keys deleted."""
    not_found: int
    """Keys that did not exist (any more)."""
    failed: int = 0
    """Keys the server refused; see :attr:`errors`."""
    errors: list[tuple[Key, str]] = field(default_factory=list)
    """``(key, error)`` of every refused key, in order."""
    keys: list[Key] = field(default_factory=list)
    """The keys acted on: those given, or those the pattern matched (with
    ``dry_run``: the keys that would be deleted)."""
    dry_run: bool = False
    """True when nothing was deleted."""


@dataclass(frozen=True)
class TtlResult:
    """What :func:`set_ttl`, :func:`set_ttl_from_column` or
    :func:`persist_keys` did. ``succeeded + failed + len(skipped)`` is the
    number of keys."""

    succeeded: int
    """Keys whose TTL was set (or removed)."""
    failed: int
    """Keys missing or refused; see :attr:`errors`."""
    errors: list[tuple[Key, str]] = field(default_factory=list)
    """``(key, error)`` of every failed key, in order (``"no such key"`` for
    a missing one)."""
    not_found: list[Key] = field(default_factory=list)
    """The missing keys, in order (also in :attr:`errors`)."""
    skipped: list[Key] = field(default_factory=list)
    """Keys left alone: :func:`persist_keys` on a key without a TTL."""


@dataclass(frozen=True)
class RenameResult:
    """What :func:`rename_keys` did. ``succeeded + failed`` is the number of pairs."""

    succeeded: int
    """Keys renamed."""
    failed: int
    """Pairs not renamed; see :attr:`errors`."""
    errors: list[tuple[Key, str]] = field(default_factory=list)
    """``(old key, reason)`` of every pair not renamed, in order: ``"no such
    key"``, a target that exists (``if_exists="fail"``), or the server's error."""


def _limits(
    connect_timeout: float | None, command_timeout: float | None, rate_limit: float | None
) -> tuple[Any, Any, Any]:
    return (connect_timeout, command_timeout, rate_limit)


def byte_list(values: Keys, name: str = "keys") -> list[bytes]:
    """Keys (or members) as bytes, from a list or a String/Binary Series
    without nulls; ``name`` is the parameter or column, for errors."""
    if isinstance(values, pl.Series):
        if values.dtype not in (pl.String, pl.Binary):
            msg = f"{name} must be a String or Binary Series, got {values.dtype}"
            raise InvalidInputError(msg)
        if values.null_count():
            row = values.is_null().arg_true()[0]
            msg = f"{name} holds a null at row {row}"
            raise InvalidInputError(msg)
        values = values.to_list()
    return [to_bytes(v) for v in values]


def _errors(raw: dict[str, Any]) -> list[tuple[Key, str]]:
    return [(_key(k), message) for k, _, message in raw["failures"]]


def _ttl_result(raw: dict[str, Any]) -> TtlResult:
    missing = [_key(k) for k in raw["missing"]]
    errors = _errors(raw) + [(k, NO_SUCH_KEY) for k in missing]
    return TtlResult(
        succeeded=raw["succeeded"],
        failed=len(raw["failures"]) + len(missing),
        errors=errors,
        not_found=missing,
        skipped=[_key(k) for k in raw["skipped"]],
    )


@checked
@with_scan_options
def scan_keys(
    url: str | Client,
    pattern: str | bytes = "*",
    *,
    type: _KEY_TYPES | None = None,
    include_ttl: bool = False,
    include_memory: bool = False,
    count: int | None = None,
    key_dtype: DType = pl.String,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> pl.DataFrame:
    """List the keys matching a pattern, with their type and, if asked, TTL
    and memory.

    Keys come from ``SCAN ... MATCH pattern`` on every master (with ``TYPE``
    when ``type`` is given), each once; their type (``TYPE``), TTL (``PTTL``)
    and memory (``MEMORY USAGE``) are asked in one pipeline per node. A key
    deleted between the listing and those commands is left out.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` or
        ``unix:///path/redis.sock``; a cluster node lists the whole cluster.
    pattern
        Glob pattern of the keys (default every key).
    type
        Only keys of this Redis type: ``string``, ``list``, ``set``, ``zset``,
        ``hash``, ``stream``, ``json`` (``ReJSON-RL``), ``timeseries``
        (``TSDB-TYPE``) or ``vectorset``.
    include_ttl
        Add ``_ttl``: the seconds left as ``TTL`` rounds them, null for a key
        without expiry.
    include_memory
        Add ``memory_bytes``, from ``MEMORY USAGE``.
    count
        ``SCAN ... COUNT`` hint (default 1000).
    key_dtype
        ``pl.String`` (default; a key that is not UTF-8 raises
        :class:`ParseError`) or ``pl.Binary``.
    {key_call_options}

    Returns
    -------
    DataFrame
        Columns ``_key``, ``type``, then ``_ttl`` (Int64) and ``memory_bytes``
        (Int64) if asked, in listing order.

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.scan_keys(url, "visits:*", type="string", include_ttl=True).sort("_key")
    shape: (3, 3)
    ┌──────────┬────────┬──────┐
    │ _key     ┆ type   ┆ _ttl │
    │ ---      ┆ ---    ┆ ---  │
    │ str      ┆ str    ┆ i64  │
    ╞══════════╪════════╪══════╡
    │ visits:a ┆ string ┆ null │
    │ visits:b ┆ string ┆ null │
    │ visits:c ┆ string ┆ null │
    └──────────┴────────┴──────┘
    """
    table = _internal.scan_keys_table(
        url,
        to_bytes(pattern),
        type,
        include_ttl,
        include_memory,
        count,
        _key_dtype(key_dtype),
        _limits(connect_timeout, command_timeout, rate_limit),
    )
    return pl.DataFrame(table)


@checked
@with_scan_options
def delete_keys(
    url: str | Client,
    keys: Keys | None = None,
    *,
    pattern: str | bytes | None = None,
    dry_run: bool = False,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> DeleteResult:
    """Delete keys, listed or matched by a pattern, with ``UNLINK``.

    A pattern's keys are listed first (``SCAN`` on every master); exactly
    those are deleted, one ``UNLINK`` per key pipelined to its node, so a
    key created after the listing is kept. With ``dry_run`` nothing is
    deleted and :attr:`DeleteResult.keys` lists what would be.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    keys
        The keys to delete (a list or a String/Binary Series); or give ``pattern``.
    pattern
        Glob pattern of the keys to delete.
    dry_run
        Only list the keys.
    {key_call_options}

    Returns
    -------
    DeleteResult

    Raises
    ------
    InvalidInputError
        Both or neither of ``keys`` and ``pattern`` given.

    Examples
    --------
    >>> import polars_redis as redis
    >>> sorted(redis.delete_keys(url, pattern="visits:*", dry_run=True).keys)
    ['visits:a', 'visits:b', 'visits:c']
    >>> result = redis.delete_keys(url, ["visits:a", "visits:zzz"])
    >>> result.deleted, result.not_found
    (1, 1)
    """
    if (keys is None) == (pattern is None):
        msg = "delete_keys takes either keys or pattern=..., not both or neither"
        raise InvalidInputError(msg)
    listed, raw = _internal.unlink_keys(
        url,
        None if keys is None else byte_list(keys),
        None if pattern is None else to_bytes(pattern),
        dry_run,
        _limits(connect_timeout, command_timeout, rate_limit),
    )
    return DeleteResult(
        deleted=raw["succeeded"],
        not_found=len(raw["missing"]),
        failed=len(raw["failures"]),
        errors=_errors(raw),
        keys=[_key(k) for k in listed],
        dry_run=dry_run,
    )


@checked
@with_scan_options
def set_ttl(
    url: str | Client,
    keys: Keys,
    ttl: int | timedelta,
    *,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> TtlResult:
    """Give keys a time to live (``EXPIRE``), pipelined per node.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    keys
        The keys (a list or a String/Binary Series).
    ttl
        Whole seconds (at least 1), or a ``timedelta`` rounded up to seconds.
    {key_call_options}

    Returns
    -------
    TtlResult
        A missing key counts as failed, with the error ``"no such key"``.

    Examples
    --------
    >>> import polars_redis as redis
    >>> result = redis.set_ttl(url, ["visits:a", "visits:b", "nope"], 3600)
    >>> result.succeeded, result.failed, result.errors
    (2, 1, [('nope', 'no such key')])
    """
    keys_list = byte_list(keys)
    raw = _internal.expire_keys(
        url, keys_list, [_seconds(ttl)], _limits(connect_timeout, command_timeout, rate_limit)
    )
    return _ttl_result(raw)


@checked
@with_scan_options
def set_ttl_from_column(
    df: pl.DataFrame | str,
    url: str | pl.DataFrame,
    key_column: str,
    ttl_column: str,
    *,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> TtlResult:
    """Give each key of a frame its own time to live, from another column.

    ``set_ttl_from_column(url, df, ...)``, the argument order of polars-redis
    0.1.6, is accepted too.

    Parameters
    ----------
    df
        The frame.
    url
        Connection URL, as for :func:`scan_keys`.
    key_column
        The String (or Binary) column of keys.
    ttl_column
        The integer column of seconds (at least 1), or a Duration column
        (rounded up to seconds). A null fails the call, naming the row.
    {key_call_options}

    Returns
    -------
    TtlResult

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = pl.DataFrame({"key": ["visits:a", "visits:b"], "ttl": [60, 7200]})
    >>> redis.set_ttl_from_column(df, url, "key", "ttl").succeeded
    2
    >>> redis.get_ttl(url, ["visits:a", "visits:b"])["ttl"].to_list()
    [60, 7200]
    """
    if isinstance(df, str) and isinstance(url, pl.DataFrame):
        df, url = url, df
    if not isinstance(df, pl.DataFrame) or not isinstance(url, str):
        msg = "set_ttl_from_column takes a DataFrame and a URL (str)"
        raise InvalidInputError(msg)
    for name in (key_column, ttl_column):
        if name not in df.columns:
            msg = f"set_ttl_from_column: no column {name!r} in the frame (columns: {df.columns})"
            raise InvalidInputError(msg)
    ttls = df[ttl_column]
    if isinstance(ttls.dtype, pl.Duration):
        ttls = (ttls.dt.total_microseconds() + 999_999) // 1_000_000
    elif not ttls.dtype.is_integer():
        msg = (
            f"ttl column {ttl_column!r} must hold integers (seconds) or durations, got {ttls.dtype}"
        )
        raise InvalidInputError(msg)
    if ttls.null_count():
        row = ttls.is_null().arg_true()[0]
        msg = f"ttl column {ttl_column!r} is null at row {row} (key {df[key_column][row]!r})"
        raise InvalidInputError(msg)
    raw = _internal.expire_keys(
        url,
        byte_list(df[key_column], key_column),
        ttls.cast(pl.Int64).to_list(),
        _limits(connect_timeout, command_timeout, rate_limit),
    )
    return _ttl_result(raw)


@checked
@with_scan_options
def persist_keys(
    url: str | Client,
    keys: Keys,
    *,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> TtlResult:
    """Remove the time to live of keys (``PERSIST``), pipelined per node.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    keys
        The keys (a list or a String/Binary Series).
    {key_call_options}

    Returns
    -------
    TtlResult
        Keys without a TTL are :attr:`TtlResult.skipped`; missing keys failed.

    Examples
    --------
    >>> import polars_redis as redis
    >>> _ = redis.set_ttl(url, ["visits:a"], 60)
    >>> result = redis.persist_keys(url, ["visits:a", "visits:b"])
    >>> result.succeeded, result.skipped
    (1, ['visits:b'])
    """
    raw = _internal.persist(
        url, byte_list(keys), _limits(connect_timeout, command_timeout, rate_limit)
    )
    return _ttl_result(raw)


@checked
@with_scan_options
def get_ttl(
    url: str | Client,
    keys: Keys,
    *,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> pl.DataFrame:
    """The time to live of keys (``TTL``), pipelined per node.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    keys
        The keys (a list or a String/Binary Series).
    {key_call_options}

    Returns
    -------
    DataFrame
        ``key`` (as given) and ``ttl`` (Int64 seconds; -1 for a key without
        expiry, -2 for a missing key, as Redis answers).

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.get_ttl(url, ["visits:a", "nope"])
    shape: (2, 2)
    ┌──────────┬─────┐
    │ key      ┆ ttl │
    │ ---      ┆ --- │
    │ str      ┆ i64 │
    ╞══════════╪═════╡
    │ visits:a ┆ -1  │
    │ nope     ┆ -2  │
    └──────────┴─────┘
    """
    listed = byte_list(keys)
    ttls = _internal.key_ttls(url, listed, _limits(connect_timeout, command_timeout, rate_limit))
    return pl.DataFrame({"key": as_given(keys, listed), "ttl": pl.Series(ttls, dtype=pl.Int64)})


@checked
@with_scan_options
def exists_keys(
    url: str | Client,
    keys: Keys,
    *,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> pl.DataFrame:
    """Whether keys exist (``EXISTS``), pipelined per node.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    keys
        The keys (a list or a String/Binary Series).
    {key_call_options}

    Returns
    -------
    DataFrame
        ``key`` (as given) and ``exists`` (Boolean).

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.exists_keys(url, ["visits:a", "nope"])["exists"].to_list()
    [True, False]
    """
    listed = byte_list(keys)
    found = _internal.keys_exist(url, listed, _limits(connect_timeout, command_timeout, rate_limit))
    return pl.DataFrame(
        {"key": as_given(keys, listed), "exists": pl.Series(found, dtype=pl.Boolean)}
    )


@checked
@with_scan_options
def rename_keys(
    url: str | Client,
    mapping: Mapping[str | bytes, str | bytes]
    | Sequence[tuple[str | bytes, str | bytes]]
    | pl.DataFrame,
    *,
    if_exists: Literal["fail", "replace"] = "fail",
    old_key_column: str | None = None,
    new_key_column: str | None = None,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> RenameResult:
    """Rename keys, pipelined per node.

    With ``if_exists="fail"`` each pair is renamed with ``RENAMENX``: a pair
    whose target exists is left alone and reported in
    :attr:`RenameResult.errors` (the others still go ahead); with
    ``"replace"``, ``RENAME`` overwrites the target. On a cluster both names
    of every pair must share a hash slot (give them the same hash tag, e.g.
    ``{user:1}:old`` and ``{user:1}:new``): otherwise nothing is renamed and
    :class:`InvalidInputError` names the pairs that cross slots.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    mapping
        ``{old: new}``, a list of ``(old, new)`` pairs, or a frame whose
        ``old_key_column`` and ``new_key_column`` hold them (by default its
        two columns, in order).
    if_exists
        ``"fail"`` (default) or ``"replace"``.
    old_key_column, new_key_column
        The columns of a frame ``mapping``.
    {key_call_options}

    Returns
    -------
    RenameResult

    Examples
    --------
    >>> import polars_redis as redis
    >>> result = redis.rename_keys(url, {"visits:a": "visits:z", "visits:b": "visits:c"})
    >>> result.succeeded, result.errors
    (1, [('visits:b', 'the target key "visits:c" exists (if_exists="fail")')])
    """
    pairs = [
        (to_bytes(old), to_bytes(new))
        for old, new in _pairs(mapping, old_key_column, new_key_column)
    ]
    raw = _internal.rename(
        url, pairs, if_exists, _limits(connect_timeout, command_timeout, rate_limit)
    )
    errors = _errors(raw) + [(_key(k), NO_SUCH_KEY) for k in raw["missing"]]
    return RenameResult(succeeded=raw["succeeded"], failed=len(errors), errors=errors)


@checked
@with_scan_options
def key_info(
    url: str | Client,
    keys: str | bytes | Keys,
    *,
    include_memory: bool = True,
    key_dtype: DType = pl.String,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    rate_limit: float | None = None,
) -> pl.DataFrame:
    """Type, TTL, memory, encoding and length of keys.

    Per key, ``TYPE``, ``TTL``, ``MEMORY USAGE`` and ``OBJECT ENCODING``, then
    the length command of its type (``STRLEN``, ``LLEN``, ``SCARD``,
    ``ZCARD``, ``HLEN``, ``XLEN``), pipelined per node.

    Parameters
    ----------
    url
        Connection URL, as for :func:`scan_keys`.
    keys
        A glob pattern (``str`` or ``bytes``: its keys are listed with
        ``SCAN``), or a list / Series of keys.
    include_memory
        Fill ``memory_usage`` (set False to leave it null, as polars-redis
        0.1.6 did by default).
    key_dtype
        Dtype of the ``key`` column: ``pl.String`` (default) or ``pl.Binary``.
    {key_call_options}

    Returns
    -------
    DataFrame
        ``key``, ``key_type`` (``none`` for a missing key), ``ttl`` (-1
        without expiry, -2 when missing), ``memory_usage`` (bytes),
        ``encoding`` and ``length`` (null for types without one).

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.key_info(url, ["queue:a", "tags:1", "nope"]).drop("memory_usage")
    shape: (3, 5)
    ┌─────────┬──────────┬─────┬──────────┬────────┐
    │ key     ┆ key_type ┆ ttl ┆ encoding ┆ length │
    │ ---     ┆ ---      ┆ --- ┆ ---      ┆ ---    │
    │ str     ┆ str      ┆ i64 ┆ str      ┆ i64    │
    ╞═════════╪══════════╪═════╪══════════╪════════╡
    │ queue:a ┆ list     ┆ -1  ┆ listpack ┆ 2      │
    │ tags:1  ┆ set      ┆ -1  ┆ listpack ┆ 3      │
    │ nope    ┆ none     ┆ -2  ┆ null     ┆ null   │
    └─────────┴──────────┴─────┴──────────┴────────┘
    """
    pattern = to_bytes(keys) if isinstance(keys, (str, bytes)) else None
    listed = None if pattern is not None else byte_list(keys)  # type: ignore[arg-type]
    table = _internal.key_info_table(
        url,
        listed,
        pattern,
        _key_dtype(key_dtype),
        _limits(connect_timeout, command_timeout, rate_limit),
    )
    df = pl.DataFrame(table)
    if not include_memory:
        df = df.with_columns(pl.lit(None, dtype=pl.Int64).alias("memory_usage"))
    return df


def _key_dtype(dtype: DType) -> str:
    if dtype in (pl.String, pl.Utf8):
        return "String"
    if dtype == pl.Binary:
        return "Binary"
    msg = f"key_dtype must be pl.String or pl.Binary, got {dtype}"
    raise InvalidInputError(msg)


def as_given(given: Keys, listed: list[bytes]) -> pl.Series:
    """Keys (or members) as the caller gave them: a Series as is, a list as
    text when every one is text, else as bytes (``listed``)."""
    if isinstance(given, pl.Series):
        return given
    if all(isinstance(k, str) for k in given):
        return pl.Series(list(given), dtype=pl.String)
    return pl.Series(listed, dtype=pl.Binary)


def _pairs(
    mapping: Mapping[Any, Any] | Sequence[tuple[Any, Any]] | pl.DataFrame,
    old_key_column: str | None,
    new_key_column: str | None,
) -> list[tuple[Any, Any]]:
    if isinstance(mapping, pl.DataFrame):
        if old_key_column is None and new_key_column is None and mapping.width == 2:
            old_key_column, new_key_column = mapping.columns
        for name in (old_key_column, new_key_column):
            if name is None or name not in mapping.columns:
                msg = (
                    "rename_keys: name the frame's old_key_column and new_key_column "
                    f"(columns: {mapping.columns}, got {old_key_column!r}, {new_key_column!r})"
                )
                raise InvalidInputError(msg)
        frame = mapping.select(old_key_column, new_key_column)
        if frame.null_count().sum_horizontal()[0]:
            msg = "rename_keys: the key columns hold nulls"
            raise InvalidInputError(msg)
        return list(frame.iter_rows())
    if isinstance(mapping, Mapping):
        return list(mapping.items())
    return list(mapping)
