"""list_indexes and find_index_for_pattern against real servers; redis-py
creates the indexes and FT.INFO is the ground truth."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from test_search import _info, _wait_indexed

import polars_redis as redis


def _create(client: Any, name: str, *args: str) -> None:
    client.execute_command("FT.CREATE", name, *args)
    _wait_indexed(client, name)


def test_list_indexes_matches_ft_info(stack_url: str, stack_client: Any) -> None:
    for i in range(3):
        stack_client.hset(f"user:{i}", mapping={"name": f"n{i}", "age": i})
    _create(
        stack_client, "users", "ON", "HASH", "PREFIX", "2", "user:", "member:",
        "SCHEMA", "name", "AS", "nm", "TEXT", "age", "NUMERIC", "SORTABLE",
    )  # fmt: skip
    _create(
        stack_client, "docs", "ON", "JSON", "PREFIX", "1", "doc:", "FILTER", "@kind == 'x'",
        "SCHEMA", "$.kind", "AS", "kind", "TAG",
    )  # fmt: skip
    df = redis.list_indexes(stack_url).sort("name")
    assert df["name"].to_list() == ["docs", "users"]
    assert df["on"].to_list() == ["json", "hash"]
    assert df["prefixes"].to_list() == [["doc:"], ["user:", "member:"]]
    assert df["filter"].to_list() == ["@kind == 'x'", None]
    assert df["indexing"].to_list() == [False, False]
    truth = {name: int(_info(stack_client, name)["num_docs"]) for name in ("docs", "users")}
    assert df["num_docs"].to_list() == [truth["docs"], truth["users"]] == [0, 3]
    users = df.row(1, named=True)["attributes"]
    assert users == [
        {"identifier": "name", "name": "nm", "type": "TEXT"},
        {"identifier": "age", "name": "age", "type": "NUMERIC"},
    ]
    assert df.schema["attributes"] == pl.List(
        pl.Struct({"identifier": pl.String, "name": pl.String, "type": pl.String})
    )


def test_list_indexes_of_a_server_without_any(stack_url: str) -> None:
    df = redis.list_indexes(stack_url)
    assert df.height == 0
    assert df.columns[:4] == ["name", "on", "prefixes", "filter"]


def test_find_index_for_pattern_picks_what_auto_uses(stack_url: str, stack_client: Any) -> None:
    for i in range(5):
        stack_client.hset(f"user:{i}", mapping={"age": i})
    _create(stack_client, "users", "ON", "HASH", "PREFIX", "1", "user:", "SCHEMA", "age", "NUMERIC")
    _create(stack_client, "everything", "ON", "HASH", "SCHEMA", "age", "NUMERIC")
    _create(stack_client, "orders", "ON", "HASH", "PREFIX", "1", "order:", "SCHEMA", "n", "NUMERIC")
    order = [
        n.decode() if isinstance(n, bytes) else n for n in stack_client.execute_command("FT._LIST")
    ]
    found = redis.find_index_for_pattern(stack_url, "user:*")
    covering = [n for n in order if n in ("users", "everything")]
    assert found
    assert found.name == covering[0]
    assert found.reason is None
    assert found.rejected[covering[1]].startswith("it covers the pattern too")
    assert found.rejected["orders"] == "its prefixes do not cover the key pattern"
    # The same index answers a scan with index="auto".
    lf = redis.scan_hashes(stack_url, "user:*", schema={"age": pl.Int64}, index="auto")
    plan = redis.explain_pushdown(lf.filter(pl.col("age") > 2))
    assert f"index `{found.name}`" in plan
    assert found.on_type == "hash"


def test_find_index_for_pattern_explains_why_not(stack_url: str, stack_client: Any) -> None:
    nothing = redis.find_index_for_pattern(stack_url, "user:*")
    assert not nothing
    assert nothing.name is None and nothing.prefixes == []
    assert nothing.reason == "there is no index"
    _create(
        stack_client,
        "j",
        "ON",
        "JSON",
        "PREFIX",
        "1",
        "user:",
        "SCHEMA",
        "$.a",
        "AS",
        "a",
        "NUMERIC",
    )
    _create(
        stack_client, "f", "ON", "HASH", "PREFIX", "1", "user:", "FILTER", "@a > 1",
        "SCHEMA", "a", "NUMERIC",
    )  # fmt: skip
    found = redis.find_index_for_pattern(stack_url, "user:*")
    assert not found
    assert found.rejected == {
        "j": "it indexes JSON documents",
        "f": "it has a FILTER (@a > 1) that leaves keys out",
    }
    assert found.reason is not None and found.reason.startswith("no index can answer:")
    on_json = redis.find_index_for_pattern(stack_url, "user:*", on="json")
    assert on_json.name == "j"
    # A pattern with a wider literal prefix than the index is not covered.
    assert not redis.find_index_for_pattern(stack_url, "use*", on="json")


def test_find_index_for_pattern_outside_database_zero(stack_server: Any, stack_url: str) -> None:
    found = redis.find_index_for_pattern(stack_url + "/3", "user:*")
    assert not found
    assert found.reason == "RediSearch only indexes database 0"


def test_without_redisearch(redis_url: str) -> None:
    found = redis.find_index_for_pattern(redis_url, "user:*")
    assert not found
    assert found.reason and "FT._LIST" in found.reason
    with pytest.raises(redis.PolarsRedisError, match=r"FT\._LIST"):
        redis.list_indexes(redis_url)


def test_cluster_without_coordinator(stack_cluster_url: str) -> None:
    found = redis.find_index_for_pattern(stack_cluster_url, "user:*")
    assert not found
    assert found.reason and "coordinator" in found.reason
    with pytest.raises(redis.SearchError, match="coordinator"):
        redis.list_indexes(stack_cluster_url)


def test_bad_input(stack_url: str) -> None:
    with pytest.raises(redis.InvalidInputError, match="on must be one of"):
        redis.find_index_for_pattern(stack_url, "user:*", on="xml")  # type: ignore[arg-type]
    with pytest.raises(redis.ArgumentTypeError):
        redis.find_index_for_pattern(stack_url, b"user:*")  # type: ignore[arg-type]
    with pytest.raises(redis.InvalidInputError):
        redis.list_indexes("nope://x")
