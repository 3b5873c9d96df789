//! The public reader API: a builder per Redis type that validates its
//! options in `build()` and returns an iterator of Arrow `RecordBatch`es (or
//! an async stream of them).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use tokio::sync::mpsc;

use crate::config::ConnectionConfig;
use crate::engine::{Fetcher, ScanJob};
use crate::error::{Error, Result};
use crate::hash::{HashFetch, HashFetcher};
use crate::keys::{KeyProducer, KeySelection};
use crate::layout::{ExtraColumns, Field, Layout};
use crate::pushdown::KeyFilter;

/// Default number of keys fetched per pipeline (and rows per batch for hashes).
pub const DEFAULT_BATCH_SIZE: usize = 1000;
/// Default number of pipelines in flight, each on its own connection.
pub const DEFAULT_PARALLELISM: usize = 3;

/// Options every scan shares, whatever the Redis type.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    selection: KeySelection,
    extra: ExtraColumns,
    projection: Option<Vec<String>>,
    batch_size: usize,
    count_hint: Option<usize>,
    limit: Option<usize>,
    strict: bool,
    parallelism: usize,
    deadline: Option<Duration>,
    parse_hint: Option<String>,
    key_filter: KeyFilter,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            selection: KeySelection::Pattern(b"*".to_vec()),
            extra: ExtraColumns::default(),
            projection: None,
            batch_size: DEFAULT_BATCH_SIZE,
            count_hint: None,
            limit: None,
            strict: true,
            parallelism: DEFAULT_PARALLELISM,
            deadline: None,
            parse_hint: None,
            key_filter: KeyFilter::Any,
        }
    }
}

impl ScanOptions {
    fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::InvalidArgument("batch_size must be at least 1".into()));
        }
        if self.parallelism == 0 {
            return Err(Error::InvalidArgument("parallelism must be at least 1".into()));
        }
        if self.count_hint == Some(0) {
            return Err(Error::InvalidArgument("count_hint must be at least 1".into()));
        }
        Ok(())
    }

    /// Apply the projection to the value fields and the extra columns.
    fn project(&self, fields: &[Field]) -> Result<(ExtraColumns, Vec<Field>)> {
        let Some(projection) = &self.projection else {
            return Ok((self.extra.clone(), fields.to_vec()));
        };
        let extra = &self.extra;
        let keep = |name: &Option<String>| name.clone().filter(|n| projection.contains(n));
        for name in projection {
            let known = fields.iter().any(|f| &f.name == name)
                || [&extra.key, &extra.ttl, &extra.row_index]
                    .iter()
                    .any(|c| c.as_deref() == Some(name.as_str()));
            if !known {
                return Err(Error::InvalidArgument(format!(
                    "projected column `{name}` is not in the schema"
                )));
            }
        }
        let projected = ExtraColumns {
            key: keep(&extra.key),
            ttl: keep(&extra.ttl),
            row_index: keep(&extra.row_index),
        };
        let fields = fields
            .iter()
            .filter(|f| projection.contains(&f.name))
            .cloned()
            .collect();
        Ok((projected, fields))
    }

    /// The key producer, after narrowing by the key filter. The flag says
    /// whether a key of another type is an error (keys the user listed) or
    /// skipped (keys found by SCAN, or derived from a pattern).
    fn key_producer(&self, redis_type: &'static str) -> (KeyProducer, bool) {
        let user_listed = matches!(self.selection, KeySelection::Keys(_));
        let (selection, derived) = self.key_filter.clone().narrow(self.selection.clone());
        // Never fetch more keys per pipeline than the row limit needs.
        let batch_size = self.limit.map_or(self.batch_size, |l| l.clamp(1, self.batch_size));
        let producer = KeyProducer {
            selection,
            redis_type,
            batch_size,
            count_hint: self.count_hint.unwrap_or(batch_size.max(100)),
        };
        (producer, user_listed && !derived)
    }
}

/// Setters shared by every scan builder (`with_pattern`, `with_keys`, ...).
macro_rules! scan_option_setters {
    () => {
        /// Read the keys matching a glob pattern (`SCAN ... MATCH`). Default `*`.
        pub fn with_pattern(mut self, pattern: impl AsRef<[u8]>) -> Self {
            self.options.selection = KeySelection::Pattern(pattern.as_ref().to_vec());
            self
        }

        /// Read exactly these keys instead of scanning; missing keys give no row.
        pub fn with_keys<I, K>(mut self, keys: I) -> Self
        where
            I: IntoIterator<Item = K>,
            K: AsRef<[u8]>,
        {
            let keys = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
            self.options.selection = KeySelection::Keys(keys);
            self
        }

        /// Name of the key column, or `None` to leave it out. Default `_key`.
        pub fn with_key_column(mut self, name: Option<&str>) -> Self {
            self.options.extra.key = name.map(str::to_string);
            self
        }

        /// Name of the TTL column (seconds left, null for no expiry), or `None`. Default off.
        pub fn with_ttl_column(mut self, name: Option<&str>) -> Self {
            self.options.extra.ttl = name.map(str::to_string);
            self
        }

        /// Name of the row index column (`UInt32` from 0), or `None`. Default off.
        pub fn with_row_index_column(mut self, name: Option<&str>) -> Self {
            self.options.extra.row_index = name.map(str::to_string);
            self
        }

        /// Only emit these columns (value fields or extra columns).
        pub fn with_projection<I, S>(mut self, columns: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.options.projection = Some(columns.into_iter().map(Into::into).collect());
            self
        }

        /// Keys fetched per pipeline. Default 1000.
        pub fn with_batch_size(mut self, batch_size: usize) -> Self {
            self.options.batch_size = batch_size;
            self
        }

        /// `COUNT` hint for `SCAN`. Default: the batch size (at least 100).
        pub fn with_count_hint(mut self, count: usize) -> Self {
            self.options.count_hint = Some(count);
            self
        }

        /// Stop after this many rows.
        pub fn with_limit(mut self, limit: Option<usize>) -> Self {
            self.options.limit = limit;
            self
        }

        /// `true` (default): an unparsable value is an error naming key, field
        /// and value. `false`: it becomes null.
        pub fn with_strict(mut self, strict: bool) -> Self {
            self.options.strict = strict;
            self
        }

        /// Pipelines in flight, each on its own connection. Default 3.
        pub fn with_parallelism(mut self, parallelism: usize) -> Self {
            self.options.parallelism = parallelism;
            self
        }

        /// Fail with a timeout error if the whole scan takes longer than this.
        pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
            self.options.deadline = deadline;
            self
        }

        /// Read only the keys this filter admits (see [`KeyFilter::from_polars_json`]).
        pub fn with_key_filter(mut self, filter: KeyFilter) -> Self {
            self.options.key_filter = filter;
            self
        }

        /// Extra advice appended to parse errors (e.g. that the schema was inferred).
        pub fn with_parse_hint(mut self, hint: Option<String>) -> Self {
            self.options.parse_hint = hint;
            self
        }
    };
}

