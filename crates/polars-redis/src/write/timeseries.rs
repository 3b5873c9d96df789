//! Writing RedisTimeSeries samples: rows grouped by key, one timestamp and
//! value per row, added with `TS.MADD` to series created as needed.

use std::collections::HashSet;

use arrow_schema::DataType;

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::conflict::IfExists;
use super::encode::{require_numeric, value_column, Encoder, GroupCtx, WriteKind};
use super::frame::Frame;
use crate::error::{Error, Result};
use crate::net::modules::{Module, Requirement};
use crate::types::format::CellResult;

/// Writes RedisTimeSeries samples with `TS.MADD`: rows are grouped by
/// key, each row gives a timestamp (default column `_ts`: integer
/// milliseconds or a Datetime) and a value (default `value`, numeric).
/// A series that does not exist is created with `TS.CREATE` and the
/// retention and labels given here (`replace` always recreates it). A
/// timestamp repeated within one key is rejected.
pub type TimeSeriesWriteBuilder = WriteBuilder<TimeSeriesWrite>;

/// The time-series part of a [`TimeSeriesWriteBuilder`]: the timestamp and
/// value columns, and how new series are created.
#[derive(Clone, Debug)]
pub struct TimeSeriesWrite {
    timestamp_column: String,
    value_column: String,
    retention_ms: Option<u64>,
    labels: Vec<(String, String)>,
}

impl Default for TimeSeriesWrite {
    fn default() -> Self {
        TimeSeriesWrite {
            timestamp_column: "_ts".into(),
            value_column: "value".into(),
            retention_ms: None,
            labels: Vec::new(),
        }
    }
}

impl TimeSeriesWriteBuilder {
    /// The column holding the sample timestamps. Default `_ts`.
    pub fn with_timestamp_column(mut self, name: impl Into<String>) -> Self {
        self.kind.timestamp_column = name.into();
        self
    }

    /// The column holding the sample values. Default `value`.
    pub fn with_value_column(mut self, name: impl Into<String>) -> Self {
        self.kind.value_column = name.into();
        self
    }

    /// `RETENTION` of created series, in milliseconds.
    pub fn with_retention(mut self, retention_ms: Option<u64>) -> Self {
        self.kind.retention_ms = retention_ms;
        self
    }

    /// `LABELS` of created series.
    pub fn with_labels(mut self, labels: Vec<(String, String)>) -> Self {
        self.kind.labels = labels;
        self
    }
}

impl WriteKind for TimeSeriesWrite {
    const GROUPED: bool = true;
    const APPEND_IDEMPOTENT: bool = false;
    const MODULE: Option<Requirement> =
        Some(Requirement::new(Module::TimeSeries, "write_timeseries"));

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let timestamp = value_column(frame, reserved, &self.timestamp_column, "timestamp")?;
        let value = value_column(frame, reserved, &self.value_column, "value")?;
        require_numeric(frame, value, "value")?;
        frame.refuse_form(timestamp, "the samples' timestamps (milliseconds)")?;
        let millis = timestamp_millis(frame, timestamp)?;
        let mut create = Vec::new();
        if let Some(ms) = self.retention_ms {
            create.push(b"RETENTION".to_vec());
            create.push(ms.to_string().into_bytes());
        }
        if !self.labels.is_empty() {
            create.push(b"LABELS".to_vec());
            for (name, value) in &self.labels {
                create.push(name.clone().into_bytes());
                create.push(value.clone().into_bytes());
            }
        }
        Ok(Box::new(TimeSeriesEncoder {
            timestamp,
            millis,
            value,
            create,
        }))
    }
}

/// Sample timestamps in milliseconds, `[batch][row]` (null: `Err` reason).
fn timestamp_millis(
    frame: &Frame,
    column: usize,
) -> Result<Vec<Vec<std::result::Result<i64, String>>>> {
    let name = frame.name(column);
    let per_ms = match frame.data_type(column) {
        t if t.is_integer() => None,
        DataType::Timestamp(unit, _) => Some(match unit {
            arrow_schema::TimeUnit::Second => -1000,
            arrow_schema::TimeUnit::Millisecond => 1,
            arrow_schema::TimeUnit::Microsecond => 1_000,
            arrow_schema::TimeUnit::Nanosecond => 1_000_000,
        }),
        other => {
            return Err(Error::InvalidArgument(format!(
                "timestamp column `{name}` is {other}; expected integer milliseconds or a Datetime"
            )))
        }
    };
    let mut out = Vec::new();
    for batch in &frame.batches {
        let array = batch.column(column);
        let raw = match per_ms {
            None => super::numbers::integer_values(array)
                .map_err(|r| Error::InvalidArgument(format!("timestamp column `{name}`: {r}")))?,
            Some(_) => super::numbers::timestamp_values(array),
        };
        out.push(
            raw.into_iter()
                .map(|v| {
                    let v = v.ok_or_else(|| "the timestamp is null".to_string())?;
                    let ms = match per_ms {
                        None | Some(1) => v,
                        Some(-1000) => v.checked_mul(1000).ok_or("timestamp out of range")?,
                        Some(per) if v % per == 0 => v / per,
                        Some(_) => return Err("the timestamp has sub-millisecond digits, which a time series cannot store".into()),
                    };
                    if ms < 0 {
                        return Err(format!("{ms} ms is before 1970, which a time series cannot store"));
                    }
                    Ok(ms)
                })
                .collect(),
        );
    }
    Ok(out)
}

struct TimeSeriesEncoder {
    timestamp: usize,
    millis: Vec<Vec<std::result::Result<i64, String>>>,
    value: usize,
    /// `TS.CREATE` options.
    create: Vec<Vec<u8>>,
}

/// Samples per `TS.MADD` (each sample is three arguments).
const SAMPLES_PER_MADD: usize = 300;

impl Encoder for TimeSeriesEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let when = if ctx.mode == IfExists::Append {
            When::IfAbsent
        } else {
            When::Always
        };
        cmds.start("TS.CREATE", when);
        for arg in &self.create {
            cmds.arg(arg);
        }
        let mut seen = HashSet::with_capacity(ctx.rows.len());
        let mut number = itoa::Buffer::new();
        for (i, &at) in ctx.rows.iter().enumerate() {
            let ms = self.millis[at.batch as usize][at.row as usize]
                .clone()
                .map_err(|reason| ctx.cell_error(at, self.timestamp, reason))?;
            if !seen.insert(ms) {
                return Err(ctx.cell_error(
                    at,
                    self.timestamp,
                    "the timestamp appears twice in this key",
                ));
            }
            if i % SAMPLES_PER_MADD == 0 {
                cmds.start_with("TS.MADD", When::Always, false);
            }
            cmds.arg(ctx.key);
            cmds.arg(number.format(ms).as_bytes());
            ctx.text_arg(cmds, at, self.value, "sample value")?;
        }
        Ok(())
    }
}
