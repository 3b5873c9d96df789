//! Schema inference: sample keys, look at their values, and say which type
//! each field most likely has, and how sure that is.
//!
//! Sampling walks the keyspace with `SCAN` and keeps a uniform reservoir
//! sample of `sample_size` keys (so the sample is spread over the whole
//! keyspace, not the first page), within a time budget. The sampled values
//! are folded into per-field counters as they arrive, so memory follows the
//! number of fields, not the number of values. A sampled key the server
//! refuses to read (`NOPERM` for an ACL user) fails inference with the error
//! a scan of it raises, rather than leaving the sample silently smaller.
//! Hashes, JSON documents and streams (their entry fields) are inferable.
//!
//! ```no_run
//! use polars_redis::{infer_hash_schema, ConnectionConfig, InferOptions};
//!
//! let config = ConnectionConfig::from_url("redis://localhost:6379")?;
//! let inferred = infer_hash_schema(&config, b"user:*", &InferOptions::default())?;
//! println!("sampled {} keys", inferred.sample_count);
//! for field in inferred.low_confidence(0.9) {
//!     println!("{}: {} ({:.0}%) {:?}", field.name, field.field_type, field.confidence * 100.0, field.note);
//! }
//! # Ok::<(), polars_redis::Error>(())
//! ```

mod hash;
mod json;
mod report;
mod sample;
mod stream;
mod vote;

pub use hash::{infer_hash_schema, infer_hash_schema_async};
pub use json::{infer_json_schema, infer_json_schema_async};
pub use report::{InferredField, InferredSchema};
pub use sample::{InferOptions, SAMPLE_SIZE_LIMIT};
pub use stream::{infer_stream_schema, infer_stream_schema_async};
