//! Reading streams: one row per entry, read with `XRANGE ... COUNT n` in
//! pages (see [`crate::read::paged`]), each page starting after the last entry id
//! of the previous one (`(id`).
//!
//! Columns: the entry id (`_id`, String), its millisecond part as a datetime
//! (`_ts`) and its sequence part (`_seq`, UInt64, off by default), then the
//! entry fields typed by the schema, as hash fields are. A field missing from
//! an entry is null; fields not in the schema are ignored; a field repeated
//! within one entry keeps its last value.

use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::unexpected_reply;
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::paged::{PagedFetcher, PagedSource, RowSink};
use crate::read::pushdown::ValueRange;
use crate::read::scan::{FetchContext, Plan, ScanBuilder};
use crate::read::warnings::{FieldCheck, FieldNames};
use crate::types::Field;
use crate::types::{EpochUnit, FieldType, TextForm, TimeUnit};

/// Builds a scan of Redis streams, one row per entry.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, Field, FieldType, StreamScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let schema = vec![Field::new("user", FieldType::Utf8), Field::new("amount", FieldType::Float64)];
/// let reader = StreamScanBuilder::new(config, schema)
///     .with_pattern("events:*")
///     .with_id_range("1700000000000", "+")
///     .with_sequence_column(Some("_seq"))
///     .build()?;
/// for batch in reader {
///     println!("{} entries", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type StreamScanBuilder = ScanBuilder<StreamKind>;

/// The settings of a [`StreamScanBuilder`].
#[derive(Clone, Debug)]
pub struct StreamKind {
    schema: Vec<Field>,
    start_id: String,
    end_id: String,
    count_per_stream: Option<u64>,
    id_column: Option<String>,
    timestamp_column: Option<String>,
    sequence_column: Option<String>,
}

