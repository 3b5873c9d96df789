//! [`WriteBuilder`]: the connection, the shared [`WriteOptions`] and one
//! Redis type's own part ([`WriteKind`]); the setters every write shares and
//! the `write` methods are written here once, each type's own setters in
//! its module.

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::SchemaRef;

use super::check::Job;
use super::conflict::IfExists;
use super::encode::WriteKind;
use super::frame::Frame;
use super::options::WriteOptions;
use super::result::WriteResult;
use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;

/// A write of one Redis type: `K` is the type's own part (its columns and
/// options, e.g. [`SetWrite`](super::SetWrite)'s member column). Use it
/// through the aliases [`HashWriteBuilder`](super::HashWriteBuilder),
/// [`SetWriteBuilder`](super::SetWriteBuilder), ...
#[derive(Clone, Debug)]
pub struct WriteBuilder<K> {
    config: ConnectionConfig,
    options: WriteOptions,
    pub(super) kind: K,
}

impl<K: WriteKind> WriteBuilder<K> {
    /// A write with the default options.
    pub fn new(config: ConnectionConfig) -> Self {
        WriteBuilder {
            config,
            options: WriteOptions::default(),
            kind: K::default(),
        }
    }

    /// Write these batches (all must share one schema), blocking. Do not
    /// call from inside an async context: use `write_async` there.
    pub fn write<I>(&self, batches: I) -> Result<WriteResult>
    where
        I: IntoIterator<Item = RecordBatch>,
    {
        let batches: Vec<_> = batches.into_iter().collect();
        let Some(first) = batches.first() else {
            return Ok(WriteResult::default());
        };
        let schema = first.schema();
        crate::net::runtime::runtime().block_on(self.write_async(schema, batches))
    }

    /// Write every batch of a reader, blocking (a write checks every key
    /// before sending, so the batches are collected first).
    pub fn write_reader(&self, reader: impl RecordBatchReader) -> Result<WriteResult> {
        let schema = reader.schema();
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidArgument(format!("cannot read the input batches: {e}")))?;
        crate::net::runtime::runtime().block_on(self.write_async(schema, batches))
    }

    /// Write these batches from inside a Tokio runtime.
    pub async fn write_async(
        &self,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<WriteResult> {
        self.options.validate()?;
        let mut frame = Frame::new(schema, batches)?;
        frame.set_forms(&self.options)?;
        let job = Job::prepare(&self.options, &self.kind, frame)?;
        let result = job.run(self.config.clone()).await?;
        if self.options.raise_on_failure && !result.is_complete() {
            return Err(Error::WriteFailed(Box::new(result)));
        }
        Ok(result)
    }
}

/// The options every write shares (see [`WriteOptions`]).
impl<K> WriteBuilder<K> {
    /// Replace every shared option at once.
    pub fn with_options(mut self, options: WriteOptions) -> Self {
        self.options = options;
        self
    }

    fn map_options(mut self, set: impl FnOnce(WriteOptions) -> WriteOptions) -> Self {
        self.options = set(std::mem::take(&mut self.options));
        self
    }

    /// Column holding the keys (default `_key`); `None`: `key_prefix`
    /// followed by the row index (0-based).
    pub fn with_key_column(self, name: Option<&str>) -> Self {
        self.map_options(|o| o.with_key_column(name))
    }

    /// Text put before every key.
    pub fn with_key_prefix(self, prefix: impl AsRef<[u8]>) -> Self {
        self.map_options(|o| o.with_key_prefix(prefix))
    }

    /// How temporal columns are stored (see [`WriteOptions::with_formats`]).
    pub fn with_formats(self, formats: Vec<(String, crate::types::TextForm)>) -> Self {
        self.map_options(|o| o.with_formats(formats))
    }

    /// One TTL for every key (rounded up to whole seconds), or none.
    pub fn with_ttl(self, ttl: Option<std::time::Duration>) -> Self {
        self.map_options(|o| o.with_ttl(ttl))
    }

    /// A TTL per row from this column (see [`Ttl::Column`](super::Ttl::Column)).
    pub fn with_ttl_column(self, name: impl Into<String>) -> Self {
        self.map_options(|o| o.with_ttl_column(name))
    }

    /// What to do with keys that already exist. Default `Replace`.
    pub fn with_if_exists(self, mode: IfExists) -> Self {
        self.map_options(|o| o.with_if_exists(mode))
    }

    /// Rows per pipeline. Default 2000.
    pub fn with_batch_size(self, batch_size: usize) -> Self {
        self.map_options(|o| o.with_batch_size(batch_size))
    }

    /// Pipelines in flight, each on its own connection. Default 3.
    pub fn with_parallelism(self, parallelism: usize) -> Self {
        self.map_options(|o| o.with_parallelism(parallelism))
    }

    /// `true` (default): a write that leaves keys failed or unknown
    /// returns [`Error::WriteFailed`] carrying the result; `false`: it
    /// returns the result.
    pub fn with_raise_on_failure(self, raise: bool) -> Self {
        self.map_options(|o| o.with_raise_on_failure(raise))
    }

    /// Count the rows and keys done in `progress` (see
    /// [`WriteOptions::with_progress`]).
    pub fn with_progress(self, progress: Option<std::sync::Arc<super::WriteProgress>>) -> Self {
        self.map_options(|o| o.with_progress(progress))
    }
}
