//! What the one-value and many-row types share: the builder shape
//! ([`CollectionScanBuilder`], one per type through an alias), the row
//! accumulator, and the fetch skeleton for sets, lists and sorted sets.
//!
//! A set, list or sorted set turns into one row per member, and one key may
//! hold millions of them. Each key batch is therefore read in two steps:
//!
//! 1. one pipeline asks every key's size (`SCARD`, `LLEN`, `ZCARD`/`ZCOUNT`)
//!    and, if wanted, its TTL. A size of 0 is a missing key (Redis deletes
//!    empty collections); a `WRONGTYPE` reply is a key of another type.
//! 2. keys are then read in key order: runs of small keys (at most one page
//!    of members in all) with one pipeline of whole reads (`SMEMBERS`,
//!    `LRANGE 0 -1`, `ZRANGE 0 -1`), and each large key alone, page by page
//!    (`SSCAN`, `LRANGE start stop`, `ZRANGE ...`), so no reply holds more
//!    than about one page of members.
//!
//! Rows are emitted in chunks of about `batch_size` rows; a row limit caps
//! the page size, so `head(5)` on a huge list reads five elements.

use std::sync::Arc;

use arrow_array::RecordBatch;

use crate::config::ConnectionConfig;
use crate::connection::unexpected_reply as unexpected;
use crate::connection::{server_error, Connection};
use crate::engine::{ChunkSink, Fetcher};
use crate::error::Result;
use crate::layout::{Field, Layout, RowBuilders};
use crate::paged::is_wrong_type;
use crate::resp::{push_decimal, write_array, Item, ReplyReader};
use crate::scan::{Plan, ScanOptions};

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
    /// Rows per emitted chunk.
    pub(crate) batch_size: usize,
    /// Rows a single key batch can ever need (the scan's row limit).
    pub(crate) limit: Option<usize>,
    /// The serialized predicate to narrow reads by (see `ScanOptions::predicate_json`).
    pub(crate) predicate_json: Option<String>,
}

impl FetchContext {
    /// Members read per page, and the size above which a key is paged.
    pub(crate) fn page(&self) -> usize {
        self.limit
            .map_or(self.batch_size, |l| l.clamp(1, self.batch_size))
    }

    /// Position of the value column `name` in the (projected) layout.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.layout.fields.iter().position(|f| f.name == name)
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
        Ok(self.kind.fields())
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

/// Rows under construction: each row is its value columns, then
/// [`Rows::end_row`] with its key and TTL.
pub(crate) struct Rows<'a> {
    layout: &'a Layout,
    builders: RowBuilders,
    len: usize,
    total: usize,
    /// Scratch space for ordinals' text.
    digits: Vec<u8>,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(layout: &'a Layout, capacity: usize) -> Self {
        Rows {
            layout,
            builders: layout.builders(capacity),
            len: 0,
            total: 0,
            digits: Vec::with_capacity(20),
        }
    }

    /// Rows since the last [`Rows::take`].
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Append `bytes` to value column `column`, if that column is emitted.
    pub(crate) fn value(&mut self, column: Option<usize>, key: &[u8], bytes: &[u8]) -> Result<()> {
        match column {
            Some(column) => self
                .layout
                .append_value(&mut self.builders, column, key, Some(bytes)),
            None => Ok(()),
        }
    }

    /// Append an ordinal (list position, zset rank) to value column `column`.
    pub(crate) fn ordinal(&mut self, column: Option<usize>, key: &[u8], n: usize) -> Result<()> {
        let Some(column) = column else {
            return Ok(());
        };
        self.digits.clear();
        push_decimal(&mut self.digits, n);
        self.layout
            .append_value(&mut self.builders, column, key, Some(&self.digits))
    }

    /// Rows ever appended.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Finish a row with its key and TTL columns.
    pub(crate) fn end_row(&mut self, key: &[u8], ttl: Option<i64>) -> Result<()> {
        self.len += 1;
        self.total += 1;
        self.layout.append_key_and_ttl(&mut self.builders, key, ttl)
    }

    /// The rows so far as a batch; starts over empty.
    pub(crate) fn take(&mut self) -> Result<RecordBatch> {
        self.len = 0;
        self.layout.finish(&mut self.builders)
    }
}

/// What one reply said about its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Page {
    /// Every member (from here on) was read.
    Done,
    /// More pages follow; the cursor was advanced.
    More,
    /// The key holds another type (it changed since SCAN).
    WrongType,
}

