//! Key management: the core's `keyspace` functions with the GIL released;
//! frames come back as Arrow tables, reports as dicts the facade turns into
//! its result dataclasses.

use polars_redis::{
    delete_keys, exists_keys, get_ttl, key_info, persist_keys, rename_keys, scan_keys, set_ttl,
    ConnectionConfig, KeyReport, KeyScan, KeySelection, KeyType, LoadBudget, RenameMode,
    COUNT_HINT_LIMIT, LIST_COUNT_HINT,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3_arrow::PyTable;

use crate::client::Target;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{connection, size};

/// A call's `(connect_timeout, command_timeout, rate_limit)`: seconds,
/// seconds and keys per second, each optional.
type Limits = (Option<f64>, Option<f64>, Option<f64>);

/// The connection of `url` and the load budget of one call.
fn call(url: &Target, limits: Limits) -> BindingResult<(ConnectionConfig, LoadBudget)> {
    let budget = LoadBudget::default().with_rate_limit(limits.2)?;
    Ok((connection(url, limits.0, limits.1)?, budget))
}

/// `String` or `Binary`, the dtype of a key column.
fn key_type(spec: &str) -> BindingResult<KeyType> {
    match spec {
        "String" => Ok(KeyType::Utf8),
        "Binary" => Ok(KeyType::Binary),
        other => Err(invalid_input(format!(
            "key_dtype must be pl.String or pl.Binary, got {other}"
        ))),
    }
}

/// Keys or a pattern, exactly one of them.
fn selection(keys: Option<Vec<Vec<u8>>>, pattern: Option<Vec<u8>>) -> BindingResult<KeySelection> {
    match (keys, pattern) {
        (Some(keys), None) => Ok(KeySelection::Keys(keys)),
        (None, Some(pattern)) => Ok(KeySelection::Pattern(pattern)),
        _ => Err(invalid_input("pass either keys or pattern, not both")),
    }
}

/// `report` as `{keys, succeeded, skipped, missing, failures}`, keys as bytes
/// and failures as `(key, position, message)`.
fn report_dict<'py>(py: Python<'py>, report: &KeyReport) -> BindingResult<Bound<'py, PyDict>> {
    let keys = |keys: &[polars_redis::Key]| -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, keys.iter().map(|k| PyBytes::new(py, k.as_bytes())))
    };
    let dict = PyDict::new(py);
    dict.set_item("keys", report.keys)?;
    dict.set_item("succeeded", report.succeeded)?;
    dict.set_item("skipped", keys(&report.skipped)?)?;
    dict.set_item("missing", keys(&report.missing)?)?;
    let failures: Vec<(Bound<'py, PyBytes>, usize, &str)> = report
        .failures
        .iter()
        .map(|f| {
            (
                PyBytes::new(py, f.key.as_bytes()),
                f.first_row,
                f.message.as_str(),
            )
        })
        .collect();
    dict.set_item("failures", failures)?;
    Ok(dict)
}

/// `_key`, `type` and, as asked, `_ttl` and `memory_bytes` of every key
/// matching `pattern`.
#[pyfunction]
#[pyo3(signature = (url, pattern, key_type_filter, include_ttl, include_memory, count, key_dtype, limits))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_keys_table(
    py: Python<'_>,
    url: Target,
    pattern: Vec<u8>,
    key_type_filter: Option<String>,
    include_ttl: bool,
    include_memory: bool,
    count: Option<i128>,
    key_dtype: &str,
    limits: Limits,
) -> BindingResult<PyTable> {
    let count_hint = match count {
        Some(n) => COUNT_HINT_LIMIT.check(size(COUNT_HINT_LIMIT, n)?)?,
        None => LIST_COUNT_HINT,
    };
    let scan = KeyScan {
        pattern,
        redis_type: key_type_filter,
        include_ttl,
        include_memory,
        count_hint,
        key_type: key_type(key_dtype)?,
    };
    let (config, budget) = call(&url, limits)?;
    let batch = py.detach(|| scan_keys(&config, &budget, &scan))?;
    Ok(PyTable::try_new(vec![batch.clone()], batch.schema())?)
}

