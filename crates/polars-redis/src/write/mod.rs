//! Writing Arrow record batches back to Redis.
//!
//! Every type has a builder ([`HashWriteBuilder`], [`StringWriteBuilder`],
//! [`JsonWriteBuilder`], [`SetWriteBuilder`], [`ListWriteBuilder`],
//! [`ZsetWriteBuilder`], [`StreamWriteBuilder`], [`TimeSeriesWriteBuilder`])
//! with the shared options of [`WriteOptions`] and its own columns: each is a
//! [`WriteBuilder`] over the type's own part ([`HashWrite`], [`SetWrite`],
//! ...), whose shared setters and `write` methods are written once.
//!
//! A write runs in three steps:
//! 1. **Check** (nothing sent yet): columns exist, every row has a key
//!    (`key_prefix` + key column, or + row index), no key repeats for
//!    one-row-per-key types, every value can be formatted; bad input is an
//!    [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the rows, key and column.
//! 2. **Conflicts** (`if_exists="fail"` only): `EXISTS` for every key; any
//!    hit ends the write before anything is written.
//! 3. **Write**: keys in batches of `batch_size` rows, `parallelism`
//!    pipelines in flight, each key one atomic unit (see [`IfExists`]).
//!    Value text is formatted straight from Arrow by the rules of
//!    [`types`](crate::types) (`format.rs`).
//!
//! A dropped connection is retried on a fresh one for the keys whose replies
//! were missing, when their commands are idempotent (replace, and appends to
//! hashes, sets, sorted sets, JSON and strings); other keys are reported as
//! unknown in the [`WriteResult`].
//!
//! | builder                  | rows per key | value from                         | `append` means                                    |
//! |--------------------------|--------------|------------------------------------|---------------------------------------------------|
//! | [`HashWriteBuilder`]     | one          | every other column, one field each | `HSET`: fields updated, other fields kept         |
//! | [`JsonWriteBuilder`]     | one          | every other column, one attribute each | `JSON.MERGE` (RFC 7396): attributes updated, objects merged, arrays replaced |
//! | [`StringWriteBuilder`]   | one          | the value column                   | `SET ... KEEPTTL`: value replaced, TTL kept (a key of another type fails) |
//! | [`SetWriteBuilder`]      | many         | the member column                  | `SADD`: members added                             |
//! | [`ListWriteBuilder`]     | many         | the element column (ordered by the order column, else row order) | `RPUSH`: elements added at the tail |
//! | [`ZsetWriteBuilder`]     | many         | the member and score columns       | `ZADD`: members added, scores of existing ones updated |
//! | [`StreamWriteBuilder`]   | many         | every other column, one field each (id column optional) | `XADD`: entries added |
//! | [`TimeSeriesWriteBuilder`] | many       | the timestamp and value columns    | `TS.MADD`: samples added (series created with retention/labels if absent) |
//!
//! Nulls: a null hash field / stream field is not written (so it reads back
//! as null); in `append` it leaves the existing field untouched. A null JSON
//! attribute is written as JSON `null` (in `append` it is left out, so the
//! existing attribute is untouched). A row whose every value is null cannot
//! be a hash or stream entry and is rejected; a null string value, set or
//! sorted-set member, list element, score, timestamp or sample value is
//! rejected too, naming the row, key and column, before anything is sent.
//!
//! The modules, in the order a write runs: `options` (shared options),
//! `builder` (the builder and its `write` methods), `check` (the checks,
//! with `frame`: rows and their keys, and `ttl`: expiries), `engine` (routing
//! keys to servers, conflicts, redirects) and `worker` (one connection's
//! pipelines and retries), `conflict` and `commands` (how one key's commands
//! are sent for each `if_exists` mode), `result` (the report). Each Redis type
//! has its own module (`hash`, `json`, `string`, `set`, `list`, `zset`,
//! `stream`, `timeseries`) mirroring the readers; what they share is in
//! `encode`, `fields` (hash and stream fields), `members` (set members, list
//! elements) and `numbers` (integer and temporal columns as `i64`).

mod builder;
mod check;
mod commands;
mod conflict;
mod encode;
mod engine;
mod field_ttl;
mod fields;
mod frame;
mod hash;
mod hash_fields;
mod json;
mod list;
mod members;
mod numbers;
mod options;
mod progress;
mod result;
mod script;
mod set;
mod stream;
mod string;
mod timeseries;
mod ttl;
mod watch;
mod worker;
mod zset;

pub use builder::WriteBuilder;
pub use conflict::IfExists;
pub use encode::WriteKind;
pub use field_ttl::FieldTtl;
pub use hash::{HashWrite, HashWriteBuilder};
pub use hash_fields::{HashFieldsWrite, HashFieldsWriteBuilder};
pub use json::{JsonWrite, JsonWriteBuilder};
pub use list::{ListWrite, ListWriteBuilder};
pub use options::{
    Ttl, WriteOptions, DEFAULT_WRITE_BATCH_SIZE, DEFAULT_WRITE_PARALLELISM, WRITE_BATCH_SIZE_LIMIT,
    WRITE_PARALLELISM_LIMIT,
};
pub use progress::WriteProgress;
pub use result::{KeyFailure, WriteResult};
pub use set::{SetWrite, SetWriteBuilder};
pub use stream::{StreamWrite, StreamWriteBuilder};
pub use string::{StringWrite, StringWriteBuilder};
pub use timeseries::{TimeSeriesWrite, TimeSeriesWriteBuilder};
pub use zset::{ZsetWrite, ZsetWriteBuilder};
