//! What the Python facade shows of a connection: URLs with every secret
//! removed, for `explain()` lines, progress bars and log records.

use pyo3::prelude::*;

use crate::client::Target;

/// `url` (a URL or a client's) with its password (and anything that could
/// be one) removed: only the scheme, host, numeric port and database, and
/// option names remain.
#[pyfunction]
pub fn redact_url(url: Target) -> String {
    url.shown()
}
