"""Sorted searches and aggregations are complete, or raise ``SearchError``.

RediSearch keeps 10 rows of ``FT.AGGREGATE ... SORTBY`` without ``MAX``, and
cuts a sort at its ``MAXAGGREGATERESULTS`` setting without a word. Every test
writes its ground truth with redis-py and compares whole results, in order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

import polars_redis as pr
from polars_redis import field


def _wait_indexed(client: Any, name: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        raw = client.execute_command("FT.INFO", name)
        info = raw if isinstance(raw, dict) else dict(zip(raw[::2], raw[1::2]))
        indexing = info.get("indexing", info.get(b"indexing"))
        if int(indexing) == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"index {name} never finished")


def _seed_hashes(client: Any, prefix: str, index: str, count: int) -> list[dict[str, Any]]:
    """``count`` hashes: ``score`` = a permutation of 0..count-1, ``g`` one of 15 groups."""
    client.execute_command(
        "FT.CREATE", index, "ON", "HASH", "PREFIX", "1", prefix,
        "SCHEMA", "score", "NUMERIC", "g", "TAG", "w", "NUMERIC",
    )  # fmt: skip
    rows = []
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        row = {"score": (n * 7919) % count, "g": f"g{n % 15}", "w": n % 4}
        rows.append({"_key": f"{prefix}{n}", **row})
        pipe.hset(f"{prefix}{n}", mapping=row)
    pipe.execute()
    _wait_indexed(client, index)
    return rows


SCHEMA = {"score": pl.Int64, "g": pl.String, "w": pl.Int64}


def _truth(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"_key": pl.String, **SCHEMA})


@pytest.mark.parametrize("count", [20, 5000])
def test_sorted_search_keeps_every_row(stack_url: str, stack_client: Any, count: int) -> None:
    truth = _truth(_seed_hashes(stack_client, "sc:", "sc", count))
    asc = pr.search_hashes(stack_url, "sc", "*", SCHEMA, sort_by="score").collect()
    assert asc.equals(truth.sort("score"))
    desc = pr.search_hashes(stack_url, "sc", "*", SCHEMA, sort_by="score", descending=True)
    assert desc.collect().equals(truth.sort("score", descending=True))
    # Two keys, one descending.
    both = pr.search_hashes(
        stack_url, "sc", "*", SCHEMA, sort_by=["w", "score"], descending=[True, False]
    ).collect()
    assert both.equals(truth.sort(["w", "score"], descending=[True, False]))
    # A head of the sort, and a sort under a filter (no server-side limit).
    head = pr.search_hashes(stack_url, "sc", "*", SCHEMA, sort_by="score").head(12).collect()
    assert head.equals(truth.sort("score").head(12))
    filtered = (
        pr.search_hashes(stack_url, "sc", "*", SCHEMA, sort_by="score", descending=True)
        .filter(pl.col("w") == 1)
        .collect()
    )
    assert filtered.equals(truth.filter(pl.col("w") == 1).sort("score", descending=True))
    assert len(filtered) == count // 4


def test_sorted_aggregations_keep_every_group(stack_url: str, stack_client: Any) -> None:
    truth = _truth(_seed_hashes(stack_client, "ag:", "ag", 5000))
    groups = (
        truth.group_by("g")
        .agg(n=pl.len().cast(pl.Int64), top=pl.col("score").max().cast(pl.Float64))
        .sort(["n", "g"], descending=[True, False])
    )
    got = pr.aggregate_hashes(
        stack_url,
        "ag",
        group_by="g",
        reduce={"n": "count", "top": ("max", "score")},
        sort_by=["n", "g"],
        descending=[True, False],
    ).collect()
    assert len(got) == 15
    assert got.equals(groups)
    # One row per document, sorted: 5000 rows; and by a copied column.
    rows = pr.aggregate_hashes(
        stack_url, "ag", apply={"s": "@score * 1", "copy": "@score"}, sort_by="s", descending=True
    ).collect()
    assert rows["s"].to_list() == sorted(map(float, truth["score"]), reverse=True)
    copied = pr.aggregate_hashes(stack_url, "ag", apply={"copy": "@score"}, sort_by="copy")
    assert copied.collect()["copy"].to_list() == sorted(map(float, truth["score"]))
    top = pr.aggregate_hashes(
        stack_url, "ag", group_by="g", reduce={"n": "count"}, sort_by="g", limit=4
    ).collect()
    assert top["g"].to_list() == sorted(groups["g"].to_list())[:4]


@pytest.fixture
def json_docs(stack_url: str, stack_client: Any) -> pl.DataFrame:
    stack_client.execute_command(
        "FT.CREATE", "jc", "ON", "JSON", "PREFIX", "1", "jc:",
        "SCHEMA", "$.price", "AS", "price", "NUMERIC", "$.kind", "AS", "kind", "TAG",
    )  # fmt: skip
    rows = []
    pipe = stack_client.pipeline(transaction=False)
    for n in range(40):
        doc = {"price": (n * 13) % 40 + 0.5, "kind": f"k{n % 12}"}
        rows.append({"_key": f"jc:{n}", **doc})
        pipe.execute_command("JSON.SET", f"jc:{n}", "$", json.dumps(doc))
    pipe.execute()
    _wait_indexed(stack_client, "jc")
    return pl.DataFrame(rows, schema={"_key": pl.String, "price": pl.Float64, "kind": pl.String})


def test_sorted_json_searches_and_aggregations(stack_url: str, json_docs: pl.DataFrame) -> None:
    schema = {"price": pl.Float64, "kind": pl.String}
    got = pr.search_json(stack_url, "jc", "*", schema, sort_by="price", descending=True).collect()
    assert got.equals(json_docs.sort("price", descending=True))
    kinds = pr.aggregate_json(
        stack_url, "jc", group_by="kind", reduce={"n": "count"}, sort_by="kind"
    ).collect()
    assert kinds["kind"].to_list() == sorted(json_docs["kind"].unique().to_list())
    assert len(kinds) == 12


@pytest.fixture
def capped(stack_url: str, stack_client: Any) -> Iterator[Any]:
    """The server's MAXAGGREGATERESULTS and MAXSEARCHRESULTS set to 12, restored after."""
    saved = {
        name: stack_client.execute_command("FT.CONFIG", "GET", name)
        for name in ("MAXAGGREGATERESULTS", "MAXSEARCHRESULTS")
    }
    try:
        for name in saved:
            stack_client.execute_command("FT.CONFIG", "SET", name, "12")
        yield stack_client
    finally:
        for name, reply in saved.items():
            value = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))
            value = value.decode() if isinstance(value, bytes) else str(value)
            stack_client.execute_command(
                "FT.CONFIG", "SET", name, "-1" if value == "unlimited" else value
            )


