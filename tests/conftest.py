"""Redis server fixtures.

Session-scoped servers (started once, on free loopback ports):

* ``redis_server``   plain Debian redis-server            (:class:`RedisServer`)
* ``stack_server``   Redis Stack with JSON/Search/TimeSeries (:class:`RedisServer`)
* ``redis_cluster``  3-master cluster                     (:class:`RedisCluster`)
* ``redis_stack_cluster``  3-master cluster of Redis Stack servers (JSON, TimeSeries)

Function-scoped helpers, each starting from an empty database (FLUSHALL):

* ``redis_url`` / ``stack_url`` / ``cluster_url`` / ``stack_cluster_url``
  ``redis://127.0.0.1:PORT`` (a cluster's first node)
* ``redis_client`` / ``stack_client`` / ``cluster_client`` /
  ``stack_cluster_client``   redis-py clients
  (``decode_responses=False``)

Servers are started by the Rust harness's ``redis-harness`` binary (see
``redis_servers.py``). If it or a Redis binary or module is missing the fixture
skips, except when the ``CI`` environment variable is set, where it fails instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redis_servers import (
    HarnessUnavailable,
    RedisCluster,
    RedisServer,
)

T = TypeVar("T")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(what: str, exc: Exception) -> NoReturn:
    reason = f"{what} unavailable: {exc}"
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this is an error)", pytrace=False)
    pytest.skip(reason)


def _start(what: str, factory: Callable[[], T]) -> T:
    try:
        return factory()
    except HarnessUnavailable as exc:
        _unavailable(what, exc)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = _start("redis-server", RedisServer.plain)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack_server() -> Iterator[RedisServer]:
    server = _start("Redis Stack server", RedisServer.stack)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    cluster = _start("Redis cluster", RedisCluster)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_stack_cluster() -> Iterator[RedisCluster]:
    cluster = _start("Redis Stack cluster", lambda: RedisCluster(stack=True))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def stack_url(stack_server: RedisServer) -> str:
    stack_server.flushall()
    return stack_server.url


@pytest.fixture
def cluster_url(redis_cluster: RedisCluster) -> str:
    redis_cluster.flushall()
    return redis_cluster.url


@pytest.fixture
def stack_cluster_url(redis_stack_cluster: RedisCluster) -> str:
    redis_stack_cluster.flushall()
    return redis_stack_cluster.url


@pytest.fixture
def redis_client(redis_server: RedisServer, redis_url: str) -> Iterator[Any]:
    client = redis_server.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def stack_client(stack_server: RedisServer, stack_url: str) -> Iterator[Any]:
    client = stack_server.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def cluster_client(redis_cluster: RedisCluster, cluster_url: str) -> Iterator[Any]:
    client = redis_cluster.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def stack_cluster_client(
    redis_stack_cluster: RedisCluster, stack_cluster_url: str
) -> Iterator[Any]:
    client = redis_stack_cluster.client()
    try:
        yield client
    finally:
        client.close()
