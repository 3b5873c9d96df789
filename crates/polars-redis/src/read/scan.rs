//! What every scan shares, whatever the Redis type: the options, their
//! setters, and the path from a validated builder to a running scan.
//!
//! Each type module (`hash`, ...) defines a builder holding a
//! [`ScanOptions`], invokes [`scan_builder_methods!`] for the shared setters
//! and `build` methods, and implements [`Plan`] to say which value columns
//! it emits and how it fetches them.

use std::sync::Arc;
use std::time::Duration;

use arrow_schema::SchemaRef;

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::read::engine::{Fetcher, ScanJob};
use crate::read::keys::{KeyProducer, KeySelection};
use crate::read::layout::{ExtraColumns, Layout};
use crate::read::pushdown::KeyFilter;
use crate::search::{IndexOn, SearchOptions, SearchPlan, SearchSource};
use crate::types::Field;

/// Default number of keys fetched per pipeline (and rows per batch for hashes).
pub const DEFAULT_BATCH_SIZE: usize = 1000;
/// Default number of pipelines in flight, each on its own connection.
pub const DEFAULT_PARALLELISM: usize = 3;

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
    pub(crate) parse_hint: Option<String>,
    pub(crate) key_filter: KeyFilter,
    pub(crate) predicate: Option<Arc<str>>,
    pub(crate) search: SearchOptions,
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
            predicate: None,
            search: SearchOptions::default(),
        }
    }
}

impl ScanOptions {
    scan_option_setters!();

    pub(crate) fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::InvalidArgument(
                "batch_size must be at least 1".into(),
            ));
        }
        if self.parallelism == 0 {
            return Err(Error::InvalidArgument(
                "parallelism must be at least 1".into(),
            ));
        }
        self.search.validate()?;
        if self.count_hint == Some(0) {
            return Err(Error::InvalidArgument(
                "count_hint must be at least 1".into(),
            ));
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

    /// The key producer, after narrowing by the key filter. The flag says
    /// whether a key of another type is an error (keys the user listed) or
    /// skipped (keys found by SCAN, or derived from a pattern).
    pub(crate) fn key_producer(
        &self,
        redis_type: &'static str,
        search: Option<SearchSource>,
    ) -> (KeyProducer, bool) {
        let user_listed = matches!(self.selection, KeySelection::Keys(_));
        let (selection, derived) = self.effective_key_filter().narrow(self.selection.clone());
        // Never fetch more keys per pipeline than the row limit needs.
        let batch_size = self
            .limit
            .map_or(self.batch_size, |l| l.clamp(1, self.batch_size));
        // An index answers pattern scans only (a key list is read directly).
        let search = match selection {
            KeySelection::Pattern(_) => search.map(Arc::new),
            KeySelection::Keys(_) | KeySelection::Query(_) => None,
        };
        let producer = KeyProducer {
            selection,
            redis_type,
            batch_size,
            count_hint: self.count_hint.unwrap_or(batch_size.max(100)),
            search,
        };
        (producer, user_listed && !derived)
    }
}

/// The type-specific half of a scan builder.
pub(crate) trait Plan {
    /// Fetches the rows of this type.
    type Fetcher: Fetcher;
    /// The `SCAN ... TYPE` name, e.g. `hash`.
    const REDIS_TYPE: &'static str;

    fn config(&self) -> &ConnectionConfig;
    fn options(&self) -> &ScanOptions;
    /// Every value column this scan can emit, before projection.
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

    /// The fetcher for a validated, projected layout. `wrong_type_is_error`
    /// is true when the user listed the keys (a key of another type is then
    /// reported rather than skipped).
    fn fetcher(&self, layout: Arc<Layout>, wrong_type_is_error: bool) -> Result<Self::Fetcher>;
}

