"""Type stubs for the native module built from crates/polars-redis-python."""

from typing import Any

__version__: str

# The core's defaults (durations in seconds).
DEFAULT_BATCH_SIZE: int
DEFAULT_PARALLELISM: int
DEFAULT_SEARCH_TIMEOUT: float
DEFAULT_WRITE_BATCH_SIZE: int
DEFAULT_WRITE_PARALLELISM: int
DEFAULT_INFER_SAMPLE_SIZE: int
DEFAULT_INFER_SCAN_BUDGET: float
DEFAULT_INFER_COUNT_HINT: int
BATCH_SIZE_LIMIT: tuple[int, int]
PARALLELISM_LIMIT: tuple[int, int]
COUNT_HINT_LIMIT: tuple[int, int]
INFER_SAMPLE_SIZE_LIMIT: tuple[int, int]
WRITE_BATCH_SIZE_LIMIT: tuple[int, int]
WRITE_PARALLELISM_LIMIT: tuple[int, int]

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

class SearchAggregation(_Source): ...

def hash_scanner(
    args: dict[str, Any],
    fields: list[tuple[str, tuple[Any, ...]]],
    fetch: str,
    search: dict[str, Any] | None = None,
) -> Scanner: ...
def aggregation(
    url: str,
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
def index_info(url: str, name: str) -> dict[str, Any]: ...
def index_exists(url: str, name: str) -> bool: ...
def drop_index(url: str, name: str, delete_documents: bool = False) -> None: ...
def create_index(
    url: str,
    name: str,
    on: str,
    prefixes: list[bytes],
    attributes: list[tuple[str, str | None, str, bool, bool]],
    wait: float | None = None,
) -> dict[str, Any]: ...
def default_attribute_type(spec: tuple[Any, ...]) -> str | None: ...
def string_scanner(
    args: dict[str, Any], value_column: str, value_type: tuple[Any, ...]
) -> Scanner: ...
def set_scanner(
    args: dict[str, Any], member_column: str, member_type: tuple[Any, ...]
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
    url: str,
    kind: str,
    pattern: bytes,
    *,
    sample_size: int,
    scan_budget: float,
    count_hint: int,
) -> dict[str, Any]: ...
def write_hashes(data: object, args: dict[str, Any]) -> dict[str, Any]: ...
def write_json(data: object, args: dict[str, Any]) -> dict[str, Any]: ...
def write_strings(data: object, args: dict[str, Any], value_column: str) -> dict[str, Any]: ...
def write_sets(data: object, args: dict[str, Any], member_column: str) -> dict[str, Any]: ...
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
def plan_partitions(
    url: str,
    partitions: int | None = None,
    connect_timeout: float | None = None,
    command_timeout: float | None = None,
) -> list[tuple[str, list[tuple[int, int]]]]: ...
def key_slots(keys: list[bytes]) -> list[int]: ...
def redact_url(url: str) -> str: ...
