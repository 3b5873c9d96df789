//! One Python class, `Scanner`, for every Redis type: it holds a validated
//! core builder and starts a fresh scan each time Polars collects. Each type
//! has a small constructor function (`hash_scanner`, ...) that reads its own
//! options; the options every scan shares are read once, by `ScanArgs`.

use std::time::Duration;

use polars_redis::{
    count_keys, Aggregation, ConnectionConfig, HashFetch, HashFieldsScanBuilder, HashScanBuilder,
    JsonFetch, JsonScanBuilder, KeyFilter, KeyType, ListScanBuilder, LoadBudget, ReadFrom,
    ScanOptions, SetScanBuilder, SizeLimit, StreamScanBuilder, StringScanBuilder,
    TimeSeriesScanBuilder, ZsetScanBuilder, BATCH_SIZE_LIMIT, COUNT_HINT_LIMIT, PARALLELISM_LIMIT,
    RETRIES_LIMIT,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::{PySchema, PyTable};

use crate::batches::BatchIterator;
use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::partitions::slot_ranges;

/// The options every scan shares, as the Python facade passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct ScanArgs {
    url: Target,
    pattern: Option<Vec<u8>>,
    keys: Option<Vec<Vec<u8>>>,
    key_column: Option<String>,
    /// The spec name of the key column's dtype: `String` or `Binary`.
    key_dtype: String,
    ttl_column: Option<String>,
    row_index_column: Option<String>,
    batch_size: i128,
    count_hint: Option<i128>,
    strict: bool,
    formats: Vec<(String, String)>,
    parallelism: i128,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
    deadline: Option<f64>,
    rate_limit: Option<f64>,
    latency_budget_ms: Option<f64>,
    retries: i128,
    /// `primary`, `replica` or `prefer_replica`.
    read_from: String,
    parse_hint: Option<String>,
    /// The hash slots of one partition (`(first, last)` ranges); `None`: all.
    slots: Option<Vec<(u16, u16)>>,
}

impl ScanArgs {
    pub(crate) fn connection(&self) -> BindingResult<ConnectionConfig> {
        connection(&self.url, self.connect_timeout, self.command_timeout)
    }

    pub(crate) fn options(&self) -> BindingResult<ScanOptions> {
        let deadline = self
            .deadline
            .map(|s| seconds_to_duration("deadline", s))
            .transpose()?;
        let key_type = choose(
            "key_dtype",
            &self.key_dtype,
            &[("String", KeyType::Utf8), ("Binary", KeyType::Binary)],
        )?;
        let mut options = ScanOptions::default()
            .with_key_column(self.key_column.as_deref())
            .with_key_type(key_type)
            .with_ttl_column(self.ttl_column.as_deref())
            .with_row_index_column(self.row_index_column.as_deref())
            .with_batch_size(size(BATCH_SIZE_LIMIT, self.batch_size)?)
            .with_strict(self.strict)
            .with_formats(dtypes::forms(&self.formats)?)
            .with_parallelism(size(PARALLELISM_LIMIT, self.parallelism)?)
            .with_deadline(deadline)
            .with_load_budget(load_budget(self.rate_limit, self.latency_budget_ms)?)
            .with_retries(size(RETRIES_LIMIT, self.retries)?)
            .with_read_from(self.read_from.parse::<ReadFrom>()?)
            .with_parse_hint(self.parse_hint.clone())
            .with_slots(slot_ranges(self.slots.as_deref())?);
        if let Some(hint) = self.count_hint {
            options = options.with_count_hint(size(COUNT_HINT_LIMIT, hint)?);
        }
        Ok(match (&self.pattern, &self.keys) {
            (Some(_), Some(_)) => {
                return Err(invalid_input("pass either a pattern or keys, not both"))
            }
            (_, Some(keys)) => options.with_keys(keys),
            (Some(pattern), None) => options.with_pattern(pattern),
            (None, None) => options,
        })
    }
}

/// A connection config from a URL and optional timeouts in seconds.
pub(crate) fn connection(
    url: &Target,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
) -> BindingResult<ConnectionConfig> {
    let mut config = url.config()?;
    if let Some(seconds) = connect_timeout {
        config = config.with_connect_timeout(seconds_to_duration("connect_timeout", seconds)?);
    }
    if let Some(seconds) = command_timeout {
        let limit = seconds_to_duration("command_timeout", seconds)?;
        config = config.with_command_timeout(Some(limit));
    }
    Ok(config)
}

