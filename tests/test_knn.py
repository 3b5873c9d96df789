"""Vector indexes and KNN searches (issue 15): ``create_index`` with VECTOR
attributes, ``search_hashes`` / ``search_json`` with ``knn=``, and ``knn_join``.

Ground truth: vectors written with redis-py as numpy blobs (or JSON arrays),
neighbours computed by brute force with numpy on the same float32 values.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl
import pytest

import polars_redis as pr
from polars_redis import field

DIM = 8
ROWS = 400


def distances(metric: str, data: np.ndarray, query: np.ndarray) -> np.ndarray:
    """RediSearch's distances, in float64 over the stored float32 values."""
    data = data.astype(np.float64)
    query = query.astype(np.float32).astype(np.float64)
    if metric == "L2":
        return ((data - query) ** 2).sum(axis=1)
    if metric == "IP":
        return 1 - data @ query
    norms = np.linalg.norm(data, axis=1) * np.linalg.norm(query)
    return 1 - (data @ query) / norms


def top_k(metric: str, data: np.ndarray, query: np.ndarray, k: int, keys: list[str]) -> list[str]:
    order = np.argsort(distances(metric, data, query), kind="stable")[:k]
    return [keys[i] for i in order]


@pytest.fixture
def vectors(stack_client: Any) -> tuple[np.ndarray, list[str], list[str]]:
    """ROWS hashes ``item:i`` with an ``emb`` blob, a ``cat`` tag and an ``n`` number."""
    rng = np.random.default_rng(15)
    data = rng.standard_normal((ROWS, DIM)).astype("<f4")
    keys = [f"item:{i}" for i in range(ROWS)]
    cats = ["a" if i % 3 else "b" for i in range(ROWS)]
    pipe = stack_client.pipeline(transaction=False)
    for i, key in enumerate(keys):
        pipe.hset(key, mapping={"emb": data[i].tobytes(), "cat": cats[i], "n": i})
    pipe.execute()
    return data, keys, cats


def ft_info_attribute(client: Any, index: str, name: str) -> dict[str, Any]:
    """One attribute of raw FT.INFO (redis-py parses it into dicts), text keys and values."""

    def text(value: Any) -> Any:
        return value.decode() if isinstance(value, bytes) else value

    info = client.execute_command("FT.INFO", index)
    for attribute in info[b"attributes"]:
        items = attribute.items() if isinstance(attribute, dict) else zip(*[iter(attribute)] * 2)
        pairs = {text(k): text(v) for k, v in items}
        if pairs["attribute"] == name:
            return pairs
    raise AssertionError(f"no attribute {name}")


SCHEMA = {"emb": pl.Array(pl.Float32, DIM), "cat": pl.String, "n": pl.Int64}


def test_create_index_infers_a_flat_cosine_vector_from_an_array_column(
    stack_url: str, stack_client: Any, vectors: Any
) -> None:
    info = pr.create_index(stack_url, "ix", "item:", SCHEMA)
    assert info["num_docs"] == ROWS
    emb = next(a for a in info["attributes"] if a["name"] == "emb")
    assert (emb["type"], emb["vector_type"], emb["dim"]) == ("VECTOR", "FLOAT32", DIM)
    raw = ft_info_attribute(stack_client, "ix", "emb")
    assert (raw["algorithm"], raw["data_type"], int(raw["dim"]), raw["distance_metric"]) == (
        "FLAT",
        "FLOAT32",
        DIM,
        "COSINE",
    )


def test_create_index_takes_declared_hnsw_parameters(
    stack_url: str, stack_client: Any, vectors: Any
) -> None:
    declared: pr.VectorIndexOptions = {
        "algorithm": "HNSW",
        "metric": "L2",
        "type": "FLOAT32",
        "dim": DIM,
        "m": 8,
        "ef_construction": 100,
        "ef_runtime": 20,
    }
    pr.create_index(
        stack_url, "ix", "item:", {"emb": pl.List(pl.Float32)}, vectors={"emb": declared}
    )
    raw = ft_info_attribute(stack_client, "ix", "emb")
    assert raw["algorithm"] == "HNSW" and raw["distance_metric"] == "L2"
    assert (int(raw["M"]), int(raw["ef_construction"])) == (8, 100)


