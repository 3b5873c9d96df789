//! Sorted sets: one row per member, in ascending score order, with the score
//! (`Float64`) and an optional 0-based rank.
//!
//! `ZCARD` sizes each key; a sorted set that fits in a page is read with one
//! `ZRANGE`, a larger one in pages of `batch_size` members. With a score range (from a predicate on the score
//! column) only members inside it are read: `ZCOUNT` sizes the key and
//! `ZRANGE key min max BYSCORE [LIMIT offset count] WITHSCORES` reads it.
//! Pages then continue from the last score read, skipping only the members
//! already read at that score, so a page costs `O(log n + page)` rather than
//! growing with its offset. The range is ignored when the rank column is
//! emitted, since a rank must stay the member's rank in the whole set.

use crate::read::collection::prelude::*;
use crate::read::pushdown::{Bound, ValueRange};

/// Builds a scan of Redis sorted sets, one row per member.
///
/// ```no_run
/// use polars_redis::{Bound, ConnectionConfig, FieldType, ValueRange, ZsetScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let top = ValueRange {
///     lower: Some(Bound { value: 100.0, inclusive: false }),
///     ..ValueRange::default()
/// };
/// let reader = ZsetScanBuilder::new(config)
///     .with_member("player", FieldType::Utf8)
///     .with_score_range(top) // only members scoring above 100 are read
///     .with_pattern("leaderboard:*")
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type ZsetScanBuilder = ScanBuilder<ZsetKind>;

/// The settings of a [`ZsetScanBuilder`].
#[derive(Clone, Debug)]
pub struct ZsetKind {
    member: Field,
    score: String,
    rank: Option<String>,
    range: ValueRange,
}

