//! What every scan shares, whatever the Redis type: the options
//! ([`ScanOptions`]), the builder ([`ScanBuilder`]) with its shared setters,
//! and the path from a validated builder to a running scan.
//!
//! Each type module (`hash`, ...) defines a kind (`HashKind`, ...) holding
//! its own settings, implements [`Plan`] for it to say which value columns
//! it emits and how it fetches them, and adds its own setters in an
//! `impl ScanBuilder<ItsKind>` block; its public builder name is an alias
//! (`pub type HashScanBuilder = ScanBuilder<HashKind>`).

use crate::net::modules::Requirement;
use std::sync::Arc;
use std::time::Duration;

use arrow_schema::SchemaRef;

use crate::error::{Error, Result, SizeLimit};
use crate::net::budget::LoadBudget;
use crate::net::config::ConnectionConfig;
use crate::net::replicas::ReadFrom;
use crate::net::retry::{DEFAULT_RETRIES, RETRIES_LIMIT};
use crate::net::slots::SlotRanges;
use crate::read::engine::{Fetcher, ScanJob};
use crate::read::keys::{
    KeyProducer, KeySelection, PatternKeyPlanner, PatternKeySource, ScanFacts,
};
use crate::read::layout::{ExtraColumns, KeyType, Layout};
use crate::read::output::{RecordBatchIter, RecordBatchStream};
use crate::read::paged::{PagedFetcher, PagedSource};
use crate::read::pushdown::KeyFilter;
use crate::read::warnings::{FieldCheck, ScanChecks};
use crate::types::{apply_forms, Field, IndexOn, TextForm};

/// Default number of keys fetched per pipeline (and rows per batch for hashes).
pub const DEFAULT_BATCH_SIZE: usize = 1000;
/// Default number of pipelines in flight, each on its own connection.
pub const DEFAULT_PARALLELISM: usize = 3;

/// The range of `batch_size`: keys per pipeline and rows per batch.
pub const BATCH_SIZE_LIMIT: SizeLimit = SizeLimit::new("batch_size", 1, 1_000_000);
/// The range of `parallelism`: connections per node, each with a pipeline in flight.
pub const PARALLELISM_LIMIT: SizeLimit = SizeLimit::new("parallelism", 1, 256);
/// The range of `count_hint`, the `COUNT` of each `SCAN` call.
pub const COUNT_HINT_LIMIT: SizeLimit = SizeLimit::new("count_hint", 1, 1_000_000);

/// Options every scan shares, whatever the Redis type.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub(crate) selection: KeySelection,
    pub(crate) extra: ExtraColumns,
    pub(crate) projection: Option<Vec<String>>,
    pub(crate) batch_size: usize,
    pub(crate) count_hint: Option<usize>,
    pub(crate) limit: Option<usize>,
    pub(crate) strict: bool,
    pub(crate) parallelism: usize,
    pub(crate) deadline: Option<Duration>,
    pub(crate) budget: LoadBudget,
    pub(crate) retries: usize,
    pub(crate) parse_hint: Option<String>,
    /// Declared stored forms of temporal columns, by column name.
    pub(crate) formats: Vec<(String, TextForm)>,
    pub(crate) key_filter: KeyFilter,
    pub(crate) predicate: Option<Arc<str>>,
    /// Lists the keys of pattern scans instead of `SCAN`, when set (a
    /// RediSearch index: `with_search`, in the `search` module).
    pub(crate) key_planner: Option<Arc<dyn PatternKeyPlanner>>,
    /// Only keys of these hash slots are read (see [`ScanOptions::with_slots`]).
    pub(crate) slots: Option<Arc<SlotRanges>>,
    /// Which servers the keys are read on (see [`ScanOptions::with_read_from`]).
    pub(crate) read_from: ReadFrom,
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
            budget: LoadBudget::default(),
            retries: DEFAULT_RETRIES,
            parse_hint: None,
            formats: Vec::new(),
            key_filter: KeyFilter::Any,
            predicate: None,
            key_planner: None,
            slots: None,
            read_from: ReadFrom::Primary,
        }
    }
}

