"""Replication fixtures for the ``read_from`` and Sentinel tests: a primary
with replicas (``--replicaof``), Redis Sentinels (``redis-server --sentinel``
with a generated config file), and a Redis Cluster whose masters each have a
replica. Every server runs on a free loopback port and is stopped by its
fixture.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from redis_servers import (
    RedisCluster,
    RedisServer,
    configured_binary,
    find_free_port,
    resp_command,
)
from test_load_budget import load

SERVICE = "pr-primary"
#: How long a test waits for replication or a failover to settle.
SETTLE_TIMEOUT = 30.0


def wait_until(what: str, condition: Callable[[], bool], timeout: float = SETTLE_TIMEOUT) -> None:
    """Poll ``condition`` every 50 ms until it holds, else fail naming ``what``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def role(server: RedisServer) -> list[Any]:
    reply: list[Any] = server.execute("ROLE")
    return reply


def is_linked_replica(server: RedisServer) -> bool:
    """The server is a replica whose link to its master is up."""
    reply = role(server)
    return reply[0] == b"slave" and reply[3] == b"connected"


def command_calls(server: RedisServer, command: str) -> int:
    """How often ``command`` (any case) ran on ``server`` since its last
    ``CONFIG RESETSTAT``."""
    text = server.execute("INFO", "commandstats").decode()
    for line in text.splitlines():
        if line.lower().startswith(f"cmdstat_{command.lower()}:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def reset_stats(*servers: RedisServer) -> None:
    for server in servers:
        server.execute("CONFIG", "RESETSTAT")


def read_across(batches: Iterable[pl.DataFrame], event: Callable[[], object]) -> pl.DataFrame:
    """Every batch of an ``iter_*`` stream, with ``event`` happening after the
    third (the rest of the read runs after it)."""
    stream = iter(batches)
    seen = [next(stream) for _ in range(3)]
    event()
    seen += list(stream)
    return pl.concat(seen)


class ReplicaSet:
    """A primary and ``count`` replicas of it (``--replicaof``)."""

    def __init__(self, count: int = 2, name: str = "rs") -> None:
        self.primary = RedisServer.plain(name=f"{name}-primary")
        self.replicas: list[RedisServer] = []
        try:
            for i in range(count):
                self.replicas.append(
                    RedisServer.plain(
                        name=f"{name}-replica{i}",
                        extra_args=["--replicaof", self.primary.host, str(self.primary.port)],
                    )
                )
            self.wait_linked()
        except BaseException:
            self.stop()
            raise

    @property
    def servers(self) -> list[RedisServer]:
        return [self.primary, *self.replicas]

    def wait_linked(self) -> None:
        """Wait until every running replica is linked to the current primary."""
        for replica in self.replicas:
            if replica.running:
                wait_until(f"{replica.name} to sync", lambda r=replica: is_linked_replica(r))

    def seed(self, prefix: str, rows: int) -> pl.DataFrame:
        """``rows`` hashes written by redis-py on the primary and on every
        running replica; the frame reading them must return."""
        client = self.primary.client()
        try:
            expected = load(client, rows, prefix)
            self.sync(client)
        finally:
            client.close()
        return expected

    def sync(self, client: Any) -> None:
        """Wait until the running replicas have every write ``client`` made."""
        running = sum(1 for r in self.replicas if r.running)
        assert client.execute_command("WAIT", running, 5000) >= running

    def stop(self) -> None:
        for server in [*self.replicas, self.primary]:
            server.stop()


class Sentinels:
    """``count`` sentinels (``redis-server --sentinel``) monitoring ``primary``
    as :data:`SERVICE`, tuned to fail over within a few seconds."""

    def __init__(
        self, primary: RedisServer, replicas: int, count: int = 3, password: str | None = None
    ) -> None:
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix="pr-sentinels-"))
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        server_bin = configured_binary("server")
        try:
            for i in range(count):
                port = find_free_port()
                conf = self.dir / f"sentinel{i}.conf"
                conf.write_text(
                    f"port {port}\n"
                    "bind 127.0.0.1\n"
                    f"dir {self.dir}\n"
                    f"logfile {self.dir}/sentinel{i}.log\n"
                    f"sentinel monitor {SERVICE} {primary.host} {primary.port} 2\n"
                    f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                    f"sentinel failover-timeout {SERVICE} 6000\n"
                    f"sentinel parallel-syncs {SERVICE} {replicas}\n"
                    + (f"requirepass {password}\n" if password else "")
                )
                self.procs.append(
                    subprocess.Popen(
                        [server_bin, str(conf), "--sentinel"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                self.ports.append(port)
            for port in self.ports:
                wait_until(
                    f"sentinel {port} to see {replicas} replicas",
                    lambda p=port: (
                        len(self.execute(p, "SENTINEL", "REPLICAS", SERVICE)) == replicas
                    ),
                )
        except BaseException:
            self.stop()
            raise

    def execute(self, port: int, *args: str) -> Any:
        return resp_command("127.0.0.1", port, *args, password=self.password)

    def url(self, db: int | None = None) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.ports)
        return f"redis+sentinel://{hosts}/{SERVICE}" + (f"/{db}" if db is not None else "")

    def master_port(self) -> int:
        """The master's port, as the first sentinel names it."""
        return int(self.execute(self.ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)[1])

    def failover(self, servers: list[RedisServer]) -> RedisServer:
        """Force a failover (``SENTINEL FAILOVER``) and wait until it is done:
        every sentinel names the new master, which says it is one, and every
        other server is its linked replica. Returns the new master."""
        old = self.master_port()
        # A sentinel that has not yet judged a replica good answers NOGOODSLAVE.
        wait_until(
            "the sentinel to start a failover",
            lambda: self.execute(self.ports[0], "SENTINEL", "FAILOVER", SERVICE) == "OK",
        )
        wait_until("the sentinels to name a new master", lambda: self.master_port() != old)
        new_port = self.master_port()
        wait_until(
            "every sentinel to agree",
            lambda: all(
                int(self.execute(p, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)[1]) == new_port
                for p in self.ports
            ),
        )
        master = next(s for s in servers if s.port == new_port)
        wait_until("the new master", lambda: role(master)[0] == b"master")
        for server in servers:
            if server is not master:
                wait_until(
                    f"{server.name} to follow the new master",
                    lambda s=server: is_linked_replica(s) and int(role(s)[2]) == new_port,
                )
        return master

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for path in self.dir.glob("*"):
            path.unlink()
        with contextlib.suppress(OSError):
            self.dir.rmdir()


class ReplicatedCluster:
    """A 3-master Redis Cluster with one replica per master (3+3): the
    replicas join with ``CLUSTER MEET`` and ``CLUSTER REPLICATE``."""

    def __init__(self) -> None:
        self.cluster = RedisCluster(3)
        self.masters = list(self.cluster.nodes)
        self.replicas: list[RedisServer] = []
        try:
            seed = self.masters[0]
            for i, master in enumerate(self.masters):
                replica = RedisServer.plain(cluster=True, name=f"cluster-replica{i}")
                self.replicas.append(replica)
                replica.execute(
                    "CLUSTER", "MEET", seed.host, str(seed.port), str(seed.cluster_bus_port)
                )
                master_id = master.execute("CLUSTER", "MYID").decode()
                wait_until(
                    f"{replica.name} to learn of its master",
                    lambda r=replica, m=master_id: m in r.execute("CLUSTER", "NODES").decode(),
                )
                wait_until(
                    f"{replica.name} to replicate",
                    lambda r=replica, m=master_id: r.execute("CLUSTER", "REPLICATE", m) == "OK",
                )
            for replica in self.replicas:
                wait_until(f"{replica.name} to sync", lambda r=replica: is_linked_replica(r))
            for master in self.masters:
                wait_until(
                    "every master to list the replicas",
                    lambda m=master: m.execute("CLUSTER", "NODES").decode().count(" slave ") == 3,
                )
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return self.cluster.url

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.cluster.stop()


@pytest.fixture(scope="module")
def replica_set() -> Iterator[ReplicaSet]:
    """A primary with two replicas, shared by a module's tests (which must
    leave all three running)."""
    replicas = ReplicaSet(2)
    try:
        yield replicas
    finally:
        replicas.stop()


@pytest.fixture
def fresh_replica_set() -> Iterator[ReplicaSet]:
    """A primary with two replicas for one test, which may stop them."""
    replicas = ReplicaSet(2, name="fresh")
    try:
        yield replicas
    finally:
        replicas.stop()


@pytest.fixture(scope="module")
def replicated_cluster() -> Iterator[ReplicatedCluster]:
    cluster = ReplicatedCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def sentinel_set() -> Iterator[tuple[ReplicaSet, Sentinels]]:
    """A primary with two replicas and three sentinels watching it, for one
    test (failovers change who is master)."""
    replicas = ReplicaSet(2, name="sentinel")
    try:
        sentinels = Sentinels(replicas.primary, replicas=2)
        try:
            yield replicas, sentinels
        finally:
            sentinels.stop()
    finally:
        replicas.stop()