/// Delete the keys (or a pattern's keys) with `UNLINK`; with `dry_run` only
/// list them. Returns `(keys, report)`.
#[pyfunction]
#[pyo3(signature = (url, keys, pattern, dry_run, limits))]
pub(crate) fn unlink_keys<'py>(
    py: Python<'py>,
    url: Target,
    keys: Option<Vec<Vec<u8>>>,
    pattern: Option<Vec<u8>>,
    dry_run: bool,
    limits: Limits,
) -> BindingResult<(Bound<'py, PyList>, Bound<'py, PyDict>)> {
    let ((config, budget), selection) = (call(&url, limits)?, selection(keys, pattern)?);
    let (keys, report) = py.detach(|| delete_keys(&config, &budget, selection, dry_run))?;
    let listed = PyList::new(py, keys.iter().map(|k| PyBytes::new(py, k)))?;
    Ok((listed, report_dict(py, &report)?))
}

/// `EXPIRE` every key: one TTL for all, or one per key (seconds).
#[pyfunction]
pub(crate) fn expire_keys<'py>(
    py: Python<'py>,
    url: Target,
    keys: Vec<Vec<u8>>,
    ttls: Vec<i64>,
    limits: Limits,
) -> BindingResult<Bound<'py, PyDict>> {
    let (config, budget) = call(&url, limits)?;
    let report = py.detach(|| set_ttl(&config, &budget, &keys, &ttls))?;
    report_dict(py, &report)
}

/// `PERSIST` every key.
#[pyfunction]
pub(crate) fn persist<'py>(
    py: Python<'py>,
    url: Target,
    keys: Vec<Vec<u8>>,
    limits: Limits,
) -> BindingResult<Bound<'py, PyDict>> {
    let (config, budget) = call(&url, limits)?;
    let report = py.detach(|| persist_keys(&config, &budget, &keys))?;
    report_dict(py, &report)
}

/// Each key's `TTL` (-1 without expiry, -2 when missing).
#[pyfunction]
pub(crate) fn key_ttls(
    py: Python<'_>,
    url: Target,
    keys: Vec<Vec<u8>>,
    limits: Limits,
) -> BindingResult<Vec<i64>> {
    let (config, budget) = call(&url, limits)?;
    Ok(py.detach(|| get_ttl(&config, &budget, &keys))?)
}

/// Whether each key exists.
#[pyfunction]
pub(crate) fn keys_exist(
    py: Python<'_>,
    url: Target,
    keys: Vec<Vec<u8>>,
    limits: Limits,
) -> BindingResult<Vec<bool>> {
    let (config, budget) = call(&url, limits)?;
    Ok(py.detach(|| exists_keys(&config, &budget, &keys))?)
}

/// Rename each `(old, new)` pair; `if_exists` is `fail` or `replace`.
#[pyfunction]
pub(crate) fn rename<'py>(
    py: Python<'py>,
    url: Target,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    if_exists: &str,
    limits: Limits,
) -> BindingResult<Bound<'py, PyDict>> {
    let ((config, budget), mode) = (call(&url, limits)?, RenameMode::from_name(if_exists)?);
    let report = py.detach(|| rename_keys(&config, &budget, &pairs, mode))?;
    report_dict(py, &report)
}

/// Type, TTL, memory, encoding and length of the keys (or a pattern's keys).
#[pyfunction]
#[pyo3(signature = (url, keys, pattern, key_dtype, limits))]
pub(crate) fn key_info_table(
    py: Python<'_>,
    url: Target,
    keys: Option<Vec<Vec<u8>>>,
    pattern: Option<Vec<u8>>,
    key_dtype: &str,
    limits: Limits,
) -> BindingResult<PyTable> {
    let ((config, budget), selection) = (call(&url, limits)?, selection(keys, pattern)?);
    let key_type = key_type(key_dtype)?;
    let batch = py.detach(|| key_info(&config, &budget, selection, key_type))?;
    Ok(PyTable::try_new(vec![batch.clone()], batch.schema())?)
}

/// Add the key-management functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(scan_keys_table, m)?)?;
    m.add_function(wrap_pyfunction!(unlink_keys, m)?)?;
    m.add_function(wrap_pyfunction!(expire_keys, m)?)?;
    m.add_function(wrap_pyfunction!(persist, m)?)?;
    m.add_function(wrap_pyfunction!(key_ttls, m)?)?;
    m.add_function(wrap_pyfunction!(keys_exist, m)?)?;
    m.add_function(wrap_pyfunction!(rename, m)?)?;
    m.add_function(wrap_pyfunction!(key_info_table, m)?)?;
    Ok(())
}
