//! Sets: one row per member. Small sets are read with `SMEMBERS`, large ones
//! with `SSCAN` pages (see [`crate::collection`]); `SSCAN` may return a
//! member twice while the set is rehashed, so repeats are dropped by
//! remembering a 128-bit digest of every member of that key.

use crate::collection::prelude::*;
use crate::keys::SeenKeys;

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
pub type SetScanBuilder = CollectionScanBuilder<SetKind>;

/// The settings of a [`SetScanBuilder`].
#[derive(Clone, Debug)]
pub struct SetKind {
    member: Field,
}

impl SetScanBuilder {
    /// A scan of every set (pattern `*`), members as UTF-8 in column `member`.
    pub fn new(config: ConnectionConfig) -> Self {
        let member = Field::new("member", FieldType::Utf8);
        CollectionScanBuilder::with_kind(config, SetKind { member })
    }

    scan_builder_methods!();

    /// Name and type of the member column. Default `member`, `Utf8`.
    pub fn with_member(mut self, name: impl Into<String>, field_type: FieldType) -> Self {
        self.kind.member = Field::new(name, field_type);
        self
    }
}

impl Kind for SetKind {
    const REDIS_TYPE: &'static str = "set";
    type Fetcher = CollectionFetcher<SetPager>;

    fn fields(&self) -> Vec<Field> {
        vec![self.member.clone()]
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let member = context.column(&self.member.name);
        Ok(CollectionFetcher::new(context, SetPager { member }))
    }
}

pub(crate) struct SetPager {
    member: Option<usize>,
}

/// An `SSCAN` cursor and the members seen so far.
pub(crate) struct SetCursor {
    cursor: Vec<u8>,
    seen: SeenKeys,
}

impl Pager for SetPager {
    type Cursor = SetCursor;
    const REDIS_TYPE: &'static str = "set";
    const COMMANDS: [&'static str; 3] = ["SCARD", "SMEMBERS", "SSCAN"];

    fn queue_whole(&self, out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [&b"SMEMBERS"[..], key], 2);
    }

    fn first_cursor(&self) -> SetCursor {
        SetCursor {
            cursor: b"0".to_vec(),
            seen: SeenKeys::default(),
        }
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], cursor: &SetCursor, count: usize) {
        let count = count.to_string();
        let args = [
            &b"SSCAN"[..],
            key,
            &cursor.cursor,
            b"COUNT",
            count.as_bytes(),
        ];
        write_array(out, args, 5);
    }

    fn decode(
        &self,
        r: &mut ReplyReader<'_>,
        rows: &mut Rows<'_>,
        key: &[u8],
        ttl: Option<i64>,
        cursor: Option<(&mut SetCursor, usize)>,
    ) -> Result<Page> {
        let command = if cursor.is_some() {
            "SSCAN"
        } else {
            "SMEMBERS"
        };
        let bad = || unexpected(command, key);
        let mut seen = None;
        let mut page = Page::Done;
        let members = match (reply_head(r, command, key)?, cursor) {
            (None, _) => return Ok(Page::WrongType),
            (Some(Item::Array(n)), None) => n,
            (Some(Item::Array(2)), Some((cursor, _))) => {
                let next = next_bytes(r, command, key)?;
                if next != b"0" {
                    page = Page::More;
                }
                cursor.cursor = next.to_vec();
                seen = Some(&mut cursor.seen);
                match r.next()? {
                    Item::Array(n) => n,
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        };
        for _ in 0..members {
            let member = next_bytes(r, command, key)?;
            if seen.as_mut().is_none_or(|seen| seen.first_time(member)) {
                rows.value(self.member, key, member)?;
                rows.end_row(key, ttl)?;
            }
        }
        Ok(page)
    }
}