impl ScanOptions {
    /// Read the keys matching a glob pattern (`SCAN ... MATCH`). Default `*`.
    pub fn with_pattern(mut self, pattern: impl AsRef<[u8]>) -> Self {
        self.selection = KeySelection::Pattern(pattern.as_ref().to_vec());
        self
    }

    /// Read exactly these keys instead of scanning; missing keys give no row.
    pub fn with_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let keys = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
        self.selection = KeySelection::Keys(keys);
        self
    }

    /// Name of the key column, or `None` to leave it out. Default `_key`.
    pub fn with_key_column(mut self, name: Option<&str>) -> Self {
        self.extra.key = name.map(str::to_string);
        self
    }

    /// Name of the TTL column (seconds left, null for no expiry), or `None`. Default off.
    pub fn with_ttl_column(mut self, name: Option<&str>) -> Self {
        self.extra.ttl = name.map(str::to_string);
        self
    }

    /// Name of the row index column (`UInt32` from 0), or `None`. Default off.
    pub fn with_row_index_column(mut self, name: Option<&str>) -> Self {
        self.extra.row_index = name.map(str::to_string);
        self
    }

    /// Only emit these columns (value fields or extra columns).
    pub fn with_projection<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.projection = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Keys fetched per pipeline. Default 1000, within [`BATCH_SIZE_LIMIT`].
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// `COUNT` hint for `SCAN`. Default: the batch size (at least 100),
    /// within [`COUNT_HINT_LIMIT`].
    pub fn with_count_hint(mut self, count: usize) -> Self {
        self.count_hint = Some(count);
        self
    }

    /// Stop after this many rows.
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }

    /// `true` (default): an unparsable value is an error naming key, field
    /// and value. `false`: it becomes null.
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Pipelines in flight, each on its own connection. Default 3, within
    /// [`PARALLELISM_LIMIT`].
    pub fn with_parallelism(mut self, parallelism: usize) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// Fail with a timeout error if the whole scan takes longer than this.
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// How much of the servers the scan may use: keys read per second
    /// and how long one pipeline may occupy a server (see [`LoadBudget`]).
    /// Default unlimited.
    pub fn with_load_budget(mut self, budget: LoadBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Attempts after a pipeline or `SCAN` step failed on a dropped
    /// connection, a timeout or a restarting server, with exponential
    /// backoff (50 ms, doubling, at most 2 s) within the deadline. A `SCAN`
    /// resumes from its cursor; after a restart (a new `run_id`) the walk
    /// starts again and keys already read are not read twice. Default
    /// [`DEFAULT_RETRIES`], within [`RETRIES_LIMIT`].
    pub fn with_retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// Which servers the keys are listed and read on: the primaries
    /// (default), only replicas (spread over every live replica of each
    /// shard; a shard without one fails the read), or replicas where a shard
    /// has a live one. Replicas may lag behind their primary, so a replica
    /// read may miss the newest writes.
    pub fn with_read_from(mut self, read_from: ReadFrom) -> Self {
        self.read_from = read_from;
        self
    }

    /// Read only the keys this filter admits (see [`KeyFilter::from_polars_json`]).
    pub fn with_key_filter(mut self, filter: KeyFilter) -> Self {
        self.key_filter = filter;
        self
    }

    /// A serialized Polars predicate (`Expr.meta.serialize(format="json")`,
    /// see [`KeyFilter::from_polars_json`]): the scan reads only what it can
    /// match, e.g. fewer keys, or a narrower range of entries for types
    /// that read ranges. Rows are not filtered by it: the caller still
    /// applies the predicate. Ignored when a row index is emitted.
    pub fn with_predicate_json(mut self, predicate: Option<&str>) -> Self {
        self.predicate = predicate.map(Arc::from);
        self
    }

    /// Extra advice appended to parse errors (e.g. that the schema was inferred).
    pub fn with_parse_hint(mut self, hint: Option<String>) -> Self {
        self.parse_hint = hint;
        self
    }

    /// Declare how temporal columns are stored when not in the type
    /// table's default form (ISO-8601): a column name and its [`TextForm`]
    /// (a strftime format or an epoch unit). Each name must be a Date,
    /// Datetime, Time or Duration value column of the scan.
    pub fn with_formats(mut self, formats: Vec<(String, TextForm)>) -> Self {
        self.formats = formats;
        self
    }

    /// How the key column holds keys: text (default; a key that is not
    /// UTF-8 is a parse error, or null when not strict) or the raw bytes.
    pub fn with_key_type(mut self, key_type: KeyType) -> Self {
        self.extra.key_type = key_type;
        self
    }

    /// Read only the keys whose hash slot is in `slots`, wherever those
    /// slots are served when the scan runs: one partition of a scan (see
    /// [`plan_partitions`](crate::plan_partitions)). `None` (default) reads
    /// every slot.
    pub fn with_slots(mut self, slots: Option<SlotRanges>) -> Self {
        self.slots = slots.map(Arc::new);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        BATCH_SIZE_LIMIT.check(self.batch_size)?;
        PARALLELISM_LIMIT.check(self.parallelism)?;
        RETRIES_LIMIT.check(self.retries)?;
        if let Some(count) = self.count_hint {
            COUNT_HINT_LIMIT.check(count)?;
        }
        if let Some(planner) = &self.key_planner {
            planner.validate()?;
        }
        Ok(())
    }

    /// Apply the projection to the value fields and the extra columns.
    pub(crate) fn project(&self, fields: &[Field]) -> Result<(ExtraColumns, Vec<Field>)> {
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
            key_type: extra.key_type,
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

    /// Whether the output has a row index: it numbers the rows of the full
    /// scan, so nothing may narrow what is read (numbering only the rows a
    /// narrowed read returns would differ from numbering every row, then
    /// filtering).
    fn numbered(&self) -> bool {
        self.extra.row_index.as_ref().is_some_and(|index| {
            self.projection
                .as_ref()
                .is_none_or(|columns| columns.contains(index))
        })
    }

    /// The serialized Polars predicate to narrow reads by, if any (`None`
    /// when the output has a row index).
    pub(crate) fn predicate_json(&self) -> Option<&str> {
        self.predicate.as_deref().filter(|_| !self.numbered())
    }

    /// The key filter set explicitly, narrowed by what the predicate says
    /// about the key column; `Any` when the output has a row index.
    pub(crate) fn effective_key_filter(&self) -> KeyFilter {
        if self.numbered() {
            return KeyFilter::Any;
        }
        match (self.predicate_json(), &self.extra.key) {
            (Some(json), Some(key)) => self
                .key_filter
                .clone()
                .and(KeyFilter::from_polars_json(json, key)),
            _ => self.key_filter.clone(),
        }
    }

    /// The keys to read: the selection, narrowed by the key filter. The flag
    /// says whether the narrowing derived the keys (from a pattern).
    pub(crate) fn narrowed_selection(&self) -> (KeySelection, bool) {
        self.effective_key_filter().narrow(self.selection.clone())
    }

    /// The key producer, after narrowing by the key filter. The flag says
    /// whether a key of another type is an error (keys the user listed) or
    /// skipped (keys found by SCAN, or derived from a pattern).
    pub(crate) fn key_producer(
        &self,
        redis_type: &'static str,
        pattern_source: Option<Arc<dyn PatternKeySource>>,
    ) -> (KeyProducer, bool) {
        let user_listed = matches!(self.selection, KeySelection::Keys(_));
        let (selection, derived) = self.narrowed_selection();
        // Never fetch more keys per pipeline than the row limit needs.
        let batch_size = self
            .limit
            .map_or(self.batch_size, |l| l.clamp(1, self.batch_size));
        // Another key source answers pattern scans only (a key list is read directly).
        let pattern_source = match selection {
            KeySelection::Pattern(_) => pattern_source,
            KeySelection::Keys(_) | KeySelection::Query(_) => None,
        };
        let producer = KeyProducer {
            selection,
            redis_type: Some(redis_type),
            batch_size,
            count_hint: self.count_hint.unwrap_or(batch_size.max(100)),
            pattern_source,
            retries: self.retries,
            slots: self.slots.clone(),
        };
        (producer, user_listed && !derived)
    }
}

/// What a fetcher of one type needs to know about the scan.
pub(crate) struct FetchContext {
    pub(crate) layout: Arc<Layout>,
    /// Keys the user listed: a key of another type is an error, not skipped.
    pub(crate) wrong_type_is_error: bool,
    /// Rows per page and per emitted chunk.
    pub(crate) batch_size: usize,
    /// The scan's row limit.
    pub(crate) limit: Option<usize>,
    /// The serialized predicate to narrow reads by (see `ScanOptions::predicate_json`).
    pub(crate) predicate_json: Option<String>,
}

impl FetchContext {
    /// Position of the value column `name` in the (projected) layout.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.layout.fields.iter().position(|f| f.name == name)
    }

    /// A fetcher reading `source` in pages of `batch_size` rows, at most
    /// `per_key` rows a key.
    pub(crate) fn paged<S: PagedSource>(self, source: S, per_key: Option<u64>) -> PagedFetcher<S> {
        PagedFetcher::new(
            source,
            self.layout,
            self.batch_size,
            per_key,
            self.limit,
            self.wrong_type_is_error,
        )
    }
}

