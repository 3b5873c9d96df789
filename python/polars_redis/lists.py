"""Reading Redis lists: one row per element, in list order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_redis import _internal
from polars_redis._collections import make_scanner, optional_column, read, scan
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType
from polars_redis._options import ReadFrom, ScanOptions
from polars_redis._plugin import BatchStream, bind, iter_batches
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client

if TYPE_CHECKING:
    from typing_extensions import Unpack


class ListScanOptions(ScanOptions, total=False):
    """The keyword options of :func:`read_lists` and :func:`iter_lists`
    (those of :func:`scan_lists`)."""

    element_type: DType
    element_column_name: str
    include_position: bool
    position_column_name: str


@checked
@with_scan_options
def scan_lists(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    element_type: DType = pl.String,
    element_column_name: str = "element",
    include_position: bool = False,
    position_column_name: str = "position",
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
    """Lazily read Redis lists into a LazyFrame, one row per element.

    Keys come from ``SCAN ... MATCH pattern TYPE list`` or from an explicit
    ``keys`` list. Each key's length is asked first (``LLEN``): lists of fewer
    than ``batch_size`` elements are read whole with one ``LRANGE``, atomically;
    longer ones in ``LRANGE start stop`` pages of ``batch_size`` elements, so
    memory stays bounded however long the list is.

    A list read in several pages is not a snapshot: an element pushed or
    popped at the head between two pages shifts the later pages, so an
    element may be skipped or read twice, and positions are those at the time
    each page was read. Elements appended at the tail meanwhile are included.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    element_type
        Polars dtype of the elements, parsed from their text form (any dtype
        :func:`scan_hashes` reads, ``pl.Binary`` for the raw bytes).
    element_column_name
        Name of the element column (default ``element``).
    include_position, position_column_name
        Add the element's 0-based index in its list as Int64 (default
        ``position``), after the element column.
    {scan_options}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the
        element, ``position`` (if requested), ``_ttl`` (if requested). Key
        filters are pushed down as for :func:`scan_hashes`; ``head(n)`` reads
        only ``n`` elements.

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_lists(url, "queue:*", element_type=pl.Int64, include_position=True)
    >>> lf.sort("_key", "position").collect()
    shape: (3, 3)
    ┌─────────┬─────────┬──────────┐
    │ _key    ┆ element ┆ position │
    │ ---     ┆ ---     ┆ ---      │
    │ str     ┆ i64     ┆ i64      │
    ╞═════════╪═════════╪══════════╡
    │ queue:a ┆ 7       ┆ 0        │
    │ queue:a ┆ 3       ┆ 1        │
    │ queue:b ┆ 5       ┆ 0        │
    └─────────┴─────────┴──────────┘
    """
    args = locals()
    return scan("lists", _list_scanner(args), args)


@checked
def read_lists(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[ListScanOptions]
) -> pl.DataFrame:
    """Read Redis lists into a DataFrame; ``scan_lists(...).collect()``.

    Takes the same arguments as :func:`scan_lists`.

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.read_lists(url, keys=["queue:a"], include_key=False)
    shape: (2, 1)
    ┌─────────┐
    │ element │
    │ ---     │
    │ str     │
    ╞═════════╡
    │ 7       │
    │ 3       │
    └─────────┘
    """
    args = bind(scan_lists, url, pattern, **options)
    return read("lists", _list_scanner(args), args)


@checked
def iter_lists(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[ListScanOptions]
) -> BatchStream:
    """Read Redis lists batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_lists` and yields DataFrames of
    about ``batch_size`` rows, in list order, however long each list is.
    Only a few batches are read ahead of the consumer; closing the :class:`BatchStream`
    stops the scan.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> total = 0
    >>> for batch in redis.iter_lists(url, "queue:*", element_type=pl.Int64, batch_size=2):
    ...     total += batch["element"].sum()
    >>> total
    15
    """
    args = bind(scan_lists, url, pattern, **options)
    return iter_batches(*_list_scanner(args), args)


def _list_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    position = optional_column(args, "position")
    return make_scanner(_internal.list_scanner, args, "element", (position,))
