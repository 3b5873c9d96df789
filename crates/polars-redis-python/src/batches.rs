//! A Python iterator over the record batches of a running scan; after the
//! last batch it gives the scan's warnings to Python (`warnings.warn` with
//! a `UserWarning`, and the `polars_redis` logger).

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use polars_redis::{ArrowReader, RecordBatchIter, ScanWarning};
use pyo3::exceptions::{PyStopIteration, PyUserWarning};
use pyo3::prelude::*;
use pyo3_arrow::{PyRecordBatchReader, PyTable};

use crate::errors::{invalid_input, BindingResult};

/// Yields one Arrow table (exported through the PyCapsule stream interface)
/// per batch. The GIL is released while waiting for Redis.
#[pyclass(module = "polars_redis._internal")]
pub(crate) struct BatchIterator {
    inner: Mutex<Option<RecordBatchIter>>,
    schema: SchemaRef,
    /// Set once a batch was asked for, by iteration or by an Arrow consumer.
    started: Arc<AtomicBool>,
}

impl BatchIterator {
    pub(crate) fn new(iter: RecordBatchIter) -> Self {
        BatchIterator {
            schema: iter.schema(),
            inner: Mutex::new(Some(iter)),
            started: Arc::new(AtomicBool::new(false)),
        }
    }

    fn next_batch(&self, py: Python<'_>) -> BindingResult<Option<RecordBatch>> {
        self.started.store(true, Ordering::Relaxed);
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
                let warnings = iter.warnings();
                *guard = None;
                drop(guard);
                for warning in &warnings {
                    give_warning(py, warning)?;
                }
                Ok(None)
            }
        }
    }
}

/// Log `warning` on the `polars_redis` logger and issue it as a `UserWarning`
/// (an error when the warning filters say so).
fn give_warning(py: Python<'_>, warning: &ScanWarning) -> PyResult<()> {
    let message = python_message(warning);
    py.import("logging")?
        .call_method1("getLogger", ("polars_redis",))?
        .call_method1("warning", ("%s", &message))?;
    let text = CString::new(message.replace('\0', "\\0"))?;
    PyErr::warn(py, &py.get_type::<PyUserWarning>(), &text, 1)
}

/// The core's message, with the Python function that reads the keys of
/// each other type a pattern matched.
fn python_message(warning: &ScanWarning) -> String {
    let message = warning.to_string();
    let ScanWarning::OtherTypes { found, .. } = warning else {
        return message;
    };
    let readers: Vec<&str> = found
        .iter()
        .filter_map(|redis_type| match redis_type.as_str() {
            "hash" => Some("read_hashes"),
            "ReJSON-RL" => Some("read_json"),
            "stream" => Some("read_streams"),
            "string" => Some("read_strings"),
            "list" => Some("read_lists"),
            "set" => Some("read_sets"),
            "zset" => Some("read_zsets"),
            "TSDB-TYPE" => Some("read_timeseries"),
            _ => None,
        })
        .collect();
    match readers.as_slice() {
        [] => message,
        readers => format!("{message}: use {}", readers.join(" or ")),
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

    /// Hand the remaining batches to an Arrow consumer (pyarrow, DuckDB, ...)
    /// through the Arrow PyCapsule stream interface: the consumer pulls
    /// each batch straight from the scan, without Python in between. The
    /// iterator is used up; the scan's warnings are not issued on this path.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> BindingResult<Bound<'py, PyAny>> {
        let iter = self
            .inner
            .lock()
            .expect("batch iterator lock poisoned")
            .take()
            .ok_or_else(|| invalid_input("the scan's batches were already consumed or closed"))?;
        let reader = PyRecordBatchReader::new(Box::new(StartedReader {
            reader: ArrowReader(iter),
            started: self.started.clone(),
        }));
        Ok(reader
            .into_pyobject(py)?
            .call_method1("__arrow_c_stream__", (requested_schema,))?)
    }

    /// Whether a batch was asked for (by iteration or an Arrow consumer):
    /// a stream handed to a consumer that only read its schema was not.
    fn started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }

    /// Stop the scan and release its connections.
    fn close(&self) {
        *self.inner.lock().expect("batch iterator lock poisoned") = None;
    }
}

/// The scan's batches for an Arrow consumer, noting when it first asks for one.
struct StartedReader {
    reader: ArrowReader,
    started: Arc<AtomicBool>,
}

impl Iterator for StartedReader {
    type Item = Result<RecordBatch, ArrowError>;

    /// Called by the Arrow consumer, which may hold the GIL: while logging
    /// is on, it is released for the wait, as the scan's workers need it.
    fn next(&mut self) -> Option<Self::Item> {
        self.started.store(true, Ordering::Relaxed);
        if log::max_level() == log::LevelFilter::Off {
            return self.reader.next();
        }
        let reader = &mut self.reader;
        match Python::try_attach(|py| py.detach(|| reader.next())) {
            Some(next) => next,
            None => self.reader.next(),
        }
    }
}

impl RecordBatchReader for StartedReader {
    fn schema(&self) -> SchemaRef {
        self.reader.schema()
    }
}