@pytest.mark.parametrize(
    ("schema", "vectors", "message"),
    [
        ({"emb": pl.List(pl.Float32)}, {"emb": {}}, 'declare "dim"'),
        ({"emb": pl.Array(pl.Float32, 4)}, {"emb": {"metric": "dot"}}, "metric"),
        ({"emb": pl.Array(pl.Float32, 4)}, {"emb": {"m": 8}}, 'algorithm="HNSW"'),
        ({"emb": pl.Array(pl.Int64, 4)}, {"emb": {}}, "not a float vector dtype"),
        ({"emb": pl.Array(pl.Float32, 4)}, {"other": {}}, "not in the schema: ['other']"),
        ({"emb": pl.Array(pl.Float32, 4)}, {"emb": {"metrc": "L2"}}, "vectors"),
    ],
)
def test_bad_vector_declarations_are_refused(
    stack_url: str, schema: Any, vectors: Any, message: str
) -> None:
    with pytest.raises(pr.InvalidInputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        pr.create_index(stack_url, "ix", "item:", schema, vectors=vectors)
    assert not pr.index_exists(stack_url, "ix")


@pytest.mark.parametrize("metric", ["COSINE", "L2", "IP"])
def test_flat_knn_is_the_exact_top_k(stack_url: str, vectors: Any, metric: str) -> None:
    data, keys, _ = vectors
    pr.create_index(stack_url, "ix", "item:", SCHEMA, vectors={"emb": {"metric": metric}})
    rng = np.random.default_rng(1)
    for query in rng.standard_normal((5, DIM)).astype("<f4"):
        df = pr.search_hashes(
            stack_url, "ix", knn=pr.knn("emb", query, k=10), schema={"n": pl.Int64}
        ).collect()
        assert df.columns == ["_key", "_distance", "n"]
        assert df["_key"].to_list() == top_k(metric, data, query, 10, keys)
        expected = np.sort(distances(metric, data, query))[:10]
        np.testing.assert_allclose(df["_distance"].to_numpy(), expected, rtol=1e-4, atol=1e-5)
        assert df["n"].to_list() == [int(k.split(":")[1]) for k in df["_key"]]


def test_knn_is_hybrid_with_builder_and_text_filters(stack_url: str, vectors: Any) -> None:
    data, keys, cats = vectors
    pr.create_index(stack_url, "ix", "item:", SCHEMA, vectors={"emb": {"metric": "L2"}})
    query = np.linspace(-1, 1, DIM).astype("<f4")
    allowed = [i for i in range(ROWS) if cats[i] == "b" and i >= 100]
    expected = top_k("L2", data[allowed], query, 7, [keys[i] for i in allowed])
    nearest = pr.knn("emb", query, k=7)
    built = (field("cat") == "b") & (field("n") >= 100)
    for filter_query, params in ((built, None), ("@cat:{$c} @n:[$lo +inf]", {"c": "b", "lo": 100})):
        df = pr.search_hashes(
            stack_url, "ix", filter_query, SCHEMA, params=params, knn=nearest
        ).collect()
        assert df["_key"].to_list() == expected
        assert set(df["cat"]) == {"b"}
        np.testing.assert_array_equal(
            df["emb"].to_numpy(), data[[int(k.split(":")[1]) for k in expected]]
        )
    # A LazyFrame filter applies to the k rows found.
    few = pr.search_hashes(stack_url, "ix", built, SCHEMA, knn=nearest).filter(pl.col("n") < 0)
    assert few.collect().height == 0


def test_knn_search_options_and_refusals(stack_url: str, vectors: Any) -> None:
    pr.create_index(stack_url, "ix", "item:", SCHEMA)
    query = np.ones(DIM, dtype="<f4")
    lf = pr.search_hashes(
        stack_url, "ix", knn=pr.knn("emb", query, k=3), schema={"n": pl.Int64},
        include_key=False, include_row_index=True,
    )  # fmt: skip
    df = lf.collect()
    assert df.columns == ["_index", "_distance", "n"] and df["_index"].to_list() == [0, 1, 2]
    assert df.schema == lf.collect_schema()
    with pytest.raises(pr.InvalidInputError, match="dimension 8"):
        pr.search_hashes(stack_url, "ix", knn=pr.knn("emb", [1.0, 2.0], k=3)).collect()
    with pytest.raises(pr.SearchError, match="not VECTOR"):
        pr.search_hashes(stack_url, "ix", knn=pr.knn("n", query, k=3)).collect()
    with pytest.raises(pr.InvalidInputError, match="sort_by"):
        pr.search_hashes(stack_url, "ix", knn=pr.knn("emb", query, k=3), sort_by="n")
    with pytest.raises(pr.ArgumentTypeError, match="vector must be an iterable of number"):
        pr.knn("emb", [1.0, "x"], k=3)
    with pytest.raises(pr.InvalidInputError, match="element 1 is True, not a number"):
        pr.knn("emb", [1.0, True], k=3)


def test_hnsw_recall_is_high_with_a_large_ef_runtime(stack_url: str, vectors: Any) -> None:
    data, keys, _ = vectors
    pr.create_index(stack_url, "ix", "item:", SCHEMA, vectors={"emb": {"algorithm": "HNSW"}})
    rng = np.random.default_rng(2)
    found = 0
    queries = rng.standard_normal((20, DIM)).astype("<f4")
    for query in queries:
        df = pr.search_hashes(
            stack_url, "ix", knn=pr.knn("emb", query, k=10, ef_runtime=200), schema={}
        ).collect()
        found += len(set(df["_key"]) & set(top_k("COSINE", data, query, 10, keys)))
    # HNSW is approximate; on 400 vectors with ef_runtime=200 it is all but exact.
    assert found / (10 * len(queries)) >= 0.9


def test_json_documents_search_their_vector_arrays(stack_url: str, stack_client: Any) -> None:
    rng = np.random.default_rng(3)
    data = rng.standard_normal((60, 4)).astype("<f4")
    keys = [f"doc:{i}" for i in range(60)]
    for key, vector in zip(keys, data):
        doc = {"emb": [float(x) for x in vector], "i": int(key[4:])}
        stack_client.execute_command("JSON.SET", key, "$", json.dumps(doc))
    schema = {"emb": pl.Array(pl.Float32, 4), "i": pl.Int64}
    pr.create_index(stack_url, "jx", "doc:", schema, on="json", vectors={"emb": {"metric": "L2"}})
    query = data[7] + 0.01
    df = pr.search_json(stack_url, "jx", knn=pr.knn("emb", query, k=5), schema=schema).collect()
    assert df["_key"].to_list() == top_k("L2", data, query, 5, keys)
    np.testing.assert_array_equal(df["emb"].to_numpy()[0], data[7])


def test_knn_join_equals_brute_force(stack_url: str, vectors: Any) -> None:
    data, keys, cats = vectors
    pr.create_index(stack_url, "ix", "item:", SCHEMA, vectors={"emb": {"metric": "IP"}})
    rng = np.random.default_rng(4)
    queries = rng.standard_normal((60, DIM)).astype("<f4")
    left = pl.DataFrame(
        {"user": [f"u{i}" for i in range(60)], "taste": queries, "cat": ["x"] * 60},
        schema={"user": pl.String, "taste": pl.Array(pl.Float32, DIM), "cat": pl.String},
    )
    out = pr.knn_join(left, stack_url, "ix", "taste", k=4, schema={"cat": pl.String})
    assert out.columns == ["user", "taste", "cat", "_key", "_distance", "cat_right"]
    assert out.height == 60 * 4
    for i, query in enumerate(queries):
        rows = out.filter(pl.col("user") == f"u{i}")
        assert rows["_key"].to_list() == top_k("IP", data, query, 4, keys)
        assert rows["cat_right"].to_list() == [cats[int(k[5:])] for k in rows["_key"]]
        assert rows["_distance"].is_sorted()
    # A filter makes it hybrid; field names the attribute explicitly.
    only_b = pr.knn_join(
        left.head(5), stack_url, "ix", "taste", k=2, field="emb", filter=field("cat") == "b"
    )
    assert set(only_b["cat_right"]) == {"b"} and only_b.height == 10


def test_knn_join_refusals(stack_url: str, vectors: Any) -> None:
    pr.create_index(stack_url, "ix", "item:", SCHEMA)
    left = pl.DataFrame({"v": [[1.0] * DIM, None]}, schema={"v": pl.List(pl.Float64)})
    with pytest.raises(pr.InvalidInputError, match="query vector 1 is null"):
        pr.knn_join(left, stack_url, "ix", "v", k=2)
    with pytest.raises(pr.InvalidInputError, match="'w' is not a column"):
        pr.knn_join(left, stack_url, "ix", "w", k=2)
    with pytest.raises(pr.InvalidInputError, match="has a column '_key'"):
        pr.knn_join(left.with_columns(_key=pl.lit("x")), stack_url, "ix", "v", k=2)