/// A call's load budget from its `rate_limit` (keys per second for scans,
/// rows per second for writes) and `latency_budget_ms` options.
pub(crate) fn load_budget(
    rate_limit: Option<f64>,
    latency_budget_ms: Option<f64>,
) -> BindingResult<LoadBudget> {
    let latency = latency_budget_ms
        .map(|ms| {
            Duration::try_from_secs_f64(ms / 1000.0)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    invalid_input(format!(
                        "latency_budget_ms must be a positive number of milliseconds, got {ms}"
                    ))
                })
        })
        .transpose()?;
    Ok(LoadBudget::default()
        .with_rate_limit(rate_limit)?
        .with_latency_budget(latency)?)
}

/// A size option from Python, as a `usize` for the core to check against
/// `limit`; a value no `usize` holds (negative, huge) gets the core's
/// out-of-range message here.
pub(crate) fn size(limit: SizeLimit, value: i128) -> BindingResult<usize> {
    Ok(usize::try_from(value).map_err(|_| limit.out_of_range(value))?)
}

/// A whole number from Python that must not be negative (a row count, a
/// length, milliseconds): out of range is invalid input naming the option,
/// not an `OverflowError`.
pub(crate) fn count(name: &str, value: i128) -> BindingResult<u64> {
    u64::try_from(value).map_err(|_| {
        invalid_input(format!(
            "{name} must be between 0 and {}, got {value}",
            u64::MAX
        ))
    })
}

pub(crate) fn seconds_to_duration(name: &str, seconds: f64) -> BindingResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            invalid_input(format!(
                "{name} must be a positive number of seconds, got {seconds}"
            ))
        })
}

/// The value of a string option that names one of `choices`.
fn choose<T: Copy>(option: &str, value: &str, choices: &[(&str, T)]) -> BindingResult<T> {
    match choices.iter().find(|(name, _)| *name == value) {
        Some((_, choice)) => Ok(*choice),
        None => {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("'{n}'")).collect();
            Err(invalid_input(format!(
                "{option} must be one of {}, got {value:?}",
                names.join(", ")
            )))
        }
    }
}

/// A validated scan of one Redis type.
pub(crate) enum Builder {
    Hash(HashScanBuilder),
    HashFields(HashFieldsScanBuilder),
    String(StringScanBuilder),
    Set(SetScanBuilder),
    List(ListScanBuilder),
    Zset(ZsetScanBuilder),
    Json(JsonScanBuilder),
    Stream(StreamScanBuilder),
    TimeSeries(TimeSeriesScanBuilder),
}

/// Run `$body` with `$b` bound to whichever core builder `$builder` holds.
macro_rules! with_builder {
    ($builder:expr, $b:ident => $body:expr) => {
        match $builder {
            Builder::Hash($b) => $body,
            Builder::HashFields($b) => $body,
            Builder::String($b) => $body,
            Builder::Set($b) => $body,
            Builder::List($b) => $body,
            Builder::Zset($b) => $body,
            Builder::Json($b) => $body,
            Builder::Stream($b) => $body,
            Builder::TimeSeries($b) => $body,
        }
    };
}

/// A scan ready to run; `batches()` starts it.
#[pyclass(module = "polars_redis._internal", frozen)]
pub(crate) struct Scanner {
    builder: Builder,
}

impl Scanner {
    pub(crate) fn new(builder: Builder) -> BindingResult<Self> {
        // Validate now so mistakes surface when the LazyFrame is made.
        with_builder!(&builder, b => b.output_schema())?;
        Ok(Scanner { builder })
    }
}

#[pymethods]
impl Scanner {
    /// The Arrow schema of the full (unprojected) output.
    fn schema(&self) -> BindingResult<PySchema> {
        let schema = with_builder!(&self.builder, b => b.output_schema())?;
        Ok(PySchema::new(schema))
    }

    /// An empty table with the full output schema.
    fn empty(&self) -> BindingResult<PyTable> {
        let schema = with_builder!(&self.builder, b => b.output_schema())?;
        Ok(PyTable::try_new(vec![], schema)?)
    }

