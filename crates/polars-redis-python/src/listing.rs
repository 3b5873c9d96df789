//! Index listing for Python: every index, and which one `index="auto"`
//! would choose for a key pattern.

use polars_redis::search::{
    find_index_for_pattern as core_find_index, list_indexes as core_list_indexes, IndexOn,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::client::Target;
use crate::errors::BindingResult;
use crate::search::info_dict;

/// What `FT.INFO` says about every index.
#[pyfunction]
fn list_indexes<'py>(py: Python<'py>, url: Target) -> BindingResult<Vec<Bound<'py, PyDict>>> {
    let config = url.config()?;
    let infos = py.detach(|| core_list_indexes(&config))?;
    infos.iter().map(|info| info_dict(py, info)).collect()
}

/// `{"index": info or None, "rejected": [(name, why)], "reason": why none or None}`.
#[pyfunction]
fn find_index_for_pattern<'py>(
    py: Python<'py>,
    url: Target,
    pattern: Vec<u8>,
    on: &str,
) -> BindingResult<Bound<'py, PyDict>> {
    let config = url.config()?;
    let on = IndexOn::from_name(on)?;
    let found = py.detach(|| core_find_index(&config, &pattern, on))?;
    let dict = PyDict::new(py);
    match &found.index {
        Some(info) => dict.set_item("index", info_dict(py, info)?)?,
        None => dict.set_item("index", py.None())?,
    }
    dict.set_item("rejected", found.rejected.clone())?;
    dict.set_item("reason", found.reason.clone())?;
    Ok(dict)
}

/// Add the listing functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(list_indexes, m)?)?;
    m.add_function(wrap_pyfunction!(find_index_for_pattern, m)?)?;
    Ok(())
}
