"""The keyword options of ``read_*``, ``iter_*``, ``search_*`` and
``aggregate_json``, as TypedDicts for ``**options: Unpack[...]``, so type
checkers reject unknown names and wrong types.

Each family's TypedDict (``HashScanOptions`` in :mod:`polars_redis.hashes`,
...) is built from the shared pieces here and lists exactly the keyword
parameters of its ``scan_*`` function, with the same annotations
(``tests/test_typing.py`` checks). Defaults are not repeated: they are the
``scan_*`` signature's, which take them from the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from polars_redis._dtypes import DType
from polars_redis._progress import ProgressLike

#: Which servers a read uses: ``"primary"``, ``"replica"`` or ``"prefer_replica"``.
ReadFrom = Literal["primary", "replica", "prefer_replica"]


class ReadOptions(TypedDict, total=False):
    """How every scan reads, whatever selects its keys."""

    include_key: bool
    key_column_name: str
    key_dtype: DType
    include_ttl: bool
    ttl_column_name: str
    include_row_index: bool
    row_index_column_name: str
    batch_size: int
    count_hint: int | None
    strict: bool
    formats: Mapping[str, str] | None
    parallelism: int
    connect_timeout: float | None
    command_timeout: float | None
    deadline: float | None
    rate_limit: float | None
    latency_budget_ms: float | None
    retries: int
    read_from: ReadFrom
    progress: ProgressLike


class KeysOption(TypedDict, total=False):
    """Read exactly these keys instead of scanning a pattern."""

    keys: Sequence[str | bytes] | None


class ScanOptions(ReadOptions, KeysOption, total=False):
    """The keyword options every ``scan_*`` function takes."""


class PushdownOptions(TypedDict, total=False):
    """Schema inference and RediSearch pushdown (hash and JSON scans)."""

    infer_sample_size: int
    index: str | None
    search_timeout: float


class MemberOptions(TypedDict, total=False):
    """The member column of set and sorted-set scans."""

    member_type: DType
    member_column_name: str


class SearchQueryOptions(TypedDict, total=False):
    """How a search or aggregation queries its index."""

    params: Mapping[str, Any] | None
    sort_by: str | Sequence[str] | None
    descending: bool | Sequence[bool]
    search_timeout: float
