"""Vector search arguments: :func:`knn` and the options of a ``VECTOR`` index attribute.

Float vectors live in hashes as little-endian blobs (``pl.Array(pl.Float32, dim)``
columns) and in JSON documents as arrays; see ``docs/vectors.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, SupportsFloat, TypedDict

import polars as pl

from polars_redis._validate import checked
from polars_redis.exceptions import InvalidInputError

__all__ = ["KnnQuery", "VectorIndexOptions", "knn"]


class VectorIndexOptions(TypedDict, total=False):
    """A ``VECTOR`` attribute of :func:`create_index` (every key optional).

    ``type`` and ``dim`` default to the column's dtype (``pl.Array(pl.Float32,
    128)`` is ``FLOAT32``, 128); ``algorithm`` to ``FLAT`` (exact), ``metric`` to
    ``COSINE``. ``m``, ``ef_construction`` and ``ef_runtime`` are HNSW parameters.
    """

    algorithm: Literal["FLAT", "HNSW"]
    type: Literal["FLOAT32", "FLOAT64"]
    dim: int
    metric: Literal["COSINE", "L2", "IP"]
    m: int
    ef_construction: int
    ef_runtime: int


@dataclass(frozen=True)
class KnnQuery:
    """A KNN search: made by :func:`knn`, passed as ``knn=`` to :func:`search_hashes`."""

    field: str
    vector: tuple[float, ...]
    k: int
    ef_runtime: int | None = None

    def vectors(self) -> pl.DataFrame:
        """The query vector as the one-row, one-column frame the core reads."""
        return pl.DataFrame({"vector": [list(self.vector)]}, schema={"vector": pl.List(pl.Float64)})


@checked
def knn(
    field: str, vector: Iterable[SupportsFloat], k: int, *, ef_runtime: int | None = None
) -> KnnQuery:
    """The ``k`` documents nearest to ``vector`` in the index's vector attribute ``field``.

    Pass it as ``knn=`` to :func:`search_hashes` or :func:`search_json`; the
    search's query (or builder filter) then selects which documents compete
    (a hybrid search), and the rows come back nearest first with a
    ``_distance`` column.

    Parameters
    ----------
    field
        The vector attribute: its query name, or its hash field / JSON path.
    vector
        The query vector: a list, tuple or numpy array of numbers, of the
        attribute's dimension (it is sent in the attribute's ``TYPE``).
    k
        How many neighbours (at least 1).
    ef_runtime
        HNSW only: candidates kept while searching (higher: better recall,
        slower); the index's own setting when None.

    Examples
    --------
    >>> import polars_redis as redis
    >>> nearest = redis.knn("emb", [1.0, 0.0, 0.0, 0.0], k=2)
    >>> redis.search_hashes(url, "items", knn=nearest, schema={"title": pl.String}).collect()
    shape: (2, 3)
    ┌────────┬───────────┬───────┐
    │ _key   ┆ _distance ┆ title │
    │ ---    ┆ ---       ┆ ---   │
    │ str    ┆ f64       ┆ str   │
    ╞════════╪═══════════╪═══════╡
    │ item:1 ┆ 0.0       ┆ pen   │
    │ item:2 ┆ 0.25      ┆ ink   │
    └────────┴───────────┴───────┘
    """
    values = tuple(vector)
    for i, value in enumerate(values):
        if isinstance(value, bool):
            msg = f"knn(): vector element {i} is {value!r}, not a number"
            raise InvalidInputError(msg)
    if not values:
        msg = "knn(): the vector is empty"
        raise InvalidInputError(msg)
    if k < 1:
        msg = f"knn(): k must be at least 1, got {k}"
        raise InvalidInputError(msg)
    return KnnQuery(field, tuple(float(v) for v in values), k, ef_runtime)
