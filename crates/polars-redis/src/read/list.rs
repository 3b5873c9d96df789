//! Lists: one row per element, in list order, with an optional 0-based
//! position. `LLEN` sizes each key; a list that fits in a page is read
//! with one `LRANGE`, a longer one in `LRANGE key start stop` pages of
//! `batch_size` elements.
//!
//! A list is not read atomically when it takes several pages: an element
//! pushed or popped at the head between two pages shifts the later pages, so
//! an element can be skipped or read twice, and positions are those at the
//! time each page was read. Elements appended at the tail during the read are
//! included. Small lists (one page) are read in one command, atomically.

use crate::read::collection::prelude::*;

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
pub type ListScanBuilder = ScanBuilder<ListKind>;

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
        ScanBuilder::with_kind(config, kind)
    }

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

impl Plan for ListKind {
    const REDIS_TYPE: &'static str = "list";
    type Fetcher = PagedFetcher<ListSource>;

    fn fields(&self) -> Result<Vec<Field>> {
        let position = self.position.iter();
        let fields = std::iter::once(self.element.clone())
            .chain(position.map(|name| Field::new(name, FieldType::Int64)))
            .collect();
        flat(fields, Self::REDIS_TYPE)
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let source = ListSource {
            element: context.column(&self.element.name),
            position: self.position.as_deref().and_then(|p| context.column(p)),
        };
        Ok(context.paged(source, None))
    }
}

pub(crate) struct ListSource {
    element: Option<usize>,
    position: Option<usize>,
}

impl PagedSource for ListSource {
    /// Index of the first element of a page.
    type Cursor = u64;
    type Meta = ();
    const TYPE_NAME: &'static str = "list";
    const SIZE_COMMAND: &'static str = "LLEN";
    const PAGE_COMMAND: &'static str = "LRANGE";

    fn first_cursor(&self) -> Option<u64> {
        Some(0)
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], start: &u64, count: u64) {
        let (first, last) = (start.to_string(), (start + count - 1).to_string());
        let args = [&b"LRANGE"[..], key, first.as_bytes(), last.as_bytes()];
        write_array(out, args);
    }

    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        _meta: &(),
        start: &u64,
    ) -> Result<Option<u64>> {
        let mut ordinals = Ordinals::default();
        for i in 0..len as u64 {
            let element = next_bytes(r, "LRANGE", rows.key())?;
            put(rows, self.element, element)?;
            ordinals.put(rows, self.position, start + i)?;
            rows.end_row()?;
        }
        Ok(Some(start + len as u64))
    }
}