/// The type-specific half of a scan, implemented by each kind (`HashKind`, ...).
pub(crate) trait Plan {
    /// Fetches the rows of this type.
    type Fetcher: Fetcher;
    /// The `SCAN ... TYPE` name, e.g. `hash`.
    const REDIS_TYPE: &'static str;
    /// The module this type lives in, checked before the scan starts.
    const MODULE: Option<Requirement> = None;

    /// What the server must have, checked before the scan starts (default:
    /// the type's module).
    fn requirement(&self) -> Option<Requirement> {
        Self::MODULE
    }

    /// Every value column this scan can emit, before projection (an error
    /// for settings that do not fit together).
    fn fields(&self) -> Result<Vec<Field>>;

    /// The kind of document an index over this type reads, if any type of
    /// index can (hashes and JSON).
    fn index_on(&self) -> Option<IndexOn> {
        None
    }

    /// The identifiers an index attribute holding `column`'s value may have:
    /// the hash field (the default), or the JSONPaths of a JSON column.
    fn index_identifiers(&self, column: &str) -> Vec<String> {
        vec![column.to_string()]
    }

    /// The fields the user declared (schema fields, JSON paths, labels),
    /// checked for being in no row once a scan has run to its end (see
    /// [`crate::ScanWarning::FieldNotFound`]). Default: none.
    fn field_check(&self) -> Option<FieldCheck> {
        None
    }

