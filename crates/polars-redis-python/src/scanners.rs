//! One Python class, `Scanner`, for every Redis type: it holds a validated
//! core builder and starts a fresh scan each time Polars collects. Each type
//! has a small constructor function (`hash_scanner`, ...) that reads its own
//! options; the options every scan shares are read once, by `ScanArgs`.

use std::time::Duration;

use polars_redis::search::SearchOptions;
use polars_redis::{ConnectionConfig, HashFetch, HashScanBuilder, KeyFilter, ScanOptions};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::{PySchema, PyTable};

use crate::batches::BatchIterator;
use crate::dtypes;
use crate::errors::{to_py, InvalidInputError};

/// The options every scan shares, as the Python facade passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct ScanArgs {
    url: String,
    pattern: Option<Vec<u8>>,
    keys: Option<Vec<Vec<u8>>>,
    key_column: Option<String>,
    ttl_column: Option<String>,
    row_index_column: Option<String>,
    batch_size: i64,
    count_hint: Option<i64>,
    strict: bool,
    parallelism: i64,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
    deadline: Option<f64>,
    parse_hint: Option<String>,
}

impl ScanArgs {
    pub(crate) fn connection(&self) -> PyResult<ConnectionConfig> {
        let mut config = ConnectionConfig::from_url(&self.url).map_err(to_py)?;
        if let Some(seconds) = self.connect_timeout {
            config = config.with_connect_timeout(seconds_to_duration("connect_timeout", seconds)?);
        }
        if let Some(seconds) = self.command_timeout {
            let limit = seconds_to_duration("command_timeout", seconds)?;
            config = config.with_command_timeout(Some(limit));
        }
        Ok(config)
    }

    pub(crate) fn options(&self) -> PyResult<ScanOptions> {
        let deadline = self
            .deadline
            .map(|s| seconds_to_duration("deadline", s))
            .transpose()?;
        let mut options = ScanOptions::default()
            .with_key_column(self.key_column.as_deref())
            .with_ttl_column(self.ttl_column.as_deref())
            .with_row_index_column(self.row_index_column.as_deref())
            .with_batch_size(count("batch_size", self.batch_size)?)
            .with_strict(self.strict)
            .with_parallelism(count("parallelism", self.parallelism)?)
            .with_deadline(deadline)
            .with_parse_hint(self.parse_hint.clone());
        if let Some(hint) = self.count_hint {
            options = options.with_count_hint(count("count_hint", hint)?);
        }
        Ok(match (&self.pattern, &self.keys) {
            (Some(_), Some(_)) => {
                return Err(InvalidInputError::new_err(
                    "pass either a pattern or keys, not both",
                ))
            }
            (_, Some(keys)) => options.with_keys(keys),
            (Some(pattern), None) => options.with_pattern(pattern),
            (None, None) => options,
        })
    }
}

/// A count from Python: negative values are invalid input, not a type error.
pub(crate) fn count(name: &str, value: i64) -> PyResult<usize> {
    usize::try_from(value)
        .map_err(|_| InvalidInputError::new_err(format!("{name} must be positive, got {value}")))
}

pub(crate) fn seconds_to_duration(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            InvalidInputError::new_err(format!(
                "{name} must be a positive number of seconds, got {seconds}"
            ))
        })
}

/// A validated scan of one Redis type.
pub(crate) enum Builder {
    Hash(HashScanBuilder),
}

/// Run `$body` with `$b` bound to whichever core builder `$builder` holds.
macro_rules! with_builder {
    ($builder:expr, $b:ident => $body:expr) => {
        match $builder {
            Builder::Hash($b) => $body,
        }
    };
}

/// A scan ready to run; `batches()` starts it.
#[pyclass(module = "polars_redis._internal", frozen)]
pub(crate) struct Scanner {
    builder: Builder,
    /// Name of the key column, for key predicate pushdown.
    key_column: Option<String>,
    /// How the scan uses RediSearch; each run adds its predicate.
    search: SearchOptions,
}

