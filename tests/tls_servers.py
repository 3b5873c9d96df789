"""TLS test servers and the certificates they use, made with the openssl CLI.

``TlsRedisServer`` is a redis-server listening only on a TLS port; given a
client certificate it checks readiness with it (for ``--tls-auth-clients
yes``). ``make_ca`` and ``issue_certificate`` write a throwaway CA and the
server or client certificates it signs.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_servers import STARTUP_TIMEOUT, RedisServer, find_free_port
from redis_servers import RedisServerError as HarnessServerError


def openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN=polars-redis {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return key, cert


def issue_certificate(
    directory: Path, name: str, ca: tuple[Path, Path], *, usage: str, alt_names: str = ""
) -> tuple[Path, Path]:
    """A certificate ``name.crt`` (key ``name.key``) signed by ``ca`` (key,
    cert), for ``usage`` ``serverAuth`` or ``clientAuth``, naming
    ``alt_names`` (``IP:127.0.0.1,DNS:localhost``) if given."""
    ca_key, ca_cert = ca
    extensions = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyAgreement",
        f"extendedKeyUsage={usage}",
    ]
    if alt_names:
        extensions.append(f"subjectAltName={alt_names}")
    (directory / f"{name}.ext").write_text("\n".join(extensions) + "\n")
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
        cwd=directory,
    )  # fmt: skip
    openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
        cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.crt", directory / f"{name}.key"


class TlsRedisServer(RedisServer):
    """A redis-server listening only on a TLS port (`--port 0`).

    The harness checks readiness over plain TCP, so this subclass checks it
    over TLS instead (with ``client_cert``, a (cert, key) pair, when the
    server requires client certificates); everything else (temp dir,
    watchdog, cleanup) is the harness's."""

    def __init__(
        self,
        *,
        tls_port: int,
        ca_file: Path,
        client_cert: tuple[Path, Path] | None = None,
        **kwargs: Any,
    ) -> None:
        self.tls_port = tls_port
        self.ca_file = ca_file
        self.client_cert = client_cert
        super().__init__(**kwargs)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = False
        if self.client_cert is not None:
            context.load_cert_chain(str(self.client_cert[0]), str(self.client_cert[1]))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no reply yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise HarnessServerError(
                    f"TLS redis-server exited with status {code} during startup "
                    f"(does this redis-server support TLS?)\n{self.log_tail()}"
                )
            try:
                with (
                    socket.create_connection((self.host, self.tls_port), timeout=1) as raw,
                    context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
                ):
                    tls.sendall(b"*1\r\n$4\r\nPING\r\n")
                    reply = tls.recv(64)
                    if reply.startswith(b"+PONG"):
                        return
                    last = repr(reply)
            except (OSError, ssl.SSLError) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                self._kill()
                raise HarnessServerError(f"TLS redis-server not ready: {last}\n{self.log_tail()}")
            time.sleep(0.05)


def start_tls_server(
    cert: tuple[Path, Path],
    ca_file: Path,
    *,
    client_cert: tuple[Path, Path] | None = None,
    extra_args: tuple[str, ...] = (),
    name: str = "tls",
) -> TlsRedisServer:
    """A redis-server on a free TLS port (no plain port) with the server
    certificate ``cert`` (cert, key), trusting ``ca_file`` for client
    certificates; with ``client_cert`` it requires one
    (``--tls-auth-clients yes``) and checks readiness with it."""
    tls_port = find_free_port()
    args = [
        "--port", "0",
        "--tls-port", str(tls_port),
        "--tls-cert-file", str(cert[0]),
        "--tls-key-file", str(cert[1]),
        "--tls-ca-cert-file", str(ca_file),
        "--tls-auth-clients", "no" if client_cert is None else "yes",
        *extra_args,
    ]  # fmt: skip
    return TlsRedisServer(
        tls_port=tls_port, ca_file=ca_file, client_cert=client_cert, extra_args=args, name=name
    )


def serve_tls(*args: Any, **kwargs: Any) -> Iterator[TlsRedisServer]:
    """``start_tls_server(*args, **kwargs)`` for a fixture: the test fails
    with the server's log when it cannot start; it is stopped afterwards."""
    try:
        server = start_tls_server(*args, **kwargs)
    except HarnessServerError as exc:
        pytest.fail(f"could not start redis-server with TLS: {exc}")
    try:
        yield server
    finally:
        server.stop()