/// The commands and reply decoding of one collection type.
pub(crate) trait Pager: Send + Sync + 'static {
    /// Where the next page starts.
    type Cursor: Send;
    const REDIS_TYPE: &'static str;
    /// Names for messages: the size, whole-read and page commands.
    const COMMANDS: [&'static str; 3];

    /// True when no member can match (an empty score range): nothing is read.
    fn reads_nothing(&self) -> bool {
        false
    }
    /// The command telling a key's member count (by default `COMMANDS[0]`).
    fn size_command(&self) -> &'static str {
        Self::COMMANDS[0]
    }
    /// Queue the size command (by default `<size_command> key`).
    fn queue_size(&self, out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [self.size_command().as_bytes(), key], 2);
    }
    /// Queue a read of every member of a small key.
    fn queue_whole(&self, out: &mut Vec<u8>, key: &[u8]);
    fn first_cursor(&self) -> Self::Cursor;
    /// Queue a read of about `count` members from `cursor` on.
    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], cursor: &Self::Cursor, count: usize);
    /// Decode a whole read (`cursor` is `None`) or a page into `rows`.
    fn decode(
        &self,
        r: &mut ReplyReader<'_>,
        rows: &mut Rows<'_>,
        key: &[u8],
        ttl: Option<i64>,
        cursor: Option<(&mut Self::Cursor, usize)>,
    ) -> Result<Page>;
}

/// The first item of a reply, `None` for a `WRONGTYPE` error; any other
/// error reply becomes an error naming the command and key.
pub(crate) fn reply_head<'a>(
    r: &mut ReplyReader<'a>,
    command: &str,
    key: &[u8],
) -> Result<Option<Item<'a>>> {
    match r.next()? {
        Item::Error(msg) if is_wrong_type(msg) => Ok(None),
        Item::Error(msg) => Err(server_error(command, Some(key), msg)),
        item => Ok(Some(item)),
    }
}

/// The next item, which must be a bulk string.
pub(crate) fn next_bytes<'a>(
    r: &mut ReplyReader<'a>,
    command: &str,
    key: &[u8],
) -> Result<&'a [u8]> {
    match r.next()? {
        Item::Bytes(bytes) => Ok(bytes),
        _ => Err(unexpected(command, key)),
    }
}

/// What every type module of this family imports.
pub(crate) mod prelude {
    pub(crate) use super::{
        next_bytes, reply_head, CollectionFetcher, CollectionScanBuilder, FetchContext, Kind, Page,
        Pager, Rows,
    };
    pub(crate) use crate::config::ConnectionConfig;
    pub(crate) use crate::connection::unexpected_reply as unexpected;
    pub(crate) use crate::error::Result;
    pub(crate) use crate::layout::Field;
    pub(crate) use crate::resp::{write_array, Item, ReplyReader};
    pub(crate) use crate::scan::scan_builder_methods;
    pub(crate) use crate::types::FieldType;
}

/// The fetch skeleton for collections, see the module docs.
pub(crate) struct CollectionFetcher<P> {
    context: FetchContext,
    pager: P,
}

/// A key's size (0 when missing or of another type) and TTL.
type Sized_ = (usize, Option<i64>);

impl<P: Pager> CollectionFetcher<P> {
    pub(crate) fn new(context: FetchContext, pager: P) -> Self {
        CollectionFetcher { context, pager }
    }

    /// Step 1: every key's size and TTL, in one pipeline.
    async fn sizes(&self, conn: &mut Connection, keys: &[Vec<u8>]) -> Result<Vec<Sized_>> {
        let with_ttl = self.context.layout.extra.ttl.is_some();
        let out = conn.write_buf();
        for key in keys {
            self.pager.queue_size(out, key);
            if with_ttl {
                write_array(out, [&b"TTL"[..], key], 2);
            }
        }
        conn.flush().await?;
        let command = self.pager.size_command();
        let mut sizes = Vec::with_capacity(keys.len());
        let mut wrong_type = None;
        for (position, key) in keys.iter().enumerate() {
            let size = conn
                .read_reply(command, |r| match reply_head(r, command, key)? {
                    Some(Item::Int(n)) => Ok(Some(usize::try_from(n).unwrap_or(0))),
                    None => Ok(None),
                    _ => Err(unexpected(command, key)),
                })
                .await?;
            let ttl = match with_ttl {
                true => conn.read_ttl(key).await?,
                false => None,
            };
            if size.is_none() {
                wrong_type.get_or_insert(position);
            }
            sizes.push((size.unwrap_or(0), ttl));
        }
        if let (Some(position), true) = (wrong_type, self.context.wrong_type_is_error) {
            return Err(conn.wrong_type_error(&keys[position], P::REDIS_TYPE).await);
        }
        Ok(sizes)
    }

