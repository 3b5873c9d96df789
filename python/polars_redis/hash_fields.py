"""Reading Redis hashes in long form: one row per field (``_key``, ``field``,
``value``), for hashes whose field names no fixed schema describes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_redis import _internal
from polars_redis._collections import scan
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType, dtype_spec, needs_cast
from polars_redis._options import ReadFrom, ScanOptions
from polars_redis._plugin import BatchStream, bind, collect, iter_batches, output_schema, scan_args
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client

if TYPE_CHECKING:
    from typing_extensions import Unpack


class HashFieldScanOptions(ScanOptions, total=False):
    """The keyword options of :func:`read_hash_fields` and :func:`iter_hash_fields`
    (those of :func:`scan_hash_fields`)."""

    value_dtype: DType
    fields: Sequence[str | bytes] | None
    field_column_name: str
    value_column_name: str


@checked
@with_scan_options
def scan_hash_fields(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    value_dtype: DType = pl.String,
    fields: Sequence[str | bytes] | None = None,
    field_column_name: str = "field",
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
    """Lazily read Redis hashes in long form: one row per field.

    For hashes whose field names vary (sparse features, counters per item,
    per-tenant settings), where no fixed schema fits :func:`scan_hashes`: the
    rows are ``(_key, field, value)``, ready to filter, aggregate or
    ``pivot`` in Polars. Keys come from ``SCAN ... MATCH pattern TYPE hash``
    or from an explicit ``keys`` list. Each key's size is asked first
    (``HLEN``): a hash of fewer than ``batch_size`` fields is read in one
    ``HSCAN`` reply, a larger one in ``HSCAN`` pages of about ``batch_size``
    fields (fields repeated while the hash is rehashed are dropped), so a
    hash of a million fields is read in bounded batches, never as one
    reply. Fields come in no particular order.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    value_dtype
        Polars dtype every value is parsed as, by the rules of
        :func:`scan_hashes` (``pl.Binary`` for the raw bytes). A value that
        does not parse raises :class:`ParseError` naming the key and the hash
        field (``strict=False``: null).
    fields
        Only rows of these fields (the others are read and dropped); default all.
    field_column_name, value_column_name
        Names of the field-name and value columns (default ``field``, ``value``).
    {scan_options}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the field
        name, the value, ``_ttl`` (if requested). Key filters are pushed down
        as for :func:`scan_hashes`; ``head(n)`` stops after ``n`` rows.

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_hash_fields(url, "user:*", fields=["name", "city"])
    >>> lf.collect().pivot("field", index="_key", values="value").sort("_key").select(
    ...     "_key", "name", "city"
    ... )
    shape: (3, 3)
    ┌────────┬───────┬──────┐
    │ _key   ┆ name  ┆ city │
    │ ---    ┆ ---   ┆ ---  │
    │ str    ┆ str   ┆ str  │
    ╞════════╪═══════╪══════╡
    │ user:1 ┆ Alice ┆ ams  │
    │ user:2 ┆ Bob   ┆ ber  │
    │ user:3 ┆ Cleo  ┆ ams  │
    └────────┴───────┴──────┘
    """
    args = locals()
    return scan("hash fields", _hash_fields_scanner(args), args)


@checked
def read_hash_fields(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[HashFieldScanOptions]
) -> pl.DataFrame:
    """Read Redis hashes in long form into a DataFrame; ``scan_hash_fields(...).collect()``.

    Takes the same arguments as :func:`scan_hash_fields`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> df = redis.read_hash_fields(url, keys=["user:1"], fields=["age"], value_dtype=pl.Int64)
    >>> df
    shape: (1, 3)
    ┌────────┬───────┬───────┐
    │ _key   ┆ field ┆ value │
    │ ---    ┆ ---   ┆ ---   │
    │ str    ┆ str   ┆ i64   │
    ╞════════╪═══════╪═══════╡
    │ user:1 ┆ age   ┆ 36    │
    └────────┴───────┴───────┘
    """
    return collect(scan_hash_fields(url, pattern, **options))


@checked
def iter_hash_fields(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[HashFieldScanOptions]
) -> BatchStream:
    """Read Redis hashes in long form batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_hash_fields` and yields
    DataFrames of about ``batch_size`` rows, however many fields each hash
    has. Only a few batches are read ahead of the consumer; closing the
    :class:`BatchStream` stops the scan.

    Examples
    --------
    >>> import polars_redis as redis
    >>> sum(batch.height for batch in redis.iter_hash_fields(url, "user:*", batch_size=2))
    12
    """
    args = bind(scan_hash_fields, url, pattern, **options)
    return iter_batches(*_hash_fields_scanner(args), args)


def _hash_fields_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    field_name, value_name = str(args["field_column_name"]), str(args["value_column_name"])
    dtype = args["value_dtype"]
    if isinstance(dtype, type) and issubclass(dtype, pl.DataType):
        dtype = dtype()  # e.g. pl.Categorical: a schema needs an instance
    fields = args["fields"]
    wanted = None if fields is None else [f.encode() if isinstance(f, str) else f for f in fields]
    scanner = _internal.hash_fields_scanner(
        scan_args(args), field_name, value_name, dtype_spec(value_name, dtype), wanted
    )
    declared = {value_name: dtype} if needs_cast(dtype) else {}
    return scanner, output_schema(scanner, declared)
