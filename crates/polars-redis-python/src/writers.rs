//! Writes: one function per Redis type. The frame arrives through the Arrow
//! PyCapsule stream interface (zero-copy), the write runs with the GIL
//! released, and the outcome comes back as a dict the facade turns into a
//! `WriteResult` (raising `WriteError` itself when keys failed). With a
//! progress callable the write runs on its own thread while the calling
//! one reports its counts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::ArrowError;
use polars_redis::write::{WRITE_BATCH_SIZE_LIMIT, WRITE_PARALLELISM_LIMIT};
use polars_redis::{
    ConnectionConfig, FieldTtl, HashWriteBuilder, IfExists, JsonWriteBuilder, KeyFailure,
    ListWriteBuilder, SetWriteBuilder, StreamWriteBuilder, StringWriteBuilder,
    TimeSeriesWriteBuilder, Ttl, WriteOptions, WriteProgress, WriteResult, ZsetWriteBuilder,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3_arrow::PyRecordBatchReader;

use crate::client::Target;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{connection, count, load_budget, size};

/// The options every write shares, as the Python facade passes them.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct WriteArgs {
    url: Target,
    key_column: Option<String>,
    formats: Vec<(String, String)>,
    key_prefix: Vec<u8>,
    ttl: Option<i64>,
    ttl_column: Option<String>,
    if_exists: String,
    batch_size: i128,
    parallelism: i128,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
    rate_limit: Option<f64>,
    latency_budget_ms: Option<f64>,
    /// Called with `(rows done, keys written)` while the write runs.
    pub(crate) progress: Option<Py<PyAny>>,
}

impl WriteArgs {
    pub(crate) fn config(&self) -> BindingResult<ConnectionConfig> {
        connection(&self.url, self.connect_timeout, self.command_timeout)
    }

    pub(crate) fn options(&self) -> BindingResult<WriteOptions> {
        let ttl = match (self.ttl, &self.ttl_column) {
            (Some(_), Some(_)) => {
                return Err(invalid_input("pass either ttl or ttl_column, not both"))
            }
            (Some(seconds), None) if seconds >= 1 => Ttl::Seconds(seconds.unsigned_abs()),
            (Some(seconds), None) => {
                return Err(invalid_input(format!(
                    "ttl must be at least 1 second, got {seconds}"
                )))
            }
            (None, Some(column)) => Ttl::Column(column.clone()),
            (None, None) => Ttl::None,
        };
        let options = WriteOptions::default()
            .with_key_column(self.key_column.as_deref())
            .with_formats(crate::dtypes::forms(&self.formats)?)
            .with_key_prefix(&self.key_prefix)
            .with_if_exists(IfExists::from_name(&self.if_exists)?)
            .with_batch_size(size(WRITE_BATCH_SIZE_LIMIT, self.batch_size)?)
            .with_parallelism(size(WRITE_PARALLELISM_LIMIT, self.parallelism)?)
            .with_load_budget(load_budget(self.rate_limit, self.latency_budget_ms)?)
            .with_raise_on_failure(false);
        Ok(match ttl {
            Ttl::Column(column) => options.with_ttl_column(column),
            Ttl::Seconds(seconds) => {
                options.with_ttl(Some(std::time::Duration::from_secs(seconds)))
            }
            _ => options,
        })
    }
}

/// The frame's batches, collected, with its schema.
type Frame = RecordBatchIterator<Vec<Result<RecordBatch, ArrowError>>>;

/// How often a write with a progress callable reports its counts.
const REPORT_EVERY: Duration = Duration::from_millis(200);

/// Collect the frame's batches (zero-copy) while holding the GIL, then run
/// `write` without it (with `report`: see [`write_reporting`]). The schema
/// travels with the batches, so an empty frame is still checked (columns, types).
pub(crate) fn execute<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    report: Option<Py<PyAny>>,
    write: impl FnOnce(Frame, Option<Arc<WriteProgress>>) -> polars_redis::Result<WriteResult> + Send,
) -> BindingResult<Bound<'py, PyDict>> {
    let reader = data.into_reader()?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid_input(format!("cannot read the frame: {e}")))?;
    let batches: Vec<Result<RecordBatch, ArrowError>> = batches.into_iter().map(Ok).collect();
    let frame = RecordBatchIterator::new(batches, schema);
    let result = match report {
        None => py.detach(|| write(frame, None))?,
        Some(report) => write_reporting(py, frame, &report, write)?,
    };
    result_dict(py, &result)
}

/// Run `write` on a thread of its own and call `report(rows, keys_written)`
/// every [`REPORT_EVERY`] until it ends, the GIL released in between. An
/// exception raised by `report` (Ctrl-C included) stops the reports and is
/// raised once the write has ended: a write is never left half-sent.
fn write_reporting(
    py: Python<'_>,
    frame: Frame,
    report: &Py<PyAny>,
    write: impl FnOnce(Frame, Option<Arc<WriteProgress>>) -> polars_redis::Result<WriteResult> + Send,
) -> BindingResult<WriteResult> {
    let counters = Arc::new(WriteProgress::default());
    let shared = counters.clone();
    std::thread::scope(|scope| {
        let writing = scope.spawn(move || write(frame, Some(shared)));
        let mut raised = None;
        loop {
            let ended = py.detach(|| {
                let until = Instant::now() + REPORT_EVERY;
                while !writing.is_finished() && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(5));
                }
                writing.is_finished()
            });
            if ended {
                break;
            }
            if raised.is_none() {
                let counts = (counters.rows(), counters.keys_written());
                raised = report.call1(py, counts).err();
            }
        }
        let result = match writing.join() {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match raised {
            Some(err) => Err(err.into()),
            None => Ok(result),
        }
    })
}

