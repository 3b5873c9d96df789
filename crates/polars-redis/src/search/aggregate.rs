//! `FT.AGGREGATE` as a table: GROUPBY / REDUCE / APPLY / SORTBY / LIMIT,
//! read through a cursor and decoded into typed Arrow columns.
//!
//! Column types follow what each value is: counts are `Int64`; sums,
//! averages, extremes, deviations and quantiles `Float64`; a grouped
//! attribute is `Float64` when NUMERIC and `String` otherwise; an APPLY
//! result `Float64` unless its dtype is given. Any column's type can be
//! overridden; values are parsed strictly (a value that does not parse is
//! an error naming the column).
//!
//! The result is complete: a sorted aggregation keeps every row (the cursor
//! sizes `SORTBY ... MAX` and checks the server's row count), or fails.

use std::sync::Arc;
use std::time::Duration;

use arrow_schema::SchemaRef;
use tokio::sync::mpsc;

use super::cursor::{AggregateRequest, Cursor};
use super::index::{self, AttributeKind, IndexInfo};
use super::plan::{search_connection, SearchQuery, DEFAULT_SEARCH_TIMEOUT};
use super::query::{Clause, QueryText};
use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::resp::Value;
use crate::read::layout::{ExtraColumns, Layout};
use crate::read::output::RecordBatchIter;
use crate::types::{apply_forms, Field, FieldType, IndexOn, TextForm};

/// One `REDUCE` step: `function(args...) AS name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reducer {
    /// `COUNT`, `COUNT_DISTINCT`, `COUNT_DISTINCTISH`, `SUM`, `MIN`, `MAX`,
    /// `AVG`, `STDDEV`, `QUANTILE`, `FIRST_VALUE` (any case).
    pub function: String,
    /// Arguments: attributes (`@price` or `price`) and numbers.
    pub args: Vec<String>,
    /// Output column name.
    pub name: String,
}

impl Reducer {
    fn default_type(&self) -> Result<FieldType> {
        match self.function.to_ascii_uppercase().as_str() {
            "COUNT" | "COUNT_DISTINCT" | "COUNT_DISTINCTISH" => Ok(FieldType::Int64),
            "SUM" | "MIN" | "MAX" | "AVG" | "STDDEV" | "QUANTILE" => Ok(FieldType::Float64),
            "FIRST_VALUE" => Ok(FieldType::Utf8),
            other => Err(Error::InvalidArgument(format!(
                "reducer {other} is not supported (use COUNT, COUNT_DISTINCT, \
                 COUNT_DISTINCTISH, SUM, MIN, MAX, AVG, STDDEV, QUANTILE or FIRST_VALUE)"
            ))),
        }
    }
}

/// An aggregation over one index.
#[derive(Clone, Debug)]
pub struct AggregateBuilder {
    config: ConnectionConfig,
    index: String,
    query: SearchQuery,
    group_by: Vec<String>,
    reducers: Vec<Reducer>,
    apply: Vec<(String, String)>,
    sort_by: Vec<(String, bool)>,
    limit: Option<usize>,
    dtypes: Vec<(String, FieldType)>,
    formats: Vec<(String, TextForm)>,
    timeout: Duration,
    page: usize,
    on: Option<IndexOn>,
}

/// `@name` for an attribute reference given as `name` or `@name`.
fn at(name: &str) -> String {
    if name.starts_with('@') {
        name.to_string()
    } else {
        format!("@{name}")
    }
}

impl AggregateBuilder {
    /// Aggregate the documents of `index` matching `query`.
    pub fn new(config: ConnectionConfig, index: impl Into<String>, query: SearchQuery) -> Self {
        AggregateBuilder {
            config,
            index: index.into(),
            query,
            group_by: Vec::new(),
            reducers: Vec::new(),
            apply: Vec::new(),
            sort_by: Vec::new(),
            limit: None,
            dtypes: Vec::new(),
            formats: Vec::new(),
            timeout: DEFAULT_SEARCH_TIMEOUT,
            page: 1000,
            on: None,
        }
    }