    /// Emit the rows so far if they fill a chunk; `false` once the scan stopped.
    async fn emit_full(&self, rows: &mut Rows<'_>, sink: &ChunkSink) -> Result<bool> {
        if rows.len() < self.context.batch_size {
            return Ok(true);
        }
        Ok(sink.emit(rows.take()?).await)
    }

    /// Read a run of small keys with one pipeline of whole reads.
    async fn read_run(
        &self,
        conn: &mut Connection,
        keys: &[Vec<u8>],
        sizes: &[Sized_],
        rows: &mut Rows<'_>,
        sink: &ChunkSink,
    ) -> Result<bool> {
        let out = conn.write_buf();
        for (key, (size, _)) in keys.iter().zip(sizes) {
            if *size > 0 {
                self.pager.queue_whole(out, key);
            }
        }
        conn.flush().await?;
        let mut wrong_type = None;
        let mut going = true;
        for (key, (size, ttl)) in keys.iter().zip(sizes) {
            if *size == 0 {
                continue;
            }
            let page = conn
                .read_reply(P::COMMANDS[1], |r| {
                    self.pager.decode(r, rows, key, *ttl, None)
                })
                .await?;
            if page == Page::WrongType {
                wrong_type.get_or_insert(key);
            }
            // Keep reading the pipeline's replies even once the scan stopped,
            // so the connection stays in step.
            going = going && self.emit_full(rows, sink).await?;
        }
        match wrong_type {
            Some(key) if self.context.wrong_type_is_error => {
                Err(conn.wrong_type_error(key, P::REDIS_TYPE).await)
            }
            _ => Ok(going),
        }
    }

    /// Read one large key page by page, up to `wanted` rows.
    async fn read_paged(
        &self,
        conn: &mut Connection,
        key: &[u8],
        ttl: Option<i64>,
        wanted: usize,
        rows: &mut Rows<'_>,
        sink: &ChunkSink,
    ) -> Result<bool> {
        let mut cursor = self.pager.first_cursor();
        let start = rows.total();
        loop {
            let count = self.context.page().min(wanted - (rows.total() - start));
            self.pager.queue_page(conn.write_buf(), key, &cursor, count);
            conn.flush().await?;
            let page = conn
                .read_reply(P::COMMANDS[2], |r| {
                    self.pager
                        .decode(r, rows, key, ttl, Some((&mut cursor, count)))
                })
                .await?;
            if page == Page::WrongType && self.context.wrong_type_is_error {
                return Err(conn.wrong_type_error(key, P::REDIS_TYPE).await);
            }
            if !self.emit_full(rows, sink).await? {
                return Ok(false);
            }
            if page != Page::More || rows.total() - start >= wanted {
                return Ok(true);
            }
        }
    }
}

impl<P: Pager> Fetcher for CollectionFetcher<P> {
    async fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> Result<()> {
        if self.pager.reads_nothing() {
            return Ok(());
        }
        let sizes = self.sizes(conn, &keys).await?;
        let page = self.context.page();
        let limit = self.context.limit.unwrap_or(usize::MAX);
        let mut rows = Rows::new(&self.context.layout, self.context.batch_size);
        let mut next = 0;
        while next < keys.len() && rows.total() < limit {
            let (size, ttl) = sizes[next];
            if size > page {
                let wanted = limit - rows.total();
                let key = &keys[next];
                if !self
                    .read_paged(conn, key, ttl, wanted, &mut rows, sink)
                    .await?
                {
                    return Ok(());
                }
                next += 1;
                continue;
            }
            // A run of small keys holding at most one page of members.
            let start = next;
            let mut members = 0;
            while next < keys.len()
                && sizes[next].0 <= page
                && (next == start || members + sizes[next].0 <= page)
            {
                members += sizes[next].0;
                next += 1;
            }
            let going = self
                .read_run(
                    conn,
                    &keys[start..next],
                    &sizes[start..next],
                    &mut rows,
                    sink,
                )
                .await?;
            if !going {
                return Ok(());
            }
        }
        if rows.len() > 0 {
            sink.emit(rows.take()?).await;
        }
        Ok(())
    }
}
