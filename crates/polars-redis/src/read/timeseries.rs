//! Reading RedisTimeSeries keys: one row per sample (or per aggregation
//! bucket), read with `TS.RANGE ... COUNT n` in pages (see
//! [`crate::read::paged`]); `TS.INFO` gives each series' size and labels.
//!
//! Columns: the timestamp (`_ts`, `Datetime(ms)`), the value (`value`,
//! Float64), then the requested labels (String, null when a series lacks
//! one). Series are selected by key pattern (`SCAN ... TYPE TSDB-TYPE`),
//! by explicit keys, or by a label filter (`TS.QUERYINDEX`).

use std::fmt;
use std::io::Write as _;

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::unexpected_reply;
use crate::net::modules::{Module, Requirement};
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::keys::KeySelection;
use crate::read::paged::{PagedFetcher, PagedSource, RowSink};
use crate::read::pushdown::ValueRange;
use crate::read::scan::{FetchContext, Plan, ScanBuilder};
use crate::read::warnings::{FieldCheck, FieldNames};
use crate::types::Field;
use crate::types::{EpochUnit, FieldType, TextForm, TimeUnit};

/// A server-side aggregation of `TS.RANGE ... AGGREGATION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Aggregation {
    /// Arithmetic mean.
    Avg,
    /// Sum.
    Sum,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Number of samples.
    Count,
    /// Value of the earliest sample.
    First,
    /// Value of the latest sample.
    Last,
    /// Maximum minus minimum.
    Range,
    /// Population standard deviation.
    StdP,
    /// Sample standard deviation.
    StdS,
    /// Population variance.
    VarP,
    /// Sample variance.
    VarS,
    /// Time-weighted average.
    Twa,
}

impl Aggregation {
    const ALL: [Aggregation; 13] = [
        Aggregation::Avg,
        Aggregation::Sum,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Count,
        Aggregation::First,
        Aggregation::Last,
        Aggregation::Range,
        Aggregation::StdP,
        Aggregation::StdS,
        Aggregation::VarP,
        Aggregation::VarS,
        Aggregation::Twa,
    ];

