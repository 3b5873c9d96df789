"""A reusable client: connection settings and a pool of open connections.

Every function that takes a ``url`` also takes a :class:`Client`; a call then
uses the client's settings (TLS, credentials, timeouts) and takes its
connections from the client's pool (one per node of a cluster), giving them
back when it is done, so repeated small calls skip the TCP, TLS and ``AUTH``
handshakes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from polars_redis import _internal
from polars_redis._closing import ClosesOnExit
from polars_redis._validate import checked

CredentialProvider = Callable[[], "tuple[str | None, str]"]
"""A callable returning ``(username, password)``; ``username`` may be ``None``
for the default user."""


class Client(ClosesOnExit, _internal.ClientHandle):
    """Connection settings and a pool of open connections, made by
    :func:`connect`.

    Pass it wherever a function takes a ``url``. The pool keeps the
    connections a call leaves in a clean state (every reply read) for the
    next call, up to ``max_idle_per_node`` per server; a connection the
    server closed meanwhile is dropped and replaced. A client is safe to
    share between threads. :meth:`close` (or leaving a ``with`` block)
    closes the pooled connections; a call given a closed client raises
    :class:`RedisConnectionError`.

    The repr shows the URL without its password.

    Examples
    --------
    >>> import polars_redis as redis
    >>> with redis.connect(url) as client:
    ...     redis.read_hashes(client, "user:*", {"age": pl.Int64}).height
    3
    >>> client.closed
    True
    """

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"Client({self.url!r}{state})"


@checked
def connect(
    url: str,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    ssl_ca_certs: str | None = None,
    ssl_cert_reqs: Literal["required", "none"] | None = None,
    ssl_check_hostname: bool | None = None,
    username: str | None = None,
    password: str | None = None,
    credential_provider: CredentialProvider | None = None,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
    max_idle_per_node: int = 32,
) -> Client:
    """Make a reusable :class:`Client` for ``url``.

    No connection is opened until a call needs one. The keywords override
    what the URL says (the TLS ones by the same names as the URL's query
    parameters, as redis-py names them).

    Parameters
    ----------
    url
        ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...``
        (TLS) or ``unix:///path/redis.sock``; TLS query parameters as below.
    ssl_certfile
        PEM file with the client certificate (chain), for a server that
        requires client certificates (``tls-auth-clients yes``).
    ssl_keyfile
        PEM file with the client certificate's private key; without it the
        key is read from ``ssl_certfile``.
    ssl_ca_certs
        PEM file with the certificate authorities to trust, instead of the
        operating system's trust store.
    ssl_cert_reqs
        ``"required"`` (the default) verifies the server's certificate;
        ``"none"`` accepts any certificate and warns with
        :class:`InsecureTLSWarning` naming the server.
    ssl_check_hostname
        ``False`` accepts a valid certificate issued for another host name.
    username, password
        Credentials for every connection (``AUTH``), instead of the URL's.
    credential_provider
        A callable returning ``(username, password)``, called for every new
        connection (rotating tokens, cloud IAM auth), instead of fixed
        credentials. What it raises or returns wrongly becomes an
        :class:`AuthenticationError` naming only its type.
    connect_timeout, command_timeout
        Seconds allowed to open a connection, and for each reply (a call's
        own ``connect_timeout`` / ``command_timeout`` options still apply).
    max_idle_per_node
        How many idle connections the pool keeps per server.

    Returns
    -------
    Client
        Pass it as the ``url`` of any function; close it when done.

    Raises
    ------
    InvalidInputError
        A malformed URL, an unknown URL parameter (named), a TLS keyword
        with a ``redis://`` URL, or credentials given twice.

    Examples
    --------
    >>> import polars_redis as redis
    >>> client = redis.connect(url, connect_timeout=2.0)
    >>> client
    Client('redis://127.0.0.1:...')
    >>> redis.read_hashes(client, keys=["user:1", "user:2"], schema={"age": pl.Int64}).height
    2
    >>> client.close()
    """
    return Client(
        url,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        ssl_ca_certs=ssl_ca_certs,
        ssl_cert_reqs=ssl_cert_reqs,
        ssl_check_hostname=ssl_check_hostname,
        username=username,
        password=password,
        credential_provider=credential_provider,
        connect_timeout=connect_timeout,
        command_timeout=command_timeout,
        max_idle_per_node=max_idle_per_node,
    )
