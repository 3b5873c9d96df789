//! The core's defaults as attributes of `polars_redis._internal`, so the
//! Python signatures take them from the core instead of repeating them.

use polars_redis::search::DEFAULT_SEARCH_TIMEOUT;
use polars_redis::write::{DEFAULT_WRITE_BATCH_SIZE, DEFAULT_WRITE_PARALLELISM};
use polars_redis::{InferOptions, DEFAULT_BATCH_SIZE, DEFAULT_PARALLELISM};
use pyo3::prelude::*;

/// Add each default under its name (durations in seconds).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_BATCH_SIZE", DEFAULT_BATCH_SIZE)?;
    m.add("DEFAULT_PARALLELISM", DEFAULT_PARALLELISM)?;
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
