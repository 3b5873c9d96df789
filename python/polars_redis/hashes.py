"""Reading Redis hashes: one row per hash, one column per field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from polars_redis import _internal
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType, SchemaLike, field_specs
from polars_redis._options import KeysOption, PushdownOptions, ReadFrom, ReadOptions
from polars_redis._plugin import (
    BatchStream,
    bind,
    iter_batches,
    lazy_scan,
    output_schema,
    read_frame,
    scan_args,
    scan_search,
)
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client
from polars_redis.infer import explain_detail, schema_for_scan

if TYPE_CHECKING:
    from typing_extensions import Unpack

HashFetch = Literal["auto", "hgetall", "hmget"]


class HashReadOptions(ReadOptions, total=False):
    """How a hash scan or search reads (the options of :func:`search_hashes`)."""

    fetch: HashFetch


class HashScanOptions(HashReadOptions, KeysOption, PushdownOptions, total=False):
    """The keyword options of :func:`read_hashes` and :func:`iter_hashes`
    (those of :func:`scan_hashes`)."""

    field_ttl: bool | Sequence[str]


@checked
@with_scan_options
def scan_hashes(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    *,
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
    fetch: HashFetch = "auto",
    field_ttl: bool | Sequence[str] = False,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    deadline: float | None = None,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = _internal.DEFAULT_RETRIES,
    read_from: ReadFrom = "primary",
    progress: ProgressLike = False,
    infer_sample_size: int = _internal.DEFAULT_INFER_SAMPLE_SIZE,
    index: str | None = "auto",
    search_timeout: float = _internal.DEFAULT_SEARCH_TIMEOUT,
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
        ``yes/no``, ``on/off``, ...), dates, datetimes and times (ISO-8601,
        extended or basic, or the form ``formats`` declares), durations
        (integer count of the unit), decimals, categoricals, enums, strings,
        raw bytes (``pl.Binary``), and ``pl.List``/``pl.Struct``/``pl.Array``
        from the JSON text :func:`write_hashes` stores for them, except float
        vectors: ``pl.Array``/``pl.List`` of ``pl.Float32``/``pl.Float64`` read
        the little-endian blobs RediSearch vector fields index (see
        ``docs/vectors.md``).
    fetch
        ``"hgetall"`` reads whole hashes, ``"hmget"`` only the needed fields;
        ``"auto"`` uses HMGET when at most half of the schema's fields are needed
        (the measured crossover).
    field_ttl
        Per-field expiry (Redis 7.4+ ``HEXPIRE``): ``True`` adds a
        ``<field>_ttl`` column for every schema field, a list of fields for
        those only. Each is ``Int64``, the seconds the field has left (read
        with ``HTTL`` in the same pipeline as the values), null when the
        field never expires or is missing; a field that expires while it is
        read reads as missing (null value and TTL). A TTL column is only read
        when selected. A schema field named like a TTL column (``price_ttl``
        beside ``field_ttl=["price"]``) raises :class:`InvalidInputError`; a
        server before Redis 7.4 raises :class:`UnsupportedError` naming its
        version. See ``docs/feature-store.md``.
    infer_sample_size
        Keys sampled when ``schema`` is None ({infer_sample_size_bounds}).
    {scan_options}
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
        fields in order, the ``<field>_ttl`` columns (if ``field_ttl``), ``_ttl``
        (if requested). Filters on the key column
        (``==``, ``is_in``, ``str.starts_with``) become direct lookups or a
        narrower ``MATCH``; projections fetch only the needed fields; ``head``
        stops scanning early.

    {scan_warns}

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
    return lazy_scan(
        scanner, polars_schema, explain_detail("hashes", args, args["schema"]), url, progress
    )


@checked
def read_hashes(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Unpack[HashScanOptions],
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
    args = bind(scan_hashes, url, pattern, schema, **options)
    scanner, polars_schema = _hash_scanner(args)
    detail = explain_detail("hashes", args, args["schema"])
    return read_frame(scanner, polars_schema, detail, args["progress"])


@checked
def iter_hashes(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Unpack[HashScanOptions],
) -> BatchStream:
    """Read Redis hashes batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_hashes` and yields DataFrames of
    at most ``batch_size`` rows. Only a few batches are read ahead of the
    consumer, so peak memory follows ``batch_size``, not the number of keys.
    Closing the :class:`BatchStream` (or breaking out of the loop) stops the scan.

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
    args = bind(scan_hashes, url, pattern, schema, **options)
    return iter_batches(*_hash_scanner(args), args)


def _hash_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    """Validate the arguments of :func:`scan_hashes` and make its scanner.

    When the schema is inferred here, ``args["schema"]`` is replaced by the result.
    """
    return hash_scanner(args, scan_search(args))


def hash_scanner(
    args: dict[str, Any], search: dict[str, Any]
) -> tuple[_internal.Scanner, pl.Schema]:
    """The scanner of a hash scan or search (``search``: how it uses RediSearch)."""
    schema = args["schema"] = schema_for_scan("hash", args)
    field_ttl = _field_ttl_fields(args.get("field_ttl", False), schema)
    scanner = _internal.hash_scanner(
        scan_args(args), field_specs(schema), args["fetch"], search, field_ttl
    )
    return scanner, output_schema(scanner, dict(schema))


def _field_ttl_fields(field_ttl: bool | Sequence[str], schema: Mapping[str, Any]) -> list[str]:
    """The fields whose TTL column a scan adds: every schema field for ``True``."""
    if field_ttl is True:
        return list(schema)
    if field_ttl is False:
        return []
    return [str(name) for name in field_ttl]
