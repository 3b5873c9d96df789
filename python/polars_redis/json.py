"""Reading RedisJSON documents: one row per document, one column per field."""

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
from polars_redis.exceptions import InvalidInputError
from polars_redis.infer import explain_detail, schema_for_scan

if TYPE_CHECKING:
    from typing_extensions import Unpack

JsonFetch = Literal["auto", "document", "paths"]


class JsonReadOptions(ReadOptions, total=False):
    """How a JSON scan or search reads (with :func:`search_json`)."""

    path: str
    paths: Mapping[str, str] | None
    fetch: JsonFetch


class JsonScanOptions(JsonReadOptions, KeysOption, PushdownOptions, total=False):
    """The keyword options of :func:`read_json` and :func:`iter_json`
    (those of :func:`scan_json`)."""


@checked
@with_scan_options
def scan_json(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    *,
    path: str = "$",
    paths: Mapping[str, str] | None = None,
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
    fetch: JsonFetch = "auto",
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
    """Lazily read RedisJSON documents into a LazyFrame, one row per document.

    Keys come from ``SCAN ... MATCH pattern TYPE ReJSON-RL`` (so keys of other
    types are never fetched), or from an explicit ``keys`` list. Every key
    appears at most once; a key deleted before it is fetched produces no row.
    Each key is read with its own pipelined ``JSON.GET``. Needs the RedisJSON
    module: a server without it raises :class:`UnsupportedError` (not an empty
    frame).

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    schema
        Mapping of column name to Polars dtype, in output order; ``None`` infers
        it once, now, from ``infer_sample_size`` sampled documents (see
        :func:`infer_json_schema`; ``lf.explain()`` shows it). A column reads
        the member of that name of the object at ``path`` (missing members are
        null, members not in the schema are ignored), or the JSONPath that
        ``paths`` gives it. Nested objects read as ``pl.Struct({...})`` and
        arrays as ``pl.List(...)`` (or ``pl.Array(..., width)``, whose arrays
        must have that width), nested as deep as the data. JSON numbers
        read as integers (``1.5`` in an integer column is a parse error, never
        truncated), floats, decimals (their exact text), durations, or epoch
        counts for the temporal columns ``formats`` declares so; strings as
        ``pl.String``, ``pl.Categorical``, ``pl.Enum``, dates, datetimes, times
        and decimals by the same text rules as :func:`scan_hashes`; booleans
        as ``pl.Boolean``; ``null`` as null.
        A ``pl.String`` column given a number, boolean, object or array holds
        its JSON text (e.g. ``[1,2]``).
    path
        JSONPath of the object whose members the schema columns are (default
        the document root ``$``). It must select at most one value per
        document; a document where it selects nothing gives a row of nulls.
    paths
        Mapping of column name (which must be in ``schema``) to its own
        JSONPath, e.g. ``{"city": "$.address.city"}``; independent of ``path``.
        No match gives null. A path that can match several values (``[*]``,
        ``..``, filters, slices) collects all its matches into a ``pl.List``
        column; for other dtypes several matches are a parse error.
    keys
        Read exactly these keys instead of scanning. Missing keys give no row;
        a key of another type raises :class:`WrongTypeError`.
    include_key, key_column_name, key_dtype
        Add the key as a column (default ``_key``): ``pl.String`` (default; a
        key that is not UTF-8 raises :class:`ParseError`, or is null when not
        ``strict``) or ``pl.Binary`` (the raw bytes of every key).
    include_ttl, ttl_column_name
        Add the seconds left before expiry as Int64 (default ``_ttl``);
        null when the key never expires.
    include_row_index, row_index_column_name
        Add a UInt32 row number starting at 0 (default ``_index``), first column.
    batch_size
        Keys fetched per pipeline, and rows per batch ({batch_size_bounds}).
    count_hint
        ``COUNT`` hint for ``SCAN`` (default: ``batch_size``, at least 100;
        {count_hint_bounds}).
    strict
        If True, a value that does not fit its dtype raises :class:`ParseError`
        naming the key, the field (e.g. ``address.zip`` or ``tags[2]``) and the
        value; if False that one value becomes null (a list element, a struct
        field), the rest of the row is kept.
    formats
        Column name to stored form of a top-level Date, Datetime, Time or
        Duration column: a strftime format (a JSON string) or ``"epoch_s"``,
        ``"epoch_ms"``, ``"epoch_us"``, ``"epoch_ns"`` (a JSON number, or a
        string of digits). Without it these columns read ISO-8601 strings
        (extended or basic form) and a JSON number is a parse error, never
        an epoch count; :func:`write_json` takes the same mapping.
    parallelism
        Pipelines in flight, each on its own connection ({parallelism_bounds}).
    fetch
        ``"document"`` reads the whole object at ``path`` (one path for the
        server to evaluate), ``"paths"`` sends one JSONPath per needed column
        (only those values cross the wire); ``"auto"`` reads the document when
        at least half of the schema's ``path``-relative columns are needed.
        Columns in ``paths`` always read their own path.
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
        Documents sampled when ``schema`` is None ({infer_sample_size_bounds};
        see :func:`infer_json_schema`).
    index, search_timeout
        RediSearch pushdown, as for :func:`scan_hashes`: with an index ``ON
        JSON`` covering the pattern, filters on columns it indexes (a column's
        path, or ``$.name`` for root members) run inside Redis; the full filter
        is always re-applied to the rows.

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the schema
        columns in order, ``_ttl`` (if requested). Filters on the key column
        (``==``, ``is_in``, ``str.starts_with``) become direct lookups or a
        narrower ``MATCH``; projections fetch only the needed values; ``head``
        stops scanning early.

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_json(
    ...     url,
    ...     "user:*",
    ...     schema={
    ...         "name": pl.String,
    ...         "tags": pl.List(pl.String),
    ...         "address": pl.Struct({"city": pl.String, "zip": pl.String}),
    ...         "city": pl.String,
    ...     },
    ...     paths={"city": "$.address.city"},
    ... )
    >>> lf.select("name", "city").sort("name").collect()
    shape: (2, 2)
    ┌───────┬──────┐
    │ name  ┆ city │
    │ ---   ┆ ---  │
    │ str   ┆ str  │
    ╞═══════╪══════╡
    │ Alice ┆ Oslo │
    │ Bob   ┆ null │
    └───────┴──────┘
    """
    args = locals()
    scanner, polars_schema = _json_scanner(args)
    return lazy_scan(
        scanner, polars_schema, explain_detail("json", args, args["schema"]), url, progress
    )


@checked
def read_json(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Unpack[JsonScanOptions],
) -> pl.DataFrame:
    """Read RedisJSON documents into a DataFrame; ``scan_json(...).collect()``.

    Takes the same arguments as :func:`scan_json`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> redis.read_json(url, keys=["user:1", "user:404"], schema={"age": pl.Int64})
    shape: (1, 2)
    ┌────────┬─────┐
    │ _key   ┆ age │
    │ ---    ┆ --- │
    │ str    ┆ i64 │
    ╞════════╪═════╡
    │ user:1 ┆ 36  │
    └────────┴─────┘
    """
    args = bind(scan_json, url, pattern, schema, **options)
    scanner, polars_schema = _json_scanner(args)
    detail = explain_detail("json", args, args["schema"])
    return read_frame(scanner, polars_schema, detail, args["progress"])


@checked
def iter_json(
    url: str | Client,
    pattern: str | bytes | None = None,
    schema: SchemaLike | None = None,
    **options: Unpack[JsonScanOptions],
) -> BatchStream:
    """Read RedisJSON documents batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_json` and yields DataFrames of at
    most ``batch_size`` rows. Only a few batches are read ahead of the
    consumer, so peak memory follows ``batch_size``, not the number of keys.
    Closing the :class:`BatchStream` (or breaking out of the loop) stops the scan.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> total = 0
    >>> for batch in redis.iter_json(url, "user:*", {"age": pl.Int64}, batch_size=2):
    ...     total += batch["age"].sum()
    >>> total
    107
    """
    args = bind(scan_json, url, pattern, schema, **options)
    return iter_batches(*_json_scanner(args), args)


def _json_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    """Validate the arguments of :func:`scan_json` and make its scanner."""
    return json_scanner(args, scan_search(args))


def json_scanner(
    args: dict[str, Any], search: dict[str, Any]
) -> tuple[_internal.Scanner, pl.Schema]:
    """The scanner of a JSON scan or search (``search``: how it uses RediSearch)."""
    schema = args["schema"] = schema_for_scan("json", args)
    paths = args["paths"] or {}
    if not isinstance(paths, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in paths.items()
    ):
        msg = "paths must be a mapping of column name to JSONPath string"
        raise InvalidInputError(msg)
    if not isinstance(args["path"], str):
        msg = f"path must be a JSONPath string, got {type(args['path']).__name__}"
        raise InvalidInputError(msg)
    scanner = _internal.json_scanner(
        scan_args(args),
        field_specs(schema),
        args["path"],
        list(paths.items()),
        args["fetch"],
        search,
    )
    return scanner, output_schema(scanner, dict(schema))
