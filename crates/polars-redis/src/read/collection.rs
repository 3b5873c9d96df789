//! What strings, sets, lists and sorted sets share: one value field or a
//! few fixed columns, all flat, and small helpers for their
//! [`PagedSource`](crate::read::paged::PagedSource)s (sets, lists and sorted
//! sets are read by the
//! [`PagedFetcher`](crate::read::paged::PagedFetcher): a size probe per key, then
//! bounded pages).

use crate::error::Result;
use crate::net::connection::unexpected_reply;
use crate::net::resp::{push_decimal, Item, ReplyReader};
use crate::read::paged::RowSink;
use crate::read::scan::ScanBuilder;
use crate::types::{check_flat, Field};

/// A scan builder of one of the types in this family; use the aliases
/// [`StringScanBuilder`](crate::StringScanBuilder),
/// [`SetScanBuilder`](crate::SetScanBuilder),
/// [`ListScanBuilder`](crate::ListScanBuilder) and
/// [`ZsetScanBuilder`](crate::ZsetScanBuilder).
pub type CollectionScanBuilder<K> = ScanBuilder<K>;

/// `fields`, checked to be flat: these types hold flat strings.
pub(crate) fn flat(fields: Vec<Field>, redis_type: &str) -> Result<Vec<Field>> {
    check_flat(&fields, &format!("{redis_type} values"))?;
    Ok(fields)
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
    pub(crate) use super::{flat, next_bytes, put, Ordinals};
    pub(crate) use crate::error::Result;
    pub(crate) use crate::net::config::ConnectionConfig;
    pub(crate) use crate::net::connection::unexpected_reply;
    pub(crate) use crate::net::resp::{write_array, Item, ReplyReader};
    pub(crate) use crate::read::paged::{PagedFetcher, PagedSource, RowSink};
    pub(crate) use crate::read::scan::{FetchContext, Plan, ScanBuilder};
    pub(crate) use crate::types::Field;
    pub(crate) use crate::types::FieldType;
}
