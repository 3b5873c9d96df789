"""Reading Redis sorted sets: one row per member, with its score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_redis import _internal
from polars_redis._collections import make_scanner, optional_column, read, scan
from polars_redis._docs import with_scan_options
from polars_redis._dtypes import DType
from polars_redis._options import MemberOptions, ReadFrom, ScanOptions
from polars_redis._plugin import BatchStream, bind, iter_batches
from polars_redis._progress import ProgressLike
from polars_redis._validate import checked
from polars_redis.client import Client

if TYPE_CHECKING:
    from typing_extensions import Unpack


class ZsetScanOptions(MemberOptions, ScanOptions, total=False):
    """The keyword options of :func:`read_zsets` and :func:`iter_zsets`
    (those of :func:`scan_zsets`)."""

    score_column_name: str
    include_rank: bool
    rank_column_name: str


@checked
@with_scan_options
def scan_zsets(
    url: str | Client,
    pattern: str | bytes | None = None,
    *,
    member_type: DType = pl.String,
    member_column_name: str = "member",
    score_column_name: str = "score",
    include_rank: bool = False,
    rank_column_name: str = "rank",
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
    """Lazily read Redis sorted sets into a LazyFrame, one row per member.

    Keys come from ``SCAN ... MATCH pattern TYPE zset`` or from an explicit
    ``keys`` list. Members come in ascending score order (ties by member),
    with ``ZRANGE ... WITHSCORES``: whole for sorted sets of fewer than
    ``batch_size`` members, in pages of ``batch_size`` for larger ones.

    A filter on the score column (``>``, ``>=``, ``<``, ``<=``, ``==``,
    ``is_between``, combined with ``&``) is pushed to Redis: only members in
    the score range are read, with ``ZRANGE key min max BYSCORE``. It is not
    pushed while the rank column is read, since the rank must stay the
    member's rank in the whole sorted set.

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
    score_column_name
        Name of the score column, Float64 (``inf`` and ``-inf`` included).
    include_rank, rank_column_name
        Add the member's 0-based rank in ascending score order as Int64
        (default ``rank``), after the score.
    {scan_options}

    Returns
    -------
    LazyFrame
        Columns: ``_index`` (if requested), ``_key`` (if included), the member,
        the score, ``rank`` (if requested), ``_ttl`` (if requested).

    {scan_warns}

    Examples
    --------
    >>> import polars as pl
    >>> import polars_redis as redis
    >>> lf = redis.scan_zsets(url, "board:*", member_column_name="player")
    >>> lf.filter(pl.col("score") >= 50).collect()  # ZRANGE ... 50 +inf BYSCORE
    shape: (2, 3)
    ┌─────────┬────────┬───────┐
    │ _key    ┆ player ┆ score │
    │ ---     ┆ ---    ┆ ---   │
    │ str     ┆ str    ┆ f64   │
    ╞═════════╪════════╪═══════╡
    │ board:1 ┆ ann    ┆ 50.0  │
    │ board:1 ┆ bob    ┆ inf   │
    └─────────┴────────┴───────┘
    """
    args = locals()
    return scan("sorted sets", _zset_scanner(args), args)


@checked
def read_zsets(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[ZsetScanOptions]
) -> pl.DataFrame:
    """Read Redis sorted sets into a DataFrame; ``scan_zsets(...).collect()``.

    Takes the same arguments as :func:`scan_zsets`.

    Examples
    --------
    >>> import polars_redis as redis
    >>> redis.read_zsets(url, keys=["board:1"], include_rank=True)
    shape: (3, 4)
    ┌─────────┬────────┬───────┬──────┐
    │ _key    ┆ member ┆ score ┆ rank │
    │ ---     ┆ ---    ┆ ---   ┆ ---  │
    │ str     ┆ str    ┆ f64   ┆ i64  │
    ╞═════════╪════════╪═══════╪══════╡
    │ board:1 ┆ cy     ┆ 7.5   ┆ 0    │
    │ board:1 ┆ ann    ┆ 50.0  ┆ 1    │
    │ board:1 ┆ bob    ┆ inf   ┆ 2    │
    └─────────┴────────┴───────┴──────┘
    """
    args = bind(scan_zsets, url, pattern, **options)
    return read("sorted sets", _zset_scanner(args), args)


@checked
def iter_zsets(
    url: str | Client, pattern: str | bytes | None = None, **options: Unpack[ZsetScanOptions]
) -> BatchStream:
    """Read Redis sorted sets batch by batch, with bounded memory.

    Takes the same arguments as :func:`scan_zsets` and yields DataFrames of
    about ``batch_size`` rows, in ascending score order within each key.
    Only a few batches are read ahead of the consumer; closing the :class:`BatchStream`
    stops the scan.

    Examples
    --------
    >>> import polars_redis as redis
    >>> [batch.height for batch in redis.iter_zsets(url, "board:*", batch_size=2)]
    [2, 1]
    """
    args = bind(scan_zsets, url, pattern, **options)
    return iter_batches(*_zset_scanner(args), args)


def _zset_scanner(args: dict[str, Any]) -> tuple[_internal.Scanner, pl.Schema]:
    extra = (str(args["score_column_name"]), optional_column(args, "rank"))
    return make_scanner(_internal.zset_scanner, args, "member", extra)
