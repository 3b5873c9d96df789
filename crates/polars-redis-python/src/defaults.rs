//! The core's defaults and size limits as attributes of
//! `polars_redis._internal`, so the Python signatures and docs take them
//! from the core instead of repeating them.

use polars_redis::search::DEFAULT_SEARCH_TIMEOUT;
use polars_redis::write::{
    DEFAULT_WRITE_BATCH_SIZE, DEFAULT_WRITE_PARALLELISM, WRITE_BATCH_SIZE_LIMIT,
    WRITE_PARALLELISM_LIMIT,
};
use polars_redis::{
    InferOptions, SizeLimit, BATCH_SIZE_LIMIT, COUNT_HINT_LIMIT, DEFAULT_BATCH_SIZE,
    DEFAULT_PARALLELISM, DEFAULT_RETRIES, PARALLELISM_LIMIT, RETRIES_LIMIT, SAMPLE_SIZE_LIMIT,
};
use pyo3::prelude::*;

/// Add each default under its name (durations in seconds), and each size
/// limit as a `(min, max)` pair.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let limits: [(&str, SizeLimit); 7] = [
        ("BATCH_SIZE_LIMIT", BATCH_SIZE_LIMIT),
        ("PARALLELISM_LIMIT", PARALLELISM_LIMIT),
        ("COUNT_HINT_LIMIT", COUNT_HINT_LIMIT),
        ("RETRIES_LIMIT", RETRIES_LIMIT),
        ("INFER_SAMPLE_SIZE_LIMIT", SAMPLE_SIZE_LIMIT),
        ("WRITE_BATCH_SIZE_LIMIT", WRITE_BATCH_SIZE_LIMIT),
        ("WRITE_PARALLELISM_LIMIT", WRITE_PARALLELISM_LIMIT),
    ];
    for (name, limit) in limits {
        m.add(name, (limit.min, limit.max))?;
    }
    m.add("DEFAULT_BATCH_SIZE", DEFAULT_BATCH_SIZE)?;
    m.add("DEFAULT_PARALLELISM", DEFAULT_PARALLELISM)?;
    m.add("DEFAULT_RETRIES", DEFAULT_RETRIES)?;
    m.add(
        "DEFAULT_SEARCH_TIMEOUT",
        DEFAULT_SEARCH_TIMEOUT.as_secs_f64(),
    )?;
    m.add("DEFAULT_WRITE_BATCH_SIZE", DEFAULT_WRITE_BATCH_SIZE)?;
    m.add("DEFAULT_WRITE_PARALLELISM", DEFAULT_WRITE_PARALLELISM)?;
    let infer = InferOptions::default();
    m.add("DEFAULT_INFER_SAMPLE_SIZE", infer.sample_size)?;
    m.add("DEFAULT_INFER_SCAN_BUDGET", infer.scan_budget.as_secs_f64())?;
    m.add("DEFAULT_INFER_COUNT_HINT", infer.count_hint)?;
    Ok(())
}
