"""Reading Redis hashes: one row per hash, one column per field."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import polars as pl

from polars_redis import _internal
from polars_redis._dtypes import SchemaLike, field_specs
from polars_redis._plugin import (
    bind,
    iter_batches,
    lazy_scan,
    output_schema,
    scan_args,
    scan_search,
)
from polars_redis.exceptions import InvalidInputError
from polars_redis.infer import InferredSchema, infer_hash_schema


def scan_hashes(
    url: str,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    *,
    keys: Sequence[str | bytes] | None = None,
    include_key: bool = True,
    key_column_name: str = "_key",
    include_ttl: bool = False,
    ttl_column_name: str = "_ttl",
    include_row_index: bool = False,
    row_index_column_name: str = "_index",
    batch_size: int = 1000,
    count_hint: int | None = None,
    strict: bool = True,
    parallelism: int = 3,
    fetch: Literal["auto", "hgetall", "hmget"] = "auto",
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    deadline: float | None = None,
    infer_sample_size: int = 100,
    index: str | None = "auto",
    search_timeout: float = 10.0,
) -> pl.LazyFrame:
    """Lazily read Redis hashes into a LazyFrame, one row per hash.

    Keys come from ``SCAN ... MATCH pattern TYPE hash`` (so keys of other types
    are never fetched), or from an explicit ``keys`` list. Every key appears at
    most once; a key deleted before it is fetched produces no row. Fields missing
    from a hash are null; fields not in ``schema`` are ignored.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    schema
        Mapping of hash field name to Polars dtype (an :class:`InferredSchema`
        works too). ``None`` infers it once, now, from ``infer_sample_size``
        sampled keys (see :func:`infer_hash_schema`; ``lf.explain()`` shows the
        result, and a field widened to String by mixed values warns). Values are parsed from
        their text form: integers, floats, booleans (``true/false``, ``1/0``,
        ``yes/no``, ``on/off``, ...), dates, datetimes (ISO-8601 or an epoch
        count in the column's time unit), times, durations, decimals,
        categoricals, enums, strings and raw bytes (``pl.Binary``).
    keys
        Read exactly these keys instead of scanning. Missing keys give no row;
        a key of another type raises :class:`WrongTypeError`.
    include_key, key_column_name
        Add the key as a String column (default ``_key``).
    include_ttl, ttl_column_name
        Add the seconds left before expiry as Int64 (default ``_ttl``);
        null when the key never expires.
    include_row_index, row_index_column_name
        Add a UInt32 row number starting at 0 (default ``_index``), first column.
        Rows are numbered over the whole scan (in SCAN or ``keys`` order), so a
        filter keeps the numbers of the full read; key filters are then applied
        after reading rather than pushed down.
    batch_size
        Keys fetched per pipeline, and rows per batch.
    count_hint
        ``COUNT`` hint for ``SCAN`` (default: ``batch_size``, at least 100).
    strict
        If True, a value that does not parse as its dtype raises
        :class:`ParseError` naming the key, field and value; if False it becomes null.
    parallelism
        Pipelines in flight, each on its own connection.
    fetch
        ``"hgetall"`` reads whole hashes, ``"hmget"`` only the needed fields;
        ``"auto"`` uses HMGET when fewer than half of the schema's fields are needed.
    connect_timeout, command_timeout
        Seconds allowed to connect (default 10) and to wait for one reply (default 60).
    deadline
        Seconds allowed for the whole scan; exceeded raises :class:`RedisTimeoutError`.
    infer_sample_size
        Keys sampled when ``schema`` is None.
    index
        RediSearch pushdown. ``"auto"`` (default): when a filter is applied and
        an index covers the key pattern (same prefixes, no FILTER, fully
        indexed, no indexing failures), the parts of the filter that an index
        can answer soundly run inside Redis, and only the matching keys are
        fetched; otherwise keys come from SCAN. A name: use that index, and
        raise :class:`SearchError` if it cannot answer completely. ``None``: never.
        The full filter is always re-applied to the rows, so the result equals
        a plain scan + filter; :func:`explain_pushdown` shows what was pushed.
    search_timeout
        ``TIMEOUT`` (seconds) of each search request; running out raises
        :class:`RedisTimeoutError` rather than returning a partial result.

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the schema
        fields in order, ``_ttl`` (if requested). Filters on the key column
        (``==``, ``is_in``, ``str.starts_with``) become direct lookups or a
        narrower ``MATCH``; projections fetch only the needed fields; ``head``
        stops scanning early.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_hashes(
    ...     url,
    ...     "user:*",
    ...     schema={"name": pl.String, "age": pl.Int64, "active": pl.Boolean},
    ... )
    >>> lf.filter(pl.col("active")).select("_key", "name").sort("_key").collect()
    shape: (2, 2)
    ┌────────┬───────┐
    │ _key   ┆ name  │
    │ ---    ┆ ---   │
    │ str    ┆ str   │
    ╞════════╪═══════╡
    │ user:1 ┆ Alice │
    │ user:3 ┆ Cleo  │
    └────────┴───────┘
    """
    args = locals()
    scanner, polars_schema = _hash_scanner(args)
    detail = f"hashes {'keys' if keys is not None else (pattern or '*')!r}"
    if isinstance(args["schema"], InferredSchema):
        detail += f"; schema inferred from {args['schema'].sample_count} keys"
    return lazy_scan(scanner, polars_schema, detail)


def read_hashes(
    url: str,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **kwargs: object,
) -> pl.DataFrame:
    """Read Redis hashes into a DataFrame; ``scan_hashes(...).collect()``.

    Takes the same arguments as :func:`scan_hashes`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> redis.read_hashes(url, keys=["user:1", "user:404"], schema={"age": pl.Int64})
    shape: (1, 2)
    ┌────────┬─────┐
    │ _key   ┆ age │
    │ ---    ┆ --- │
    │ str    ┆ i64 │
    ╞════════╪═════╡
    │ user:1 ┆ 36  │
    └────────┴─────┘
    """
    return scan_hashes(url, pattern, schema, **kwargs).collect()  # type: ignore[arg-type]


def iter_hashes(
    url: str,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Any,
) -> Iterator[pl.DataFrame]:
    """Read Redis hashes batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_hashes` and yields DataFrames of
    at most ``batch_size`` rows. Only a few batches are read ahead of the
    consumer, so peak memory follows ``batch_size``, not the number of keys.
    Closing the generator (or breaking out of the loop) stops the scan.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> total = 0
    >>> for batch in redis.iter_hashes(url, "user:*", {"age": pl.Int64}, batch_size=2):
    ...     total += batch["age"].sum()
    >>> total
    107
    """
    return iter_batches(*_hash_scanner(bind(scan_hashes, url, pattern, schema, **options)))


def _hash_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    """Validate the arguments of :func:`scan_hashes` and make its scanner.

    When the schema is inferred here, ``args["schema"]`` is replaced by the result.
    """
    return hash_scanner(args, scan_search(args))


def hash_scanner(
    args: dict[str, Any], search: dict[str, Any]
) -> tuple[_internal.Scanner, pl.Schema]:
    """The scanner of a hash scan or search (``search``: how it uses RediSearch)."""
    if args["schema"] is None:
        if args["keys"] is not None:
            msg = "schema inference samples a pattern: pass schema= when reading explicit keys"
            raise InvalidInputError(msg)
        args["schema"] = _infer_for_scan(args["url"], args["pattern"] or "*", args)
    schema = args["schema"]
    if isinstance(schema, InferredSchema):
        args["parse_hint"] = schema.parse_hint()
    scanner = _internal.hash_scanner(scan_args(args), field_specs(schema), args["fetch"], search)
    return scanner, output_schema(scanner, dict(schema))


def _infer_for_scan(url: str, pattern: str | bytes, args: dict[str, Any]) -> InferredSchema:
    inferred = infer_hash_schema(url, pattern, sample_size=args["infer_sample_size"])
    for f in inferred.low_confidence():
        if f.dtype == pl.String and f.note:
            warnings.warn(
                f"field {f.name!r} was inferred as String ({f.note}); pass schema= to choose",
                stacklevel=4,
            )
    return inferred
