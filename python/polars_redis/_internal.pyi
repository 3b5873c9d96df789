"""Type stubs for the native module built from crates/polars-redis-python."""

from collections.abc import Callable, Iterator
from typing import Any

from typing_extensions import Self

__version__: str

# The core's defaults (durations in seconds).
DEFAULT_BATCH_SIZE: int
DEFAULT_PARALLELISM: int
DEFAULT_RETRIES: int
DEFAULT_SEARCH_TIMEOUT: float
DEFAULT_WRITE_BATCH_SIZE: int
DEFAULT_WRITE_PARALLELISM: int
DEFAULT_INFER_SAMPLE_SIZE: int
DEFAULT_INFER_SCAN_BUDGET: float
DEFAULT_INFER_COUNT_HINT: int
BATCH_SIZE_LIMIT: tuple[int, int]
PARALLELISM_LIMIT: tuple[int, int]
RETRIES_LIMIT: tuple[int, int]
COUNT_HINT_LIMIT: tuple[int, int]
INFER_SAMPLE_SIZE_LIMIT: tuple[int, int]
WRITE_BATCH_SIZE_LIMIT: tuple[int, int]
WRITE_PARALLELISM_LIMIT: tuple[int, int]

def redact_url(url: str | ClientHandle) -> str: ...
def refresh_log_levels(level: int) -> None:
    """Let the core's records at or above Python level ``level`` through."""

def simple_dtype_names() -> list[str]:
    """The Polars names of the dtypes without parameters (the core's table)."""

class PolarsRedisError(Exception): ...
class InvalidInputError(PolarsRedisError, ValueError): ...
class ArgumentTypeError(InvalidInputError, TypeError): ...
class RedisConnectionError(PolarsRedisError): ...
class AuthenticationError(RedisConnectionError): ...
class RedisTimeoutError(PolarsRedisError): ...
class RedisServerError(PolarsRedisError): ...
class WrongTypeError(PolarsRedisError): ...
class ParseError(PolarsRedisError): ...
class SchemaInferenceError(PolarsRedisError): ...
class UnsupportedError(PolarsRedisError): ...
class ProtocolError(PolarsRedisError): ...
class SearchError(PolarsRedisError): ...
class ClusterError(PolarsRedisError): ...
class CacheCorruptError(PolarsRedisError): ...
class InsecureTLSWarning(UserWarning): ...

class ClientHandle:
    """Connection settings and a pool of connections (``polars_redis.Client``)."""

    def __new__(
        cls,
        url: str,
        *,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_ca_certs: str | None = None,
        ssl_cert_reqs: str | None = None,
        ssl_check_hostname: bool | None = None,
        username: str | None = None,
        password: str | None = None,
        credential_provider: Callable[[], tuple[str | None, str]] | None = None,
        connect_timeout: float | None = None,
        command_timeout: float | None = None,
        max_idle_per_node: int = 32,
    ) -> Self: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def url(self) -> str: ...
    @property
    def idle_connections(self) -> int: ...