    /// The fetcher for a validated, projected layout.
    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher>;
}

/// Builds a scan of one Redis type: the shared options, and the type's own
/// settings in `kind`. Use the aliases ([`HashScanBuilder`](crate::HashScanBuilder),
/// [`JsonScanBuilder`](crate::JsonScanBuilder), ...): each has a `new` and
/// setters of its own besides the shared ones below.
#[derive(Clone, Debug)]
pub struct ScanBuilder<K> {
    pub(crate) config: ConnectionConfig,
    pub(crate) options: ScanOptions,
    pub(crate) kind: K,
}

impl<K> ScanBuilder<K> {
    /// A scan with default options (every key of the type, pattern `*`).
    pub(crate) fn with_kind(config: ConnectionConfig, kind: K) -> Self {
        ScanBuilder {
            config,
            options: ScanOptions::default(),
            kind,
        }
    }

    /// Replace every shared option at once.
    pub fn with_options(mut self, options: ScanOptions) -> Self {
        self.options = options;
        self
    }

    fn map_options(mut self, set: impl FnOnce(ScanOptions) -> ScanOptions) -> Self {
        self.options = set(self.options);
        self
    }

    /// Read the keys matching a glob pattern (see [`ScanOptions::with_pattern`]).
    pub fn with_pattern(self, pattern: impl AsRef<[u8]>) -> Self {
        self.map_options(|o| o.with_pattern(pattern))
    }

