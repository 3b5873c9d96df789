//! A DataFrame cache: a serialized frame (Arrow IPC or Parquet bytes, made
//! by the caller) stored under one key, in chunks, behind a manifest.
//!
//! | module | job |
//! |---|---|
//! | `manifest` | what an entry holds (format, rows, columns, chunk sizes and XXH3 checksums), its text form, chunk key names with a hash tag |
//! | `store` | write (chunks under a new version, then one atomic manifest switch), read (checked), delete, TTL |
//!
//! Keys of an entry: the manifest at the key itself, chunks at
//! `{key}:chunk:<version>:<index>` (the key's own hash tag when it has
//! one), so on a cluster an entry lives in one slot.

mod manifest;
mod store;

pub use manifest::{CacheManifest, CacheMeta};
pub use store::{
    cached_manifest, cached_ttl, delete_cached, load_cached, store_cached, CHUNK_SIZE_LIMIT,
    DEFAULT_CHUNK_SIZE, MAX_VALUE_BYTES,
};
