//! # polars-redis
//!
//! Read Redis data as Apache Arrow record batches, ready for Polars, and
//! write record batches back ([`write`](mod@write)).
//!
//! The crate talks RESP itself: replies are decoded in place from the socket
//! buffer straight into Arrow builders, several pipelines are kept in flight
//! over their own connections, and every queue between SCAN, the fetchers
//! and the consumer is bounded, so memory follows the batch size, not the
//! size of the keyspace.
//!
//! A URL may point at one node of a Redis Cluster: reads then scan every
//! master and route each key batch to its master, writes send each key to
//! the master of its slot (following `MOVED`/`ASK`), and a slot layout that
//! changes under a read fails it with [`Error::Cluster`] rather than
//! returning part of the data. [`key_slot`] gives a key's hash slot.
//!
//! ```no_run
//! use polars_redis::{ConnectionConfig, Field, FieldType, HashScanBuilder, TimeUnit};
//!
//! let config = ConnectionConfig::from_url("redis://localhost:6379")?;
//! let schema = vec![
//!     Field::new("name", FieldType::Utf8),
//!     Field::new("age", FieldType::Int64),
//!     Field::new("joined", FieldType::datetime(TimeUnit::Millisecond, None)?),
//! ];
//! let batches = HashScanBuilder::new(config, schema)
//!     .with_pattern("user:*")
//!     .with_ttl_column(Some("_ttl"))
//!     .build()?
//!     .collect::<Result<Vec<_>, _>>()?;
//! # Ok::<(), polars_redis::Error>(())
//! ```
//!
//! Types are read by the rules of the [`types`] table; errors are [`Error`].

#![warn(missing_docs)]

pub mod cache;
mod consume;
pub mod error;
mod geo;
mod infer;
mod keyspace;
mod net;
mod read;
pub mod search;
pub mod types;
pub mod write;

pub use net::config;

pub use consume::{
    ack_entries, pending, Payload, PubSubBuilder, PubSubReader, StreamReadBuilder, StreamReader,
};
pub use error::{Error, Key, Result, SizeLimit};

pub use geo::{
    decode_geohash, geo_add, geo_dist, geo_dist_matrix, geo_hash, geo_pos, geo_search,
    GeoAddReport, GeoCenter, GeoReader, GeoScan, GeoSearch, GeoShape, GeoUnit, LATITUDE_RANGE,
    LONGITUDE_RANGE,
};
pub use infer::{
    infer_hash_schema, infer_hash_schema_async, infer_json_schema, infer_json_schema_async,
    infer_stream_schema, infer_stream_schema_async, InferOptions, InferredField, InferredSchema,
    SAMPLE_SIZE_LIMIT,
};
pub use keyspace::{
    count_keys, delete_keys, exists_keys, get_ttl, key_info, list_keys, persist_keys, rename_keys,
    scan_keys, set_ttl, KeyReport, KeyScan, RenameMode, KEY_INFO_COLUMNS, LIST_COUNT_HINT,
};
pub use net::budget::LoadBudget;
pub use net::cluster::key_slot;
pub use net::config::{redact_url, ConnectionConfig, Endpoint, TlsOptions};
pub use net::glob::glob_match;
pub use net::pool::ConnectionPool;
pub use net::replicas::ReadFrom;
pub use net::resp::Value;
pub use net::retry::{DEFAULT_RETRIES, RETRIES_LIMIT};
pub use net::runtime::runtime;
pub use net::slots::SlotRanges;
pub use read::collection::CollectionScanBuilder;
pub use read::hash::{HashFetch, HashKind, HashScanBuilder};
pub use read::hash_fields::{HashFieldsKind, HashFieldsScanBuilder};
pub use read::json::{JsonFetch, JsonKind, JsonScanBuilder};
pub use read::keys::{escape_glob, KeySelection};
pub use read::layout::{ExtraColumns, KeyType};
pub use read::list::{ListKind, ListScanBuilder};
pub use read::output::{ArrowReader, RecordBatchIter, RecordBatchStream};
pub use read::partition::{
    plan_partitions, plan_partitions_async, PlannedPartition, PARTITIONS_LIMIT,
};
pub use read::pushdown::{Bound, KeyFilter, ValueRange};
pub use read::scan::{
    ScanBuilder, ScanOptions, BATCH_SIZE_LIMIT, COUNT_HINT_LIMIT, DEFAULT_BATCH_SIZE,
    DEFAULT_PARALLELISM, PARALLELISM_LIMIT,
};
pub use read::set::{SetKind, SetScanBuilder};
pub use read::stream::{StreamKind, StreamScanBuilder};
pub use read::string::{StringKind, StringScanBuilder};
pub use read::timeseries::{Aggregation, TimeSeriesKind, TimeSeriesScanBuilder};
pub use read::warnings::ScanWarning;
pub use read::zset::{ZsetKind, ZsetScanBuilder};
pub use types::Field;
pub use types::{EpochUnit, FieldType, TextForm, TimeUnit, VectorType};
pub use write::{
    FieldTtl, HashFieldsWriteBuilder, HashWriteBuilder, IfExists, JsonWriteBuilder, KeyFailure,
    ListWriteBuilder, SetWriteBuilder, StreamWriteBuilder, StringWriteBuilder,
    TimeSeriesWriteBuilder, Ttl, WriteOptions, WriteProgress, WriteResult, ZsetWriteBuilder,
};
