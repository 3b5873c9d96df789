//! Pub/sub for Python: a subscription (`PubSubSubscription`) whose waits
//! release the GIL and last at most the timeout asked for.

use std::sync::Mutex;

use polars_redis::{FieldType, Payload, PubSubBuilder, PubSubReader};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::PyTable;

use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{connection, seconds_to_duration, size};

/// A live subscription; dropping or closing it unsubscribes.
#[pyclass(module = "polars_redis._internal")]
pub(crate) struct PubSubSubscription {
    inner: Mutex<Option<PubSubReader>>,
}

#[pymethods]
impl PubSubSubscription {
    /// The messages received until `max` came or `timeout_s` passed, as an
    /// Arrow table; `None` once closed.
    #[pyo3(signature = (max, timeout_s))]
    fn next_batch(
        &self,
        py: Python<'_>,
        max: i128,
        timeout_s: Option<f64>,
    ) -> BindingResult<Option<PyTable>> {
        let max = size(polars_redis::BATCH_SIZE_LIMIT, max)?;
        let timeout = timeout_s
            .map(|s| seconds_to_duration("timeout_s", s))
            .transpose()?;
        // The lock is taken without the GIL: a thread holding it may need
        // the GIL to finish.
        let outcome = py.detach(|| {
            let mut guard = self.inner.lock().expect("subscription lock poisoned");
            let reader = guard.as_mut()?;
            let outcome = reader.next_batch(max, timeout);
            if outcome.is_err() {
                *guard = None;
            }
            Some(outcome)
        });
        let Some(batch) = outcome.transpose()? else {
            return Ok(None);
        };
        let schema = batch.schema();
        Ok(Some(PyTable::try_new(vec![batch], schema)?))
    }

    /// Unsubscribe and close the connections.
    fn close(&self) {
        self.inner
            .lock()
            .expect("subscription lock poisoned")
            .take();
    }
}

/// Subscribe to `channels` (patterns when `pattern`); `format` is `raw`
/// (payload as text), `binary` (raw bytes) or `json` (the `fields` of a JSON
/// object payload, as one struct column).
#[pyfunction]
#[pyo3(signature = (url, channels, pattern, format, fields, strict, connect_timeout))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pubsub_subscription(
    py: Python<'_>,
    url: Target,
    channels: Vec<Vec<u8>>,
    pattern: bool,
    format: &str,
    fields: Vec<(String, Bound<'_, PyTuple>)>,
    strict: bool,
    connect_timeout: Option<f64>,
) -> BindingResult<PubSubSubscription> {
    let payload = match format {
        "raw" => Payload::Raw(FieldType::Utf8),
        "binary" => Payload::Raw(FieldType::Binary),
        "json" => Payload::Json(dtypes::fields(fields)?),
        other => {
            return Err(invalid_input(format!(
                "format must be 'raw', 'binary' or 'json', got {other:?}"
            )))
        }
    };
    let builder = PubSubBuilder::new(connection(&url, connect_timeout, None)?, channels)
        .with_patterns(pattern)
        .with_payload(payload)
        .with_strict(strict);
    let reader = py.detach(|| builder.build())?;
    Ok(PubSubSubscription {
        inner: Mutex::new(Some(reader)),
    })
}

/// Add this module's class and function to `_internal`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PubSubSubscription>()?;
    m.add_function(wrap_pyfunction!(pubsub_subscription, m)?)?;
    Ok(())
}
