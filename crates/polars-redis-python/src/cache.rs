//! The DataFrame cache for Python: the facade serializes the frame with
//! Polars and hands its bytes over; the core stores, checks and reads them.

use std::time::Duration;

use polars_redis::cache::{
    cached_manifest, cached_ttl, delete_cached, load_cached, store_cached, CacheManifest,
    CacheMeta, CHUNK_SIZE_LIMIT, DEFAULT_CHUNK_SIZE, MAX_VALUE_BYTES,
};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};

use crate::client::Target;
use crate::errors::BindingResult;

/// Store a serialized frame; the bytes stored.
#[pyfunction]
#[pyo3(signature = (url, key, payload, format, compression, compression_level, rows, columns, chunk_size, ttl))]
#[allow(clippy::too_many_arguments)]
fn cache_store(
    py: Python<'_>,
    url: Target,
    key: &str,
    payload: PyBackedBytes,
    format: String,
    compression: Option<String>,
    compression_level: Option<i64>,
    rows: u64,
    columns: Vec<String>,
    chunk_size: usize,
    ttl: Option<u64>,
) -> BindingResult<u64> {
    let config = url.config()?;
    let bytes: &[u8] = &payload;
    let meta = CacheMeta {
        format,
        compression,
        compression_level,
        rows,
        columns,
    };
    let ttl = ttl.map(Duration::from_secs);
    let manifest =
        py.detach(|| store_cached(&config, key.as_bytes(), bytes, meta, chunk_size, ttl))?;
    Ok(manifest.size())
}

/// The manifest and payload of an entry, or `None`.
#[pyfunction]
fn cache_load<'py>(
    py: Python<'py>,
    url: Target,
    key: &str,
) -> BindingResult<Option<(Bound<'py, PyDict>, Bound<'py, PyBytes>)>> {
    let config = url.config()?;
    let Some((manifest, payload)) = py.detach(|| load_cached(&config, key.as_bytes()))? else {
        return Ok(None);
    };
    Ok(Some((
        manifest_dict(py, &manifest)?,
        PyBytes::new(py, &payload),
    )))
}

/// The manifest of an entry, or `None`.
#[pyfunction]
fn cache_manifest<'py>(
    py: Python<'py>,
    url: Target,
    key: &str,
) -> BindingResult<Option<Bound<'py, PyDict>>> {
    let config = url.config()?;
    match py.detach(|| cached_manifest(&config, key.as_bytes()))? {
        Some(manifest) => Ok(Some(manifest_dict(py, &manifest)?)),
        None => Ok(None),
    }
}

/// Delete an entry; whether there was one.
#[pyfunction]
fn cache_delete(py: Python<'_>, url: Target, key: &str) -> BindingResult<bool> {
    let config = url.config()?;
    Ok(py.detach(|| delete_cached(&config, key.as_bytes()))?)
}

/// Seconds until an entry expires, or `None`.
#[pyfunction]
fn cache_ttl(py: Python<'_>, url: Target, key: &str) -> BindingResult<Option<i64>> {
    let config = url.config()?;
    Ok(py.detach(|| cached_ttl(&config, key.as_bytes()))?)
}

fn manifest_dict<'py>(
    py: Python<'py>,
    manifest: &CacheManifest,
) -> BindingResult<Bound<'py, PyDict>> {
    let meta = &manifest.meta;
    let dict = PyDict::new(py);
    dict.set_item("format", &meta.format)?;
    dict.set_item("compression", meta.compression.clone())?;
    dict.set_item("compression_level", meta.compression_level)?;
    dict.set_item("size_bytes", manifest.size())?;
    dict.set_item("is_chunked", manifest.chunked)?;
    dict.set_item("num_chunks", manifest.chunk_sizes.len())?;
    dict.set_item("chunk_size_bytes", manifest.chunk_size)?;
    dict.set_item("rows", meta.rows)?;
    dict.set_item("columns", meta.columns.clone())?;
    dict.set_item("created_ms", manifest.created_ms)?;
    dict.set_item("version", &manifest.version)?;
    Ok(dict)
}

/// Add the cache functions and constants to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cache_store, m)?)?;
    m.add_function(wrap_pyfunction!(cache_load, m)?)?;
    m.add_function(wrap_pyfunction!(cache_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(cache_delete, m)?)?;
    m.add_function(wrap_pyfunction!(cache_ttl, m)?)?;
    m.add("DEFAULT_CACHE_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)?;
    m.add("CACHE_MAX_VALUE_BYTES", MAX_VALUE_BYTES)?;
    m.add(
        "CACHE_CHUNK_SIZE_LIMIT",
        (CHUNK_SIZE_LIMIT.min, CHUNK_SIZE_LIMIT.max),
    )?;
    Ok(())
}
