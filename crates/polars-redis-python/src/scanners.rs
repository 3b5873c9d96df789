//! Scanner objects: hold the validated options of one `scan_*` call and
//! start a fresh Redis scan each time Polars collects.

use std::time::Duration;

use polars_redis::{ConnectionConfig, HashFetch, HashScanBuilder, KeyFilter};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::{PySchema, PyTable};

use crate::batches::BatchIterator;
use crate::dtypes;
use crate::errors::{to_py, InvalidInputError};

/// Connection settings shared by every scanner constructor.
fn connection(
    url: &str,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
) -> PyResult<ConnectionConfig> {
    let mut config = ConnectionConfig::from_url(url).map_err(to_py)?;
    if let Some(seconds) = connect_timeout {
        config = config.with_connect_timeout(seconds_to_duration("connect_timeout", seconds)?);
    }
    if let Some(seconds) = command_timeout {
        let limit = seconds_to_duration("command_timeout", seconds)?;
        config = config.with_command_timeout(Some(limit));
    }
    Ok(config)
}

fn seconds_to_duration(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            InvalidInputError::new_err(format!(
                "{name} must be a positive number of seconds, got {seconds}"
            ))
        })
}

/// Scans of Redis hashes.
#[pyclass(module = "polars_redis._internal", frozen)]
pub(crate) struct HashScanner {
    builder: HashScanBuilder,
    key_column: Option<String>,
}

#[pymethods]
impl HashScanner {
    #[new]
    #[pyo3(signature = (
        url, fields, *, pattern=None, keys=None, key_column=None, ttl_column=None,
        row_index_column=None, batch_size=1000, count_hint=None, strict=true,
        parallelism=3, fetch="auto", connect_timeout=None, command_timeout=None,
        deadline=None, parse_hint=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        url: &str,
        fields: Vec<(String, Bound<'_, PyTuple>)>,
        pattern: Option<Vec<u8>>,
        keys: Option<Vec<Vec<u8>>>,
        key_column: Option<String>,
        ttl_column: Option<String>,
        row_index_column: Option<String>,
        batch_size: usize,
        count_hint: Option<usize>,
        strict: bool,
        parallelism: usize,
        fetch: &str,
        connect_timeout: Option<f64>,
        command_timeout: Option<f64>,
        deadline: Option<f64>,
        parse_hint: Option<String>,
    ) -> PyResult<Self> {
        let config = connection(url, connect_timeout, command_timeout)?;
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
        let deadline = deadline
            .map(|s| seconds_to_duration("deadline", s))
            .transpose()?;
        let mut builder = HashScanBuilder::new(config, dtypes::fields(fields)?)
            .with_key_column(key_column.as_deref())
            .with_ttl_column(ttl_column.as_deref())
            .with_row_index_column(row_index_column.as_deref())
            .with_batch_size(batch_size)
            .with_strict(strict)
            .with_parallelism(parallelism)
            .with_fetch(fetch)
            .with_deadline(deadline)
            .with_parse_hint(parse_hint);
        if let Some(count) = count_hint {
            builder = builder.with_count_hint(count);
        }
        builder = match (pattern, keys) {
            (Some(_), Some(_)) => {
                return Err(InvalidInputError::new_err(
                    "pass either a pattern or keys, not both",
                ))
            }
            (_, Some(keys)) => builder.with_keys(keys),
            (Some(pattern), None) => builder.with_pattern(pattern),
            (None, None) => builder,
        };
        // Validate now so mistakes surface when the LazyFrame is made.
        builder.output_schema().map_err(to_py)?;
        Ok(HashScanner {
            builder,
            key_column,
        })
    }

    /// The Arrow schema of the full (unprojected) output.
    fn schema(&self) -> PyResult<PySchema> {
        Ok(PySchema::new(self.builder.output_schema().map_err(to_py)?))
    }

    /// An empty table with the full output schema.
    fn empty(&self) -> PyResult<PyTable> {
        PyTable::try_new(vec![], self.builder.output_schema().map_err(to_py)?)
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
        let mut builder = self.builder.clone().with_limit(limit);
        if let Some(projection) = projection {
            builder = builder.with_projection(projection);
        }
        if let (Some(predicate), Some(key_column)) = (predicate, &self.key_column) {
            builder = builder.with_key_filter(KeyFilter::from_polars_json(predicate, key_column));
        }
        Ok(BatchIterator::new(builder.build().map_err(to_py)?))
    }
}

/// What a serialized predicate says about `key_column` (for `explain` and tests).
#[pyfunction]
pub(crate) fn key_filter_preview(predicate: &str, key_column: &str) -> String {
    format!("{:?}", KeyFilter::from_polars_json(predicate, key_column))
}
