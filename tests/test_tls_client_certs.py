"""TLS beyond a CA file: client certificates (a server started with
``--tls-auth-clients yes``), host name checks on and off, certificate checks
off (explicit, with a warning), and redis-py's TLS names as URL parameters
and as keywords of :func:`polars_redis.connect`. Ground truth is written with
redis-py over its own mTLS connection."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import polars as pl
import pytest
import redis
from polars.testing import assert_frame_equal
from tls_servers import TlsRedisServer, issue_certificate, make_ca, serve_tls

import polars_redis as pr
from polars_redis.exceptions import (
    InsecureTLSWarning,
    InvalidInputError,
    RedisConnectionError,
)

SCHEMA = {"n": pl.Int64}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl CLI is needed to make test certificates")
    d = tmp_path_factory.mktemp("mtls")
    ca = make_ca(d, "ca")
    other_ca = make_ca(d, "other-ca")
    server = issue_certificate(d, "server", ca, usage="serverAuth", alt_names="IP:127.0.0.1")
    elsewhere = issue_certificate(
        d, "elsewhere", ca, usage="serverAuth", alt_names="DNS:elsewhere.example"
    )
    client = issue_certificate(d, "client", ca, usage="clientAuth")
    stranger = issue_certificate(d, "stranger", other_ca, usage="clientAuth")
    combined = d / "client-combined.pem"
    combined.write_text(client[0].read_text() + client[1].read_text())
    return {
        "ca": ca[1],
        "server_cert": server[0],
        "server_key": server[1],
        "elsewhere_cert": elsewhere[0],
        "elsewhere_key": elsewhere[1],
        "client_cert": client[0],
        "client_key": client[1],
        "client_combined": combined,
        "stranger_cert": stranger[0],
        "stranger_key": stranger[1],
    }


def _tls_server(pki: dict[str, Path], cert: str, *, auth_clients: bool) -> Iterator[TlsRedisServer]:
    client_cert = (pki["client_cert"], pki["client_key"]) if auth_clients else None
    yield from serve_tls(
        (pki[f"{cert}_cert"], pki[f"{cert}_key"]),
        pki["ca"],
        client_cert=client_cert,
        name=f"tls-{cert}",
    )


@pytest.fixture(scope="module")
def mtls_server(pki: dict[str, Path]) -> Iterator[TlsRedisServer]:
    yield from _tls_server(pki, "server", auth_clients=True)


@pytest.fixture(scope="module")
def elsewhere_server(pki: dict[str, Path]) -> Iterator[TlsRedisServer]:
    """A server whose certificate names elsewhere.example, not 127.0.0.1."""
    yield from _tls_server(pki, "elsewhere", auth_clients=False)


def _seed(server: TlsRedisServer, pki: dict[str, Path], **client_cert: Any) -> pl.DataFrame:
    client = redis.Redis(
        host="127.0.0.1",
        port=server.tls_port,
        ssl=True,
        ssl_ca_certs=str(pki["ca"]),
        ssl_check_hostname=False,
        **client_cert,
    )
    try:
        client.flushall()
        for i in range(20):
            client.hset(f"m:{i}", mapping={"n": i})
    finally:
        client.close()
    return pl.DataFrame(
        {"_key": [f"m:{i}" for i in range(20)], "n": list(range(20))},
        schema={"_key": pl.String, "n": pl.Int64},
    ).sort("_key")


@pytest.fixture(scope="module")
def mtls_expected(mtls_server: TlsRedisServer, pki: dict[str, Path]) -> pl.DataFrame:
    return _seed(
        mtls_server,
        pki,
        ssl_certfile=str(pki["client_cert"]),
        ssl_keyfile=str(pki["client_key"]),
    )


def _url(server: TlsRedisServer, **params: str | Path) -> str:
    query = urlencode({name: str(value) for name, value in params.items()})
    return f"rediss://127.0.0.1:{server.tls_port}" + (f"?{query}" if query else "")


def _read(url: str | pr.Client) -> pl.DataFrame:
    return pr.read_hashes(url, "m:*", SCHEMA).sort("_key")


def test_client_certificate_in_the_url_is_accepted(
    mtls_server: TlsRedisServer, pki: dict[str, Path], mtls_expected: pl.DataFrame
) -> None:
    url = _url(
        mtls_server,
        ssl_ca_certs=pki["ca"],
        ssl_certfile=pki["client_cert"],
        ssl_keyfile=pki["client_key"],
    )
    assert_frame_equal(_read(url), mtls_expected)


def test_client_certificate_and_key_in_one_file(
    mtls_server: TlsRedisServer, pki: dict[str, Path], mtls_expected: pl.DataFrame
) -> None:
    url = _url(mtls_server, ssl_ca_certs=pki["ca"], ssl_certfile=pki["client_combined"])
    assert_frame_equal(_read(url), mtls_expected)


def test_client_certificate_as_connect_keywords(
    mtls_server: TlsRedisServer, pki: dict[str, Path], mtls_expected: pl.DataFrame
) -> None:
    with pr.connect(
        _url(mtls_server),
        ssl_ca_certs=str(pki["ca"]),
        ssl_certfile=str(pki["client_cert"]),
        ssl_keyfile=str(pki["client_key"]),
    ) as client:
        assert_frame_equal(_read(client), mtls_expected)
        assert_frame_equal(_read(client), mtls_expected)


def test_no_client_certificate_is_a_clear_error(
    mtls_server: TlsRedisServer, pki: dict[str, Path], mtls_expected: pl.DataFrame
) -> None:
    with pytest.raises(RedisConnectionError, match="client certificate") as caught:
        _read(_url(mtls_server, ssl_ca_certs=pki["ca"]))
    assert f"127.0.0.1:{mtls_server.tls_port}" in str(caught.value)


def test_client_certificate_of_another_ca_is_refused(
    mtls_server: TlsRedisServer, pki: dict[str, Path], mtls_expected: pl.DataFrame
) -> None:
    url = _url(
        mtls_server,
        ssl_ca_certs=pki["ca"],
        ssl_certfile=pki["stranger_cert"],
        ssl_keyfile=pki["stranger_key"],
    )
    with pytest.raises(RedisConnectionError, match="client certificate"):
        _read(url)


def test_host_name_check_on_and_off(elsewhere_server: TlsRedisServer, pki: dict[str, Path]) -> None:
    expected = _seed(elsewhere_server, pki)
    with pytest.raises(RedisConnectionError, match=r"(?i)not valid for name|NotValidForName"):
        _read(_url(elsewhere_server, ssl_ca_certs=pki["ca"]))
    relaxed = _url(elsewhere_server, ssl_ca_certs=pki["ca"], ssl_check_hostname="false")
    assert_frame_equal(_read(relaxed), expected)
    with pr.connect(
        _url(elsewhere_server), ssl_ca_certs=str(pki["ca"]), ssl_check_hostname=False
    ) as client:
        assert_frame_equal(_read(client), expected)
    # Turning the host name check off still verifies the chain.
    other_ca = pki["stranger_cert"].parent / "other-ca.crt"
    with pytest.raises(RedisConnectionError, match=r"(?i)unknown ?issuer|UnknownIssuer"):
        _read(_url(elsewhere_server, ssl_ca_certs=other_ca, ssl_check_hostname="false"))


def test_operating_system_trust_store_is_the_default(
    elsewhere_server: TlsRedisServer,
) -> None:
    # Without ssl_ca_certs the system's store is used, and it does not know
    # the test CA.
    with pytest.raises(RedisConnectionError, match=r"(?i)unknown ?issuer|UnknownIssuer"):
        _read(_url(elsewhere_server))


def test_cert_reqs_none_is_explicit_and_warns_once_per_call(
    elsewhere_server: TlsRedisServer, pki: dict[str, Path]
) -> None:
    expected = _seed(elsewhere_server, pki)
    url = _url(elsewhere_server, ssl_cert_reqs="none", password="hunter2")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(pr.AuthenticationError):  # the server has no password set
            _read(url)
        seen = [w for w in caught if issubclass(w.category, InsecureTLSWarning)]
    assert len(seen) == 1
    message = str(seen[0].message)
    assert f"127.0.0.1:{elsewhere_server.tls_port}" in message
    assert "hunter2" not in message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_frame_equal(_read(_url(elsewhere_server, ssl_cert_reqs="none")), expected)
        with pr.connect(_url(elsewhere_server), ssl_cert_reqs="none") as client:
            assert_frame_equal(_read(client), expected)
            assert_frame_equal(_read(client), expected)
    # One warning for the URL call, one for the client (not one per call of it).
    assert sum(issubclass(w.category, InsecureTLSWarning) for w in caught) == 2


def test_unknown_or_bad_tls_parameters_are_named(
    mtls_server: TlsRedisServer, pki: dict[str, Path]
) -> None:
    base = f"rediss://127.0.0.1:{mtls_server.tls_port}"
    with pytest.raises(InvalidInputError, match="unknown option `ssl_certfle`"):
        _read(f"{base}?ssl_certfle=/x.pem")
    with pytest.raises(InvalidInputError, match="ssl_cert_reqs must be `required` or `none`"):
        _read(f"{base}?ssl_cert_reqs=optional")
    with pytest.raises(InvalidInputError, match="ssl_check_hostname must be"):
        _read(f"{base}?ssl_check_hostname=maybe")
    with pytest.raises(InvalidInputError, match="ssl_certfile needs a rediss:// URL"):
        _read(f"redis://127.0.0.1:{mtls_server.tls_port}?ssl_certfile=/x.pem")
    with pytest.raises(InvalidInputError, match="ssl_certfile needs a rediss:// URL"):
        pr.connect(f"redis://127.0.0.1:{mtls_server.tls_port}", ssl_certfile="/x.pem")
    with pytest.raises(InvalidInputError, match="ssl_cert_reqs"):
        pr.connect(base, ssl_cert_reqs="optional")  # type: ignore[arg-type]
    missing = pki["ca"].parent / "missing.pem"
    with pytest.raises(InvalidInputError, match=r"ssl_certfile\) .*missing\.pem"):
        _read(f"{base}?ssl_ca_certs={pki['ca']}&ssl_certfile={missing}")
    with pytest.raises(InvalidInputError, match="ssl_keyfile"):
        _read(f"{base}?ssl_ca_certs={pki['ca']}&ssl_certfile={pki['client_cert']}")
