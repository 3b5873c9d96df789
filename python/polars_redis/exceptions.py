"""The exceptions polars-redis raises, all subclasses of :class:`PolarsRedisError`.

::

    PolarsRedisError
    ├── InvalidInputError      malformed URL, option, schema or argument
    │   │                      (also a ValueError)
    │   └── ArgumentTypeError  an argument of the wrong type, an unknown or
    │                          missing argument (also a TypeError)
    ├── RedisConnectionError   server unreachable or connection broken
    │   └── AuthenticationError  credentials rejected
    ├── RedisTimeoutError      connect, command or overall deadline ran out
    ├── RedisServerError       the server replied with an error
    ├── WrongTypeError         a key holds another Redis type
    ├── ParseError             a value does not parse as its declared dtype
    ├── SchemaInferenceError   nothing to infer a schema from
    ├── SearchError            RediSearch cannot answer completely (no index,
    │                          still indexing, partial reply, cluster without coordinator)
    ├── ClusterError           a cluster's slots moved or migrated during a read
    │                          (nothing partial is returned; retry)
    ├── CacheCorruptError      a cached frame failed its checksums or lost a chunk
    ├── UnsupportedError       something this version does not support
    ├── ProtocolError          the server sent invalid RESP
    └── WriteError             a write left keys failed or unknown (carries ``.result``)

One warning: :class:`InsecureTLSWarning` (a ``UserWarning``), when a URL or
client turns TLS certificate checks off (``ssl_cert_reqs=none``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from polars_redis._internal import (
    ArgumentTypeError,
    AuthenticationError,
    CacheCorruptError,
    ClusterError,
    InsecureTLSWarning,
    InvalidInputError,
    ParseError,
    PolarsRedisError,
    ProtocolError,
    RedisConnectionError,
    RedisServerError,
    RedisTimeoutError,
    SchemaInferenceError,
    SearchError,
    UnsupportedError,
    WrongTypeError,
)

if TYPE_CHECKING:
    from polars_redis.write import WriteResult


class WriteError(PolarsRedisError):
    """A write did not write every key.

    ``result`` is the :class:`~polars_redis.WriteResult`: which keys failed
    (with the Redis error, e.g. ``WRONGTYPE``, ``OOM``, ``NOPERM``), which
    have an unknown outcome after a dropped connection, and which existed
    with ``if_exists="fail"``.
    """

    def __init__(self, message: str, result: WriteResult) -> None:
        super().__init__(message)
        self.result = result


__all__ = [
    "ArgumentTypeError",
    "AuthenticationError",
    "CacheCorruptError",
    "ClusterError",
    "InsecureTLSWarning",
    "InvalidInputError",
    "ParseError",
    "PolarsRedisError",
    "ProtocolError",
    "RedisConnectionError",
    "RedisServerError",
    "RedisTimeoutError",
    "SchemaInferenceError",
    "SearchError",
    "UnsupportedError",
    "WriteError",
    "WrongTypeError",
]
