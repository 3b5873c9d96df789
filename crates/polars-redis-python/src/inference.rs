//! Schema inference for Python: runs the core's sampler with the GIL
//! released and returns plain dicts that `polars_redis.infer` wraps.

use std::time::Duration;

use polars_redis::{
    infer_hash_schema, infer_json_schema, infer_stream_schema, InferOptions, InferredSchema,
    COUNT_HINT_LIMIT, RETRIES_LIMIT, SAMPLE_SIZE_LIMIT,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{load_budget, size};

/// Sample the keys of `kind` (`"hash"`, `"json"` or `"stream"`) under
/// `pattern` and infer their field types.
#[pyfunction]
#[pyo3(signature = (
    url, kind, pattern, *, sample_size, scan_budget, count_hint,
    rate_limit=None, latency_budget_ms=None, retries=polars_redis::DEFAULT_RETRIES as i128,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn infer_schema<'py>(
    py: Python<'py>,
    url: Target,
    kind: &str,
    pattern: Vec<u8>,
    sample_size: i128,
    scan_budget: f64,
    count_hint: i128,
    rate_limit: Option<f64>,
    latency_budget_ms: Option<f64>,
    retries: i128,
) -> BindingResult<Bound<'py, PyDict>> {
    let config = url.config()?;
    let scan_budget = Duration::try_from_secs_f64(scan_budget).map_err(|_| {
        invalid_input(format!(
            "scan_budget must be a number of seconds, got {scan_budget}"
        ))
    })?;
    let options = InferOptions {
        sample_size: size(SAMPLE_SIZE_LIMIT, sample_size)?,
        scan_budget,
        count_hint: size(COUNT_HINT_LIMIT, count_hint)?,
        budget: load_budget(rate_limit, latency_budget_ms)?,
        retries: size(RETRIES_LIMIT, retries)?,
    };
    let infer = match kind {
        "hash" => infer_hash_schema,
        "json" => infer_json_schema,
        "stream" => infer_stream_schema,
        other => {
            return Err(invalid_input(format!(
                "cannot infer the schema of `{other}` keys (hash, json or stream)"
            )))
        }
    };
    let inferred = py.detach(|| infer(&config, &pattern, &options))?;
    to_dict(py, &inferred)
}

fn to_dict<'py>(py: Python<'py>, inferred: &InferredSchema) -> BindingResult<Bound<'py, PyDict>> {
    let fields = PyList::empty(py);
    for field in &inferred.fields {
        let entry = PyDict::new(py);
        entry.set_item("name", &field.name)?;
        entry.set_item("dtype", dtypes::spec(py, &field.field_type)?)?;
        entry.set_item("present", field.present)?;
        entry.set_item("matching", field.matching)?;
        entry.set_item("candidates", field.candidates.clone())?;
        entry.set_item("confidence", field.confidence)?;
        entry.set_item("note", field.note.clone())?;
        fields.append(entry)?;
    }
    let result = PyDict::new(py);
    result.set_item("fields", fields)?;
    result.set_item("sample_count", inferred.sample_count)?;
    result.set_item("keys_seen", inferred.keys_seen)?;
    result.set_item("complete_scan", inferred.complete_scan)?;
    Ok(result)
}
