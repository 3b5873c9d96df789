"""A tiny TCP proxy in front of a real Redis server, for failure tests.

It forwards bytes both ways and can

* cut a connection once the server has sent it ``cut_after`` bytes of
  replies (the commands already forwarded still run on the server, their
  replies are lost: exactly what a dropped connection mid-pipeline does);
* run a hook on the bytes a client sends before forwarding them (to let
  another client change the database at a precise moment).

Only loopback addresses are used; every thread stops when the proxy closes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from redis_servers import find_free_port


class Proxy:
    def __init__(
        self,
        target_port: int,
        *,
        cut_after: int | None = None,
        cut_connections: int = 1,
        on_client_bytes: Callable[[bytes], None] | None = None,
    ) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.cut_connections = cut_connections
        self.on_client_bytes = on_client_bytes
        self.port = find_free_port()
        self.connections = 0
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            index = self.connections
            self.connections += 1
            self._sockets += [client, upstream]
            limit = self.cut_after if index < self.cut_connections else None
            for target, args in (
                (self._pump_up, (client, upstream)),
                (self._pump_down, (upstream, client, limit)),
            ):
                thread = threading.Thread(target=target, args=args, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump_up(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if self.on_client_bytes is not None:
                    self.on_client_bytes(data)
                upstream.sendall(data)
        _close(client, upstream)

    def _pump_down(self, upstream: socket.socket, client: socket.socket, limit: int | None) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if limit is not None and sent + len(data) >= limit:
                    client.sendall(data[: max(0, limit - sent)])
                    self.cuts += 1
                    break
                client.sendall(data)
                sent += len(data)
        _close(client, upstream)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for sock in self._sockets:
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()
