//! A Python iterator over the record batches of a running scan.

use std::sync::Mutex;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use polars_redis::RecordBatchIter;
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use crate::errors::BindingResult;

/// Yields one Arrow table (exported through the PyCapsule stream interface)
/// per batch. The GIL is released while waiting for Redis.
#[pyclass(module = "polars_redis._internal")]
pub(crate) struct BatchIterator {
    inner: Mutex<Option<RecordBatchIter>>,
    schema: SchemaRef,
}

impl BatchIterator {
    pub(crate) fn new(iter: RecordBatchIter) -> Self {
        BatchIterator {
            schema: iter.schema(),
            inner: Mutex::new(Some(iter)),
        }
    }

    fn next_batch(&self, py: Python<'_>) -> BindingResult<Option<RecordBatch>> {
        let mut guard = self.inner.lock().expect("batch iterator lock poisoned");
        let Some(iter) = guard.as_mut() else {
            return Ok(None);
        };
        match py.detach(|| iter.next()) {
            Some(Ok(batch)) => Ok(Some(batch)),
            Some(Err(err)) => {
                *guard = None;
                Err(err.into())
            }
            None => {
                *guard = None;
                Ok(None)
            }
        }
    }
}

#[pymethods]
impl BatchIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> BindingResult<PyTable> {
        match self.next_batch(py)? {
            Some(batch) => Ok(PyTable::try_new(vec![batch], self.schema.clone())?),
            None => Err(PyStopIteration::new_err(()).into()),
        }
    }

    /// Read every remaining batch into one table (zero-copy chunks).
    fn read_all(&self, py: Python<'_>) -> BindingResult<PyTable> {
        let mut batches = Vec::new();
        while let Some(batch) = self.next_batch(py)? {
            batches.push(batch);
        }
        Ok(PyTable::try_new(batches, self.schema.clone())?)
    }

    /// Stop the scan and release its connections.
    fn close(&self) {
        *self.inner.lock().expect("batch iterator lock poisoned") = None;
    }
}
