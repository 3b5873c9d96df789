"""Faults for the retry tests: connections dropped by a proxy, and what a
client sees of a server restart (every connection drops, then the same
address answers with a new ``run_id``).

A restart is played by a proxy that switches to a second real server holding
the same keys: the client's address stays the same, the ``run_id`` behind it
changes, and the new server's ``SCAN`` cursors mean nothing to the old walk,
exactly as after a real restart that reloads its data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis_servers import RedisServer
from tcp_proxy import Proxy, _close


class RestartingProxy(Proxy):
    """A proxy whose server can be "restarted" (see the module docs)."""

    def restart_as(self, port: int) -> None:
        """Drop every connection; new ones go to the server on ``port``."""
        self.target_port = port
        for sock in list(self._sockets):
            _close(sock)


@pytest.fixture(scope="module")
def twin_server() -> Iterator[RedisServer]:
    """A second plain server, to stand in for the first after a restart."""
    server = RedisServer.plain(name="twin")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def twin_client(twin_server: RedisServer) -> Iterator[Any]:
    twin_server.flushall()
    client = twin_server.client()
    try:
        yield client
    finally:
        client.close()
