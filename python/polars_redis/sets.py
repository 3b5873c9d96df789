"""Reading Redis sets: one row per member."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_redis import _internal
from polars_redis._collections import make_scanner, read, scan
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType
from polars_redis._options import MemberOptions, ReadFrom, ScanOptions
from polars_redis._plugin import BatchStream, bind, iter_batches
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client

if TYPE_CHECKING:
    from typing_extensions import Unpack


class SetScanOptions(MemberOptions, ScanOptions, total=False):
    """The keyword options of :func:`read_sets` and :func:`iter_sets`
    (those of :func:`scan_sets`)."""


@checked
@with_scan_options
def scan_sets(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    member_type: DType = pl.String,
    member_column_name: str = "member",
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
    """Lazily read Redis sets into a LazyFrame, one row per member.

    Keys come from ``SCAN ... MATCH pattern TYPE set`` or from an explicit
    ``keys`` list. Each key's size is asked first (``SCARD``): a set of fewer
    than ``batch_size`` members is read in one ``SSCAN`` reply, a larger one in
    ``SSCAN`` pages of about ``batch_size`` members (members ``SSCAN`` repeats
    while the set is rehashed are dropped), so a huge set never comes back as
    one reply. Members come in no particular order.

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS,
        ``?ca_file=/path/ca.pem`` for a private CA) or ``unix:///path/redis.sock``.
    pattern
        Glob pattern of the keys to read (``*`` when neither it nor ``keys`` is given).
    member_type
        Polars dtype of the members, parsed from their text form (any dtype
        :func:`scan_hashes` reads, ``pl.Binary`` for the raw bytes).
    member_column_name
        Name of the member column (default ``member``).
    {scan_options}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the member,
        ``_ttl`` (if requested). Key filters are pushed down as for
        :func:`scan_hashes`; ``head(n)`` stops after ``n`` rows (not keys).

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_sets(url, "tags:*", member_column_name="tag")
    >>> lf.group_by("tag").len().sort("len", "tag", descending=[True, False]).collect()
    shape: (3, 2)
    ┌────────┬─────┐
    │ tag    ┆ len │
    │ ---    ┆ --- │
    │ str    ┆ u32 │
    ╞════════╪═════╡
    │ python ┆ 2   │
    │ redis  ┆ 2   │
    │ rust   ┆ 1   │
    └────────┴─────┘
    """
    args = locals()
    return scan("sets", _set_scanner(args), args)


@checked
def read_sets(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[SetScanOptions]
) -> pl.DataFrame:
    """Read Redis sets into a DataFrame; ``scan_sets(...).collect()``.

    Takes the same arguments as :func:`scan_sets`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> redis.read_sets(url, keys=["ids:x"], member_type=pl.Int64).sort("member")
    shape: (3, 2)
    ┌───────┬────────┐
    │ _key  ┆ member │
    │ ---   ┆ ---    │
    │ str   ┆ i64    │
    ╞═══════╪════════╡
    │ ids:x ┆ 1      │
    │ ids:x ┆ 2      │
    │ ids:x ┆ 3      │
    └───────┴────────┘
    """
    args = bind(scan_sets, url, pattern, **options)
    return read("sets", _set_scanner(args), args)


@checked
def iter_sets(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[SetScanOptions]
) -> BatchStream:
    """Read Redis sets batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_sets` and yields DataFrames of
    about ``batch_size`` rows, however large each set is. Only a few batches
    are read ahead of the consumer; closing the :class:`BatchStream` stops the scan.

    Examples
    --------
    >>> import polars_redis as redis
    >>> sum(batch.height for batch in redis.iter_sets(url, "tags:*", batch_size=2))
    5
    """
    args = bind(scan_sets, url, pattern, **options)
    return iter_batches(*_set_scanner(args), args)


def _set_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    return make_scanner(_internal.set_scanner, args, "member")