impl StreamScanBuilder {
    /// A scan of every stream (pattern `*`), with these entry fields.
    pub fn new(config: ConnectionConfig, schema: Vec<Field>) -> Self {
        let kind = StreamKind {
            schema,
            start_id: "-".into(),
            end_id: "+".into(),
            count_per_stream: None,
            id_column: Some("_id".into()),
            timestamp_column: Some("_ts".into()),
            sequence_column: None,
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// Read only entries with ids in this range, as `XRANGE` takes them:
    /// `-`, `+`, `ms`, `ms-seq`, or `(id` to exclude the id. Default `-`, `+`.
    pub fn with_id_range(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.kind.start_id = start.into();
        self.kind.end_id = end.into();
        self
    }

    /// Read at most this many entries (the first ones in the range) of each
    /// stream. Default: all.
    pub fn with_count_per_stream(mut self, count: Option<u64>) -> Self {
        self.kind.count_per_stream = count;
        self
    }

    /// Name of the entry id column (String), or `None`. Default `_id`.
    pub fn with_id_column(mut self, name: Option<&str>) -> Self {
        self.kind.id_column = name.map(str::to_string);
        self
    }

    /// Name of the entry timestamp column (`Datetime(ms)`, the id's
    /// millisecond part), or `None`. Default `_ts`.
    pub fn with_timestamp_column(mut self, name: Option<&str>) -> Self {
        self.kind.timestamp_column = name.map(str::to_string);
        self
    }

    /// Name of the entry sequence number column (UInt64, the id's part after
    /// the dash), or `None`. Default off.
    pub fn with_sequence_column(mut self, name: Option<&str>) -> Self {
        self.kind.sequence_column = name.map(str::to_string);
        self
    }
}

impl StreamKind {
    /// The id interval to read: the ids asked for, narrowed by what the
    /// predicate says about the timestamp column. `None` when empty.
    fn interval(&self, predicate: Option<&str>) -> Result<Option<(StreamId, StreamId)>> {
        let (Some(start), Some(end)) = (
            StreamId::parse_bound(&self.start_id, Side::Start)?,
            StreamId::parse_bound(&self.end_id, Side::End)?,
        ) else {
            return Ok(None);
        };
        let range = match (predicate, &self.timestamp_column) {
            (Some(json), Some(column)) => ValueRange::from_polars_json(json, column),
            _ => ValueRange::default(),
        };
        let Some((lower_ms, upper_ms)) = range.integer_bounds() else {
            return Ok(None);
        };
        let mut start = start;
        // With a per-stream count, a later start would pick other "first"
        // entries: only the end can be narrowed then.
        if let (Some(ms), None) = (lower_ms, self.count_per_stream) {
            let Ok(ms) = u64::try_from(ms.max(0)) else {
                return Ok(None);
            };
            start = start.max(StreamId { ms, seq: 0 });
        }
        let mut end = end;
        if let Some(ms) = upper_ms {
            let Ok(ms) = u64::try_from(ms.min(u64::MAX as i128)) else {
                return Ok(None);
            };
            end = end.min(StreamId { ms, seq: u64::MAX });
        }
        Ok((start <= end).then_some((start, end)))
    }
}

impl Plan for StreamKind {
    type Fetcher = PagedFetcher<StreamSource>;
    const REDIS_TYPE: &'static str = "stream";

    fn fields(&self) -> Result<Vec<Field>> {
        if self.count_per_stream == Some(0) {
            return Err(Error::InvalidArgument(
                "count_per_stream must be at least 1".into(),
            ));
        }
        self.interval(None)?;
        Ok(entry_fields(
            self.id_column.as_deref(),
            self.timestamp_column.as_deref(),
            self.sequence_column.as_deref(),
            &self.schema,
        ))
    }

    fn field_check(&self) -> Option<FieldCheck> {
        let names = self.schema.iter().map(|f| f.name.as_str());
        Some(FieldCheck::by_name(
            names,
            "field",
            FieldNames::StreamEntries,
        ))
    }

    fn fetcher(&self, context: FetchContext) -> Result<PagedFetcher<StreamSource>> {
        let entries = EntryDecoder::new(
            &context.layout.fields,
            self.id_column.as_deref(),
            self.timestamp_column.as_deref(),
            self.sequence_column.as_deref(),
        );
        let interval = self.interval(context.predicate_json.as_deref())?;
        match &interval {
            Some((start, end)) => log::debug!("entries read by XRANGE key {start} {end}"),
            None => log::info!("entry ids pushed down: no entry can match"),
        }
        let source = StreamSource { interval, entries };
        Ok(context.paged(source, self.count_per_stream))
    }
}

/// The columns of a stream entry: the id columns that are named (`_id`
/// String, `_ts` the id's milliseconds as a datetime, `_seq` UInt64), then
/// the entry fields of `schema`.
pub(crate) fn entry_fields(
    id_column: Option<&str>,
    timestamp_column: Option<&str>,
    sequence_column: Option<&str>,
    schema: &[Field],
) -> Vec<Field> {
    let timestamp = FieldType::Datetime {
        unit: TimeUnit::Millisecond,
        tz: None,
    };
    let id_columns = [
        (id_column, FieldType::Utf8, None),
        (
            timestamp_column,
            timestamp,
            Some(TextForm::Epoch(EpochUnit::Millisecond)),
        ),
        (sequence_column, FieldType::UInt64, None),
    ];
    let mut fields: Vec<Field> = id_columns
        .into_iter()
        .filter_map(|(name, t, form)| {
            let field = Field::new(name?, t);
            Some(match form {
                Some(form) => field.with_form(form),
                None => field,
            })
        })
        .collect();
    fields.extend(schema.iter().cloned());
    fields
}

/// What a layout column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Id,
    Timestamp,
    Sequence,
    /// An entry field, found through `lookup`.
    Field,
}

/// Decodes `XRANGE` replies into rows.
pub(crate) struct StreamSource {
    /// Inclusive id bounds; `None` when no entry can match.
    interval: Option<(StreamId, StreamId)>,
    entries: EntryDecoder,
}

/// Decodes stream entries (`[id, [field, value, ...]]`, as `XRANGE`,
/// `XREADGROUP` and `XAUTOCLAIM` reply) into the rows of a layout.
pub(crate) struct EntryDecoder {
    roles: Vec<Role>,
    /// Entry field name to layout column.
    lookup: HashMap<Vec<u8>, usize>,
}

impl EntryDecoder {
    /// The decoder of a layout whose `fields` are [`entry_fields`] (maybe
    /// projected), with these id column names.
    pub(crate) fn new(
        fields: &[Field],
        id_column: Option<&str>,
        timestamp_column: Option<&str>,
        sequence_column: Option<&str>,
    ) -> Self {
        let mut lookup = HashMap::new();
        let roles = fields
            .iter()
            .enumerate()
            .map(|(column, field)| {
                let name = Some(field.name.as_str());
                if name == id_column {
                    Role::Id
                } else if name == timestamp_column {
                    Role::Timestamp
                } else if name == sequence_column {
                    Role::Sequence
                } else {
                    lookup.insert(field.name.as_bytes().to_vec(), column);
                    Role::Field
                }
            })
            .collect();
        EntryDecoder { roles, lookup }
    }

