//! The core's log records (the `log` crate) on Python's `logging`: a record
//! of target `polars_redis::net::connection` goes to the Python logger
//! `polars_redis.net.connection`, so `logging.getLogger("polars_redis")`
//! configures them all. Records of other crates are not forwarded.
//!
//! Every public call first says which levels the `polars_redis` loggers
//! want now ([`refresh_log_levels`], from `polars_redis._logging`): below
//! that level a record is dropped by the `log` macros themselves, so
//! disabled logging costs no call and no GIL. Enabled records go through
//! `pyo3-log`, whose cache of the loggers' levels is cleared at the same
//! time. A worker thread that logs takes the GIL: every blocking wait of
//! the binding runs under `py.detach`, so the waiting thread never holds it.

use std::sync::OnceLock;

use log::LevelFilter;
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger, ResetHandle};

static LEVEL_CACHE: OnceLock<ResetHandle> = OnceLock::new();

/// Forward the core's records to Python's `logging`; nothing is logged
/// until the first [`refresh_log_levels`].
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let logger = Logger::new(m.py(), Caching::LoggersAndLevels)?
        .filter(LevelFilter::Off)
        .filter_target("polars_redis".to_owned(), LevelFilter::Debug);
    // Another copy of this module in the process installed its own: keep it.
    if let Ok(handle) = logger.install() {
        let _ = LEVEL_CACHE.set(handle);
        log::set_max_level(LevelFilter::Off);
    }
    m.add_function(wrap_pyfunction!(refresh_log_levels, m)?)?;
    Ok(())
}

/// Let through the records at or above the Python level `level` (the
/// lowest effective level of the `polars_redis` loggers), and forget the
/// cached levels of the Python loggers.
#[pyfunction]
fn refresh_log_levels(level: i64) {
    let Some(handle) = LEVEL_CACHE.get() else {
        return;
    };
    handle.reset();
    log::set_max_level(match level {
        ..=10 => LevelFilter::Debug,
        11..=20 => LevelFilter::Info,
        21..=30 => LevelFilter::Warn,
        31..=40 => LevelFilter::Error,
        _ => LevelFilter::Off,
    });
}