fn result_dict<'py>(py: Python<'py>, result: &WriteResult) -> BindingResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("rows", result.rows)?;
    dict.set_item("written", result.written)?;
    dict.set_item("skipped", result.skipped)?;
    dict.set_item("failed", result.failed)?;
    dict.set_item("unknown", result.unknown)?;
    dict.set_item("keys_written", result.keys_written)?;
    let skipped = PyList::empty(py);
    for key in &result.skipped_keys {
        skipped.append(PyBytes::new(py, key.as_bytes()))?;
    }
    dict.set_item("skipped_keys", skipped)?;
    dict.set_item("failures", failures(py, &result.failures)?)?;
    dict.set_item("unknown_keys", failures(py, &result.unknown_keys)?)?;
    Ok(dict)
}

fn failures<'py>(py: Python<'py>, list: &[KeyFailure]) -> BindingResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for f in list {
        let item = (
            PyBytes::new(py, f.key.as_bytes()),
            f.first_row,
            f.rows,
            f.message.as_str(),
        );
        out.append(item.into_pyobject(py)?)?;
    }
    Ok(out)
}

/// Write hashes: one per row, every other column a field. `field_ttl`:
/// `(field, seconds)` pairs; `field_ttl_column`: `(field, column)` pairs.
#[pyfunction]
#[pyo3(signature = (data, args, field_ttl=Vec::new(), field_ttl_column=Vec::new()))]
pub(crate) fn write_hashes<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    field_ttl: Vec<(String, i64)>,
    field_ttl_column: Vec<(String, String)>,
) -> BindingResult<Bound<'py, PyDict>> {
    let mut builder = HashWriteBuilder::new(args.config()?).with_options(args.options()?);
    for (field, seconds) in field_ttl {
        if seconds < 1 {
            return Err(invalid_input(format!(
                "field_ttl of field `{field}` must be at least 1 second, got {seconds}"
            )));
        }
        builder = builder.with_field_ttl(field, FieldTtl::Seconds(seconds.unsigned_abs()));
    }
    for (field, column) in field_ttl_column {
        builder = builder.with_field_ttl(field, FieldTtl::Column(column));
    }
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write JSON documents: one per row, every other column an attribute.
#[pyfunction]
pub(crate) fn write_json<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
) -> BindingResult<Bound<'py, PyDict>> {
    let builder = JsonWriteBuilder::new(args.config()?).with_options(args.options()?);
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write strings from `value_column`.
#[pyfunction]
pub(crate) fn write_strings<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    value_column: String,
) -> BindingResult<Bound<'py, PyDict>> {
    let builder = StringWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_value_column(value_column);
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write sets from `member_column`, rows grouped by key.
#[pyfunction]
pub(crate) fn write_sets<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    member_column: String,
) -> BindingResult<Bound<'py, PyDict>> {
    let builder = SetWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_member_column(member_column);
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write lists from `element_column`, ordered by `order_column` if given.
#[pyfunction]
#[pyo3(signature = (data, args, element_column, order_column=None))]
pub(crate) fn write_lists<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    element_column: String,
    order_column: Option<String>,
) -> BindingResult<Bound<'py, PyDict>> {
    let builder = ListWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_element_column(element_column)
        .with_order_column(order_column.as_deref());
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write sorted sets from `member_column` and `score_column`.
#[pyfunction]
pub(crate) fn write_zsets<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    member_column: String,
    score_column: String,
) -> BindingResult<Bound<'py, PyDict>> {
    let builder = ZsetWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_member_column(member_column)
        .with_score_column(score_column);
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write stream entries, one per row.
#[pyfunction]
#[pyo3(signature = (data, args, id_column=None, maxlen=None, approximate=true))]
pub(crate) fn write_streams<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    id_column: Option<String>,
    maxlen: Option<i128>,
    approximate: bool,
) -> BindingResult<Bound<'py, PyDict>> {
    let maxlen = maxlen.map(|n| count("maxlen", n)).transpose()?;
    let builder = StreamWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_id_column(id_column.as_deref())
        .with_maxlen(maxlen, approximate);
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}

/// Write time series samples with `TS.MADD`.
#[pyfunction]
#[pyo3(signature = (data, args, timestamp_column, value_column, retention_ms=None, labels=None))]
pub(crate) fn write_timeseries<'py>(
    py: Python<'py>,
    data: PyRecordBatchReader,
    args: WriteArgs,
    timestamp_column: String,
    value_column: String,
    retention_ms: Option<i128>,
    labels: Option<Vec<(String, String)>>,
) -> BindingResult<Bound<'py, PyDict>> {
    let retention_ms = retention_ms.map(|n| count("retention", n)).transpose()?;
    let builder = TimeSeriesWriteBuilder::new(args.config()?)
        .with_options(args.options()?)
        .with_timestamp_column(timestamp_column)
        .with_value_column(value_column)
        .with_retention(retention_ms)
        .with_labels(labels.unwrap_or_default());
    execute(py, data, args.progress, move |batches, progress| {
        builder.with_progress(progress).write_reader(batches)
    })
}