    /// Group by these attributes (none: one group of every document).
    pub fn with_group_by(mut self, fields: Vec<String>) -> Self {
        self.group_by = fields;
        self
    }

    /// The reducers of each group.
    pub fn with_reducers(mut self, reducers: Vec<Reducer>) -> Self {
        self.reducers = reducers;
        self
    }

    /// `APPLY expression AS name` steps, after grouping.
    pub fn with_apply(mut self, apply: Vec<(String, String)>) -> Self {
        self.apply = apply;
        self
    }

    /// Sort by these output columns (`true`: descending). Every row is kept
    /// (not RediSearch's default 10); the server holds the whole sorted
    /// result while it is read.
    pub fn with_sort_by(mut self, sort_by: Vec<(String, bool)>) -> Self {
        self.sort_by = sort_by;
        self
    }

    /// At most this many rows.
    pub fn with_limit(mut self, limit: Option<usize>) -> Self {
        self.limit = limit;
        self
    }

    /// Override the dtype of output columns.
    pub fn with_dtypes(mut self, dtypes: Vec<(String, FieldType)>) -> Self {
        self.dtypes = dtypes;
        self
    }

    /// How temporal output columns hold their values when not in ISO-8601
    /// (e.g. an epoch count a reducer returns): a column name and its
    /// [`TextForm`], as for scans.
    pub fn with_formats(mut self, formats: Vec<(String, TextForm)>) -> Self {
        self.formats = formats;
        self
    }

    /// Require the index to read this kind of document.
    pub fn with_on(mut self, on: Option<IndexOn>) -> Self {
        self.on = on;
        self
    }

