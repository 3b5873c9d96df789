"""A DataFrame cache in Redis: whole frames stored as Arrow IPC or Parquet.

Polars serializes the frame; the Rust core stores the bytes in chunks under
a new version and publishes them by switching one manifest key atomically,
so a reader sees the old frame or the new one, never a mix. Every chunk and
the whole payload carry an XXH3 checksum, checked on read: a damaged or
truncated entry raises :class:`~polars_redis.CacheCorruptError`, never a
wrong frame. An entry's keys share one hash tag, so it works on a cluster.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import hashlib
import inspect
import io
import json
import pathlib
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import polars as pl

from polars_redis import _internal
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.exceptions import ArgumentTypeError, InvalidInputError

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "CacheOptions",
    "CachedFunction",
    "cache",
    "cache_dataframe",
    "cache_exists",
    "cache_info",
    "cache_lazy",
    "cache_ttl",
    "delete_cached",
    "get_cached_dataframe",
    "scan_cached",
]

CacheFormat = Literal["ipc", "parquet"]

_MIB = 1024 * 1024
_DEFAULT_CHUNK_SIZE_MB: int = _internal.DEFAULT_CACHE_CHUNK_SIZE // _MIB
_MAX_CHUNK_SIZE_MB: int = _internal.CACHE_CHUNK_SIZE_LIMIT[1] // _MIB

# Codecs Polars writes, per format, with the default first; and the
# compression levels Parquet accepts per codec.
_CODECS: dict[str, tuple[str, ...]] = {
    "ipc": ("uncompressed", "lz4", "zstd"),
    "parquet": ("zstd", "uncompressed", "snappy", "gzip", "lz4", "brotli"),
}
_LEVELS: dict[str, tuple[int, int]] = {"gzip": (0, 9), "brotli": (0, 11), "zstd": (1, 22)}


def _codec(format: str, compression: str | None, level: int | None) -> str:
    """The codec to write with, after checking it and its level."""
    codecs = _CODECS[format]
    codec = codecs[0] if compression is None else compression
    if codec not in codecs:
        shown = ", ".join(repr(c) for c in codecs)
        msg = f"compression for format {format!r} must be one of {shown}, got {compression!r}"
        raise InvalidInputError(msg)
    if level is None:
        return codec
    if format == "ipc":
        msg = "compression_level applies to format='parquet' only (IPC codecs have no level)"
        raise InvalidInputError(msg)
    if codec not in _LEVELS:
        msg = f"compression_level applies to gzip, brotli and zstd, not {codec!r}"
        raise InvalidInputError(msg)
    low, high = _LEVELS[codec]
    if not low <= level <= high:
        msg = f"compression_level for {codec} must be between {low} and {high}, got {level}"
        raise InvalidInputError(msg)
    return codec


def _chunk_size(chunk_size_mb: float) -> int:
    if not 0 <= chunk_size_mb <= _MAX_CHUNK_SIZE_MB:
        msg = (
            f"chunk_size_mb must be between 0 (one value, not chunked) and "
            f"{_MAX_CHUNK_SIZE_MB}, got {chunk_size_mb}"
        )
        raise InvalidInputError(msg)
    size = int(chunk_size_mb * _MIB)
    if chunk_size_mb > 0 and size == 0:
        msg = f"chunk_size_mb {chunk_size_mb} is less than one byte; use 0 to disable chunking"
        raise InvalidInputError(msg)
    return size


def _positive_ttl(ttl: int | None) -> int | None:
    if ttl is not None and ttl <= 0:
        msg = f"ttl must be a positive number of seconds, got {ttl}"
        raise InvalidInputError(msg)
    return ttl


@checked
def cache_dataframe(
    df: pl.DataFrame,
    url: str | Client,
    key: str,
    *,
    format: CacheFormat = "ipc",
    compression: str | None = None,
    compression_level: int | None = None,
    ttl: int | None = None,
    chunk_size_mb: int | float = _DEFAULT_CHUNK_SIZE_MB,
) -> int:
    """Store a DataFrame at ``key``; returns the bytes stored.

    Parameters
    ----------
    df
        The frame to cache.
    url
        Redis URL (``redis://``, ``rediss://``, ``unix://``); a cluster node works too.
    key
        The cache key (its manifest); chunks go to ``{key}:chunk:...``.
    format
        ``"ipc"`` (Arrow IPC: fastest) or ``"parquet"`` (smallest).
    compression
        IPC: ``"uncompressed"`` (default), ``"lz4"``, ``"zstd"``. Parquet:
        ``"zstd"`` (default), ``"uncompressed"``, ``"snappy"``, ``"gzip"``,
        ``"lz4"``, ``"brotli"``.
    compression_level
        Parquet only: gzip 0-9, brotli 0-11, zstd 1-22.
    ttl
        Seconds until the entry expires (manifest and chunks alike); ``None``: never.
    chunk_size_mb
        Size of each chunk in MiB (at most 512, one Redis value); ``0`` stores
        one value, which must then be at most 512 MiB.

    Returns
    -------
    int
        Bytes of the serialized frame.

    Raises
    ------
    InvalidInputError
        An unknown compression for the format, a level out of range, a
        non-positive ttl or a chunk size out of range.

    Examples
    --------
    >>> df = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    >>> redis.cache_dataframe(df, url, "result:1") > 0
    True
    >>> redis.get_cached_dataframe(url, "result:1").equals(df)
    True
    >>> size = redis.cache_dataframe(df, url, "result:2", format="parquet", ttl=3600)
    """
    codec = _codec(format, compression, compression_level)
    chunk_size = _chunk_size(chunk_size_mb)
    ttl = _positive_ttl(ttl)
    buffer = io.BytesIO()
    if format == "ipc":
        df.write_ipc(buffer, compression=codec)  # type: ignore[call-overload]
    else:
        df.write_parquet(
            buffer,
            compression=codec,  # type: ignore[arg-type]
            compression_level=compression_level,
        )
    return int(
        _internal.cache_store(
            url,
            key,
            buffer.getvalue(),
            format,
            codec,
            compression_level,
            df.height,
            df.columns,
            chunk_size,
            ttl,
        )
    )


def _read(
    payload: bytes,
    format: str,
    columns: Sequence[str] | None,
    n_rows: int | None,
) -> pl.DataFrame:
    source = io.BytesIO(payload)
    projection = list(columns) if columns is not None else None
    if format == "parquet":
        return pl.read_parquet(source, columns=projection, n_rows=n_rows)
    return pl.read_ipc(source, columns=projection, n_rows=n_rows)


@checked
def get_cached_dataframe(
    url: str | Client,
    key: str,
    *,
    format: CacheFormat | None = None,
    columns: Sequence[str] | None = None,
    n_rows: int | None = None,
) -> pl.DataFrame | None:
    """The frame cached at ``key``, or ``None`` if there is none.

    Parameters
    ----------
    url
        Redis URL.
    key
        The cache key.
    format
        The format it was cached in; ``None`` takes it from the entry (a
        different format given here is an error).
    columns
        Read only these columns.
    n_rows
        Read at most this many rows.

    Raises
    ------
    CacheCorruptError
        A chunk is missing or fails its checksum.
    InvalidInputError
        ``format`` differs from the entry's, an unknown column, a negative
        ``n_rows``, or ``key`` holds something that is not a cache entry.

    Examples
    --------
    >>> df = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    >>> _ = redis.cache_dataframe(df, url, "result:1")
    >>> redis.get_cached_dataframe(url, "result:1", columns=["b"], n_rows=2)
    shape: (2, 1)
    ┌─────┐
    │ b   │
    │ --- │
    │ str │
    ╞═════╡
    │ x   │
    │ y   │
    └─────┘
    >>> redis.get_cached_dataframe(url, "missing") is None
    True
    """
    if n_rows is not None and n_rows < 0:
        msg = f"n_rows must be at least 0, got {n_rows}"
        raise InvalidInputError(msg)
    loaded = _internal.cache_load(url, key)
    if loaded is None:
        return None
    manifest, payload = loaded
    stored = manifest["format"]
    if format is not None and format != stored:
        msg = f"cache entry {key!r} is in format {stored!r}, not {format!r}"
        raise InvalidInputError(msg)
    if columns is not None:
        unknown = [c for c in columns if c not in manifest["columns"]]
        if unknown:
            msg = f"cache entry {key!r} has no column(s) {unknown}; it has {manifest['columns']}"
            raise InvalidInputError(msg)
    return _read(payload, stored, columns, n_rows)


@checked
def scan_cached(url: str | Client, key: str) -> pl.LazyFrame | None:
    """The frame cached at ``key`` as a LazyFrame, or ``None``.

    The entry is read (and checked) now; the query runs over it in memory.

    Parameters
    ----------
    url
        Redis URL.
    key
        The cache key.

    Returns
    -------
    LazyFrame or None
        ``None`` when there is no entry at ``key``.

    Examples
    --------
    >>> df = pl.DataFrame({"a": [1, 2, 3]})
    >>> _ = redis.cache_dataframe(df, url, "result:1")
    >>> redis.scan_cached(url, "result:1").filter(pl.col("a") > 1).collect()["a"].to_list()
    [2, 3]
    """
    df = get_cached_dataframe(url, key)
    return None if df is None else df.lazy()


@checked
def delete_cached(url: str | Client, key: str) -> bool:
    """Delete the entry at ``key`` (manifest and chunks); whether there was one.

    A key holding anything other than a cache entry is left alone
    (:class:`~polars_redis.InvalidInputError`).

    Examples
    --------
    >>> _ = redis.cache_dataframe(pl.DataFrame({"a": [1]}), url, "result:1")
    >>> redis.delete_cached(url, "result:1"), redis.delete_cached(url, "result:1")
    (True, False)
    """
    return bool(_internal.cache_delete(url, key))


@checked
def cache_exists(url: str | Client, key: str) -> bool:
    """Whether a cache entry exists at ``key``.

    Examples
    --------
    >>> _ = redis.cache_dataframe(pl.DataFrame({"a": [1]}), url, "result:1")
    >>> redis.cache_exists(url, "result:1"), redis.cache_exists(url, "missing")
    (True, False)
    """
    return _internal.cache_manifest(url, key) is not None


@checked
def cache_ttl(url: str | Client, key: str) -> int | None:
    """Seconds until the entry at ``key`` expires; ``None`` if it never does
    or does not exist.

    Examples
    --------
    >>> _ = redis.cache_dataframe(pl.DataFrame({"a": [1]}), url, "result:1", ttl=600)
    >>> 590 <= redis.cache_ttl(url, "result:1") <= 600
    True
    """
    ttl = _internal.cache_ttl(url, key)
    return None if ttl is None else int(ttl)


@checked
def cache_info(url: str | Client, key: str) -> dict[str, Any] | None:
    """What the entry at ``key`` holds, without reading its data; ``None``
    if there is none.

    Keys: ``format``, ``compression``, ``compression_level``, ``size_bytes``,
    ``is_chunked``, ``num_chunks``, ``chunk_size_bytes``, ``rows``,
    ``columns``, ``created`` (a UTC datetime), ``ttl`` (seconds or ``None``)
    and ``version`` (the write that made it).

    Examples
    --------
    >>> df = pl.DataFrame({"a": range(1000)})
    >>> _ = redis.cache_dataframe(df, url, "result:1", format="parquet", compression="zstd")
    >>> info = redis.cache_info(url, "result:1")
    >>> info["format"], info["compression"], info["rows"], info["columns"], info["num_chunks"]
    ('parquet', 'zstd', 1000, ['a'], 1)
    """
    manifest = _internal.cache_manifest(url, key)
    if manifest is None:
        return None
    info = dict(manifest)
    created_ms = info.pop("created_ms")
    info["created"] = dt.datetime.fromtimestamp(created_ms / 1000, tz=dt.timezone.utc)
    info["ttl"] = cache_ttl(url, key)
    return info


# ------------------------------------------------------------- decorators


def _canonical(value: Any, where: str) -> Any:
    """A JSON form of ``value`` that is the same in every process."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, enum.Enum):
        kind = type(value)
        return ["enum", f"{kind.__module__}.{kind.__qualname__}", _canonical(value.value, where)]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [_canonical(v, where) for v in value]]
    if isinstance(value, (set, frozenset)):
        items = sorted(json.dumps(_canonical(v, where)) for v in value)
        return ["set", items]
    if isinstance(value, dict):
        pairs = [[_canonical(k, where), _canonical(v, where)] for k, v in value.items()]
        return ["dict", sorted(pairs, key=json.dumps)]
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal)):
        return [type(value).__name__, str(value)]
    if isinstance(value, (uuid.UUID, pathlib.PurePath)):
        return [type(value).__name__, str(value)]
    if isinstance(value, pl.Series):
        value = value.to_frame()
    if isinstance(value, pl.DataFrame):
        buffer = io.BytesIO()
        value.write_ipc(buffer)
        return ["frame", hashlib.sha256(buffer.getvalue()).hexdigest()]
    msg = (
        f"cannot make a stable cache key from {where} of type {type(value).__name__}: "
        "use None, bool, int, float, str, bytes, dates, Decimal, UUID, paths, enums, "
        "frames, or lists/tuples/sets/dicts of them"
    )
    raise ArgumentTypeError(msg)


