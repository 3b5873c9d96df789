"""polars-redis: query Redis like a database, transform with Polars, write back.

Read Redis data into Polars LazyFrames and DataFrames, and write DataFrames
back (``write_hashes``, ``write_json``, ``write_strings``, ...). The Rust core speaks
the Redis protocol itself, decodes replies straight into Arrow columns and
hands them to Polars without copying.

Examples
--------
>>> import polars as pl
>>> import polars_redis as redis
>>> redis.read_hashes(url, "user:*", schema={"age": pl.Int64}).height
3
"""

from polars_redis._internal import __version__
from polars_redis._plugin import BatchStream
from polars_redis.exceptions import (
    ArgumentTypeError,
    AuthenticationError,
    ClusterError,
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
    WriteError,
    WrongTypeError,
)
from polars_redis.hashes import iter_hashes, read_hashes, scan_hashes
from polars_redis.infer import (
    FieldInference,
    InferredSchema,
    infer_hash_schema,
    infer_json_schema,
    infer_stream_schema,
)
from polars_redis.json import iter_json, read_json, scan_json
from polars_redis.lists import iter_lists, read_lists, scan_lists
from polars_redis.partition import ScanPartition, partition_scan
from polars_redis.search import (
    Query,
    aggregate_hashes,
    aggregate_json,
    create_index,
    drop_index,
    explain_pushdown,
    field,
    index_exists,
    index_info,
    raw,
    search_hashes,
    search_json,
)
from polars_redis.sets import iter_sets, read_sets, scan_sets
from polars_redis.streams import iter_streams, read_streams, scan_streams
from polars_redis.strings import iter_strings, read_strings, scan_strings
from polars_redis.timeseries import iter_timeseries, read_timeseries, scan_timeseries
from polars_redis.write import (
    KeyFailure,
    WriteOptions,
    WriteResult,
    write_hashes,
    write_json,
    write_lists,
    write_sets,
    write_streams,
    write_strings,
    write_timeseries,
    write_zsets,
)
from polars_redis.zsets import iter_zsets, read_zsets, scan_zsets

__all__ = [
    "ArgumentTypeError",
    "AuthenticationError",
    "BatchStream",
    "ClusterError",
    "FieldInference",
    "InferredSchema",
    "InvalidInputError",
    "KeyFailure",
    "ParseError",
    "PolarsRedisError",
    "ProtocolError",
    "Query",
    "RedisConnectionError",
    "RedisServerError",
    "RedisTimeoutError",
    "ScanPartition",
    "SchemaInferenceError",
    "SearchError",
    "UnsupportedError",
    "WriteError",
    "WriteOptions",
    "WriteResult",
    "WrongTypeError",
    "__version__",
    "aggregate_hashes",
    "aggregate_json",
    "create_index",
    "drop_index",
    "explain_pushdown",
    "field",
    "index_exists",
    "index_info",
    "infer_hash_schema",
    "infer_json_schema",
    "infer_stream_schema",
    "iter_hashes",
    "iter_json",
    "iter_lists",
    "iter_sets",
    "iter_streams",
    "iter_strings",
    "iter_timeseries",
    "iter_zsets",
    "partition_scan",
    "raw",
    "read_hashes",
    "read_json",
    "read_lists",
    "read_sets",
    "read_streams",
    "read_strings",
    "read_timeseries",
    "read_zsets",
    "scan_hashes",
    "scan_json",
    "scan_lists",
    "scan_sets",
    "scan_streams",
    "scan_strings",
    "scan_timeseries",
    "scan_zsets",
    "search_hashes",
    "search_json",
    "write_hashes",
    "write_json",
    "write_lists",
    "write_sets",
    "write_streams",
    "write_strings",
    "write_timeseries",
    "write_zsets",
]