    /// Read exactly these keys instead of scanning; missing keys give no row
    /// (see [`ScanOptions::with_keys`]).
    pub fn with_keys<I, S>(self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.map_options(|o| o.with_keys(keys))
    }

    /// Name of the key column, or `None` to leave it out (see [`ScanOptions::with_key_column`]).
    pub fn with_key_column(self, name: Option<&str>) -> Self {
        self.map_options(|o| o.with_key_column(name))
    }

    /// Name of the TTL column (seconds left, null for no expiry), or `None`
    /// (see [`ScanOptions::with_ttl_column`]).
    pub fn with_ttl_column(self, name: Option<&str>) -> Self {
        self.map_options(|o| o.with_ttl_column(name))
    }

    /// Name of the row index column (`UInt32` from 0), or `None`
    /// (see [`ScanOptions::with_row_index_column`]).
    pub fn with_row_index_column(self, name: Option<&str>) -> Self {
        self.map_options(|o| o.with_row_index_column(name))
    }

    /// Only emit these columns (value fields or extra columns)
    /// (see [`ScanOptions::with_projection`]).
    pub fn with_projection<I, S>(self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.map_options(|o| o.with_projection(columns))
    }

    /// Keys fetched per pipeline (see [`ScanOptions::with_batch_size`]).
    pub fn with_batch_size(self, batch_size: usize) -> Self {
        self.map_options(|o| o.with_batch_size(batch_size))
    }

    /// `COUNT` hint for `SCAN` (see [`ScanOptions::with_count_hint`]).
    pub fn with_count_hint(self, count: usize) -> Self {
        self.map_options(|o| o.with_count_hint(count))
    }

    /// Stop after this many rows (see [`ScanOptions::with_limit`]).
    pub fn with_limit(self, limit: Option<usize>) -> Self {
        self.map_options(|o| o.with_limit(limit))
    }

    /// Whether an unparsable value is an error (default) or null (see [`ScanOptions::with_strict`]).
    pub fn with_strict(self, strict: bool) -> Self {
        self.map_options(|o| o.with_strict(strict))
    }

    /// Pipelines in flight, each on its own connection (see [`ScanOptions::with_parallelism`]).
    pub fn with_parallelism(self, parallelism: usize) -> Self {
        self.map_options(|o| o.with_parallelism(parallelism))
    }

    /// Fail with a timeout error if the whole scan takes longer than this
    /// (see [`ScanOptions::with_deadline`]).
    pub fn with_deadline(self, deadline: Option<Duration>) -> Self {
        self.map_options(|o| o.with_deadline(deadline))
    }

    /// How much of the servers the scan may use (see [`ScanOptions::with_load_budget`]).
    pub fn with_load_budget(self, budget: LoadBudget) -> Self {
        self.map_options(|o| o.with_load_budget(budget))
    }

    /// Attempts after a transient failure (see [`ScanOptions::with_retries`]).
    pub fn with_retries(self, retries: usize) -> Self {
        self.map_options(|o| o.with_retries(retries))
    }

    /// Which servers the keys are read on (see [`ScanOptions::with_read_from`]).
    pub fn with_read_from(self, read_from: ReadFrom) -> Self {
        self.map_options(|o| o.with_read_from(read_from))
    }

    /// Read only the keys this filter admits (see [`ScanOptions::with_key_filter`]).
    pub fn with_key_filter(self, filter: KeyFilter) -> Self {
        self.map_options(|o| o.with_key_filter(filter))
    }