impl ZsetScanBuilder {
    /// A scan of every sorted set (pattern `*`): columns `member` (UTF-8)
    /// and `score`.
    pub fn new(config: ConnectionConfig) -> Self {
        let kind = ZsetKind {
            member: Field::new("member", FieldType::Utf8),
            score: "score".into(),
            rank: None,
            range: ValueRange::default(),
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// Name and type of the member column. Default `member`, `Utf8`.
    pub fn with_member(mut self, name: impl Into<String>, field_type: FieldType) -> Self {
        self.kind.member = Field::new(name, field_type);
        self
    }

    /// Name of the score column (`Float64`). Default `score`.
    pub fn with_score_column(mut self, name: impl Into<String>) -> Self {
        self.kind.score = name.into();
        self
    }

    /// The score column's name, for reading a [`ValueRange`] from a predicate.
    pub fn score_column(&self) -> &str {
        &self.kind.score
    }

    /// Name of the rank column (`Int64`, 0-based ascending), or `None`.
    /// Default off.
    pub fn with_rank_column(mut self, name: Option<&str>) -> Self {
        self.kind.rank = name.map(str::to_string);
        self
    }

    /// Read only members whose score is in `range` (ignored while the rank
    /// column is emitted). Default: every member.
    pub fn with_score_range(mut self, range: ValueRange) -> Self {
        self.kind.range = range;
        self
    }
}

impl Plan for ZsetKind {
    const REDIS_TYPE: &'static str = "zset";
    type Fetcher = PagedFetcher<ZsetSource>;

    fn fields(&self) -> Result<Vec<Field>> {
        let rank = self.rank.iter().map(|r| Field::new(r, FieldType::Int64));
        let fields = [
            self.member.clone(),
            Field::new(&self.score, FieldType::Float64),
        ]
        .into_iter()
        .chain(rank)
        .collect();
        flat(fields, Self::REDIS_TYPE)
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let rank = self.rank.as_deref().and_then(|r| context.column(r));
        let range = match context.predicate_json.as_deref() {
            Some(json) => self
                .range
                .and(ValueRange::from_polars_json(json, &self.score)),
            None => self.range,
        };
        let limited = range.empty || range.lower.is_some() || range.upper.is_some();
        let by_score = (limited && rank.is_none()).then(|| ByScore {
            min: bound_arg(range.lower, "-inf"),
            min_value: range.lower.map(|b| b.value),
            max: bound_arg(range.upper, "+inf"),
            empty: range.empty,
        });
        if let Some(by_score) = &by_score {
            log::info!(
                "score range pushed down: ZRANGE key {} {} BYSCORE{}",
                String::from_utf8_lossy(&by_score.min),
                String::from_utf8_lossy(&by_score.max),
                if by_score.empty {
                    " (no score can match)"
                } else {
                    ""
                }
            );
        }
        let score = context.column(&self.score);
        let source = ZsetSource {
            member: context.column(&self.member.name),
            with_scores: score.is_some() || by_score.is_some(),
            score,
            rank,
            by_score,
        };
        Ok(context.paged(source, None))
    }
}

/// A `ZRANGE ... BYSCORE` bound: `-inf`/`+inf` when open, `(` when exclusive.
fn bound_arg(bound: Option<Bound>, open: &str) -> Vec<u8> {
    match bound {
        None => open.as_bytes().to_vec(),
        Some(Bound { value, inclusive }) => {
            let exclusive = if inclusive { "" } else { "(" };
            format!("{exclusive}{value:?}").into_bytes()
        }
    }
}

/// The score range being read.
struct ByScore {
    min: Vec<u8>,
    min_value: Option<f64>,
    max: Vec<u8>,
    empty: bool,
}

pub(crate) struct ZsetSource {
    member: Option<usize>,
    score: Option<usize>,
    rank: Option<usize>,
    with_scores: bool,
    by_score: Option<ByScore>,
}

/// Where a page starts: a rank, or (by score) a lowest score and how many
/// members at exactly that score were already read.
#[derive(Clone)]
pub(crate) struct ZsetCursor {
    start: u64,
    min: Vec<u8>,
    min_value: Option<f64>,
    skip: u64,
}

impl PagedSource for ZsetSource {
    type Cursor = ZsetCursor;
    type Meta = ();
    const TYPE_NAME: &'static str = "zset";
    const SIZE_COMMAND: &'static str = "ZCARD";
    const PAGE_COMMAND: &'static str = "ZRANGE";

    fn queue_size(&self, out: &mut Vec<u8>, key: &[u8]) {
        match &self.by_score {
            Some(s) => write_array(out, [&b"ZCOUNT"[..], key, &s.min, &s.max]),
            None => write_array(out, [&b"ZCARD"[..], key]),
        }
    }

    fn first_cursor(&self) -> Option<ZsetCursor> {
        match &self.by_score {
            Some(s) if s.empty => None,
            by_score => Some(ZsetCursor {
                start: 0,
                min: by_score.as_ref().map_or(vec![], |s| s.min.clone()),
                min_value: by_score.as_ref().and_then(|s| s.min_value),
                skip: 0,
            }),
        }
    }

    /// `ZRANGE key <from> <to> [BYSCORE LIMIT skip count] [WITHSCORES]`.
    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &ZsetCursor, count: u64) {
        let (first, last) = (from.start.to_string(), (from.start + count - 1).to_string());
        let (skip, count) = (from.skip.to_string(), count.to_string());
        let mut args: Vec<&[u8]> = vec![b"ZRANGE", key];
        match &self.by_score {
            Some(s) => args.extend([
                &from.min[..],
                &s.max,
                b"BYSCORE",
                b"LIMIT",
                skip.as_bytes(),
                count.as_bytes(),
            ]),
            None => args.extend([first.as_bytes(), last.as_bytes()]),
        }
        if self.with_scores {
            args.push(b"WITHSCORES");
        }
        write_array(out, args);
    }

    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        _meta: &(),
        from: &ZsetCursor,
    ) -> Result<Option<ZsetCursor>> {
        let per_member = if self.with_scores { 2 } else { 1 };
        if len % per_member != 0 {
            return Err(unexpected_reply("ZRANGE", rows.key()));
        }
        let members = (len / per_member) as u64;
        let mut ordinals = Ordinals::default();
        // The last score read, and how many members in a row carried it.
        let mut last: Option<(f64, &[u8])> = None;
        let mut ties = 0;
        for i in 0..members {
            let member = next_bytes(r, "ZRANGE", rows.key())?;
            put(rows, self.member, member)?;
            if self.with_scores {
                let score = next_bytes(r, "ZRANGE", rows.key())?;
                put(rows, self.score, score)?;
                let value = std::str::from_utf8(score)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or_else(|| unexpected_reply("ZRANGE", rows.key()))?;
                ties = match last {
                    Some((v, _)) if v == value => ties + 1,
                    _ => 1,
                };
                last = Some((value, score));
            }
            ordinals.put(rows, self.rank, from.start + i)?;
            rows.end_row()?;
        }
        let mut next = from.clone();
        next.start += members;
        // By score, the next page starts at the last score read, past the
        // members already read at exactly that score.
        if let (Some(_), Some((value, bytes))) = (&self.by_score, last) {
            if next.min_value == Some(value) {
                next.skip += ties;
            } else {
                next.min = bytes.to_vec();
                next.min_value = Some(value);
                next.skip = ties;
            }
        }
        Ok(Some(next))
    }
}