impl Scanner {
    pub(crate) fn new(builder: Builder, args: &ScanArgs, search: SearchOptions) -> PyResult<Self> {
        // Validate now so mistakes surface when the LazyFrame is made.
        with_builder!(&builder, b => b.output_schema()).map_err(to_py)?;
        Ok(Scanner {
            builder,
            key_column: args.key_column.clone(),
            search,
        })
    }

    /// The builder of one run: projection, limit, and the predicate pushed
    /// into the key filter and the search.
    fn prepared(
        &self,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> Builder {
        let key_filter = match (predicate, &self.key_column) {
            (Some(predicate), Some(key_column)) => {
                KeyFilter::from_polars_json(predicate, key_column)
            }
            _ => KeyFilter::Any,
        };
        let search = self
            .search
            .clone()
            .with_predicate(predicate.map(str::to_string));
        with_builder!(&self.builder, b => {
            let mut b = b
                .clone()
                .with_limit(limit)
                .with_key_filter(key_filter)
                .with_search(search);
            if let Some(projection) = projection {
                b = b.with_projection(projection);
            }
            Builder::from(b)
        })
    }
}

impl From<HashScanBuilder> for Builder {
    fn from(b: HashScanBuilder) -> Self {
        Builder::Hash(b)
    }
}

#[pymethods]
impl Scanner {
    /// The Arrow schema of the full (unprojected) output.
    fn schema(&self) -> PyResult<PySchema> {
        let schema = with_builder!(&self.builder, b => b.output_schema()).map_err(to_py)?;
        Ok(PySchema::new(schema))
    }

    /// An empty table with the full output schema.
    fn empty(&self) -> PyResult<PyTable> {
        let schema = with_builder!(&self.builder, b => b.output_schema()).map_err(to_py)?;
        PyTable::try_new(vec![], schema)
    }

    /// Start a scan of `projection` columns (all when `None`), stopping after
    /// `limit` rows, reading only keys the serialized predicate can match.
    #[pyo3(signature = (projection=None, limit=None, predicate=None))]
    fn batches(
        &self,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> PyResult<BatchIterator> {
        let builder = self.prepared(projection, limit, predicate);
        let iter = with_builder!(builder, b => b.build()).map_err(to_py)?;
        Ok(BatchIterator::new(iter))
    }

    /// How a run with these arguments would read its keys: the key filter,
    /// and the index and FT query it would use (no data is read).
    #[pyo3(signature = (projection=None, limit=None, predicate=None))]
    fn explain(
        &self,
        py: Python<'_>,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> PyResult<String> {
        let key_filter = match (predicate, &self.key_column) {
            (Some(predicate), Some(key_column)) => {
                format!("{:?}", KeyFilter::from_polars_json(predicate, key_column))
            }
            _ => "Any".into(),
        };
        let builder = self.prepared(projection, limit, predicate);
        let plan = py
            .detach(|| with_builder!(builder, b => b.search_plan()))
            .map_err(to_py)?;
        Ok(format!("key filter: {key_filter}\n{plan}"))
    }
}

/// A scan of hashes: `fields` are `(name, dtype spec)` pairs.
#[pyfunction]
#[pyo3(signature = (args, fields, fetch, search=None))]
pub(crate) fn hash_scanner(
    args: ScanArgs,
    fields: Vec<(String, Bound<'_, PyTuple>)>,
    fetch: &str,
    search: Option<crate::search::SearchArgs>,
) -> PyResult<Scanner> {
    let fetch = match fetch {
        "auto" => HashFetch::Auto,
        "hgetall" => HashFetch::All,
        "hmget" => HashFetch::Fields,
        other => {
            return Err(InvalidInputError::new_err(format!(
                "fetch must be 'auto', 'hgetall' or 'hmget', got {other:?}"
            )))
        }
    };
    let builder = HashScanBuilder::new(args.connection()?, dtypes::fields(fields)?)
        .with_options(args.options()?)
        .with_fetch(fetch);
    let search = search.map(|s| s.options()).transpose()?.unwrap_or_default();
    Scanner::new(Builder::Hash(builder), &args, search)
}

/// What a serialized predicate says about `key_column` (for `explain` and tests).
#[pyfunction]
pub(crate) fn key_filter_preview(predicate: &str, key_column: &str) -> String {
    format!("{:?}", KeyFilter::from_polars_json(predicate, key_column))
}
