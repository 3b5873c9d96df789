//! Hashes in long form for Python: a scan of one row per hash field
//! (`HashFieldsScanBuilder`) and the write of such rows back.

use polars_redis::{HashFieldsScanBuilder, HashFieldsWriteBuilder};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3_arrow::PyRecordBatchReader;

use crate::dtypes;
use crate::errors::BindingResult;
use crate::scanners::{Builder, ScanArgs, Scanner};
use crate::writers::{execute, WriteArgs};

/// A long-form scan of hashes: the field-name column, the value column and
/// its dtype spec, and the fields to keep (`None`: all).
#[pyfunction]
#[pyo3(signature = (args, field_column, value_column, value_type, fields=None))]
pub(crate) fn hash_fields_scanner(
    args: ScanArgs,
    field_column: String,
    value_column: String,
    value_type: Bound<'_, PyTuple>,
    fields: Option<Vec<Vec<u8>>>,
) -> BindingResult<Scanner> {
    let builder = HashFieldsScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_field_column(field_column)
        .with_value(value_column, dtypes::field_type(&value_type)?)
        .with_fields(fields);
    Scanner::new(Builder::HashFields(builder))
}

/// Write hashes from long form: rows grouped by key, one field each.
#[pyfunction]
pub(crate) fn write_hash_fields<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    field_column: String,
    value_column: String,
) -> BindingResult<Bound<'py, PyDict>> {
    let builder = HashFieldsWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_field_column(field_column)
        .with_value_column(value_column);
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Add the long-form hash functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hash_fields_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(write_hash_fields, m)?)?;
    Ok(())
}
