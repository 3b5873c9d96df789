//! Sets: one row per member, read with `SSCAN` pages.
//!
//! `SCARD` sizes each key first. A set that fits in one page is asked for
//! with `SSCAN key 0 COUNT size+1`, which returns the whole set in one reply
//! (Redis visits up to ten buckets per unit of `COUNT`). A larger set is read
//! in pages of about `batch_size` members; `SSCAN` may return a member twice
//! while the set is rehashed between pages, so those repeats are dropped by
//! remembering a 128-bit digest of every member of that key.

use std::sync::{Arc, Mutex};

use crate::read::collection::prelude::*;
use crate::read::keys::SeenKeys;

/// Builds a scan of Redis sets, one row per member.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, FieldType, SetScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let reader = SetScanBuilder::new(config)
///     .with_member("tag", FieldType::Utf8)
///     .with_pattern("tags:*")
///     .build()?;
/// let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<_, _>>()?;
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type SetScanBuilder = ScanBuilder<SetKind>;

/// The settings of a [`SetScanBuilder`].
#[derive(Clone, Debug)]
pub struct SetKind {
    member: Field,
}

impl SetScanBuilder {
    /// A scan of every set (pattern `*`), members as UTF-8 in column `member`.
    pub fn new(config: ConnectionConfig) -> Self {
        let member = Field::new("member", FieldType::Utf8);
        ScanBuilder::with_kind(config, SetKind { member })
    }

    /// Name and type of the member column. Default `member`, `Utf8`.
    pub fn with_member(mut self, name: impl Into<String>, field_type: FieldType) -> Self {
        self.kind.member = Field::new(name, field_type);
        self
    }
}

impl Plan for SetKind {
    const REDIS_TYPE: &'static str = "set";
    type Fetcher = PagedFetcher<SetSource>;

    fn fields(&self) -> Result<Vec<Field>> {
        flat(vec![self.member.clone()], Self::REDIS_TYPE)
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let member = context.column(&self.member.name);
        Ok(context.paged(SetSource { member }, None))
    }
}

pub(crate) struct SetSource {
    member: Option<usize>,
}

/// An `SSCAN` cursor, with the members of the key read so far once it
/// takes more than one page.
#[derive(Clone)]
pub(crate) struct SetCursor {
    cursor: Vec<u8>,
    seen: Option<Arc<Mutex<SeenKeys>>>,
}

impl PagedSource for SetSource {
    type Cursor = SetCursor;
    type Meta = ();
    const TYPE_NAME: &'static str = "set";
    const SIZE_COMMAND: &'static str = "SCARD";
    const PAGE_COMMAND: &'static str = "SSCAN";
    const SHORT_PAGES_END: bool = false;

    fn first_cursor(&self) -> Option<SetCursor> {
        Some(SetCursor {
            cursor: b"0".to_vec(),
            seen: None,
        })
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &SetCursor, count: u64) {
        let count = count.to_string();
        let args = [&b"SSCAN"[..], key, &from.cursor, b"COUNT", count.as_bytes()];
        write_array(out, args);
    }

    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        _meta: &(),
        from: &SetCursor,
    ) -> Result<Option<SetCursor>> {
        let key = rows.key().to_vec();
        let bad = || unexpected_reply("SSCAN", &key);
        if len != 2 {
            return Err(bad());
        }
        let next = next_bytes(r, "SSCAN", &key)?.to_vec();
        let Item::Array(members) = r.next()? else {
            return Err(bad());
        };
        let done = next == b"0";
        // A set read in one reply has no repeats to drop.
        let seen = match (&from.seen, done) {
            (Some(seen), _) => Some(seen.clone()),
            (None, false) => Some(Arc::new(Mutex::new(SeenKeys::default()))),
            (None, true) => None,
        };
        let mut guard = seen.as_ref().map(|s| s.lock().expect("member set lock"));
        for _ in 0..members {
            let member = next_bytes(r, "SSCAN", &key)?;
            if guard.as_mut().is_none_or(|seen| seen.first_time(member)) {
                put(rows, self.member, member)?;
                rows.end_row()?;
            }
        }
        drop(guard);
        Ok((!done).then_some(SetCursor { cursor: next, seen }))
    }
}
