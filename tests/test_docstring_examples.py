"""The docstring examples of ``polars_redis`` run, so they cannot drift.

Each public name with ``>>>`` examples (and the package docstring) runs with
:mod:`doctest` against a Redis Stack database seeded afresh by :func:`seed`,
with the globals the examples assume: ``url``, ``redis`` (the package) and
``pl``. The write examples start from an empty database.
"""

from __future__ import annotations

import doctest
import json
import struct
from typing import Any

import polars as pl
import pytest
from test_search import _wait_indexed

import polars_redis as redis

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _examples() -> list[doctest.DocTest]:
    found = doctest.DocTestFinder(recurse=False).find(redis, "polars_redis")
    finder = doctest.DocTestFinder()
    for name in redis.__all__:
        found += finder.find(getattr(redis, name), name)
    return sorted((test for test in found if test.examples), key=lambda test: test.name)


EXAMPLES = _examples()


def seed(client: Any, *, json_users: bool = False) -> None:
    """The data the examples read. ``user:*`` are hashes (with a ``users``
    index), or JSON documents for the JSON examples (``json_users``).
    Returns once the indexes are complete."""
    if json_users:
        users = {
            "user:1": {
                "name": "Alice",
                "age": 36,
                "tags": ["admin", "dev"],
                "address": {"city": "Oslo", "zip": "0150"},
            },
            "user:2": {"name": "Bob", "age": 71, "tags": []},
        }
        for key, doc in users.items():
            client.execute_command("JSON.SET", key, "$", json.dumps(doc))
    else:
        client.execute_command(
            "FT.CREATE", "users", "ON", "HASH", "PREFIX", "1", "user:",
            "SCHEMA", "name", "TEXT", "age", "NUMERIC", "city", "TAG",
        )  # fmt: skip
        client.hset("user:1", mapping={"name": "Alice", "age": 36, "active": "true", "city": "ams"})
        client.hset("user:2", mapping={"name": "Bob", "age": 41, "active": "false", "city": "ber"})
        client.hset("user:3", mapping={"name": "Cleo", "age": 30, "active": "true", "city": "ams"})
    docs = {
        "doc:1": {"name": "pen", "kind": "office", "price": 2.5,
                  "address": {"city": "Oslo", "zip": "0150"}},
        "doc:2": {"name": "lamp", "kind": "home", "price": 35.0,
                  "address": {"city": "Bergen", "zip": "5003"}},
        "doc:3": {"name": "stapler", "kind": "office", "price": 8.0,
                  "address": {"city": "Oslo", "zip": "0151"}},
    }  # fmt: skip
    client.execute_command(
        "FT.CREATE", "docs", "ON", "JSON", "PREFIX", "1", "doc:", "SCHEMA",
        "$.name", "AS", "name", "TEXT", "$.kind", "AS", "kind", "TAG",
        "$.price", "AS", "price", "NUMERIC",
    )  # fmt: skip
    for key, doc in docs.items():
        client.execute_command("JSON.SET", key, "$", json.dumps(doc))
    client.rpush("queue:a", 7, 3)
    client.rpush("queue:b", 5)
    client.sadd("tags:1", "python", "redis", "rust")
    client.sadd("tags:2", "python", "redis")
    client.sadd("ids:x", 1, 2, 3)
    client.xadd("events:1", {"user": "alice", "amount": 12.5}, id="1700000000000-0")
    client.xadd("events:1", {"user": "bob", "amount": 20}, id="1700000000123-0")
    client.xadd("events:1", {"user": "cy", "amount": 4}, id="1700000000500-0")
    client.mset({"visits:a": 12, "visits:b": 3, "visits:c": 40, "greeting": "hello"})
    series = {
        "temp:kitchen": ("kitchen", [(0, 21.5), (500, 22.0), (3_600_000, 23.5)]),
        "temp:office": ("office", [(1000, 21.0)]),
    }
    for key, (room, samples) in series.items():
        client.execute_command("TS.CREATE", key, "LABELS", "sensor", "temp", "room", room)
        for timestamp, value in samples:
            client.execute_command("TS.ADD", key, timestamp, value)
    client.zadd("board:1", {"cy": 7.5, "ann": 50, "bob": float("inf")})
    client.execute_command(
        "FT.CREATE", "items", "ON", "HASH", "PREFIX", "1", "item:", "SCHEMA", "title", "TAG",
        "emb", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "4", "DISTANCE_METRIC", "L2",
    )  # fmt: skip
    items = {"item:1": ("pen", 0.0), "item:2": ("ink", 0.5), "item:3": ("lamp", 1.0)}
    for key, (title, third) in items.items():
        emb = struct.pack("<4f", 1.0, 0.0, third, 0.0)
        client.hset(key, mapping={"title": title, "emb": emb})
    for index in client.execute_command("FT._LIST"):
        _wait_indexed(client, index)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda test: test.name)
def test_docstring_examples(example: doctest.DocTest, stack_url: str, stack_client: Any) -> None:
    module = example.globs.get("__name__")
    if module != "polars_redis.write":
        seed(stack_client, json_users=module == "polars_redis.json")
    example.globs = {"url": stack_url, "redis": redis, "pl": pl}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    runner.run(example, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_every_public_function_has_examples() -> None:
    documented = {test.name.split(".")[0] for test in EXAMPLES}
    functions = {name for name in redis.__all__ if callable(getattr(redis, name))}
    classes = {name for name in functions if isinstance(getattr(redis, name), type)}
    missing = functions - classes - documented
    assert not missing, f"public functions without examples: {sorted(missing)}"