class CachedFunction:
    """A function whose frames are cached in Redis (made by :func:`cache`
    and :func:`cache_lazy`).

    Calling it returns the cached frame for these arguments, or calls the
    function and caches its result. ``hits`` and ``misses`` count the calls
    answered from the cache and by the function.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        url: str | Client,
        key_prefix: str,
        lazy: bool,
        options: dict[str, Any],
    ) -> None:
        functools.update_wrapper(self, function)
        self._function = function
        self._signature = inspect.signature(function)
        self._url = url
        self._key_prefix = key_prefix
        self._lazy = lazy
        self._options = options
        self.hits = 0
        self.misses = 0

    def cache_key_for(self, *args: Any, **kwargs: Any) -> str:
        """The cache key of a call with these arguments: ``key_prefix:`` +
        the function's name + a SHA-256 of the arguments (bound to the
        signature with defaults applied, so ``f(1)`` and ``f(x=1)`` share it)."""
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as err:
            raise ArgumentTypeError(f"{self._function.__name__}(): {err}") from None
        bound.apply_defaults()
        canonical = [[name, _canonical(v, name)] for name, v in bound.arguments.items()]
        digest = hashlib.sha256(json.dumps(canonical).encode()).hexdigest()[:32]
        return f"{self._key_prefix}:{self._function.__name__}:{digest}"

    def invalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Delete the cached frame of a call with these arguments; whether there was one."""
        return delete_cached(self._url, self.cache_key_for(*args, **kwargs))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = self.cache_key_for(*args, **kwargs)
        cached = scan_cached(self._url, key) if self._lazy else get_cached_dataframe(self._url, key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        result = self._function(*args, **kwargs)
        expected = pl.LazyFrame if self._lazy else pl.DataFrame
        if not isinstance(result, expected):
            msg = (
                f"{self._function.__name__}() returned {type(result).__name__}; "
                f"a function cached with {'cache_lazy' if self._lazy else 'cache'} must "
                f"return a {expected.__name__}"
            )
            raise ArgumentTypeError(msg)
        frame = result.collect() if isinstance(result, pl.LazyFrame) else result
        cache_dataframe(frame, self._url, key, **self._options)
        return frame.lazy() if self._lazy else frame


class CacheOptions(TypedDict, total=False):
    """The options of :func:`cache` and :func:`cache_lazy`."""

    ttl: int | None
    key_prefix: str
    format: CacheFormat
    compression: str | None
    compression_level: int | None
    chunk_size_mb: int | float


def _decorator(
    lazy: bool, url: str | Client, options: CacheOptions
) -> Callable[[Callable[..., Any]], CachedFunction]:
    """Check the options once, then wrap each decorated function."""
    write: dict[str, Any] = {
        "format": options.get("format", "ipc"),
        "compression": options.get("compression"),
        "compression_level": options.get("compression_level"),
        "ttl": _positive_ttl(options.get("ttl")),
        "chunk_size_mb": options.get("chunk_size_mb", _DEFAULT_CHUNK_SIZE_MB),
    }
    _codec(write["format"], write["compression"], write["compression_level"])
    _chunk_size(write["chunk_size_mb"])
    key_prefix = options.get("key_prefix", "polars_redis")

    def decorate(function: Callable[..., Any]) -> CachedFunction:
        return CachedFunction(function, url, key_prefix, lazy, write)

    return decorate


@checked
def cache(
    url: str | Client, **options: Unpack[CacheOptions]
) -> Callable[[Callable[..., Any]], CachedFunction]:
    """Cache the DataFrames a function returns, per arguments.

    The key is ``key_prefix:`` + the function's name + a stable hash of
    the arguments (the same in every process). The decorated function gets
    ``invalidate(*args)`` (delete one entry), ``cache_key_for(*args)`` and
    the counters ``hits`` / ``misses``.

    Parameters
    ----------
    url
        Redis URL.
    **options
        ``ttl`` (seconds, default ``None``: never expires), ``key_prefix``
        (default ``"polars_redis"``), and ``format``, ``compression``,
        ``compression_level``, ``chunk_size_mb`` as in
        :func:`cache_dataframe` (same defaults).

    Examples
    --------
    >>> @redis.cache(url=url, ttl=3600, key_prefix="app")
    ... def totals(city: str) -> pl.DataFrame:
    ...     return pl.DataFrame({"city": [city], "total": [42]})
    >>> totals("ams").equals(totals("ams")), totals.hits, totals.misses
    (True, 1, 1)
    >>> totals.cache_key_for("ams").startswith("app:totals:")
    True
    >>> totals.invalidate("ams")
    True
    """
    return _decorator(False, url, options)


@checked
def cache_lazy(
    url: str | Client, **options: Unpack[CacheOptions]
) -> Callable[[Callable[..., Any]], CachedFunction]:
    """Like :func:`cache` (same options), for functions returning
    LazyFrames: a miss collects the frame and caches it, every call returns
    a LazyFrame.

    Examples
    --------
    >>> @redis.cache_lazy(url=url, key_prefix="app")
    ... def evens(n: int) -> pl.LazyFrame:
    ...     return pl.LazyFrame({"x": range(n)}).filter(pl.col("x") % 2 == 0)
    >>> evens(6).collect()["x"].to_list(), evens(6).collect()["x"].to_list()
    ([0, 2, 4], [0, 2, 4])
    >>> evens.hits, evens.misses
    (1, 1)
    """
    return _decorator(True, url, options)