    /// Decode `len` entries into `rows`; returns the last entry's id (empty
    /// when `len` is 0). `command` names the reply in errors. With `ids`,
    /// every entry's id is pushed there, and an entry whose fields are nil
    /// (deleted since it was delivered, in a consumer group's history)
    /// gives no row; without it, such an entry is a row of nulls.
    pub(crate) fn read_entries<'r>(
        &self,
        command: &str,
        r: &mut ReplyReader<'r>,
        len: usize,
        rows: &mut RowSink<'_>,
        mut ids: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<&'r [u8]> {
        let bad = |key: &[u8]| unexpected_reply(command, key);
        let mut values: Vec<Option<&[u8]>> = vec![None; self.roles.len()];
        let mut last_id: &[u8] = b"";
        for _ in 0..len {
            let (Item::Array(2), Item::Bytes(id)) = (r.next()?, r.next()?) else {
                return Err(bad(rows.key()));
            };
            last_id = id;
            if let Some(ids) = ids.as_deref_mut() {
                ids.push(id.to_vec());
            }
            let pairs = match r.next()? {
                Item::Array(n) if n % 2 == 0 => n / 2,
                Item::Map(n) => n,
                Item::Nil if ids.is_some() => continue,
                Item::Nil => 0,
                _ => return Err(bad(rows.key())),
            };
            values.fill(None);
            for _ in 0..pairs {
                let (Item::Bytes(name), Item::Bytes(value)) = (r.next()?, r.next()?) else {
                    return Err(bad(rows.key()));
                };
                if let Some(&column) = self.lookup.get(name) {
                    values[column] = Some(value);
                }
            }
            let dash = memchr::memchr(b'-', id).ok_or_else(|| bad(rows.key()))?;
            let (ms, seq) = (&id[..dash], &id[dash + 1..]);
            for (column, role) in self.roles.iter().enumerate() {
                let value = match role {
                    Role::Id => Some(id),
                    Role::Timestamp => Some(ms),
                    Role::Sequence => Some(seq),
                    Role::Field => values[column],
                };
                rows.value(column, value).map_err(|err| in_entry(err, id))?;
            }
            rows.end_row()?;
        }
        Ok(last_id)
    }
}

impl PagedSource for StreamSource {
    /// The `XRANGE` start argument.
    type Cursor = Vec<u8>;
    type Meta = ();
    const TYPE_NAME: &'static str = "stream";
    const SIZE_COMMAND: &'static str = "XLEN";
    const PAGE_COMMAND: &'static str = "XRANGE";

    fn first_cursor(&self) -> Option<Vec<u8>> {
        self.interval
            .map(|(start, _)| start.to_string().into_bytes())
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &Vec<u8>, count: u64) {
        let end = self.interval.map_or(StreamId::MAX, |(_, end)| end);
        let end = end.to_string();
        let count = count.to_string();
        write_array(
            out,
            [
                &b"XRANGE"[..],
                key,
                from,
                end.as_bytes(),
                b"COUNT",
                count.as_bytes(),
            ],
        );
    }

    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        _meta: &(),
        _from: &Vec<u8>,
    ) -> Result<Option<Vec<u8>>> {
        let last_id = self.entries.read_entries("XRANGE", r, len, rows, None)?;
        let max = StreamId::MAX.to_string();
        Ok((len > 0 && last_id != max.as_bytes()).then(|| [b"(", last_id].concat()))
    }
}

/// Name the entry in a parse error.
fn in_entry(err: Error, id: &[u8]) -> Error {
    match err {
        Error::Parse {
            key,
            field,
            value,
            dtype,
            hint,
        } => {
            let entry = format!("entry {}", String::from_utf8_lossy(id));
            Error::Parse {
                key,
                field,
                value,
                dtype,
                hint: Some(match hint {
                    Some(hint) => format!("{entry}; {hint}"),
                    None => entry,
                }),
            }
        }
        other => other,
    }
}

/// Which end of an id interval a bound is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Start,
    End,
}

/// A stream entry id, `ms-seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct StreamId {
    ms: u64,
    seq: u64,
}