class ArrowTable:
    """An Arrow table exported through ``__arrow_c_stream__``."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class BatchIterator:
    """The batches of a running scan; after the last one, the scan's warnings
    are issued (``UserWarning``, and the ``polars_redis`` logger)."""

    def __iter__(self) -> BatchIterator: ...
    def __next__(self) -> ArrowTable: ...
    def read_all(self) -> ArrowTable: ...
    def close(self) -> None: ...
    def started(self) -> bool: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class _Source:
    """What a LazyFrame source provides (no such class at run time)."""

    def schema(self) -> object: ...
    def empty(self) -> ArrowTable: ...
    def batches(
        self,
        projection: list[str] | None = None,
        limit: int | None = None,
        predicate: str | None = None,
    ) -> BatchIterator: ...

class Scanner(_Source):
    def explain(
        self,
        projection: list[str] | None = None,
        limit: int | None = None,
        predicate: str | None = None,
    ) -> str: ...
    def row_estimate(self) -> tuple[int, bool] | None:
        """``(rows, exact)`` a run is expected to read (listed keys, or
        ``DBSIZE`` as an upper bound), None for many-rows-per-key types."""

class SearchAggregation(_Source): ...

def hash_scanner(
    args: dict[str, Any],
    fields: list[tuple[str, tuple[Any, ...]]],
    fetch: str,
    search: dict[str, Any] | None = None,
    field_ttl: list[str] = ...,
) -> Scanner: ...
def aggregation(
    url: str | ClientHandle,
    index: str,
    query: dict[str, Any],
    group_by: list[str],
    reduce: list[tuple[str, list[str], str]],
    apply: list[tuple[str, str]],
    sort_by: list[tuple[str, bool]],
    limit: int | None,
    dtypes: list[tuple[str, tuple[Any, ...]]],
    formats: list[tuple[str, str]],
    timeout: float,
    on: str | None = None,
) -> SearchAggregation: ...
def index_info(url: str | ClientHandle, name: str) -> dict[str, Any]: ...
def index_exists(url: str | ClientHandle, name: str) -> bool: ...
def drop_index(url: str | ClientHandle, name: str, delete_documents: bool = False) -> None: ...
def create_index(
    url: str | ClientHandle,
    name: str,
    on: str,
    prefixes: list[bytes],
    attributes: list[tuple[str, str | None, str, bool, bool, dict[str, Any] | None]],
    wait: float | None = None,
) -> dict[str, Any]: ...
def default_attribute_type(spec: tuple[Any, ...]) -> str | None: ...
def knn_search(
    url: str | ClientHandle,
    index: str,
    field: str,
    k: int,
    vectors: Any,
    filter: dict[str, Any] | None,
    ef_runtime: int | None,
    timeout: float,
) -> Any: ...
def string_scanner(
    args: dict[str, Any], value_column: str, value_type: tuple[Any, ...]
) -> Scanner: ...
def set_scanner(
    args: dict[str, Any], member_column: str, member_type: tuple[Any, ...]
) -> Scanner: ...
def hash_fields_scanner(
    args: dict[str, Any],
    field_column: str,
    value_column: str,
    value_type: tuple[Any, ...],
    fields: list[bytes] | None = None,
) -> Scanner: ...
def list_scanner(
    args: dict[str, Any],
    element_column: str,
    element_type: tuple[Any, ...],
    position_column: str | None,
) -> Scanner: ...
def zset_scanner(
    args: dict[str, Any],
    member_column: str,
    member_type: tuple[Any, ...],
    score_column: str,
    rank_column: str | None,
) -> Scanner: ...
def json_scanner(
    args: dict[str, Any],
    fields: list[tuple[str, tuple[Any, ...]]],
    path: str,
    paths: list[tuple[str, str]],
    fetch: str,
    search: dict[str, Any] | None = None,
) -> Scanner: ...
def stream_scanner(
    args: dict[str, Any],
    fields: list[tuple[str, tuple[Any, ...]]],
    start_id: str,
    end_id: str,
    count_per_stream: int | None,
    id_column: str | None,
    timestamp_column: str | None,
    sequence_column: str | None,
) -> Scanner: ...
def timeseries_scanner(
    args: dict[str, Any],
    start: int | None,
    end: int | None,
    aggregation: str | None,
    bucket_size_ms: int | None,
    filter: list[str] | None,
    labels: list[str],
    timestamp_column: str,
    value_column: str,
) -> Scanner: ...
def key_filter_preview(predicate: str, key_column: str) -> str: ...
def infer_schema(
    url: str | ClientHandle,
    kind: str,
    pattern: bytes,
    *,
    sample_size: int,
    scan_budget: float,
    count_hint: int,
    rate_limit: float | None = None,
    latency_budget_ms: float | None = None,
    retries: int = ...,
) -> dict[str, Any]: ...
def write_hashes(
    data: object,
    args: dict[str, Any],
    field_ttl: list[tuple[str, int]] = ...,
    field_ttl_column: list[tuple[str, str]] = ...,
) -> dict[str, Any]: ...
def write_json(data: object, args: dict[str, Any]) -> dict[str, Any]: ...
def write_strings(data: object, args: dict[str, Any], value_column: str) -> dict[str, Any]: ...
def write_sets(data: object, args: dict[str, Any], member_column: str) -> dict[str, Any]: ...
def write_hash_fields(
    data: object, args: dict[str, Any], field_column: str, value_column: str
) -> dict[str, Any]: ...
def write_lists(
    data: object,
    args: dict[str, Any],
    element_column: str,
    order_column: str | None = None,
) -> dict[str, Any]: ...
def write_zsets(
    data: object, args: dict[str, Any], member_column: str, score_column: str
) -> dict[str, Any]: ...
def write_streams(
    data: object,
    args: dict[str, Any],
    id_column: str | None = None,
    maxlen: int | None = None,
    approximate: bool = True,
) -> dict[str, Any]: ...
def write_timeseries(
    data: object,
    args: dict[str, Any],
    timestamp_column: str,
    value_column: str,
    retention_ms: int | None = None,
    labels: list[tuple[str, str]] | None = None,
) -> dict[str, Any]: ...

# key management (crates/polars-redis-python/src/keyspace.rs)
# (connect_timeout, command_timeout, rate_limit)
Limits = tuple[float | None, float | None, float | None]

def scan_keys_table(
    url: str | ClientHandle,
    pattern: bytes,
    key_type_filter: str | None,
    include_ttl: bool,
    include_memory: bool,
    count: int | None,
    key_dtype: str,
    limits: Limits,
) -> Any: ...
def unlink_keys(
    url: str | ClientHandle,
    keys: list[bytes] | None,
    pattern: bytes | None,
    dry_run: bool,
    limits: Limits,
) -> tuple[list[bytes], dict[str, Any]]: ...
def expire_keys(
    url: str | ClientHandle, keys: list[bytes], ttls: list[int], limits: Limits
) -> dict[str, Any]: ...
def persist(url: str | ClientHandle, keys: list[bytes], limits: Limits) -> dict[str, Any]: ...
def key_ttls(url: str | ClientHandle, keys: list[bytes], limits: Limits) -> list[int]: ...
def keys_exist(url: str | ClientHandle, keys: list[bytes], limits: Limits) -> list[bool]: ...
def rename(
    url: str | ClientHandle, pairs: list[tuple[bytes, bytes]], if_exists: str, limits: Limits
) -> dict[str, Any]: ...
def key_info_table(
    url: str | ClientHandle,
    keys: list[bytes] | None,
    pattern: bytes | None,
    key_dtype: str,
    limits: Limits,
) -> Any: ...

# geo sets (crates/polars-redis-python/src/geo.rs)
class GeoBatches:
    def __iter__(self) -> Iterator[Any]: ...
    def __next__(self) -> Any: ...
    def read_all(self) -> Any: ...
    def close(self) -> None: ...

class GeoScanner:
    def empty(self) -> Any: ...
    def batches(
        self,
        projection: list[str] | None = None,
        limit: int | None = None,
        predicate: str | None = None,
    ) -> GeoBatches: ...

def geo_add_members(
    url: str | ClientHandle,
    key: bytes,
    members: list[bytes],
    longitudes: list[float | None],
    latitudes: list[float | None],
) -> tuple[int, int]: ...
def geo_search_table(
    url: str | ClientHandle,
    key: bytes,
    point: tuple[float, float] | None,
    member: bytes | None,
    radius: float | None,
    box_size: tuple[float, float] | None,
    unit: str,
    count: int | None,
    sort: str | None,
    with_distance: bool,
) -> Any: ...
def geo_positions(
    url: str | ClientHandle, key: bytes, members: list[bytes]
) -> list[tuple[float, float] | None]: ...
def geo_hashes(url: str | ClientHandle, key: bytes, members: list[bytes]) -> list[str | None]: ...
def geo_distances(
    url: str | ClientHandle, key: bytes, pairs: list[tuple[bytes, bytes]], unit: str
) -> list[float | None]: ...
def geo_distance_matrix(
    url: str | ClientHandle, key: bytes, members: list[bytes], unit: str
) -> list[list[float | None]]: ...
def geo_scanner(
    args: dict[str, Any], member_column: str, member_type: tuple[Any, ...]
) -> GeoScanner: ...

# The DataFrame cache (crates/polars-redis-python/src/cache.rs).
DEFAULT_CACHE_CHUNK_SIZE: int
CACHE_MAX_VALUE_BYTES: int
CACHE_CHUNK_SIZE_LIMIT: tuple[int, int]

def cache_store(
    url: str | ClientHandle,
    key: str,
    payload: bytes,
    format: str,
    compression: str | None,
    compression_level: int | None,
    rows: int,
    columns: list[str],
    chunk_size: int,
    ttl: int | None,
) -> int: ...
def cache_load(url: str | ClientHandle, key: str) -> tuple[dict[str, Any], bytes] | None: ...
def cache_manifest(url: str | ClientHandle, key: str) -> dict[str, Any] | None: ...
def cache_delete(url: str | ClientHandle, key: str) -> bool: ...
def cache_ttl(url: str | ClientHandle, key: str) -> int | None: ...

# Index listing (crates/polars-redis-python/src/listing.rs).
def list_indexes(url: str | ClientHandle) -> list[dict[str, Any]]: ...
def find_index_for_pattern(url: str | ClientHandle, pattern: bytes, on: str) -> dict[str, Any]: ...

class StreamReading:
    """A running stream reader (consumer group or tail); each call waits at
    most ``block_ms`` with the GIL released."""

    def next_batch(self) -> ArrowTable | None: ...
    def ack(self) -> int: ...
    def commit(self, key: bytes, fields: list[tuple[bytes, bytes]]) -> int: ...
    def delivered(self) -> list[tuple[bytes, list[bytes]]]: ...
    def close(self, ack: bool) -> None: ...

def stream_reader(
    args: dict[str, Any], fields: list[tuple[str, tuple[Any, ...]]]
) -> StreamReading: ...
def ack_entries(url: str | ClientHandle, stream: bytes, group: bytes, ids: list[bytes]) -> int: ...
def pending_entries(
    url: str | ClientHandle, stream: bytes, group: bytes, consumer: bytes | None
) -> ArrowTable: ...

class PubSubSubscription:
    """A live subscription; each wait releases the GIL and lasts at most ``timeout_s``."""

    def next_batch(self, max: int, timeout_s: float | None) -> ArrowTable | None: ...
    def close(self) -> None: ...

def pubsub_subscription(
    url: str | ClientHandle,
    channels: list[bytes],
    pattern: bool,
    format: str,
    fields: list[tuple[str, tuple[Any, ...]]],
    strict: bool,
    connect_timeout: float | None,
) -> PubSubSubscription: ...
def plan_partitions(
    url: str | ClientHandle,
    partitions: int | None = None,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
) -> list[tuple[str, list[tuple[int, int]]]]: ...
def key_slots(keys: list[bytes]) -> list[int]: ...
