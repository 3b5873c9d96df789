//! Sorted sets: one row per member, in ascending score order, with the score
//! (`Float64`) and an optional 0-based rank.
//!
//! Small sorted sets are read with one `ZRANGE`, large ones in pages (see
//! [`crate::collection`]). With a score range (from a predicate on the score
//! column) only members inside it are read: `ZCOUNT` sizes the key and
//! `ZRANGE key min max BYSCORE [LIMIT offset count] WITHSCORES` reads it.
//! Pages then continue from the last score read, skipping only the members
//! already read at that score, so a page costs `O(log n + page)` rather than
//! growing with its offset. The range is ignored when the rank column is
//! emitted, since a rank must stay the member's rank in the whole set.

use crate::collection::prelude::*;
use crate::pushdown::{Bound, ValueRange};

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
pub type ZsetScanBuilder = CollectionScanBuilder<ZsetKind>;

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
        CollectionScanBuilder::with_kind(config, kind)
    }

    scan_builder_methods!();

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

impl Kind for ZsetKind {
    const REDIS_TYPE: &'static str = "zset";
    type Fetcher = CollectionFetcher<ZsetPager>;

    fn fields(&self) -> Vec<Field> {
        let rank = self.rank.iter().map(|r| Field::new(r, FieldType::Int64));
        [
            self.member.clone(),
            Field::new(&self.score, FieldType::Float64),
        ]
        .into_iter()
        .chain(rank)
        .collect()
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let rank = self.rank.as_deref().and_then(|r| context.column(r));
        let predicate = context.predicate_json.as_deref();
        let range = match predicate {
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
        let score = context.column(&self.score);
        let pager = ZsetPager {
            member: context.column(&self.member.name),
            with_scores: score.is_some() || by_score.is_some(),
            score,
            rank,
            by_score,
        };
        Ok(CollectionFetcher::new(context, pager))
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

pub(crate) struct ZsetPager {
    member: Option<usize>,
    score: Option<usize>,
    rank: Option<usize>,
    with_scores: bool,
    by_score: Option<ByScore>,
}

/// Where the next page starts: a rank, or (by score) a lowest score and how
/// many members at exactly that score were already read.
pub(crate) struct ZsetCursor {
    start: usize,
    min: Vec<u8>,
    min_value: Option<f64>,
    skip: usize,
}

impl ZsetPager {
    /// `ZRANGE key <from> <to> [BYSCORE] [LIMIT ..] [WITHSCORES]`.
    fn queue_range(&self, out: &mut Vec<u8>, key: &[u8], from: &[u8], to: &[u8], limit: &[&[u8]]) {
        let by_score: &[&[u8]] = if self.by_score.is_some() {
            &[b"BYSCORE"]
        } else {
            &[]
        };
        let scores: &[&[u8]] = if self.with_scores {
            &[b"WITHSCORES"]
        } else {
            &[]
        };
        let head = [&b"ZRANGE"[..], key, from, to];
        let len = head.len() + by_score.len() + limit.len() + scores.len();
        let args = head.into_iter().chain(by_score.iter().copied());
        write_array(
            out,
            args.chain(limit.iter().copied())
                .chain(scores.iter().copied()),
            len,
        );
    }
}

impl Pager for ZsetPager {
    type Cursor = ZsetCursor;
    const REDIS_TYPE: &'static str = "zset";
    const COMMANDS: [&'static str; 3] = ["ZCARD", "ZRANGE", "ZRANGE"];

    fn reads_nothing(&self) -> bool {
        self.by_score.as_ref().is_some_and(|s| s.empty)
    }

    fn size_command(&self) -> &'static str {
        match self.by_score {
            Some(_) => "ZCOUNT",
            None => "ZCARD",
        }
    }

    fn queue_size(&self, out: &mut Vec<u8>, key: &[u8]) {
        match &self.by_score {
            Some(s) => write_array(out, [&b"ZCOUNT"[..], key, &s.min, &s.max], 4),
            None => write_array(out, [&b"ZCARD"[..], key], 2),
        }
    }

    fn queue_whole(&self, out: &mut Vec<u8>, key: &[u8]) {
        match &self.by_score {
            Some(s) => self.queue_range(out, key, &s.min, &s.max, &[]),
            None => self.queue_range(out, key, b"0", b"-1", &[]),
        }
    }

    fn first_cursor(&self) -> ZsetCursor {
        ZsetCursor {
            start: 0,
            min: self.by_score.as_ref().map_or(vec![], |s| s.min.clone()),
            min_value: self.by_score.as_ref().and_then(|s| s.min_value),
            skip: 0,
        }
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], cursor: &ZsetCursor, count: usize) {
        match &self.by_score {
            Some(s) => {
                let (skip, count) = (cursor.skip.to_string(), count.to_string());
                let limit = [&b"LIMIT"[..], skip.as_bytes(), count.as_bytes()];
                self.queue_range(out, key, &cursor.min, &s.max, &limit);
            }
            None => {
                let first = cursor.start.to_string();
                let last = (cursor.start + count - 1).to_string();
                self.queue_range(out, key, first.as_bytes(), last.as_bytes(), &[]);
            }
        }
    }

    fn decode(
        &self,
        r: &mut ReplyReader<'_>,
        rows: &mut Rows<'_>,
        key: &[u8],
        ttl: Option<i64>,
        cursor: Option<(&mut ZsetCursor, usize)>,
    ) -> Result<Page> {
        let bad = || unexpected("ZRANGE", key);
        let per_member = if self.with_scores { 2 } else { 1 };
        let members = match reply_head(r, "ZRANGE", key)? {
            None => return Ok(Page::WrongType),
            Some(Item::Array(n)) if n % per_member == 0 => n / per_member,
            Some(_) => return Err(bad()),
        };
        let start = cursor.as_ref().map_or(0, |(c, _)| c.start);
        // The last score read and how many members in a row carried it.
        let mut last: Option<(f64, &[u8])> = None;
        let mut ties = 0;
        for i in 0..members {
            let member = next_bytes(r, "ZRANGE", key)?;
            rows.value(self.member, key, member)?;
            if self.with_scores {
                let score = next_bytes(r, "ZRANGE", key)?;
                rows.value(self.score, key, score)?;
                let value = std::str::from_utf8(score)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or_else(bad)?;
                ties = if last.is_some_and(|(v, _)| v == value) {
                    ties + 1
                } else {
                    1
                };
                last = Some((value, score));
            }
            rows.ordinal(self.rank, key, start + i)?;
            rows.end_row(key, ttl)?;
        }
        let Some((cursor, count)) = cursor else {
            return Ok(Page::Done);
        };
        if members < count {
            return Ok(Page::Done);
        }
        cursor.start += members;
        if let (Some(_), Some((value, bytes))) = (&self.by_score, last) {
            if cursor.min_value == Some(value) {
                cursor.skip += ties;
            } else {
                cursor.min = bytes.to_vec();
                cursor.min_value = Some(value);
                cursor.skip = ties;
            }
        }
        Ok(Page::More)
    }
}