impl StreamId {
    const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// Read an `XRANGE` bound the way Redis does: `-`, `+`, `ms` (sequence 0
    /// at the start, the largest at the end), `ms-seq`, and `(` before an id
    /// to exclude it. Returns the inclusive bound; `None` when the exclusion
    /// leaves nothing (e.g. after the largest id).
    fn parse_bound(text: &str, side: Side) -> Result<Option<StreamId>> {
        let name = match side {
            Side::Start => "start_id",
            Side::End => "end_id",
        };
        let invalid = || {
            Error::InvalidArgument(format!(
                "{name} {text:?} is not a stream id (expected `-`, `+`, `ms`, `ms-seq`, \
                 or `(` and an id to exclude it)"
            ))
        };
        let (exclusive, body) = match text.strip_prefix('(') {
            Some(body) => (true, body),
            None => (false, text),
        };
        let id = match body {
            "-" if !exclusive => StreamId::MIN,
            "+" if !exclusive => StreamId::MAX,
            _ => {
                let number = |digits: &str| {
                    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| digits.parse::<u64>().ok())
                        .flatten()
                        .ok_or_else(invalid)
                };
                let (ms, seq) = match body.split_once('-') {
                    Some((ms, seq)) => (number(ms)?, number(seq)?),
                    None if side == Side::Start => (number(body)?, 0),
                    None => (number(body)?, u64::MAX),
                };
                StreamId { ms, seq }
            }
        };
        Ok(match (exclusive, side) {
            (false, _) => Some(id),
            (true, Side::Start) => id.next(),
            (true, Side::End) => id.previous(),
        })
    }

    fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { seq, ..self }),
            None => Some(StreamId {
                ms: self.ms.checked_add(1)?,
                seq: 0,
            }),
        }
    }

    fn previous(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { seq, ..self }),
            None => Some(StreamId {
                ms: self.ms.checked_sub(1)?,
                seq: u64::MAX,
            }),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn parses_bounds_like_xrange() {
        let start = |t: &str| StreamId::parse_bound(t, Side::Start).unwrap();
        let end = |t: &str| StreamId::parse_bound(t, Side::End).unwrap();
        assert_eq!(start("-"), Some(StreamId::MIN));
        assert_eq!(end("+"), Some(StreamId::MAX));
        assert_eq!(start("5"), Some(id(5, 0)));
        assert_eq!(end("5"), Some(id(5, u64::MAX)));
        assert_eq!(start("5-3"), Some(id(5, 3)));
        assert_eq!(start("(5-3"), Some(id(5, 4)));
        assert_eq!(end("(5-0"), Some(id(4, u64::MAX)));
        // As Redis: `(5` at the start is `(5-0`, at the end `(5-max`.
        assert_eq!(start("(5"), Some(id(5, 1)));
        assert_eq!(end("(5"), Some(id(5, u64::MAX - 1)));
        assert_eq!(start(&format!("({}", StreamId::MAX)), None);
        assert_eq!(end("(0-0"), None);
        for bad in [
            "",
            "x",
            "5-",
            "-5",
            "5-x",
            "(-",
            "(+",
            "+5",
            "1-2-3",
            "99999999999999999999",
        ] {
            let err = StreamId::parse_bound(bad, Side::Start).unwrap_err();
            assert!(err.is_invalid_input(), "{bad}: {err}");
            assert!(err.to_string().contains("start_id"), "{err}");
        }
    }

    impl StreamScanBuilder {
        fn interval(&self) -> Result<Option<(StreamId, StreamId)>> {
            self.kind.interval(self.options.predicate_json())
        }
    }

    #[test]
    fn timestamp_predicates_narrow_the_interval() {
        let config = ConnectionConfig::from_url("redis://localhost").unwrap();
        let between = r#"{"Function":{"input":[{"Column":"_ts"},{"Literal":{"Dyn":{"Int":10}}},{"Literal":{"Dyn":{"Int":20}}}],"function":{"Boolean":{"IsBetween":{"closed":"Right"}}}}}"#;
        let scan = StreamScanBuilder::new(config, vec![]).with_predicate_json(Some(between));
        assert_eq!(
            scan.interval().unwrap(),
            Some((id(11, 0), id(20, u64::MAX)))
        );
        let narrower = scan.clone().with_id_range("(12-5", "15");
        assert_eq!(
            narrower.interval().unwrap(),
            Some((id(12, 6), id(15, u64::MAX)))
        );
        let disjoint = scan.clone().with_id_range("30", "+");
        assert_eq!(disjoint.interval().unwrap(), None);
        // A per-stream count keeps the start: the first entries must stay first.
        let counted = scan.clone().with_count_per_stream(Some(3));
        assert_eq!(
            counted.interval().unwrap(),
            Some((StreamId::MIN, id(20, u64::MAX)))
        );
        // Another column name: no narrowing.
        let renamed = scan.with_timestamp_column(Some("when"));
        assert_eq!(
            renamed.interval().unwrap(),
            Some((StreamId::MIN, StreamId::MAX))
        );
    }
}