    /// Read only what a serialized Polars predicate can match (see [`ScanOptions::with_predicate_json`]).
    pub fn with_predicate_json(self, predicate: Option<&str>) -> Self {
        self.map_options(|o| o.with_predicate_json(predicate))
    }

    /// Extra advice appended to parse errors (see [`ScanOptions::with_parse_hint`]).
    pub fn with_parse_hint(self, hint: Option<String>) -> Self {
        self.map_options(|o| o.with_parse_hint(hint))
    }

    /// How temporal columns are stored (see [`ScanOptions::with_formats`]).
    pub fn with_formats(self, formats: Vec<(String, TextForm)>) -> Self {
        self.map_options(|o| o.with_formats(formats))
    }

    /// Keys as text or raw bytes (see [`ScanOptions::with_key_type`]).
    pub fn with_key_type(self, key_type: KeyType) -> Self {
        self.map_options(|o| o.with_key_type(key_type))
    }

    /// Read only the keys of some hash slots (see [`ScanOptions::with_slots`]).
    pub fn with_slots(self, slots: Option<SlotRanges>) -> Self {
        self.map_options(|o| o.with_slots(slots))
    }
}

// `Plan` is crate-private on purpose: the kinds are this crate's own, and
// the builders are used through their aliases.
#[allow(private_bounds)]
impl<K: Plan> ScanBuilder<K> {
    /// Validate the options and start the scan on the shared runtime.
    pub fn build(self) -> Result<RecordBatchIter> {
        let (job, schema) = self.job()?;
        Ok(RecordBatchIter::spawn(job, schema))
    }

    /// Validate the options and start the scan on the current Tokio runtime.
    pub fn build_stream(self) -> Result<RecordBatchStream> {
        let (job, schema) = self.job()?;
        Ok(RecordBatchStream::spawn(job, schema))
    }

    /// The server the scan reads (a node of it, for a cluster).
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// How many distinct keys the scan reads when it was given a key list
    /// (`None` for a pattern or a query).
    pub fn listed_key_count(&self) -> Option<usize> {
        match &self.options.selection {
            KeySelection::Keys(keys) => {
                Some(keys.iter().collect::<std::collections::HashSet<_>>().len())
            }
            KeySelection::Pattern(_) | KeySelection::Query(_) => None,
        }
    }

    /// The schema the scan will emit.
    pub fn output_schema(&self) -> Result<SchemaRef> {
        Ok(self.layout()?.output_schema.clone())
    }

    /// Validate the settings and resolve the layout.
    pub(crate) fn layout(&self) -> Result<Layout> {
        let options = &self.options;
        options.validate()?;
        let fields = apply_forms(self.kind.fields()?, &options.formats, "scan")?;
        let mut names = std::collections::HashSet::new();
        for field in &fields {
            if !names.insert(&field.name) {
                return Err(Error::InvalidArgument(format!(
                    "field `{}` appears twice in the schema",
                    field.name
                )));
            }
        }
        let (extra, fields) = options.project(&fields)?;
        let mut layout = Layout::new(extra, fields, options.strict)?;
        layout.parse_hint = options.parse_hint.clone();
        Ok(layout)
    }

    /// What a pattern key source may know about this scan.
    pub(crate) fn scan_facts(&self) -> Result<ScanFacts> {
        let fields = self.kind.fields()?;
        let identifiers = fields
            .iter()
            .map(|f| (f.name.clone(), self.kind.index_identifiers(&f.name)))
            .collect();
        Ok(ScanFacts {
            config: self.config.clone(),
            redis_type: K::REDIS_TYPE,
            index_on: self.kind.index_on(),
            fields,
            identifiers,
            predicate: self.options.predicate_json().map(str::to_string),
            limit: self.options.limit,
        })
    }

    /// The key source the options ask for instead of `SCAN`, if any.
    fn pattern_source(&self) -> Result<Option<Arc<dyn PatternKeySource>>> {
        match &self.options.key_planner {
            Some(planner) => planner.source(self.scan_facts()?),
            None => Ok(None),
        }
    }

