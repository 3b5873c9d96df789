//! Writing Arrow record batches back to Redis.
//!
//! Every type has a builder ([`HashWriteBuilder`], [`StringWriteBuilder`],
//! [`JsonWriteBuilder`], [`SetWriteBuilder`], [`ListWriteBuilder`],
//! [`ZsetWriteBuilder`], [`StreamWriteBuilder`], [`TimeSeriesWriteBuilder`])
//! with the shared options of [`WriteOptions`] and its own columns.
//!
//! A write runs in three steps:
//! 1. **Check** (nothing sent yet): columns exist, every row has a key
//!    (`key_prefix` + key column, or + row index), no key repeats for
//!    one-row-per-key types, every value can be formatted; bad input is an
//!    [`Error::InvalidArgument`] naming the rows, key and column.
//! 2. **Conflicts** (`if_exists="fail"` only): `EXISTS` for every key; any
//!    hit ends the write before anything is written.
//! 3. **Write**: keys in batches of `batch_size` rows, `parallelism`
//!    pipelines in flight, each key one atomic unit (see [`IfExists`]).
//!    Value text is formatted straight from Arrow by the rules of `format.rs`.
//!
//! A dropped connection is retried on a fresh one for the keys whose replies
//! were missing, when their commands are idempotent (replace, and appends to
//! hashes, sets, sorted sets, JSON and strings); other keys are reported as
//! unknown in the [`WriteResult`].

mod commands;
mod conflict;
mod engine;
mod frame;
mod result;
mod types;

use std::time::Duration;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::SchemaRef;

pub use conflict::IfExists;
pub use result::{KeyFailure, WriteResult};
pub use types::{
    HashWriteBuilder, JsonWriteBuilder, ListWriteBuilder, SetWriteBuilder, StreamWriteBuilder,
    StringWriteBuilder, TimeSeriesWriteBuilder, ZsetWriteBuilder,
};

pub(crate) use commands::{Commands, When};
pub(crate) use conflict::Expiry;
pub(crate) use frame::{Frame, FrameCells, RowRef};

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;

/// Default rows per pipeline.
pub const DEFAULT_WRITE_BATCH_SIZE: usize = 2000;
/// Default pipelines in flight, each on its own connection.
pub const DEFAULT_WRITE_PARALLELISM: usize = 3;

/// The TTL of written keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Ttl {
    /// No TTL: replaced keys are persistent, appended keys keep theirs.
    #[default]
    None,
    /// The same number of seconds for every key.
    Seconds(u64),
    /// Per row from this column: integer seconds, a `Duration`, or a
    /// `Timestamp` (absolute expiry). Null: no TTL for that key.
    Column(String),
}

/// Options every write shares.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    pub(crate) key_column: Option<String>,
    pub(crate) key_prefix: Vec<u8>,
    pub(crate) ttl: Ttl,
    pub(crate) if_exists: IfExists,
    pub(crate) batch_size: usize,
    pub(crate) parallelism: usize,
    pub(crate) raise_on_failure: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            key_column: Some("_key".into()),
            key_prefix: Vec::new(),
            ttl: Ttl::None,
            if_exists: IfExists::Replace,
            batch_size: DEFAULT_WRITE_BATCH_SIZE,
            parallelism: DEFAULT_WRITE_PARALLELISM,
            raise_on_failure: true,
        }
    }
}

impl WriteOptions {
    write_option_setters!();

    fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.parallelism == 0 {
            return Err(Error::InvalidArgument(
                "batch_size and parallelism must be at least 1".into(),
            ));
        }
        if self.ttl == Ttl::Seconds(0) {
            return Err(Error::InvalidArgument(
                "ttl must be at least 1 second".into(),
            ));
        }
        Ok(())
    }
}

/// One key being written: its rows and everything needed to encode them.
pub(crate) struct GroupCtx<'a> {
    pub(crate) frame: &'a Frame,
    pub(crate) cells: &'a FrameCells<'a>,
    pub(crate) key: &'a [u8],
    pub(crate) rows: &'a [RowRef],
    pub(crate) mode: IfExists,
    pub(crate) expiry: Expiry,
}

impl GroupCtx<'_> {
    /// An error about one cell, naming row, key and column.
    pub(crate) fn cell_error(
        &self,
        at: RowRef,
        column: usize,
        reason: impl std::fmt::Display,
    ) -> String {
        format!(
            "row {}, key {}, column `{}`: {reason}",
            self.frame.global(at),
            crate::error::Key::from(self.key),
            self.frame.name(column)
        )
    }
}

/// The type-specific half of a write: turns the rows of one key into commands.
pub(crate) trait Encoder: Send + Sync {
    /// Append the data commands for the rows of one key. Errors name the
    /// row, key and column.
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> crate::types::format::CellResult;

    /// Check a key's rows before anything is sent (default: encode them).
    fn validate(
        &self,
        ctx: &GroupCtx<'_>,
        scratch: &mut Commands,
    ) -> crate::types::format::CellResult {
        scratch.clear();
        self.encode(ctx, scratch)
    }

    /// Strings: one `SET` carries the value, the expiry and the condition.
    fn single_set(&self) -> bool {
        false
    }
}

/// What a type builder tells the shared write path.
pub(crate) trait WritePlan {
    /// Rows are grouped by key (collections) rather than one row per key.
    const GROUPED: bool;
    /// Appending twice leaves the same value (safe to retry after a drop).
    const APPEND_IDEMPOTENT: bool;