    /// Start a scan of `projection` columns (all when `None`), stopping after
    /// `limit` rows, reading only what the serialized predicate can match
    /// (each builder interprets it: keys for every type, plus value ranges
    /// for the types that read ranges).
    #[pyo3(signature = (projection=None, limit=None, predicate=None))]
    fn batches(
        &self,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> BindingResult<BatchIterator> {
        let iter = with_builder!(&self.builder, b => {
            let mut b = b.clone().with_limit(limit).with_predicate_json(predicate);
            if let Some(projection) = projection {
                b = b.with_projection(projection);
            }
            b.build()
        })?;
        Ok(BatchIterator::new(iter))
    }

    /// The rows a run is expected to read, for progress, as `(rows, exact)`:
    /// the listed keys (exact), or `DBSIZE` summed over the masters for a
    /// pattern (an upper bound: every key counts). `None` for types with
    /// many rows per key, or when the server refuses `DBSIZE`.
    fn row_estimate(&self, py: Python<'_>) -> BindingResult<Option<(u64, bool)>> {
        let (listed, config) = match &self.builder {
            Builder::Hash(b) => (b.listed_key_count(), b.config()),
            Builder::String(b) => (b.listed_key_count(), b.config()),
            Builder::Json(b) => (b.listed_key_count(), b.config()),
            _ => return Ok(None),
        };
        if let Some(keys) = listed {
            return Ok(Some((keys as u64, true)));
        }
        match py.detach(|| count_keys(config)) {
            Ok(keys) => Ok(Some((keys, false))),
            Err(err) if err.is_server() => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// How a run with these arguments would read its keys: the key filter,
    /// and the RediSearch index and query it would use (no data is read).
    #[pyo3(signature = (projection=None, limit=None, predicate=None))]
    fn explain(
        &self,
        py: Python<'_>,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> BindingResult<String> {
        let plan = py.detach(|| {
            with_builder!(&self.builder, b => {
                let mut b = b.clone().with_limit(limit).with_predicate_json(predicate);
                if let Some(projection) = projection {
                    b = b.with_projection(projection);
                }
                b.search_plan()
            })
        })?;
        Ok(plan.to_string())
    }
}

/// A scan of hashes: `fields` are `(name, dtype spec)` pairs.
/// `search` says how the scan uses RediSearch (see `search::SearchArgs`);
/// `field_ttl` names the fields that get a `<field>_ttl` column.
#[pyfunction]
#[pyo3(signature = (args, fields, fetch, search=None, field_ttl=Vec::new()))]
pub(crate) fn hash_scanner(
    args: ScanArgs,
    fields: Vec<(String, Bound<'_, PyTuple>)>,
    fetch: &str,
    search: Option<crate::search::SearchArgs>,
    field_ttl: Vec<String>,
) -> BindingResult<Scanner> {
    let fetch = choose(
        "fetch",
        fetch,
        &[
            ("auto", HashFetch::Auto),
            ("hgetall", HashFetch::All),
            ("hmget", HashFetch::Fields),
        ],
    )?;
    let builder = HashScanBuilder::new(args.connection()?, dtypes::fields(fields)?)
        .with_options(args.options()?)
        .with_fetch(fetch)
        .with_field_ttl(field_ttl)
        .with_search(search.map(|s| s.options()).transpose()?.unwrap_or_default());
    Scanner::new(Builder::Hash(builder))
}

/// A scan of streams: `fields` are `(name, dtype spec)` pairs of entry fields;
/// each id column name is `None` to leave it out.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn stream_scanner(
    args: ScanArgs,
    fields: Vec<(String, Bound<'_, PyTuple>)>,
    start_id: String,
    end_id: String,
    count_per_stream: Option<i128>,
    id_column: Option<String>,
    timestamp_column: Option<String>,
    sequence_column: Option<String>,
) -> BindingResult<Scanner> {
    let builder = StreamScanBuilder::new(args.connection()?, dtypes::fields(fields)?)
        .with_options(args.options()?)
        .with_id_range(start_id, end_id)
        .with_count_per_stream(
            count_per_stream
                .map(|n| count("count_per_stream", n))
                .transpose()?,
        )
        .with_id_column(id_column.as_deref())
        .with_timestamp_column(timestamp_column.as_deref())
        .with_sequence_column(sequence_column.as_deref());
    Scanner::new(Builder::Stream(builder))
}

/// A scan of time series. `start`/`end` are milliseconds (`None`: open);
/// `filter` selects series by label instead of `args`' pattern or keys.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn timeseries_scanner(
    args: ScanArgs,
    start: Option<i64>,
    end: Option<i64>,
    aggregation: Option<&str>,
    bucket_size_ms: Option<i64>,
    filter: Option<Vec<String>>,
    labels: Vec<String>,
    timestamp_column: &str,
    value_column: &str,
) -> BindingResult<Scanner> {
    let chosen: Vec<&str> = [
        ("pattern", args.pattern.is_some()),
        ("keys", args.keys.is_some()),
        ("filter", filter.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    if chosen.len() > 1 {
        return Err(invalid_input(format!(
            "pass one of pattern, keys or filter, not {}",
            chosen.join(" and ")
        )));
    }
    let mut builder = TimeSeriesScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_range(start, end)
        .with_labels(labels)
        .with_timestamp_column(timestamp_column)
        .with_value_column(value_column);
    builder = match (aggregation, bucket_size_ms) {
        (Some(name), Some(bucket)) => {
            builder.with_aggregation(Aggregation::from_name(name)?, bucket)
        }
        (Some(name), None) => {
            return Err(invalid_input(format!(
                "aggregation {name:?} needs bucket_size_ms (the bucket width in milliseconds)"
            )))
        }
        (None, Some(_)) => {
            return Err(invalid_input(
                "bucket_size_ms needs an aggregation (e.g. aggregation=\"avg\")",
            ))
        }
        (None, None) => builder,
    };
    if let Some(filter) = filter {
        builder = builder.with_filter(filter);
    }
    Scanner::new(Builder::TimeSeries(builder))
}

/// A scan of strings: one row per key, the value in `value_column`.
#[pyfunction]
pub(crate) fn string_scanner(
    args: ScanArgs,
    value_column: String,
    value_type: Bound<'_, PyTuple>,
) -> BindingResult<Scanner> {
    let builder = StringScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_value(value_column, dtypes::field_type(&value_type)?);
    Scanner::new(Builder::String(builder))
}

/// A scan of sets: one row per member.
#[pyfunction]
pub(crate) fn set_scanner(
    args: ScanArgs,
    member_column: String,
    member_type: Bound<'_, PyTuple>,
) -> BindingResult<Scanner> {
    let builder = SetScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_member(member_column, dtypes::field_type(&member_type)?);
    Scanner::new(Builder::Set(builder))
}

/// A scan of lists: one row per element, with an optional position column.
#[pyfunction]
pub(crate) fn list_scanner(
    args: ScanArgs,
    element_column: String,
    element_type: Bound<'_, PyTuple>,
    position_column: Option<String>,
) -> BindingResult<Scanner> {
    let builder = ListScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_element(element_column, dtypes::field_type(&element_type)?)
        .with_position_column(position_column.as_deref());
    Scanner::new(Builder::List(builder))
}

/// A scan of sorted sets: one row per member, with its score and an
/// optional rank column.
#[pyfunction]
pub(crate) fn zset_scanner(
    args: ScanArgs,
    member_column: String,
    member_type: Bound<'_, PyTuple>,
    score_column: String,
    rank_column: Option<String>,
) -> BindingResult<Scanner> {
    let builder = ZsetScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_member(member_column, dtypes::field_type(&member_type)?)
        .with_score_column(score_column)
        .with_rank_column(rank_column.as_deref());
    Scanner::new(Builder::Zset(builder))
}

/// A scan of JSON documents: `fields` are `(name, dtype spec)` pairs read
/// from the members of the object at `path`, except the columns `paths`
/// maps to their own JSONPath.
#[pyfunction]
#[pyo3(signature = (args, fields, path, paths, fetch, search=None))]
pub(crate) fn json_scanner(
    args: ScanArgs,
    fields: Vec<(String, Bound<'_, PyTuple>)>,
    path: String,
    paths: Vec<(String, String)>,
    fetch: &str,
    search: Option<crate::search::SearchArgs>,
) -> BindingResult<Scanner> {
    let fetch = choose(
        "fetch",
        fetch,
        &[
            ("auto", JsonFetch::Auto),
            ("document", JsonFetch::Document),
            ("paths", JsonFetch::Paths),
        ],
    )?;
    let mut builder = JsonScanBuilder::new(args.connection()?, dtypes::fields(fields)?)
        .with_options(args.options()?)
        .with_root_path(path)
        .with_fetch(fetch)
        .with_search(search.map(|s| s.options()).transpose()?.unwrap_or_default());
    for (column, path) in paths {
        builder = builder.with_column_path(column, path);
    }
    Scanner::new(Builder::Json(builder))
}

/// What a serialized predicate says about `key_column` (for `explain` and tests).
#[pyfunction]
pub(crate) fn key_filter_preview(predicate: &str, key_column: &str) -> String {
    format!("{:?}", KeyFilter::from_polars_json(predicate, key_column))
}
