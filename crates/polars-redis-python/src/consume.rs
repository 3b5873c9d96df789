//! Stream consumption for Python: a consumer-group or tailing reader
//! (`StreamReading`) whose blocking reads release the GIL, and the group
//! bookkeeping functions (`ack_entries`, `pending_entries`).

use std::sync::Mutex;

use polars_redis::{StreamReadBuilder, StreamReader};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::PyTable;

use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{connection, count, size};

/// The options of a stream reader, as the Python facade passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct ReaderArgs {
    url: Target,
    streams: Vec<Vec<u8>>,
    group: Option<Vec<u8>>,
    consumer: Option<Vec<u8>>,
    create_group_from: Option<String>,
    claim_min_idle_ms: Option<i128>,
    start_id: Option<String>,
    batch_size: i128,
    block_ms: Option<i128>,
    ack: bool,
    id_column: Option<String>,
    timestamp_column: Option<String>,
    sequence_column: Option<String>,
    stream_column: Option<String>,
    strict: bool,
    formats: Vec<(String, String)>,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
}

/// A running stream reader. Each `next_batch` waits at most `block_ms`
/// (with the GIL released), so Python can be interrupted between calls.
#[pyclass(module = "polars_redis._internal")]
pub(crate) struct StreamReading {
    inner: Mutex<Option<StreamReader>>,
}

impl StreamReading {
    /// Run `work` on the reader with the GIL released (the lock too is
    /// taken without the GIL: a thread holding it may need the GIL to
    /// finish); `None` once closed. An error closes the reader.
    fn with_reader<T>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&mut StreamReader) -> polars_redis::Result<T> + Send,
    ) -> BindingResult<Option<T>>
    where
        T: Send,
    {
        let outcome = py.detach(|| {
            let mut guard = self.inner.lock().expect("stream reader lock poisoned");
            let reader = guard.as_mut()?;
            let outcome = work(reader);
            if outcome.is_err() {
                *guard = None;
            }
            Some(outcome)
        });
        Ok(outcome.transpose()?)
    }
}

#[pymethods]
impl StreamReading {
    /// The next batch (maybe empty), as an Arrow table; `None` once closed.
    fn next_batch(&self, py: Python<'_>) -> BindingResult<Option<PyTable>> {
        let Some(batch) = self.with_reader(py, |reader| reader.next_batch())? else {
            return Ok(None);
        };
        let schema = batch.schema();
        Ok(Some(PyTable::try_new(vec![batch], schema)?))
    }

    /// Acknowledge the entries delivered since the last acknowledgement
    /// (0 once closed).
    fn ack(&self, py: Python<'_>) -> BindingResult<u64> {
        Ok(self
            .with_reader(py, |reader| reader.ack_delivered())?
            .unwrap_or(0))
    }

    /// Acknowledge the delivered entries and set `fields` of hash `key` in
    /// one `MULTI`/`EXEC`; the number acknowledged (0 once closed).
    fn commit(
        &self,
        py: Python<'_>,
        key: Vec<u8>,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> BindingResult<u64> {
        Ok(self
            .with_reader(py, |reader| reader.commit(&key, &fields))?
            .unwrap_or(0))
    }

    /// The delivered, unacknowledged ids: `[(stream, [id, ...]), ...]`.
    fn delivered(&self, py: Python<'_>) -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
        py.detach(|| {
            let guard = self.inner.lock().expect("stream reader lock poisoned");
            guard.as_ref().map(|r| r.delivered()).unwrap_or_default()
        })
    }

    /// Close the reader; `ack` acknowledges the last batch first (a normal
    /// close of a reader made with `ack`), otherwise it stays pending.
    fn close(&self, py: Python<'_>, ack: bool) -> BindingResult<()> {
        py.detach(|| {
            let reader = self
                .inner
                .lock()
                .expect("stream reader lock poisoned")
                .take();
            match (reader, ack) {
                (Some(reader), true) => reader.close(),
                _ => Ok(()),
            }
        })?;
        Ok(())
    }
}

/// Connect a stream reader (and create its group when asked).
#[pyfunction]
pub(crate) fn stream_reader(
    py: Python<'_>,
    args: ReaderArgs,
    fields: Vec<(String, Bound<'_, PyTuple>)>,
) -> BindingResult<StreamReading> {
    let config = connection(&args.url, args.connect_timeout, args.command_timeout)?;
    let mut builder = StreamReadBuilder::new(config, args.streams, dtypes::fields(fields)?)
        .with_start_id(args.start_id.as_deref())
        .with_batch_size(size(polars_redis::BATCH_SIZE_LIMIT, args.batch_size)?)
        .with_block_ms(args.block_ms.map(|ms| count("block_ms", ms)).transpose()?)
        .with_ack(args.ack)
        .with_id_column(args.id_column.as_deref())
        .with_timestamp_column(args.timestamp_column.as_deref())
        .with_sequence_column(args.sequence_column.as_deref())
        .with_stream_column(args.stream_column.as_deref())
        .with_strict(args.strict)
        .with_formats(dtypes::forms(&args.formats)?);
    match (args.group, args.consumer) {
        (Some(group), Some(consumer)) => {
            let claim = args
                .claim_min_idle_ms
                .map(|ms| count("claim_min_idle_ms", ms))
                .transpose()?;
            builder = builder
                .with_group(group, consumer)
                .with_group_creation(args.create_group_from.as_deref())
                .with_claim_min_idle_ms(claim);
        }
        (None, None) if args.claim_min_idle_ms.is_some() => {
            return Err(invalid_input(
                "claim_min_idle_ms needs group= and consumer=",
            ))
        }
        (None, None) => {}
        _ => return Err(invalid_input("pass both group= and consumer=, or neither")),
    }
    let reader = py.detach(|| builder.build())?;
    Ok(StreamReading {
        inner: Mutex::new(Some(reader)),
    })
}

/// `XACK` these ids; the number acknowledged.
#[pyfunction]
pub(crate) fn ack_entries(
    py: Python<'_>,
    url: Target,
    stream: Vec<u8>,
    group: Vec<u8>,
    ids: Vec<Vec<u8>>,
) -> BindingResult<u64> {
    let config = connection(&url, None, None)?;
    Ok(py.detach(|| polars_redis::ack_entries(&config, &stream, &group, &ids))?)
}

/// The group's pending entries (`XPENDING`) as an Arrow table.
#[pyfunction]
pub(crate) fn pending_entries(
    py: Python<'_>,
    url: Target,
    stream: Vec<u8>,
    group: Vec<u8>,
    consumer: Option<Vec<u8>>,
) -> BindingResult<PyTable> {
    let config = connection(&url, None, None)?;
    let batch =
        py.detach(|| polars_redis::pending(&config, &stream, &group, consumer.as_deref()))?;
    let schema = batch.schema();
    Ok(PyTable::try_new(vec![batch], schema)?)
}

/// Add this module's class and functions to `_internal`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<StreamReading>()?;
    m.add_function(wrap_pyfunction!(stream_reader, m)?)?;
    m.add_function(wrap_pyfunction!(ack_entries, m)?)?;
    m.add_function(wrap_pyfunction!(pending_entries, m)?)?;
    Ok(())
}
