//! Sets: one row per member, read with `SSCAN` pages.
//!
//! `SCARD` sizes each key first. A set that fits in one page is asked for
//! with `SSCAN key 0 COUNT size+1`, which returns the whole set in one reply
//! (Redis visits up to ten buckets per unit of `COUNT`). A larger set is read
//! in pages of about `batch_size` members; `SSCAN` may return a member twice
//! while the set is rehashed between pages, so those repeats are dropped
//! (see [`ScanCursor`]).

use crate::read::collection::prelude::*;

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

impl PagedSource for SetSource {
    type Cursor = ScanCursor;
    type Meta = ();
    const TYPE_NAME: &'static str = "set";
    const SIZE_COMMAND: &'static str = "SCARD";
    const PAGE_COMMAND: &'static str = "SSCAN";
    const SHORT_PAGES_END: bool = false;

    fn first_cursor(&self) -> Option<ScanCursor> {
        Some(ScanCursor::start())
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &ScanCursor, count: u64) {
        from.queue(out, "SSCAN", key, count);
    }

    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        _meta: &(),
        from: &ScanCursor,
    ) -> Result<Option<ScanCursor>> {
        let key = rows.key().to_vec();
        let page = from.page(r, len, "SSCAN", &key)?;
        let mut repeats = page.repeats();
        for _ in 0..page.items {
            let member = next_bytes(r, "SSCAN", &key)?;
            if ScanPage::first_time(&mut repeats, member) {
                put(rows, self.member, member)?;
                rows.end_row()?;
            }
        }
        drop(repeats);
        Ok(page.next())
    }
}
