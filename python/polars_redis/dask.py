"""Dask: read a Redis scan as a :class:`dask.dataframe.DataFrame`, one
partition per scan partition (see :func:`polars_redis.partition_scan`), and
write one with a ``write_*`` call per partition.

Needs ``pip install "polars-redis[dask]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

try:
    import dask.dataframe as dd
    import pandas as pd
    from dask.base import compute
    from dask.delayed import delayed
except ImportError as err:  # pragma: no cover - the extra is installed in CI
    msg = 'polars_redis.dask needs Dask: pip install "polars-redis[dask]"'
    raise ImportError(msg) from err

from polars_redis._distributed import check_write, write_part
from polars_redis._dtypes import SchemaLike
from polars_redis.partition import ScanKind, ScanPartition, partition_scan
from polars_redis.write import WriteResult

__all__ = ["read_redis", "to_redis"]


def read_redis(
    kind: ScanKind,
    url: str,
    pattern: str | bytes = "*",
    schema: SchemaLike | None = None,
    *,
    partitions: int | None = None,
    keys: Sequence[str | bytes] | None = None,
    **options: Any,
) -> dd.DataFrame:
    """Read a Redis scan as a Dask DataFrame, one Dask partition per scan partition.

    Takes the arguments of :func:`polars_redis.partition_scan` (planned now,
    with the schema resolved once, which gives ``meta``); the rows equal
    ``read_<kind>`` of the same arguments. Columns are Arrow-backed pandas
    dtypes (``pd.ArrowDtype``; Dask shows strings as its own pyarrow-backed
    string dtype while its ``dataframe.convert-string`` setting is on, the
    default); the index is a plain range per partition.

    Examples
    --------
    >>> import polars_redis.dask as redis_dask
    >>> ddf = redis_dask.read_redis("hashes", url, "user:*", {"age": pl.Int64}, partitions=2)
    >>> int(ddf["age"].sum().compute())
    107
    """
    parts = partition_scan(kind, url, pattern, schema, partitions=partitions, keys=keys, **options)
    meta = _pandas(pl.DataFrame(schema=parts[0].scan().collect_schema()))
    ddf: dd.DataFrame = dd.from_map(  # type: ignore[no-untyped-call]
        _read_partition, parts, meta=meta, enforce_metadata=False
    )
    return ddf


def _read_partition(part: ScanPartition) -> pd.DataFrame:
    return _pandas(part.read())


def _pandas(df: pl.DataFrame) -> pd.DataFrame:
    return df.to_pandas(use_pyarrow_extension_array=True)


def to_redis(ddf: dd.DataFrame, kind: str, url: str, **write_options: Any) -> WriteResult:
    """Write a Dask DataFrame to Redis: each partition is written by its own
    ``write_<kind>`` call (``write_hashes``, ...) on a worker; returns the
    merged result.

    Examples
    --------
    >>> import polars_redis.dask as redis_dask
    >>> pdf = pl.DataFrame({"_key": ["q:1", "q:2", "q:3"], "n": [1, 2, 3]}).to_pandas()
    >>> redis_dask.to_redis(dd.from_pandas(pdf, npartitions=2), "hashes", url).written
    3
    """
    check_write(kind, write_options)
    parts = ddf.to_delayed()  # type: ignore[no-untyped-call]
    tasks = [delayed(_write_partition)(part, kind, url, write_options) for part in parts]
    results = compute(*tasks)  # type: ignore[no-untyped-call]
    return WriteResult.sum(results)


def _write_partition(
    pdf: pd.DataFrame, kind: str, url: str, write_options: dict[str, Any]
) -> WriteResult:
    return write_part(pl.from_pandas(pdf), kind, url, write_options)
