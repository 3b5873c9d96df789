//! Hashes in long form: one row per field (`_key`, `field`, `value`), for
//! hashes whose field names no fixed schema describes. Read with `HSCAN`
//! pages like sets with `SSCAN` (see `set.rs`): `HLEN` sizes each key, a
//! hash that fits in one page is read in one reply, a larger one in pages of
//! about `batch_size` fields, repeats from a rehash between pages dropped
//! (see [`ScanCursor`]). A hash of a million fields is thus read in bounded
//! chunks, never whole.

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::Error;
use crate::read::collection::prelude::*;

/// Builds a long-form scan of Redis hashes, one row per field.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, FieldType, HashFieldsScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let reader = HashFieldsScanBuilder::new(config)
///     .with_value_type(FieldType::Float64)
///     .with_pattern("features:*")
///     .build()?;
/// let rows: usize = reader.map(|b| b.map(|b| b.num_rows())).sum::<Result<_, _>>()?;
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type HashFieldsScanBuilder = ScanBuilder<HashFieldsKind>;

/// The settings of a [`HashFieldsScanBuilder`].
#[derive(Clone, Debug)]
pub struct HashFieldsKind {
    field: Field,
    value: Field,
    /// Only these fields, when set.
    only: Option<Arc<HashSet<Vec<u8>>>>,
}

impl HashFieldsScanBuilder {
    /// A scan of every hash (pattern `*`): columns `field` and `value`, both `Utf8`.
    pub fn new(config: ConnectionConfig) -> Self {
        let kind = HashFieldsKind {
            field: Field::new("field", FieldType::Utf8),
            value: Field::new("value", FieldType::Utf8),
            only: None,
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// The name of the field-name column. Default `field`.
    pub fn with_field_column(mut self, name: impl Into<String>) -> Self {
        self.kind.field = Field::new(name, FieldType::Utf8);
        self
    }

    /// Name and type of the value column: every value is parsed as this
    /// type. Default `value`, `Utf8`.
    pub fn with_value(mut self, name: impl Into<String>, field_type: FieldType) -> Self {
        self.kind.value = Field::new(name, field_type);
        self
    }

    /// The type of the value column (see [`HashFieldsScanBuilder::with_value`]).
    pub fn with_value_type(mut self, field_type: FieldType) -> Self {
        self.kind.value = Field::new(self.kind.value.name, field_type);
        self
    }

    /// Only rows of these fields (the others are read and dropped). Default: all.
    pub fn with_fields<I, S>(mut self, fields: Option<I>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.kind.only =
            fields.map(|f| Arc::new(f.into_iter().map(|s| s.as_ref().to_vec()).collect()));
        self
    }
}

impl Plan for HashFieldsKind {
    const REDIS_TYPE: &'static str = "hash";
    type Fetcher = PagedFetcher<HashFieldsSource>;

    fn fields(&self) -> Result<Vec<Field>> {
        flat(vec![self.field.clone(), self.value.clone()], "hash field")
    }

    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher> {
        let source = HashFieldsSource {
            field: context.column(&self.field.name),
            value: context.column(&self.value.name),
            only: self.only.clone(),
        };
        Ok(context.paged(source, None))
    }
}

pub(crate) struct HashFieldsSource {
    field: Option<usize>,
    value: Option<usize>,
    only: Option<Arc<HashSet<Vec<u8>>>>,
}

impl HashFieldsSource {
    /// Append one field's value; a parse error names the hash field, as a
    /// hash scan's does.
    fn put_value(&self, rows: &mut RowSink<'_>, field: &[u8], value: &[u8]) -> Result<()> {
        put(rows, self.value, value).map_err(|err| match err {
            Error::Parse {
                key,
                value,
                dtype,
                hint,
                ..
            } => Error::Parse {
                key,
                field: String::from_utf8_lossy(field).into_owned(),
                value,
                dtype,
                hint,
            },
            other => other,
        })
    }
}

impl PagedSource for HashFieldsSource {
    type Cursor = ScanCursor;
    type Meta = ();
    const TYPE_NAME: &'static str = "hash";
    const SIZE_COMMAND: &'static str = "HLEN";
    const PAGE_COMMAND: &'static str = "HSCAN";
    const SHORT_PAGES_END: bool = false;

    fn first_cursor(&self) -> Option<ScanCursor> {
        Some(ScanCursor::start())
    }

    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &ScanCursor, count: u64) {
        from.queue(out, "HSCAN", key, count);
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
        let page = from.page(r, len, "HSCAN", &key)?;
        if page.items % 2 != 0 {
            return Err(unexpected_reply("HSCAN", &key));
        }
        let mut repeats = page.repeats();
        for _ in 0..page.items / 2 {
            let field = next_bytes(r, "HSCAN", &key)?;
            let value = next_bytes(r, "HSCAN", &key)?;
            if self.only.as_ref().is_some_and(|only| !only.contains(field)) {
                continue;
            }
            if ScanPage::first_time(&mut repeats, field) {
                put(rows, self.field, field)?;
                self.put_value(rows, field, value)?;
                rows.end_row()?;
            }
        }
        drop(repeats);
        Ok(page.next())
    }
}