    fn config(&self) -> &ConnectionConfig;
    fn options(&self) -> &WriteOptions;
    /// The encoder for `frame`; `reserved` are the key and TTL columns, which
    /// are not values.
    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>>;
}

/// Run a write on the current runtime.
pub(crate) async fn run<P: WritePlan>(
    plan: &P,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<WriteResult> {
    let options = plan.options();
    options.validate()?;
    let frame = Frame::new(schema, batches)?;
    let job = engine::Job::prepare::<P>(plan, frame)?;
    let result = job.run(plan.config().clone()).await?;
    if options.raise_on_failure && !result.is_complete() {
        return Err(Error::WriteFailed(Box::new(result)));
    }
    Ok(result)
}

/// Run a write on the shared runtime, blocking.
pub(crate) fn run_blocking<P: WritePlan>(
    plan: &P,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<WriteResult> {
    crate::net::runtime::runtime().block_on(run(plan, schema, batches))
}

/// Collect a reader's batches (a write checks every key before sending).
pub(crate) fn read_all(reader: impl RecordBatchReader) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema = reader.schema();
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidArgument(format!("cannot read the input batches: {e}")))?;
    Ok((schema, batches))
}

/// A constant TTL from a [`Duration`] (whole seconds, at least one).
pub(crate) fn ttl_from_duration(ttl: Option<Duration>) -> Ttl {
    match ttl {
        None => Ttl::None,
        Some(d) => Ttl::Seconds(d.as_secs() + u64::from(d.subsec_nanos() > 0)),
    }
}

/// The shared option setters, for [`WriteOptions`] itself (no argument) and
/// for builders that hold it in a field (`write_option_setters!(options)`).
macro_rules! write_option_setters {
    ($($field:ident)?) => {
        /// Column holding the keys (default `_key`); `None`: `key_prefix`
        /// followed by the row index (0-based).
        pub fn with_key_column(mut self, name: Option<&str>) -> Self {
            self$(.$field)?.key_column = name.map(str::to_string);
            self
        }

        /// Text put before every key.
        pub fn with_key_prefix(mut self, prefix: impl AsRef<[u8]>) -> Self {
            self$(.$field)?.key_prefix = prefix.as_ref().to_vec();
            self
        }

        /// One TTL for every key (rounded up to whole seconds), or none.
        pub fn with_ttl(mut self, ttl: Option<std::time::Duration>) -> Self {
            self$(.$field)?.ttl = $crate::write::ttl_from_duration(ttl);
            self
        }

        /// A TTL per row from this column (see [`Ttl::Column`](crate::write::Ttl::Column)).
        pub fn with_ttl_column(mut self, name: impl Into<String>) -> Self {
            self$(.$field)?.ttl = $crate::write::Ttl::Column(name.into());
            self
        }

        /// What to do with keys that already exist. Default `Replace`.
        pub fn with_if_exists(mut self, mode: $crate::write::IfExists) -> Self {
            self$(.$field)?.if_exists = mode;
            self
        }

        /// Rows per pipeline. Default 2000.
        pub fn with_batch_size(mut self, batch_size: usize) -> Self {
            self$(.$field)?.batch_size = batch_size;
            self
        }

        /// Pipelines in flight, each on its own connection. Default 3.
        pub fn with_parallelism(mut self, parallelism: usize) -> Self {
            self$(.$field)?.parallelism = parallelism;
            self
        }

        /// `true` (default): a write that leaves keys failed or unknown
        /// returns [`Error::WriteFailed`](crate::Error::WriteFailed) carrying
        /// the result; `false`: it returns the result.
        pub fn with_raise_on_failure(mut self, raise: bool) -> Self {
            self$(.$field)?.raise_on_failure = raise;
            self
        }
    };
}

/// Setters and `write` methods shared by every write builder. The builder
/// must have `config` and `options: WriteOptions` fields and implement
/// [`WritePlan`].
macro_rules! write_builder_methods {
    () => {
        /// Replace every shared option at once.
        pub fn with_options(mut self, options: $crate::write::WriteOptions) -> Self {
            self.options = options;
            self
        }

        $crate::write::write_option_setters!(options);

        /// Write these batches (all must share one schema), blocking. Do not
        /// call from inside an async context: use `write_async` there.
        pub fn write<I>(&self, batches: I) -> $crate::error::Result<$crate::write::WriteResult>
        where
            I: IntoIterator<Item = arrow_array::RecordBatch>,
        {
            let batches: Vec<_> = batches.into_iter().collect();
            let Some(first) = batches.first() else {
                return Ok($crate::write::WriteResult::default());
            };
            let schema = first.schema();
            $crate::write::run_blocking(self, schema, batches)
        }

        /// Write every batch of a reader, blocking.
        pub fn write_reader(
            &self,
            reader: impl arrow_array::RecordBatchReader,
        ) -> $crate::error::Result<$crate::write::WriteResult> {
            let (schema, batches) = $crate::write::read_all(reader)?;
            $crate::write::run_blocking(self, schema, batches)
        }

        /// Write these batches from inside a Tokio runtime.
        pub async fn write_async(
            &self,
            schema: arrow_schema::SchemaRef,
            batches: Vec<arrow_array::RecordBatch>,
        ) -> $crate::error::Result<$crate::write::WriteResult> {
            $crate::write::run(self, schema, batches).await
        }
    };
}

pub(crate) use {write_builder_methods, write_option_setters};