def test_results_beyond_the_servers_caps_raise(stack_url: str, capped: Any) -> None:
    truth = _truth(_seed_hashes(capped, "cap:", "cap", 50))
    # Sorted: the server counts 50 rows (15 groups) and sends 12.
    with pytest.raises(pr.SearchError, match="MAXAGGREGATERESULTS"):
        pr.search_hashes(stack_url, "cap", "*", SCHEMA, sort_by="score").collect()
    with pytest.raises(pr.SearchError, match="MAXAGGREGATERESULTS"):
        pr.aggregate_hashes(
            stack_url, "cap", group_by="g", reduce={"n": "count"}, sort_by="n"
        ).collect()
    # An unsorted limit above the cap is refused by the server: a SearchError too.
    with pytest.raises(pr.SearchError, match="MAXAGGREGATERESULTS"):
        pr.aggregate_hashes(
            stack_url, "cap", group_by="g", reduce={"n": "count"}, limit=13
        ).collect()
    # Within the cap, or unsorted: complete.
    head = pr.search_hashes(stack_url, "cap", "*", SCHEMA, sort_by="score").head(5).collect()
    assert head.equals(truth.sort("score").head(5))
    unsorted = pr.search_hashes(stack_url, "cap", "*", SCHEMA).collect()
    assert unsorted.sort("_key").equals(truth.sort("_key"))
    groups = pr.aggregate_hashes(stack_url, "cap", group_by="g", reduce={"n": "count"}).collect()
    assert len(groups) == 15
    # The pushdown path of a scan: keys from the index, more than either cap.
    lf = pr.scan_hashes(stack_url, "cap:*", SCHEMA, index="cap").filter(pl.col("score") > 3)
    assert "index `cap`" in pr.explain_pushdown(lf)
    assert lf.collect().sort("_key").equals(truth.filter(pl.col("score") > 3).sort("_key"))


def test_query_builder_sort_is_complete(stack_url: str, stack_client: Any) -> None:
    truth = _truth(_seed_hashes(stack_client, "qb:", "qb", 300))
    got = pr.search_hashes(
        stack_url, "qb", field("w") == 2, SCHEMA, sort_by="score", descending=True
    ).collect()
    assert got.equals(truth.filter(pl.col("w") == 2).sort("score", descending=True))


def test_sorted_search_on_a_cluster_without_coordinator_is_refused(
    stack_cluster_url: str, stack_cluster_client: Any
) -> None:
    # Each node's index holds its own shard only: a sort there would be a
    # sorted part of the result. Refused, never partial.
    stack_cluster_client.hset("{c}:1", mapping={"score": 1})
    with pytest.raises(pr.SearchError, match="coordinator"):
        pr.search_hashes(stack_cluster_url, "sc", "*", SCHEMA, sort_by="score").collect()
    with pytest.raises(pr.SearchError, match="coordinator"):
        pr.aggregate_hashes(
            stack_cluster_url, "sc", group_by="g", reduce={"n": "count"}, sort_by="n"
        ).collect()
