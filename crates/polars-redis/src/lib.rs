//! # polars-redis
//!
//! Read Redis data as Apache Arrow record batches, ready for Polars, and
//! write record batches back ([`write`]).
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

mod cluster;
mod collection;
mod columns;
pub mod config;
mod connection;
mod engine;
pub mod error;
mod fetch;
mod glob;
mod hash;
mod infer;
mod infer_json;
mod json;
mod json_text;
mod keys;
mod layout;
mod list;
mod output;
mod paged;
mod parse;
mod pushdown;
mod resp;
mod runtime;
mod scan;
pub mod search;
mod set;
mod stream;
mod string;
mod timeseries;
pub mod types;
pub mod write;
mod zset;

pub use cluster::key_slot;
pub use collection::CollectionScanBuilder;
pub use config::{redact_url, ConnectionConfig, Endpoint, TlsOptions};
pub use error::{Error, Key, Result};
pub use glob::glob_match;
pub use hash::HashFetch;
pub use hash::HashScanBuilder;
pub use infer::{
    infer_hash_schema, infer_hash_schema_async, InferOptions, InferredField, InferredSchema,
};
pub use infer_json::{infer_json_schema, infer_json_schema_async};
pub use json::{JsonFetch, JsonScanBuilder};
pub use keys::{escape_glob, KeySelection};
pub use layout::{ExtraColumns, Field};
pub use list::{ListKind, ListScanBuilder};
pub use output::{ArrowReader, RecordBatchIter, RecordBatchStream};
pub use pushdown::{Bound, KeyFilter, ValueRange};
pub use resp::Value;
pub use runtime::runtime;
pub use scan::{ScanOptions, DEFAULT_BATCH_SIZE, DEFAULT_PARALLELISM};
pub use set::{SetKind, SetScanBuilder};
pub use stream::StreamScanBuilder;
pub use string::{StringKind, StringScanBuilder};
pub use timeseries::{Aggregation, TimeSeriesScanBuilder};
pub use types::{FieldType, TimeUnit};
pub use write::{
    HashWriteBuilder, IfExists, JsonWriteBuilder, KeyFailure, ListWriteBuilder, SetWriteBuilder,
    StreamWriteBuilder, StringWriteBuilder, TimeSeriesWriteBuilder, Ttl, WriteOptions, WriteResult,
    ZsetWriteBuilder,
};
pub use zset::{ZsetKind, ZsetScanBuilder};