/// Builds a scan of Redis hashes, one row per hash.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, Field, FieldType, HashScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let schema = vec![Field::new("name", FieldType::Utf8), Field::new("age", FieldType::Int64)];
/// let reader = HashScanBuilder::new(config, schema)
///     .with_pattern("user:*")
///     .with_batch_size(500)
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct HashScanBuilder {
    config: ConnectionConfig,
    schema: Vec<Field>,
    fetch: HashFetch,
    options: ScanOptions,
}

impl HashScanBuilder {
    /// A scan of every hash (pattern `*`) with these value fields.
    pub fn new(config: ConnectionConfig, schema: Vec<Field>) -> Self {
        HashScanBuilder {
            config,
            schema,
            fetch: HashFetch::Auto,
            options: ScanOptions::default(),
        }
    }

    scan_option_setters!();

    /// Choose between `HGETALL` and `HMGET`. Default [`HashFetch::Auto`].
    pub fn with_fetch(mut self, fetch: HashFetch) -> Self {
        self.fetch = fetch;
        self
    }

    /// Validate the options and start the scan on the shared runtime.
    pub fn build(self) -> Result<RecordBatchIter> {
        let (job, schema) = self.into_job()?;
        Ok(RecordBatchIter::spawn(job, schema))
    }

    /// Validate the options and start the scan on the current Tokio runtime.
    pub fn build_stream(self) -> Result<RecordBatchStream> {
        let (job, schema) = self.into_job()?;
        Ok(RecordBatchStream::spawn(job, schema))
    }

    /// The schema the scan will emit.
    pub fn output_schema(&self) -> Result<SchemaRef> {
        Ok(self.layout()?.output_schema.clone())
    }

    fn layout(&self) -> Result<Layout> {
        self.options.validate()?;
        let mut names = std::collections::HashSet::new();
        for field in &self.schema {
            if !names.insert(&field.name) {
                return Err(Error::InvalidArgument(format!(
                    "field `{}` appears twice in the schema",
                    field.name
                )));
            }
        }
        let (extra, fields) = self.options.project(&self.schema)?;
        let mut layout = Layout::new(extra, fields, self.options.strict)?;
        layout.parse_hint = self.options.parse_hint.clone();
        Ok(layout)
    }

    fn into_job(self) -> Result<(ScanJob<HashFetcher>, SchemaRef)> {
        let layout = Arc::new(self.layout()?);
        let (keys, wrong_type_is_error) = self.options.key_producer("hash");
        let fetcher = HashFetcher::new(
            layout.clone(),
            self.schema.len(),
            self.fetch,
            wrong_type_is_error,
        );
        let schema = layout.output_schema.clone();
        let job = ScanJob {
            config: self.config,
            fetcher: Arc::new(fetcher),
            layout,
            keys,
            parallelism: self.options.parallelism,
            limit: self.options.limit,
            deadline: self.options.deadline,
        };
        Ok((job, schema))
    }
}

/// A blocking iterator of record batches; [`ArrowReader`] wraps it as an
/// Arrow [`RecordBatchReader`].
///
/// Dropping it stops the scan. Do not iterate it from inside an async
/// context: use [`RecordBatchStream`] there.
pub struct RecordBatchIter {
    rx: mpsc::Receiver<Result<RecordBatch>>,
    schema: SchemaRef,
}

impl RecordBatchIter {
    fn spawn<F: Fetcher>(job: ScanJob<F>, schema: SchemaRef) -> Self {
        let rx = job.spawn(crate::runtime::runtime().handle());
        RecordBatchIter { rx, schema }
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Iterator for RecordBatchIter {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rx.blocking_recv()
    }
}

/// Adapts the iterator to Arrow's reader item type (`ArrowError`).
pub struct ArrowReader(pub RecordBatchIter);

impl Iterator for ArrowReader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|r| r.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for ArrowReader {
    fn schema(&self) -> SchemaRef {
        self.0.schema.clone()
    }
}

/// An async stream of record batches; dropping it stops the scan.
pub struct RecordBatchStream {
    rx: mpsc::Receiver<Result<RecordBatch>>,
    schema: SchemaRef,
}

impl RecordBatchStream {
    fn spawn<F: Fetcher>(job: ScanJob<F>, schema: SchemaRef) -> Self {
        let rx = job.spawn(&tokio::runtime::Handle::current());
        RecordBatchStream { rx, schema }
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next batch, or `None` at the end.
    pub async fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for RecordBatchStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
