"""Ray Data: read a Redis scan as a :class:`ray.data.Dataset`, one read task
per partition (see :func:`polars_redis.partition_scan`), and write a
Dataset with one ``write_*`` call per block.

Needs ``pip install "polars-redis[ray]"``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import polars as pl

try:
    import pyarrow as pa
    import ray.data
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasink, Datasource, ReadTask
except ImportError as err:  # pragma: no cover - the extra is installed in CI
    msg = 'polars_redis.ray needs Ray Data: pip install "polars-redis[ray]"'
    raise ImportError(msg) from err

from polars_redis._distributed import check_write, write_part
from polars_redis._dtypes import SchemaLike
from polars_redis.partition import ScanKind, ScanPartition, partition_scan
from polars_redis.write import WriteResult

__all__ = ["RedisDatasink", "RedisDatasource", "read_redis", "write_redis"]


class RedisDatasource(Datasource):
    """A Ray Data source reading the partitions of a scan, one read task each.

    Each task reads its whole partition and returns it as one Arrow block
    (in Polars' oldest Arrow compatibility level: large strings, no view
    types, which Ray's blocks need), so a task the engine retries after a
    worker died returns its rows once: ask for more partitions to keep each
    block small.
    """

    def __init__(self, parts: Sequence[ScanPartition]) -> None:
        self.parts = list(parts)

    def get_name(self) -> str:
        return "Redis"

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(
        self,
        parallelism: int,
        per_task_row_limit: int | None = None,
        data_context: Any = None,
    ) -> list[ReadTask]:
        """One task per partition (``parallelism`` is fixed by the plan)."""
        return [
            ReadTask(
                functools.partial(_read_partition, part),
                BlockMetadata(num_rows=None, size_bytes=None, input_files=None, exec_stats=None),
                per_task_row_limit=per_task_row_limit,
            )
            for part in self.parts
        ]


def _read_partition(part: ScanPartition) -> Iterator[pa.Table]:
    yield part.read().to_arrow(compat_level=pl.CompatLevel.oldest())


def read_redis(
    kind: ScanKind,
    url: str,
    pattern: str | bytes = "*",
    schema: SchemaLike | None = None,
    *,
    partitions: int | None = None,
    keys: Sequence[str | bytes] | None = None,
    **options: Any,
) -> ray.data.Dataset:
    """Read a Redis scan as a Ray Dataset, one read task per partition.

    Takes the arguments of :func:`polars_redis.partition_scan` (planned on
    the driver, with the schema resolved once); the Dataset's rows equal
    ``read_<kind>`` of the same arguments.

    Examples
    --------
    >>> import polars_redis.ray as redis_ray
    >>> ds = redis_ray.read_redis("hashes", url, "user:*", {"age": pl.Int64}, partitions=2)
    >>> ds.sum("age")
    107
    """
    parts = partition_scan(kind, url, pattern, schema, partitions=partitions, keys=keys, **options)
    dataset: ray.data.Dataset = ray.data.read_datasource(RedisDatasource(parts))
    return dataset


class RedisDatasink(Datasink[WriteResult]):
    """A Ray Data sink writing each block with ``write_<kind>``; after the
    write, :attr:`result` holds the merged :class:`~polars_redis.WriteResult`."""

    def __init__(self, kind: str, url: str, write_options: dict[str, Any]) -> None:
        check_write(kind, write_options)
        self.kind, self.url, self.write_options = kind, url, write_options
        self.result: WriteResult | None = None

    def get_name(self) -> str:
        return "Redis"

    def write(self, blocks: Iterable[Any], ctx: Any) -> WriteResult:
        """Write one task's blocks; their results merged."""
        return WriteResult.sum(
            write_part(_frame(block), self.kind, self.url, self.write_options) for block in blocks
        )

    def on_write_complete(self, write_result: Any) -> None:
        """Merge the tasks' results (on the driver)."""
        self.result = WriteResult.sum(write_result.write_returns)


def _frame(block: Any) -> pl.DataFrame:
    if isinstance(block, pa.Table):
        return pl.DataFrame(pl.from_arrow(block))
    return pl.from_pandas(block)


def write_redis(ds: ray.data.Dataset, kind: str, url: str, **write_options: Any) -> WriteResult:
    """Write a Ray Dataset to Redis: each write task calls ``write_<kind>``
    (``write_hashes``, ...) on its blocks; returns the merged result.

    A write task that fails (a refused key with ``raise_on_error=True``, a
    lost connection) is retried by Ray; ``if_exists="fail"`` or ``"skip"``
    then sees the keys its first attempt wrote.

    Examples
    --------
    >>> import polars_redis.ray as redis_ray
    >>> ds = ray.data.from_arrow(pl.DataFrame({"_key": ["p:1", "p:2"], "n": [1, 2]}).to_arrow())
    >>> redis_ray.write_redis(ds, "hashes", url).written
    2
    """
    sink = RedisDatasink(kind, url, write_options)
    ds.write_datasink(sink)
    if sink.result is None:  # no block at all
        return WriteResult.sum([])
    return sink.result