    /// The name RedisTimeSeries uses (`avg`, `std.p`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Avg => "avg",
            Aggregation::Sum => "sum",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Count => "count",
            Aggregation::First => "first",
            Aggregation::Last => "last",
            Aggregation::Range => "range",
            Aggregation::StdP => "std.p",
            Aggregation::StdS => "std.s",
            Aggregation::VarP => "var.p",
            Aggregation::VarS => "var.s",
            Aggregation::Twa => "twa",
        }
    }

    /// Parse a RedisTimeSeries aggregation name, in any case.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
                Error::InvalidArgument(format!(
                    "unknown aggregation {name:?} (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Builds a scan of RedisTimeSeries keys, one row per sample.
///
/// ```no_run
/// use polars_redis::{Aggregation, ConnectionConfig, TimeSeriesScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let reader = TimeSeriesScanBuilder::new(config)
///     .with_filter(["sensor=temp"])
///     .with_labels(["room"])
///     .with_aggregation(Aggregation::Avg, 60_000)
///     .build()?;
/// for batch in reader {
///     println!("{} buckets", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type TimeSeriesScanBuilder = ScanBuilder<TimeSeriesKind>;

/// The settings of a [`TimeSeriesScanBuilder`].
#[derive(Clone, Debug)]
pub struct TimeSeriesKind {
    start: Option<i64>,
    end: Option<i64>,
    aggregation: Option<(Aggregation, i64)>,
    filter: Option<Vec<String>>,
    labels: Vec<String>,
    timestamp_column: String,
    value_column: String,
}

impl TimeSeriesScanBuilder {
    /// A scan of every series (pattern `*`).
    pub fn new(config: ConnectionConfig) -> Self {
        let kind = TimeSeriesKind {
            start: None,
            end: None,
            aggregation: None,
            filter: None,
            labels: Vec::new(),
            timestamp_column: "_ts".into(),
            value_column: "value".into(),
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// Read only samples with `start <= timestamp <= end` (milliseconds
    /// since the epoch; `None` for no limit). Default: all.
    pub fn with_range(mut self, start: Option<i64>, end: Option<i64>) -> Self {
        self.kind.start = start;
        self.kind.end = end;
        self
    }

    /// Aggregate server-side into buckets of `bucket_ms` milliseconds
    /// (aligned to the epoch, stamped with their start).
    pub fn with_aggregation(mut self, aggregation: Aggregation, bucket_ms: i64) -> Self {
        self.kind.aggregation = Some((aggregation, bucket_ms));
        self
    }

    /// Read the series whose labels match these `TS.QUERYINDEX` expressions
    /// (`label=value`, `label!=value`, `label=(a,b)`, ...) instead of a
    /// pattern or a key list.
    pub fn with_filter<I, S>(mut self, filter: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let filter: Vec<String> = filter.into_iter().map(Into::into).collect();
        let mut query = vec![b"TS.QUERYINDEX".to_vec()];
        query.extend(filter.iter().map(|f| f.as_bytes().to_vec()));
        self.options.selection = KeySelection::Query(query);
        self.kind.filter = Some(filter);
        self
    }

    /// Add a String column per label, named after it. Default: none.
    pub fn with_labels<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.kind.labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Name of the timestamp column. Default `_ts`.
    pub fn with_timestamp_column(mut self, name: &str) -> Self {
        self.kind.timestamp_column = name.to_string();
        self
    }

    /// Name of the value column. Default `value`.
    pub fn with_value_column(mut self, name: &str) -> Self {
        self.kind.value_column = name.to_string();
        self
    }
}

impl TimeSeriesKind {
    fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::InvalidArgument(message));
        if let Some((aggregation, bucket)) = self.aggregation {
            if bucket <= 0 {
                return invalid(format!(
                    "aggregation {aggregation} needs a bucket size of at least 1 ms, got {bucket}"
                ));
            }
        }
        for (name, value) in [("start", self.start), ("end", self.end)] {
            if let Some(ms) = value.filter(|ms| *ms < 0) {
                return invalid(format!(
                    "{name} must be a timestamp of at least 0 ms, got {ms}"
                ));
            }
        }
        if self.filter.as_ref().is_some_and(Vec::is_empty) {
            return invalid("filter needs at least one label expression".into());
        }
        for label in &self.labels {
            if *label == self.timestamp_column || *label == self.value_column {
                return invalid(format!(
                    "label `{label}` has the name of the timestamp or value column; \
                     rename that column"
                ));
            }
        }
        Ok(())
    }

    /// Inclusive timestamp bounds to read: the range asked for, narrowed by
    /// what the predicate says about the timestamp column (to whole buckets
    /// when aggregating). `None` when empty.
    fn interval(&self, predicate: Option<&str>) -> Option<(u64, u64)> {
        let mut lower = i128::from(self.start.unwrap_or(0));
        let mut upper = self.end.map_or(i128::from(u64::MAX), i128::from);
        let range = match (predicate, self.aggregation) {
            // A bucket's time-weighted average looks at samples around the
            // bucket: narrowing the read would change edge buckets.
            (_, Some((Aggregation::Twa, _))) | (None, _) => ValueRange::default(),
            (Some(json), _) => ValueRange::from_polars_json(json, &self.timestamp_column),
        };
        let (low, high) = range.integer_bounds()?;
        // A bucket is kept by its start; it holds samples up to its end.
        let bucket = self.aggregation.map_or(1, |(_, ms)| i128::from(ms.max(1)));
        if let Some(low) = low {
            let first_bucket = low.div_euclid(bucket) + i128::from(low.rem_euclid(bucket) != 0);
            lower = lower.max(first_bucket.saturating_mul(bucket));
        }
        if let Some(high) = high {
            let last_bucket = high.div_euclid(bucket).saturating_mul(bucket);
            upper = upper.min(last_bucket.saturating_add(bucket - 1));
        }
        let lower = u64::try_from(lower.max(0)).ok()?;
        let upper = u64::try_from(upper.min(i128::from(u64::MAX))).ok()?;
        (lower <= upper).then_some((lower, upper))
    }
}

impl Plan for TimeSeriesKind {
    type Fetcher = PagedFetcher<TimeSeriesSource>;
    const REDIS_TYPE: &'static str = "TSDB-TYPE";
    const MODULE: Option<Requirement> = Some(Requirement::new(
        Module::TimeSeries,
        "reading time series (scan_timeseries / read_timeseries / iter_timeseries)",
    ));

    fn fields(&self) -> Result<Vec<Field>> {
        self.validate()?;
        let timestamp = FieldType::Datetime {
            unit: TimeUnit::Millisecond,
            tz: None,
        };
        let mut fields = vec![
            Field::new(&self.timestamp_column, timestamp)
                .with_form(TextForm::Epoch(EpochUnit::Millisecond)),
            Field::new(&self.value_column, FieldType::Float64),
        ];
        fields.extend(self.labels.iter().map(|l| Field::new(l, FieldType::Utf8)));
        Ok(fields)
    }

    fn field_check(&self) -> Option<FieldCheck> {
        let labels = self.labels.iter().map(String::as_str);
        Some(FieldCheck::by_name(
            labels,
            "label",
            FieldNames::TimeSeriesLabels,
        ))
    }

    fn fetcher(&self, context: FetchContext) -> Result<PagedFetcher<TimeSeriesSource>> {
        let mut labels = Vec::new();
        let roles = context
            .layout
            .fields
            .iter()
            .map(|field| {
                if field.name == self.timestamp_column {
                    Role::Timestamp
                } else if field.name == self.value_column {
                    Role::Value
                } else {
                    labels.push(field.name.as_bytes().to_vec());
                    Role::Label(labels.len() - 1)
                }
            })
            .collect();
        let source = TimeSeriesSource {
            interval: self.interval(context.predicate_json.as_deref()),
            aggregation: self
                .aggregation
                .map(|(a, ms)| (a, ms.to_string().into_bytes())),
            step: self.aggregation.map_or(1, |(_, ms)| ms as u64),
            roles,
            labels,
        };
        Ok(context.paged(source, None))
    }
}

/// What a layout column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Timestamp,
    Value,
    /// Index into the wanted labels.
    Label(usize),
}

/// Decodes `TS.INFO` and `TS.RANGE` replies into rows.
pub(crate) struct TimeSeriesSource {
    /// Inclusive timestamp bounds; `None` when no sample can match.
    interval: Option<(u64, u64)>,
    /// The aggregation and its bucket size as text.
    aggregation: Option<(Aggregation, Vec<u8>)>,
    /// Distance from a row's timestamp to where the next page starts.
    step: u64,
    roles: Vec<Role>,
    /// Names of the wanted labels.
    labels: Vec<Vec<u8>>,
}

impl TimeSeriesSource {
    /// Read a `TS.INFO` `labels` value into the wanted labels' slots.
    fn read_labels(
        &self,
        r: &mut ReplyReader<'_>,
        key: &[u8],
        values: &mut [Option<Vec<u8>>],
    ) -> Result<()> {
        let bad = || unexpected_reply("TS.INFO", key);
        let pairs = match r.next()? {
            Item::Array(n) | Item::Map(n) => n,
            Item::Nil => 0,
            _ => return Err(bad()),
        };
        for _ in 0..pairs {
            // RESP2: each label is a [name, value] array; RESP3: map entries.
            let first = r.next()?;
            let name = match first {
                Item::Array(2) => r.next()?,
                other => other,
            };
            let (Item::Bytes(name), value) = (name, r.next()?) else {
                return Err(bad());
            };
            let value = match value {
                Item::Bytes(value) => Some(value.to_vec()),
                Item::Nil => None,
                _ => return Err(bad()),
            };
            if let Some(slot) = self.labels.iter().position(|l| l == name) {
                values[slot] = value;
            }
        }
        Ok(())
    }
}

impl PagedSource for TimeSeriesSource {
    /// The `TS.RANGE` start timestamp.
    type Cursor = u64;
    /// The wanted labels' values.
    type Meta = Vec<Option<Vec<u8>>>;
    const TYPE_NAME: &'static str = "time series (TSDB-TYPE)";
    const SIZE_COMMAND: &'static str = "TS.INFO";
    const PAGE_COMMAND: &'static str = "TS.RANGE";

    fn queue_size(&self, out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [&b"TS.INFO"[..], key]);
    }

    fn read_size(
        &self,
        r: &mut ReplyReader<'_>,
        item: Item<'_>,
        key: &[u8],
    ) -> Result<Option<(u64, Self::Meta)>> {
        let bad = || unexpected_reply("TS.INFO", key);
        let pairs = match item {
            Item::Array(n) if n % 2 == 0 => n / 2,
            Item::Map(n) => n,
            _ => return Err(bad()),
        };
        let mut size = None;
        let mut labels = vec![None; self.labels.len()];
        for _ in 0..pairs {
            let Item::Bytes(name) = r.next()? else {
                return Err(bad());
            };
            match name {
                b"totalSamples" => match r.next()? {
                    Item::Int(n) => size = Some(n.max(0) as u64),
                    _ => return Err(bad()),
                },
                b"labels" => self.read_labels(r, key, &mut labels)?,
                _ => {
                    let item = r.next()?;
                    r.value_from(item)?;
                }
            }
        }
        Ok(Some((size.ok_or_else(bad)?, labels)))
    }

    fn is_missing(&self, message: &[u8]) -> bool {
        memchr::memmem::find(message, b"key does not exist").is_some()
    }

    fn first_cursor(&self) -> Option<u64> {
        self.interval.map(|(start, _)| start)
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &u64, count: u64) {
        let from = from.to_string();
        let to = match self.interval {
            Some((_, u64::MAX)) | None => "+".to_string(),
            Some((_, end)) => end.to_string(),
        };
        let count = count.to_string();
        let mut args = vec![
            &b"TS.RANGE"[..],
            key,
            from.as_bytes(),
            to.as_bytes(),
            b"COUNT",
            count.as_bytes(),
        ];
        if let Some((aggregation, bucket)) = &self.aggregation {
            args.extend([b"AGGREGATION", aggregation.name().as_bytes(), bucket]);
        }
        write_array(out, args);
    }

    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        labels: &Self::Meta,
        _from: &u64,
    ) -> Result<Option<u64>> {
        let mut last = None;
        let mut text = [0u8; 24];
        let mut double;
        for _ in 0..len {
            let (Item::Array(2), Item::Int(timestamp)) = (r.next()?, r.next()?) else {
                return Err(unexpected_reply("TS.RANGE", rows.key()));
            };
            let value = match r.next()? {
                Item::Bytes(value) => value,
                Item::Double(value) => {
                    double = value.to_string();
                    double.as_bytes()
                }
                _ => return Err(unexpected_reply("TS.RANGE", rows.key())),
            };
            let mut cursor = &mut text[..];
            write!(cursor, "{timestamp}").expect("an i64 fits in 24 bytes");
            let written = 24 - cursor.len();
            for (column, role) in self.roles.iter().enumerate() {
                let cell = match role {
                    Role::Timestamp => Some(&text[..written]),
                    Role::Value => Some(value),
                    Role::Label(i) => labels[*i].as_deref(),
                };
                rows.value(column, cell)?;
            }
            rows.end_row()?;
            last = Some(timestamp);
        }
        let end = self.interval.map_or(0, |(_, end)| end);
        Ok(last
            .and_then(|last| u64::try_from(last).ok())
            .and_then(|last| last.checked_add(self.step))
            .filter(|next| *next <= end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl TimeSeriesScanBuilder {
        fn interval(&self) -> Option<(u64, u64)> {
            self.kind.interval(self.options.predicate_json())
        }
    }

    fn scan() -> TimeSeriesScanBuilder {
        TimeSeriesScanBuilder::new(ConnectionConfig::from_url("redis://localhost").unwrap())
    }

    #[test]
    fn aggregation_names_round_trip() {
        for a in Aggregation::ALL {
            assert_eq!(Aggregation::from_name(a.name()).unwrap(), a);
        }
        assert_eq!(Aggregation::from_name("STD.P").unwrap(), Aggregation::StdP);
        let err = Aggregation::from_name("median").unwrap_err();
        assert!(err.to_string().contains("\"median\"") && err.to_string().contains("twa"));
    }

    #[test]
    fn validates_options() {
        let err = |b: TimeSeriesScanBuilder| b.output_schema().unwrap_err().to_string();
        assert!(err(scan().with_aggregation(Aggregation::Avg, 0)).contains("bucket size"));
        assert!(err(scan().with_range(Some(-1), None)).contains("start"));
        assert!(err(scan().with_filter(Vec::<String>::new())).contains("filter"));
        assert!(err(scan().with_labels(["value"])).contains("label `value`"));
        let names: Vec<String> = scan()
            .with_labels(["room"])
            .output_schema()
            .unwrap()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["_key", "_ts", "value", "room"]);
    }

    #[test]
    fn timestamp_predicates_narrow_to_whole_buckets() {
        // 1050 <= _ts <= 1250
        let json = r#"{"Function":{"input":[{"Column":"_ts"},{"Literal":{"Dyn":{"Int":1050}}},{"Literal":{"Dyn":{"Int":1250}}}],"function":{"Boolean":{"IsBetween":{"closed":"Both"}}}}}"#;
        let raw = scan().with_predicate_json(Some(json));
        assert_eq!(raw.interval(), Some((1050, 1250)));
        assert_eq!(
            raw.clone().with_range(Some(1100), Some(2000)).interval(),
            Some((1100, 1250))
        );
        assert_eq!(raw.clone().with_range(Some(1300), None).interval(), None);
        // Buckets of 100 starting in [1050, 1250]: 1100 and 1200, whole.
        let buckets = raw.clone().with_aggregation(Aggregation::Sum, 100);
        assert_eq!(buckets.interval(), Some((1100, 1299)));
        // Time-weighted averages are never narrowed.
        let twa = raw.with_aggregation(Aggregation::Twa, 100);
        assert_eq!(twa.interval(), Some((0, u64::MAX)));
        assert_eq!(scan().interval(), Some((0, u64::MAX)));
    }
}