    /// The `TIMEOUT` of each request. Default 10 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn output_fields(&self, info: &IndexInfo) -> Result<Vec<Field>> {
        let mut fields = Vec::new();
        for name in &self.group_by {
            let bare = name.trim_start_matches('@');
            let attribute = info
                .attribute_named(bare)
                .or_else(|| info.attribute_for(bare))
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "cannot group by `{bare}`: index `{}` has no such attribute",
                        info.name
                    ))
                })?;
            let default = match attribute.kind {
                AttributeKind::Numeric => FieldType::Float64,
                _ => FieldType::Utf8,
            };
            fields.push(Field::new(attribute.name.clone(), default));
        }
        for reducer in &self.reducers {
            fields.push(Field::new(reducer.name.clone(), reducer.default_type()?));
        }
        for (_, name) in &self.apply {
            fields.push(Field::new(name.clone(), FieldType::Float64));
        }
        for (name, field_type) in &self.dtypes {
            let field = fields.iter_mut().find(|f| &f.name == name).ok_or_else(|| {
                Error::InvalidArgument(format!("dtype given for unknown output column `{name}`"))
            })?;
            field.field_type = field_type.clone();
        }
        if fields.is_empty() {
            return Err(Error::InvalidArgument(
                "an aggregation needs group_by, reduce or apply".into(),
            ));
        }
        apply_forms(fields, &self.formats, "aggregation")
    }

    /// The steps before the sort: `LOAD`, `GROUPBY` / `REDUCE`, `APPLY`.
    fn steps(&self, info: &IndexInfo) -> Result<Vec<String>> {
        let mut steps = Vec::new();
        // Load what the pipeline reads, by its query name.
        let mut load: Vec<String> = Vec::new();
        let mut need = |name: &str| {
            let bare = name.trim_start_matches('@');
            let attribute = info
                .attribute_named(bare)
                .or_else(|| info.attribute_for(bare))
                .map_or(bare, |a| a.name.as_str());
            let field = at(attribute);
            if !load.contains(&field) {
                load.push(field);
            }
        };
        self.group_by.iter().for_each(|g| need(g));
        for reducer in &self.reducers {
            reducer
                .args
                .iter()
                .filter(|a| a.starts_with('@'))
                .for_each(|a| need(a));
        }
        for (expression, _) in &self.apply {
            for reference in attribute_references(expression) {
                if info.attribute_named(reference).is_some() {
                    need(reference);
                }
            }
        }
        if !load.is_empty() {
            steps.push("LOAD".into());
            steps.push(load.len().to_string());
            steps.extend(load);
        }
        if self.grouped() {
            steps.push("GROUPBY".into());
            steps.push(self.group_by.len().to_string());
            for name in &self.group_by {
                let bare = name.trim_start_matches('@');
                let attribute = info
                    .attribute_named(bare)
                    .or_else(|| info.attribute_for(bare))
                    .map_or(bare, |a| a.name.as_str());
                steps.push(at(attribute));
            }
            for reducer in &self.reducers {
                reducer.default_type()?;
                steps.push("REDUCE".into());
                steps.push(reducer.function.to_ascii_uppercase());
                steps.push(reducer.args.len().to_string());
                steps.extend(reducer.args.iter().cloned());
                steps.push("AS".into());
                steps.push(reducer.name.clone());
            }
        }
        for (expression, name) in &self.apply {
            steps.extend([
                "APPLY".into(),
                expression.clone(),
                "AS".into(),
                name.clone(),
            ]);
        }
        Ok(steps)
    }

    /// What to sort by for output column `name`. RediSearch (2.10) orders
    /// rows wrongly, without a word, by a column that an `APPLY` only copies
    /// (`APPLY @n AS m`, then `SORTBY @m`); sorting by the copied column
    /// (`@n`, the same values) orders them right.
    fn sort_key<'a>(&'a self, name: &'a str) -> &'a str {
        let mut name = name.trim_start_matches('@');
        for _ in 0..self.apply.len() {
            let copied = self
                .apply
                .iter()
                .rev()
                .find(|(_, alias)| alias == name)
                .and_then(|(expression, _)| bare_reference(expression));
            match copied {
                Some(source) if source != name => name = source,
                _ => break,
            }
        }
        name
    }

    /// Whether the pipeline groups (reducers without `group_by` make one group).
    fn grouped(&self) -> bool {
        !self.group_by.is_empty() || !self.reducers.is_empty()
    }

    async fn prepare(&self) -> Result<(IndexInfo, Layout)> {
        let mut conn = search_connection(&self.config).await?;
        let info = index::info(&mut conn, &self.index).await?;
        if let Some(why) = info.not_ready() {
            return Err(Error::Search(why));
        }
        if let Some(on) = self.on.filter(|on| *on != info.on) {
            return Err(Error::Search(format!(
                "index `{}` is on {}, not {}",
                info.name,
                info.on.name(),
                on.name()
            )));
        }
        let extra = ExtraColumns {
            key: None,
            ttl: None,
            row_index: None,
            ..ExtraColumns::default()
        };
        let layout = Layout::new(extra, self.output_fields(&info)?, true)?;
        Ok((info, layout))
    }

    /// The schema of the result (reads the index's attribute types).
    pub fn output_schema(&self) -> Result<SchemaRef> {
        let (_, layout) = crate::net::runtime::runtime().block_on(self.prepare())?;
        Ok(layout.output_schema.clone())
    }

    /// Run the aggregation on the shared runtime; `limit` caps the rows
    /// further (the smaller of it and the builder's limit wins).
    pub fn build(&self, limit: Option<usize>) -> Result<RecordBatchIter> {
        let runtime = crate::net::runtime::runtime();
        let (info, layout) = runtime.block_on(self.prepare())?;
        let limit = match (self.limit, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let query = match &self.query {
            SearchQuery::Raw(query) => query.clone(),
            SearchQuery::Builder(tree) => Clause::from_builder_json(&info, tree)?.render("qb"),
        };
        let request = AggregateRequest {
            index: self.index.clone(),
            query,
            steps: self.steps(&info)?,
            grouped: self.grouped(),
            sort_by: self
                .sort_by
                .iter()
                .map(|(name, descending)| (at(self.sort_key(name)), *descending))
                .collect(),
            limit,
            rows_hint: info.num_docs,
            page: self.page,
            timeout: self.timeout,
        };
        let schema = layout.output_schema.clone();
        let (tx, rx) = mpsc::channel(2);
        let config = self.config.clone();
        let layout = Arc::new(layout);
        runtime.spawn(async move {
            if limit == Some(0) {
                return;
            }
            if let Err(err) = run(&config, &request, &layout, &tx).await {
                let _ = tx.send(Err(err)).await;
            }
        });
        Ok(RecordBatchIter::from_receiver(rx, schema))
    }
}

