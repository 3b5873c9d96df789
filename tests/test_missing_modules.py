"""A server without a module (RedisJSON, RedisTimeSeries, RediSearch): every
entry point that needs it raises ``UnsupportedError`` naming the module and
the entry point, never an empty frame or a raw "unknown command" error; on a
server with the modules the same calls work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

import polars_redis as pr

JSON_DF = pl.DataFrame({"_key": ["doc:1"], "n": [1]})
TS_DF = pl.DataFrame({"_key": ["ts:1"], "_ts": [1000], "value": [1.5]})

# (entry point, module named, call)
NEEDS_MODULE: list[tuple[str, str, Callable[[str], Any]]] = [
    ("read_json", "RedisJSON", lambda url: pr.read_json(url, "doc:*", {"n": pl.Int64})),
    (
        "read_json",
        "RedisJSON",
        lambda url: pr.read_json(url, keys=["doc:1"], schema={"n": pl.Int64}),
    ),
    ("scan_json", "RedisJSON", lambda url: pr.scan_json(url, "*", {"n": pl.Int64}).collect()),
    ("iter_json", "RedisJSON", lambda url: list(pr.iter_json(url, "*", {"n": pl.Int64}))),
    ("read_json", "RedisJSON", lambda url: pr.read_json(url, "doc:*")),
    ("infer_json_schema", "RedisJSON", lambda url: pr.infer_json_schema(url, "doc:*")),
    ("write_json", "RedisJSON", lambda url: pr.write_json(JSON_DF, url)),
    ("read_timeseries", "RedisTimeSeries", lambda url: pr.read_timeseries(url, "ts:*")),
    ("read_timeseries", "RedisTimeSeries", lambda url: pr.read_timeseries(url, keys=["ts:1"])),
    (
        "read_timeseries",
        "RedisTimeSeries",
        lambda url: pr.read_timeseries(url, filter=["room=kitchen"]),
    ),
    ("iter_timeseries", "RedisTimeSeries", lambda url: list(pr.iter_timeseries(url, "ts:*"))),
    ("write_timeseries", "RedisTimeSeries", lambda url: pr.write_timeseries(TS_DF, url)),
    ("search_hashes", "RediSearch", lambda url: pr.search_hashes(url, "idx", "*").collect()),
    ("search_json", "RediSearch", lambda url: pr.search_json(url, "idx", "*").collect()),
    (
        "aggregate_hashes",
        "RediSearch",
        lambda url: pr.aggregate_hashes(url, "idx", "*", group_by="n"),
    ),
    ("index_info", "RediSearch", lambda url: pr.index_info(url, "idx")),
    ("index_exists", "RediSearch", lambda url: pr.index_exists(url, "idx")),
    ("drop_index", "RediSearch", lambda url: pr.drop_index(url, "idx")),
    ("create_index", "RediSearch", lambda url: pr.create_index(url, "idx", "h:", {"n": pl.Int64})),
]


def _ids() -> list[str]:
    return [f"{i}-{name}-{module}" for i, (name, module, _) in enumerate(NEEDS_MODULE)]


def _seed_plain(client: Any) -> None:
    """Keys of other types under the same names, so a scan has something to find."""
    client.hset("doc:1", mapping={"n": "1"})
    client.hset("ts:1", mapping={"value": "1"})
    client.hset("h:1", mapping={"n": "1"})


@pytest.mark.parametrize(("name", "module", "call"), NEEDS_MODULE, ids=_ids())
def test_plain_server_raises_unsupported(
    redis_url: str, redis_client: Any, name: str, module: str, call: Callable[[str], Any]
) -> None:
    _seed_plain(redis_client)
    before = redis_client.dbsize()
    with pytest.raises(pr.UnsupportedError) as info:
        call(redis_url)
    message = str(info.value)
    assert module in message and name in message, message
    assert "unknown command" not in message.split("(")[0]
    assert redis_client.dbsize() == before


@pytest.mark.parametrize(("name", "module", "call"), NEEDS_MODULE[:12], ids=_ids()[:12])
def test_plain_cluster_raises_unsupported(
    cluster_url: str, name: str, module: str, call: Callable[[str], Any]
) -> None:
    with pytest.raises(pr.UnsupportedError) as info:
        call(cluster_url)
    assert module in str(info.value) and name in str(info.value)


def test_stack_server_has_them(stack_url: str, stack_client: Any) -> None:
    stack_client.json().set("doc:1", "$", {"n": 1})
    assert pr.read_json(stack_url, "doc:*", {"n": pl.Int64})["n"].to_list() == [1]
    assert pr.read_json(stack_url, keys=["doc:1"], schema={"n": pl.Int64}).height == 1
    assert dict(pr.infer_json_schema(stack_url, "doc:*")) == {"n": pl.Int64}
    assert pr.write_json(JSON_DF, stack_url).written == 1
    assert pr.write_timeseries(TS_DF, stack_url, labels={"room": "kitchen"}).written == 1
    assert pr.read_timeseries(stack_url, "ts:*")["value"].to_list() == [1.5]
    assert pr.read_timeseries(stack_url, filter=["room=kitchen"]).height == 1
    assert not pr.index_exists(stack_url, "idx")


def test_auto_search_falls_back_to_scan_without_the_module(
    redis_url: str, redis_client: Any
) -> None:
    """A plain scan never needs RediSearch: the automatic index lookup finds
    no module and scans."""
    redis_client.hset("h:1", mapping={"n": "1"})
    frame = pr.scan_hashes(redis_url, "h:*", {"n": pl.Int64}).filter(pl.col("n") == 1).collect()
    assert frame["n"].to_list() == [1]
