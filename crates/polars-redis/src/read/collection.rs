//! What strings, sets, lists and sorted sets share: one builder shape
//! ([`CollectionScanBuilder`], aliased per type) and small helpers for their
//! [`PagedSource`]s (sets, lists and sorted sets are read by the
//! [`PagedFetcher`]: a size probe per key, then bounded pages).

use std::sync::Arc;

use crate::error::Result;
use crate::net::config::ConnectionConfig;
use crate::net::connection::unexpected_reply;
use crate::net::resp::{push_decimal, Item, ReplyReader};
use crate::read::engine::Fetcher;
use crate::read::layout::Layout;
use crate::read::paged::{PagedFetcher, PagedSource, RowSink};
use crate::read::scan::{Plan, ScanOptions};
use crate::types::{check_flat, Field};

/// A scan builder of one of the types in this family; use the aliases
/// [`StringScanBuilder`](crate::StringScanBuilder),
/// [`SetScanBuilder`](crate::SetScanBuilder),
/// [`ListScanBuilder`](crate::ListScanBuilder) and
/// [`ZsetScanBuilder`](crate::ZsetScanBuilder).
#[derive(Clone, Debug)]
pub struct CollectionScanBuilder<K> {
    config: ConnectionConfig,
    pub(crate) options: ScanOptions,
    pub(crate) kind: K,
}

impl<K> CollectionScanBuilder<K> {
    pub(crate) fn with_kind(config: ConnectionConfig, kind: K) -> Self {
        CollectionScanBuilder {
            config,
            options: ScanOptions::default(),
            kind,
        }
    }
}

/// What a fetcher of one type needs to know about the scan.
pub(crate) struct FetchContext {
    pub(crate) layout: Arc<Layout>,
    /// Keys the user listed: a key of another type is an error, not skipped.
    pub(crate) wrong_type_is_error: bool,
    /// Rows per page and per emitted chunk.
    pub(crate) batch_size: usize,
    /// The scan's row limit.
    pub(crate) limit: Option<usize>,
    /// The serialized predicate to narrow reads by (see `ScanOptions::predicate_json`).
    pub(crate) predicate_json: Option<String>,
}

impl FetchContext {
    /// Position of the value column `name` in the (projected) layout.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.layout.fields.iter().position(|f| f.name == name)
    }

    /// A fetcher reading `source` in pages of `batch_size` rows.
    pub(crate) fn paged<S: PagedSource>(self, source: S) -> PagedFetcher<S> {
        PagedFetcher::new(
            source,
            self.layout,
            self.batch_size,
            None,
            self.limit,
            self.wrong_type_is_error,
        )
    }
}

/// The type-specific half of a [`CollectionScanBuilder`].
pub(crate) trait Kind {
    /// The `SCAN ... TYPE` name.
    const REDIS_TYPE: &'static str;
    type Fetcher: Fetcher;
    /// Every value column, before projection.
    fn fields(&self) -> Vec<Field>;
    fn fetcher(&self, context: FetchContext) -> Result<Self::Fetcher>;
}

impl<K: Kind> Plan for CollectionScanBuilder<K> {
    type Fetcher = K::Fetcher;
    const REDIS_TYPE: &'static str = K::REDIS_TYPE;

    fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    fn options(&self) -> &ScanOptions {
        &self.options
    }

    fn fields(&self) -> Result<Vec<Field>> {
        let fields = self.kind.fields();
        check_flat(&fields, &format!("{} values", K::REDIS_TYPE))?;
        Ok(fields)
    }

    fn fetcher(&self, layout: Arc<Layout>, wrong_type_is_error: bool) -> Result<K::Fetcher> {
        self.kind.fetcher(FetchContext {
            layout,
            wrong_type_is_error,
            batch_size: self.options.batch_size,
            limit: self.options.limit,
            predicate_json: self.options.predicate_json().map(str::to_string),
        })
    }
}

/// The next item of a reply, which must be a bulk string.
pub(crate) fn next_bytes<'a>(
    r: &mut ReplyReader<'a>,
    command: &str,
    key: &[u8],
) -> Result<&'a [u8]> {
    match r.next()? {
        Item::Bytes(bytes) => Ok(bytes),
        _ => Err(unexpected_reply(command, key)),
    }
}

/// Append `bytes` to value column `column`, if that column is emitted.
pub(crate) fn put(rows: &mut RowSink<'_>, column: Option<usize>, bytes: &[u8]) -> Result<()> {
    match column {
        Some(column) => rows.value(column, Some(bytes)),
        None => Ok(()),
    }
}

/// Ordinals (list positions, sorted-set ranks) for `Int64` columns, as the
/// decimal text the column parses.
#[derive(Default)]
pub(crate) struct Ordinals(Vec<u8>);

impl Ordinals {
    /// Append `n` to value column `column`, if that column is emitted.
    pub(crate) fn put(
        &mut self,
        rows: &mut RowSink<'_>,
        column: Option<usize>,
        n: u64,
    ) -> Result<()> {
        if column.is_none() {
            return Ok(());
        }
        self.0.clear();
        push_decimal(&mut self.0, n as usize);
        put(rows, column, &self.0)
    }
}

/// What every type module of this family imports.
pub(crate) mod prelude {
    pub(crate) use super::{next_bytes, put, CollectionScanBuilder, FetchContext, Kind, Ordinals};
    pub(crate) use crate::error::Result;
    pub(crate) use crate::net::config::ConnectionConfig;
    pub(crate) use crate::net::connection::unexpected_reply;
    pub(crate) use crate::net::resp::{write_array, Item, ReplyReader};
    pub(crate) use crate::read::paged::{PagedFetcher, PagedSource, RowSink};
    pub(crate) use crate::read::scan::scan_builder_methods;
    pub(crate) use crate::types::Field;
    pub(crate) use crate::types::FieldType;
}
