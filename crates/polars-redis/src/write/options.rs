//! The options every write shares ([`WriteOptions`]), their defaults and
//! their validation.

use std::sync::Arc;
use std::time::Duration;

use super::conflict::IfExists;
use super::progress::WriteProgress;
use crate::error::{Error, Result, SizeLimit};
use crate::net::budget::LoadBudget;
use crate::types::TextForm;

/// Default rows per pipeline.
pub const DEFAULT_WRITE_BATCH_SIZE: usize = 2000;
/// Default pipelines in flight, each on its own connection.
pub const DEFAULT_WRITE_PARALLELISM: usize = 3;
/// The range of a write's `batch_size` (rows per pipeline).
pub const WRITE_BATCH_SIZE_LIMIT: SizeLimit = SizeLimit::new("batch_size", 1, 1_000_000);
/// The range of a write's `parallelism` (connections per master).
pub const WRITE_PARALLELISM_LIMIT: SizeLimit = SizeLimit::new("parallelism", 1, 256);

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

impl Ttl {
    /// A constant TTL from a [`Duration`] (whole seconds, rounded up).
    fn from_duration(ttl: Option<Duration>) -> Self {
        match ttl {
            None => Ttl::None,
            Some(d) => Ttl::Seconds(d.as_secs() + u64::from(d.subsec_nanos() > 0)),
        }
    }
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
    /// Rows written per second (only the rate limit applies to writes).
    pub(crate) budget: LoadBudget,
    /// Stored forms of temporal columns, by column name.
    pub(crate) formats: Vec<(String, TextForm)>,
    /// Counters of the rows and keys done, for a caller showing progress.
    pub(crate) progress: Option<Arc<WriteProgress>>,
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
            budget: LoadBudget::default(),
            formats: Vec::new(),
            progress: None,
        }
    }
}

impl WriteOptions {
    /// Column holding the keys (default `_key`); `None`: `key_prefix`
    /// followed by the row index (0-based).
    pub fn with_key_column(mut self, name: Option<&str>) -> Self {
        self.key_column = name.map(str::to_string);
        self
    }

    /// Text put before every key.
    pub fn with_key_prefix(mut self, prefix: impl AsRef<[u8]>) -> Self {
        self.key_prefix = prefix.as_ref().to_vec();
        self
    }

    /// One TTL for every key (rounded up to whole seconds), or none.
    pub fn with_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = Ttl::from_duration(ttl);
        self
    }

    /// A TTL per row from this column (see [`Ttl::Column`]).
    pub fn with_ttl_column(mut self, name: impl Into<String>) -> Self {
        self.ttl = Ttl::Column(name.into());
        self
    }

    /// What to do with keys that already exist. Default `Replace`.
    pub fn with_if_exists(mut self, mode: IfExists) -> Self {
        self.if_exists = mode;
        self
    }

    /// Rows per pipeline. Default 2000, within [`WRITE_BATCH_SIZE_LIMIT`].
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Pipelines in flight, each on its own connection. Default 3, within
    /// [`WRITE_PARALLELISM_LIMIT`].
    pub fn with_parallelism(mut self, parallelism: usize) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// Count the rows and keys done in `progress` as the write goes (see
    /// [`WriteProgress`]). Default none.
    pub fn with_progress(mut self, progress: Option<Arc<WriteProgress>>) -> Self {
        self.progress = progress;
        self
    }

    /// At most `per_second` rows written per second over all connections
    /// of the write; `None` (default) for no limit. Must be positive.
    pub fn with_rate_limit(mut self, per_second: Option<f64>) -> Result<Self> {
        self.budget = self.budget.with_rate_limit(per_second)?;
        Ok(self)
    }

    /// The write's whole load budget: its rate limit (rows per second) and
    /// latency budget (the longest one pipeline, transaction or script
    /// call may occupy a server; see [`LoadBudget`]). Default: unlimited.
    pub fn with_load_budget(mut self, budget: LoadBudget) -> Self {
        self.budget = budget;
        self
    }

    /// `true` (default): a write that leaves keys failed or unknown
    /// returns [`Error::WriteFailed`] carrying the result; `false`: it
    /// returns the result.
    pub fn with_raise_on_failure(mut self, raise: bool) -> Self {
        self.raise_on_failure = raise;
        self
    }

    /// Store temporal columns in another form than the type table's
    /// default (ISO-8601): a column name and its [`TextForm`] (a strftime
    /// format or an epoch unit). A scan with the same forms reads the
    /// values back identically; a value its form cannot hold exactly is
    /// refused before anything is sent.
    pub fn with_formats(mut self, formats: Vec<(String, TextForm)>) -> Self {
        self.formats = formats;
        self
    }

    /// Reject options no write can run with.
    pub(crate) fn validate(&self) -> Result<()> {
        WRITE_BATCH_SIZE_LIMIT.check(self.batch_size)?;
        WRITE_PARALLELISM_LIMIT.check(self.parallelism)?;
        if self.ttl == Ttl::Seconds(0) {
            return Err(Error::InvalidArgument(
                "ttl must be at least 1 second".into(),
            ));
        }
        Ok(())
    }
}
