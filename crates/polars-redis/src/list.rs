//! Lists: one row per element, in list order, with an optional 0-based
//! position. Small lists are read with `LRANGE key 0 -1`, large ones in
//! `LRANGE key start stop` pages (see [`crate::collection`]).
//!
//! A list is not read atomically when it takes several pages: an element
//! pushed or popped at the head between two pages shifts the later pages, so
//! an element can be skipped or read twice, and positions are those at the
//! time each page was read. Elements appended at the tail during the read are
//! included. Small lists (one page) are read in one command, atomically.

use crate::collection::prelude::*;

/// Builds a scan of Redis lists, one row per element.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, FieldType, ListScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let reader = ListScanBuilder::new(config)
///     .with_element("reading", FieldType::Float64)
///     .with_position_column(Some("position"))
///     .with_pattern("sensor:*")
///     .with_batch_size(10_000)
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type ListScanBuilder = CollectionScanBuilder<ListKind>;

/// The settings of a [`ListScanBuilder`].
#[derive(Clone, Debug)]
pub struct ListKind {
    element: Field,
    position: Option<String>,
}

impl ListScanBuilder {
    /// A scan of every list (pattern `*`), elements as UTF-8 in column `element`.
    pub fn new(config: ConnectionConfig) -> Self {
        let element = Field::new("element", FieldType::Utf8);
        let kind = ListKind {
            element,
            position: None,
        };
        CollectionScanBuilder::with_kind(config, kind)
    }

    scan_builder_methods!();

    /// Name and type of the element column. Default `element`, `Utf8`.
    pub fn with_element(mut self, name: impl Into<String>, field_type: FieldType) -> Self {
        self.kind.element = Field::new(name, field_type);
        self
    }

    /// Name of the position column (`Int64`, 0-based, after the element), or
    /// `None` to leave it out. Default off.
    pub fn with_position_column(mut self, name: Option<&str>) -> Self {
        self.kind.position = name.map(str::to_string);
        self
    }
}

impl Kind for ListKind {
    const REDIS_TYPE: &'static str = "list";
    type Fetcher = CollectionFetcher<ListPager>;

    fn fields(&self) -> Vec<Field> {
        let position = self.position.iter();
        std::iter::once(self.element.clone())
            .chain(position.map(|name| Field::new(name, FieldType::Int64)))
            .collect()
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let pager = ListPager {
            element: context.column(&self.element.name),
            position: self.position.as_deref().and_then(|p| context.column(p)),
        };
        Ok(CollectionFetcher::new(context, pager))
    }
}

pub(crate) struct ListPager {
    element: Option<usize>,
    position: Option<usize>,
}

impl Pager for ListPager {
    /// Index of the next element to read.
    type Cursor = usize;
    const REDIS_TYPE: &'static str = "list";
    const COMMANDS: [&'static str; 3] = ["LLEN", "LRANGE", "LRANGE"];

    fn queue_whole(&self, out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [&b"LRANGE"[..], key, b"0", b"-1"], 4);
    }

    fn first_cursor(&self) -> usize {
        0
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], start: &usize, count: usize) {
        let (first, last) = (start.to_string(), (start + count - 1).to_string());
        let args = [&b"LRANGE"[..], key, first.as_bytes(), last.as_bytes()];
        write_array(out, args, 4);
    }

    fn decode(
        &self,
        r: &mut ReplyReader<'_>,
        rows: &mut Rows<'_>,
        key: &[u8],
        ttl: Option<i64>,
        cursor: Option<(&mut usize, usize)>,
    ) -> Result<Page> {
        let elements = match reply_head(r, "LRANGE", key)? {
            None => return Ok(Page::WrongType),
            Some(Item::Array(n)) => n,
            Some(_) => return Err(unexpected("LRANGE", key)),
        };
        let start = cursor.as_ref().map_or(0, |(start, _)| **start);
        for i in 0..elements {
            rows.value(self.element, key, next_bytes(r, "LRANGE", key)?)?;
            rows.ordinal(self.position, key, start + i)?;
            rows.end_row(key, ttl)?;
        }
        Ok(match cursor {
            Some((start, count)) if elements >= count => {
                *start += elements;
                Page::More
            }
            _ => Page::Done,
        })
    }
}
