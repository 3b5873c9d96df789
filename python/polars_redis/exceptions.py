"""The exceptions polars-redis raises, all subclasses of :class:`PolarsRedisError`.

::

    PolarsRedisError
    ├── InvalidInputError      malformed URL, option, schema or argument
    ├── RedisConnectionError   server unreachable or connection broken
    │   └── AuthenticationError  credentials rejected
    ├── RedisTimeoutError      connect, command or overall deadline ran out
    ├── RedisServerError       the server replied with an error
    ├── WrongTypeError         a key holds another Redis type
    ├── ParseError             a value does not parse as its declared dtype
    ├── SchemaInferenceError   nothing to infer a schema from
    ├── SearchError            RediSearch cannot answer completely (no index,
    │                          still indexing, partial reply, cluster without coordinator)
    ├── UnsupportedError       something this version does not support
    └── ProtocolError          the server sent invalid RESP
"""

from polars_redis._internal import (
    AuthenticationError,
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

__all__ = [
    "AuthenticationError",
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
    "WrongTypeError",
]