    /// Validate the settings and turn them into a job ready to spawn.
    fn job(&self) -> Result<(ScanJob<K::Fetcher>, SchemaRef)> {
        let layout = Arc::new(self.layout()?);
        let options = &self.options;
        let (keys, wrong_type_is_error) =
            options.key_producer(K::REDIS_TYPE, self.pattern_source()?);
        let fetcher = self.kind.fetcher(FetchContext {
            layout: layout.clone(),
            wrong_type_is_error,
            batch_size: options.batch_size,
            limit: options.limit,
            predicate_json: options.predicate_json().map(str::to_string),
        })?;
        let schema = layout.output_schema.clone();
        log_pushdown(K::REDIS_TYPE, options, &keys.selection, &schema);
        let checks = ScanChecks {
            fields: self
                .kind
                .field_check()
                .and_then(|check| check.projected(&layout.fields)),
            // A partition finding no key says nothing about the pattern's
            // other slots: only a whole scan looks for keys of other types.
            pattern: match &keys.selection {
                KeySelection::Pattern(pattern) if keys.slots.is_none() => Some(pattern.clone()),
                KeySelection::Pattern(_) | KeySelection::Keys(_) | KeySelection::Query(_) => None,
            },
            redis_type: K::REDIS_TYPE,
            count_hint: keys.count_hint,
            ..ScanChecks::default()
        };
        let job = ScanJob {
            config: self.config.clone(),
            fetcher: Arc::new(fetcher),
            layout,
            keys,
            parallelism: options.parallelism,
            limit: options.limit,
            deadline: options.deadline,
            budget: options.budget,
            retries: options.retries,
            checks,
            module: self.kind.requirement(),
            read_from: options.read_from,
        };
        Ok((job, schema))
    }
}

/// Log what a scan pushes to the server: which keys it reads (narrowed by
/// the predicate or not), which columns, and its row limit.
fn log_pushdown(redis_type: &str, options: &ScanOptions, keys: &KeySelection, schema: &SchemaRef) {
    if !log::log_enabled!(log::Level::Info) {
        return;
    }
    let narrowed = if *keys != options.selection {
        format!(" (narrowed from {} by the predicate)", options.selection)
    } else {
        String::new()
    };
    let columns = match &options.projection {
        Some(_) => schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
        None => "all".to_string(),
    };
    let limit = options
        .limit
        .map_or_else(|| "none".to_string(), |l| l.to_string());
    log::info!("{redis_type} scan of {keys}{narrowed}; columns: {columns}; row limit: {limit}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const KEY_IS_A: &str = r#"{"BinaryExpr":{"left":{"Column":"_key"},"op":"Eq","right":{"Literal":{"Scalar":{"String":"a"}}}}}"#;

    #[test]
    fn predicate_narrows_keys_unless_rows_are_numbered() {
        let options = ScanOptions::default().with_predicate_json(Some(KEY_IS_A));
        let a = KeyFilter::Keys(BTreeSet::from(["a".to_string()]));
        assert_eq!(options.effective_key_filter(), a);
        let (producer, wrong_type_is_error) = options.key_producer("hash", None);
        assert_eq!(producer.selection, KeySelection::Keys(vec![b"a".to_vec()]));
        assert!(!wrong_type_is_error);

        // A row index numbers every row: narrowing would renumber them.
        let numbered = options.clone().with_row_index_column(Some("_index"));
        assert_eq!(numbered.predicate_json(), None);
        assert_eq!(numbered.effective_key_filter(), KeyFilter::Any);
        // ...unless the index is projected away.
        let unnumbered = numbered.with_projection(["_key"]);
        assert_eq!(unnumbered.effective_key_filter(), a);
        // Without a key column there is nothing to narrow by.
        let keyless = options.with_key_column(None);
        assert_eq!(keyless.effective_key_filter(), KeyFilter::Any);
    }
}
