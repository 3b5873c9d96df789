//! What strings, sets, lists and sorted sets share: one value field or a
//! few fixed columns, all flat, and small helpers for their
//! [`PagedSource`](crate::read::paged::PagedSource)s (sets, lists and sorted
//! sets are read by the
//! [`PagedFetcher`](crate::read::paged::PagedFetcher): a size probe per key, then
//! bounded pages).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Result;
use crate::net::connection::unexpected_reply;
use crate::net::resp::{push_decimal, write_array, Item, ReplyReader};
use crate::read::keys::SeenKeys;
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

/// Where a cursor scan of one key's elements (`SSCAN`, `HSCAN`) goes on,
/// with the elements read so far once the key takes more than one page: a
/// cursor scan may return an element twice while the key is rehashed
/// between pages, and such repeats are dropped by remembering a 128-bit
/// digest of every element of that key.
#[derive(Clone)]
pub(crate) struct ScanCursor {
    cursor: Vec<u8>,
    seen: Option<Arc<Mutex<SeenKeys>>>,
}

impl ScanCursor {
    /// The first page's cursor.
    pub(crate) fn start() -> Self {
        ScanCursor {
            cursor: b"0".to_vec(),
            seen: None,
        }
    }

    /// Queue `<command> key cursor COUNT count`.
    pub(crate) fn queue(&self, out: &mut Vec<u8>, command: &str, key: &[u8], count: u64) {
        let count = count.to_string();
        let args = [
            command.as_bytes(),
            key,
            &self.cursor,
            b"COUNT",
            count.as_bytes(),
        ];
        write_array(out, args);
    }

    /// Read the head of a reply of `len` items to a page from this cursor
    /// (`[next cursor, [elements...]]`): the page, whose element items follow.
    pub(crate) fn page(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        command: &str,
        key: &[u8],
    ) -> Result<ScanPage> {
        if len != 2 {
            return Err(unexpected_reply(command, key));
        }
        let next = next_bytes(r, command, key)?.to_vec();
        let Item::Array(items) = r.next()? else {
            return Err(unexpected_reply(command, key));
        };
        let done = next == b"0";
        // A key read in one reply has no repeats to drop.
        let seen = match (&self.seen, done) {
            (Some(seen), _) => Some(seen.clone()),
            (None, false) => Some(Arc::new(Mutex::new(SeenKeys::default()))),
            (None, true) => None,
        };
        Ok(ScanPage {
            items,
            next: (!done).then_some(next),
            seen,
        })
    }
}

/// One page of a cursor scan (see [`ScanCursor::page`]).
pub(crate) struct ScanPage {
    /// Items of the element array that follow.
    pub(crate) items: usize,
    next: Option<Vec<u8>>,
    seen: Option<Arc<Mutex<SeenKeys>>>,
}

impl ScanPage {
    /// The repeats filter: pass it to [`ScanPage::first_time`] for each element.
    pub(crate) fn repeats(&self) -> Option<MutexGuard<'_, SeenKeys>> {
        self.seen
            .as_ref()
            .map(|s| s.lock().expect("scanned elements lock"))
    }

    /// Whether `element` was not read from this key before.
    pub(crate) fn first_time(
        repeats: &mut Option<MutexGuard<'_, SeenKeys>>,
        element: &[u8],
    ) -> bool {
        repeats.as_mut().is_none_or(|seen| seen.first_time(element))
    }

    /// Where the next page starts, `None` after the last.
    pub(crate) fn next(self) -> Option<ScanCursor> {
        let seen = self.seen;
        self.next.map(|cursor| ScanCursor { cursor, seen })
    }
}

/// What every type module of this family imports.
pub(crate) mod prelude {
    pub(crate) use super::{flat, next_bytes, put, Ordinals, ScanCursor, ScanPage};
    pub(crate) use crate::error::Result;
    pub(crate) use crate::net::config::ConnectionConfig;
    pub(crate) use crate::net::connection::unexpected_reply;
    pub(crate) use crate::net::resp::{write_array, ReplyReader};
    pub(crate) use crate::read::paged::{PagedFetcher, PagedSource, RowSink};
    pub(crate) use crate::read::scan::{FetchContext, Plan, ScanBuilder};
    pub(crate) use crate::types::Field;
    pub(crate) use crate::types::FieldType;
}