/// `name` when `expression` is only `@name` (perhaps in parentheses).
fn bare_reference(expression: &str) -> Option<&str> {
    let mut inner = expression.trim();
    while let Some(stripped) = inner.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        inner = stripped.trim();
    }
    let name = inner.strip_prefix('@')?;
    let simple = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    simple.then_some(name)
}

/// The `@name` references of an APPLY expression.
fn attribute_references(expression: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find('@') {
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if end > 0 {
            out.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out
}

impl From<QueryText> for SearchQuery {
    fn from(query: QueryText) -> Self {
        SearchQuery::Raw(query)
    }
}

async fn run(
    config: &ConnectionConfig,
    request: &AggregateRequest,
    layout: &Layout,
    tx: &mpsc::Sender<Result<arrow_array::RecordBatch>>,
) -> Result<()> {
    let mut conn = search_connection(config).await?;
    let mut cursor = Cursor::open(&mut conn, config, request).await?;
    let names: Vec<&[u8]> = layout.fields.iter().map(|f| f.name.as_bytes()).collect();
    let origin = request.index.as_bytes();
    while let Some(rows) = cursor.next_page(&mut conn).await? {
        let mut builders = layout.builders(rows.len());
        for row in &rows {
            for (column, name) in names.iter().enumerate() {
                let value = row.iter().find(|(n, _)| n == name).map(|(_, v)| v);
                let text = match value {
                    None | Some(Value::Nil) => None,
                    Some(Value::Bytes(b)) => Some(b.clone()),
                    Some(Value::Int(i)) => Some(i.to_string().into_bytes()),
                    Some(Value::Double(d)) => Some(d.to_string().into_bytes()),
                    Some(other) => {
                        return Err(Error::Search(format!(
                            "column `{}`: a {} value cannot be read into a column",
                            layout.fields[column].name,
                            match other {
                                Value::Array(_) => "list",
                                _ => "non-scalar",
                            }
                        )))
                    }
                };
                layout.append_value(&mut builders, column, origin, text.as_deref())?;
            }
            // No key or TTL column here: this only completes the row.
            layout.append_key_and_ttl(&mut builders, origin, None)?;
        }
        let batch = layout.finish(&mut builders)?;
        if batch.num_rows() > 0 && tx.send(Ok(batch)).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sort_by_a_copied_column_sorts_by_its_source() {
        let config = ConnectionConfig::from_url("redis://127.0.0.1:1").unwrap();
        let builder = AggregateBuilder::new(config, "i", QueryText::raw("*", vec![]).into())
            .with_apply(vec![
                ("@n".into(), "m".into()),
                ("( @m )".into(), "k".into()),
                ("@n * 2".into(), "twice".into()),
            ]);
        assert_eq!(builder.sort_key("k"), "n");
        assert_eq!(builder.sort_key("@m"), "n");
        assert_eq!(builder.sort_key("twice"), "twice");
        assert_eq!(builder.sort_key("other"), "other");
        assert_eq!(bare_reference("(@a)+(@b)"), None);
    }
}