/// Validate a plan and resolve its layout.
pub(crate) fn layout<P: Plan>(plan: &P) -> Result<Layout> {
    let options = plan.options();
    options.validate()?;
    let fields = plan.fields()?;
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

/// Validate a plan and turn it into a job ready to spawn.
pub(crate) fn job<P: Plan>(plan: &P) -> Result<(ScanJob<P::Fetcher>, SchemaRef)> {
    let layout = Arc::new(layout(plan)?);
    let options = plan.options();
    let (keys, wrong_type_is_error) = options.key_producer(P::REDIS_TYPE, search_source(plan)?);
    let fetcher = plan.fetcher(layout.clone(), wrong_type_is_error)?;
    let schema = layout.output_schema.clone();
    let job = ScanJob {
        config: plan.config().clone(),
        fetcher: Arc::new(fetcher),
        layout,
        keys,
        parallelism: options.parallelism,
        limit: options.limit,
        deadline: options.deadline,
    };
    Ok((job, schema))
}

/// The search-driven key source of a plan, when its options ask for one.
fn search_source<P: Plan>(plan: &P) -> Result<Option<SearchSource>> {
    let options = plan.options();
    if options.search.is_off() {
        return Ok(None);
    }
    let on = plan.index_on().ok_or_else(|| {
        Error::InvalidArgument(format!("RediSearch cannot index {} keys", P::REDIS_TYPE))
    })?;
    let fields = plan.fields()?;
    let identifiers = fields
        .iter()
        .map(|f| (f.name.clone(), plan.index_identifiers(&f.name)))
        .collect();
    Ok(Some(SearchSource {
        identifiers,
        config: plan.config().clone(),
        options: options.search.clone(),
        predicate: options.predicate_json().map(str::to_string),
        on,
        fields,
        limit: options.limit,
    }))
}

/// How a plan would use RediSearch, without reading any data.
pub(crate) fn search_plan<P: Plan>(plan: &P) -> Result<SearchPlan> {
    layout(plan)?;
    let options = plan.options();
    let Some(source) = search_source(plan)? else {
        return Ok(crate::search::SearchPlan::off());
    };
    let pattern = match options
        .effective_key_filter()
        .narrow(options.selection.clone())
    {
        (KeySelection::Pattern(pattern), _) => pattern,
        (KeySelection::Keys(_) | KeySelection::Query(_), _) => return Ok(SearchPlan::keys_listed()),
    };
    crate::net::runtime::runtime().block_on(crate::search::explain(&source, &pattern))
}

/// The shared option setters, for [`ScanOptions`] itself (no argument) and
/// for builders that hold it in a field (`scan_option_setters!(options)`).
macro_rules! scan_option_setters {
    ($($field:ident)?) => {
        /// Read the keys matching a glob pattern (`SCAN ... MATCH`). Default `*`.
        pub fn with_pattern(mut self, pattern: impl AsRef<[u8]>) -> Self {
            self$(.$field)?.selection = $crate::read::keys::KeySelection::Pattern(pattern.as_ref().to_vec());
            self
        }

        /// Read exactly these keys instead of scanning; missing keys give no row.
        pub fn with_keys<I, K>(mut self, keys: I) -> Self
        where
            I: IntoIterator<Item = K>,
            K: AsRef<[u8]>,
        {
            let keys = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
            self$(.$field)?.selection = $crate::read::keys::KeySelection::Keys(keys);
            self
        }

        /// Name of the key column, or `None` to leave it out. Default `_key`.
        pub fn with_key_column(mut self, name: Option<&str>) -> Self {
            self$(.$field)?.extra.key = name.map(str::to_string);
            self
        }

        /// Name of the TTL column (seconds left, null for no expiry), or `None`. Default off.
        pub fn with_ttl_column(mut self, name: Option<&str>) -> Self {
            self$(.$field)?.extra.ttl = name.map(str::to_string);
            self
        }

        /// Name of the row index column (`UInt32` from 0), or `None`. Default off.
        pub fn with_row_index_column(mut self, name: Option<&str>) -> Self {
            self$(.$field)?.extra.row_index = name.map(str::to_string);
            self
        }

        /// Only emit these columns (value fields or extra columns).
        pub fn with_projection<I, S>(mut self, columns: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self$(.$field)?.projection = Some(columns.into_iter().map(Into::into).collect());
            self
        }

        /// Keys fetched per pipeline. Default 1000.
        pub fn with_batch_size(mut self, batch_size: usize) -> Self {
            self$(.$field)?.batch_size = batch_size;
            self
        }

        /// `COUNT` hint for `SCAN`. Default: the batch size (at least 100).
        pub fn with_count_hint(mut self, count: usize) -> Self {
            self$(.$field)?.count_hint = Some(count);
            self
        }

        /// Stop after this many rows.
        pub fn with_limit(mut self, limit: Option<usize>) -> Self {
            self$(.$field)?.limit = limit;
            self
        }

        /// `true` (default): an unparsable value is an error naming key, field
        /// and value. `false`: it becomes null.
        pub fn with_strict(mut self, strict: bool) -> Self {
            self$(.$field)?.strict = strict;
            self
        }

        /// Pipelines in flight, each on its own connection. Default 3.
        pub fn with_parallelism(mut self, parallelism: usize) -> Self {
            self$(.$field)?.parallelism = parallelism;
            self
        }

        /// Fail with a timeout error if the whole scan takes longer than this.
        pub fn with_deadline(mut self, deadline: Option<std::time::Duration>) -> Self {
            self$(.$field)?.deadline = deadline;
            self
        }

        /// Read only the keys this filter admits (see `KeyFilter::from_polars_json`).
        pub fn with_key_filter(mut self, filter: $crate::read::pushdown::KeyFilter) -> Self {
            self$(.$field)?.key_filter = filter;
            self
        }

        /// A serialized Polars predicate (`Expr.meta.serialize(format="json")`,
        /// see `KeyFilter::from_polars_json`): the scan reads only what it can
        /// match, e.g. fewer keys, or a narrower range of entries for types
        /// that read ranges. Rows are not filtered by it: the caller still
        /// applies the predicate. Ignored when a row index is emitted.
        pub fn with_predicate_json(mut self, predicate: Option<&str>) -> Self {
            self$(.$field)?.predicate = predicate.map(std::sync::Arc::from);
            self
        }

        /// Let a RediSearch index produce the keys (see [`crate::search::SearchOptions`]).
        pub fn with_search(mut self, search: $crate::search::SearchOptions) -> Self {
            self$(.$field)?.search = search;
            self
        }

        /// Extra advice appended to parse errors (e.g. that the schema was inferred).
        pub fn with_parse_hint(mut self, hint: Option<String>) -> Self {
            self$(.$field)?.parse_hint = hint;
            self
        }
    };
}

/// Setters and `build` methods shared by every scan builder. The builder
/// must have an `options: ScanOptions` field and implement [`Plan`].
macro_rules! scan_builder_methods {
    () => {
        /// Validate the options and start the scan on the shared runtime.
        pub fn build(self) -> $crate::error::Result<$crate::read::output::RecordBatchIter> {
            let (job, schema) = $crate::read::scan::job(&self)?;
            Ok($crate::read::output::RecordBatchIter::spawn(job, schema))
        }

        /// Validate the options and start the scan on the current Tokio runtime.
        pub fn build_stream(
            self,
        ) -> $crate::error::Result<$crate::read::output::RecordBatchStream> {
            let (job, schema) = $crate::read::scan::job(&self)?;
            Ok($crate::read::output::RecordBatchStream::spawn(job, schema))
        }

        /// The schema the scan will emit.
        pub fn output_schema(&self) -> $crate::error::Result<arrow_schema::SchemaRef> {
            Ok($crate::read::scan::layout(self)?.output_schema.clone())
        }

        /// How the scan would use RediSearch (which index, which query), without reading data.
        pub fn search_plan(&self) -> $crate::error::Result<$crate::search::SearchPlan> {
            $crate::read::scan::search_plan(self)
        }

        /// Replace every shared option at once.
        pub fn with_options(mut self, options: $crate::read::scan::ScanOptions) -> Self {
            self.options = options;
            self
        }

        $crate::read::scan::scan_option_setters!(options);
    };
}

pub(crate) use {scan_builder_methods, scan_option_setters};

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
