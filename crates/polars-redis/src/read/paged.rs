//! Fetching types whose keys each hold many rows (streams, time series):
//! a size probe per key, then range reads of bounded pages.
//!
//! For one batch of keys:
//!
//! 1. One pipeline asks every key's size (`XLEN`, `TS.INFO`, ...) and, when
//!    wanted, its TTL. Missing and empty keys drop out; a key of another type
//!    is skipped, or reported when the user listed it.
//! 2. The remaining keys are cut into groups whose first range requests ask
//!    for at most `page` rows together: many small keys share one pipeline, a
//!    large key gets one to itself. A key asks for one row more than its size
//!    (capped at `page`), so a short reply proves it was read to the end
//!    without a second request.
//! 3. A key whose reply came back full is continued after its last row, one
//!    page of at most `page` rows at a time, before the rows of the next key
//!    are emitted: rows stay grouped by key and in range order, and no reply
//!    and no chunk holds more than `page` rows, however long the key.

use std::sync::Arc;

use crate::error::Result;
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::engine::{ChunkSink, Fetcher};
use crate::read::layout::{Layout, RowBuilders};

/// What one Redis type contributes to a [`PagedFetcher`].
pub(crate) trait PagedSource: Send + Sync + 'static {
    /// Where a range read starts (the first one, or the one after a page).
    type Cursor: Clone + Send + Sync;
    /// What the size probe learns about a key besides its size (e.g. labels).
    type Meta: Send + Sync + Default;
    /// What the keys should hold, for wrong-type errors (`stream`, ...).
    const TYPE_NAME: &'static str;
    /// The size probe command, for messages.
    const SIZE_COMMAND: &'static str;
    /// The range command, for messages.
    const PAGE_COMMAND: &'static str;
    /// Whether a page with fewer rows than asked for proves the key was read
    /// to the end. True for ranged reads; false for cursor scans like
    /// `SSCAN`, whose `COUNT` is only a hint: `read_rows` returning `None`
    /// is then the only end.
    const SHORT_PAGES_END: bool = true;

    /// Queue the size probe of `key`.
    ///
    /// By default `<SIZE_COMMAND> key`.
    fn queue_size(&self, out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [Self::SIZE_COMMAND.as_bytes(), key]);
    }
    /// Decode a size probe reply (not an error reply): an upper bound on the
    /// rows the key can give, with its meta; `None` when the key is missing.
    ///
    /// By default an integer reply (`XLEN`, `LLEN`, ...) with no meta: a
    /// missing key has size 0, like an empty one, and gives no rows.
    fn read_size(
        &self,
        _r: &mut ReplyReader<'_>,
        item: Item<'_>,
        key: &[u8],
    ) -> Result<Option<(u64, Self::Meta)>> {
        match item {
            Item::Int(len) => Ok(Some((len.max(0) as u64, Self::Meta::default()))),
            _ => Err(unexpected_reply(Self::SIZE_COMMAND, key)),
        }
    }
    /// Where every key's read starts; `None` when the range is empty.
    fn first_cursor(&self) -> Option<Self::Cursor>;
    /// Queue a range read of at most `count` rows of `key` from `from`.
    fn queue_page(&self, out: &mut Vec<u8>, key: &[u8], from: &Self::Cursor, count: u64);
    /// Decode a range reply of `len` items, read from `from`, into `rows`;
    /// returns where the next page would start (`None` when no row can
    /// follow).
    fn read_rows(
        &self,
        r: &mut ReplyReader<'_>,
        len: usize,
        rows: &mut RowSink<'_>,
        meta: &Self::Meta,
        from: &Self::Cursor,
    ) -> Result<Option<Self::Cursor>>;
    /// Error replies that mean the key is gone (besides an empty reply).
    fn is_missing(&self, _message: &[u8]) -> bool {
        false
    }
}

/// A wrong-type error reply (modules prefix it with `ERR `).
pub(crate) fn is_wrong_type(message: &[u8]) -> bool {
    message.starts_with(b"WRONGTYPE") || message.starts_with(b"ERR WRONGTYPE")
}

/// Where a source appends the rows of one key.
pub(crate) struct RowSink<'a> {
    layout: &'a Layout,
    rows: &'a mut RowBuilders,
    key: &'a [u8],
    ttl: Option<i64>,
    /// Rows completed so far.
    count: u64,
}

impl<'a> RowSink<'a> {
    /// A sink appending rows of `key` (with TTL `ttl`) to `rows`.
    pub(crate) fn new(
        layout: &'a Layout,
        rows: &'a mut RowBuilders,
        key: &'a [u8],
        ttl: Option<i64>,
    ) -> Self {
        RowSink {
            layout,
            rows,
            key,
            ttl,
            count: 0,
        }
    }

    /// The key whose rows these are.
    pub(crate) fn key(&self) -> &[u8] {
        self.key
    }

    /// Append the value of layout column `column` for the current row.
    pub(crate) fn value(&mut self, column: usize, value: Option<&[u8]>) -> Result<()> {
        self.layout.append_value(self.rows, column, self.key, value)
    }

    /// Complete the current row (key and TTL columns).
    pub(crate) fn end_row(&mut self) -> Result<()> {
        self.count += 1;
        self.layout
            .append_key_and_ttl(self.rows, self.key, self.ttl)
    }
}

/// A key that exists, and what its size probe said.
struct Found<M> {
    /// Position in the key batch.
    position: usize,
    size: u64,
    meta: M,
    ttl: Option<i64>,
}

/// What one size probe said.
enum Probe<M> {
    /// The key exists and may hold up to this many rows.
    Rows(u64, M),
    /// The key is gone.
    Missing,
    /// The key holds another type.
    WrongType,
}

/// What one range reply held.
enum Page<C> {
    /// `count` rows were appended; `next` is where a further page would start.
    Rows { count: u64, next: Option<C> },
    /// The key is gone.
    Missing,
    /// The key now holds another type.
    WrongType,
}

/// A [`Fetcher`] reading every key of a batch in bounded pages.
pub(crate) struct PagedFetcher<S> {
    source: S,
    layout: Arc<Layout>,
    /// Most rows per range request and per emitted chunk.
    page: u64,
    /// Most rows read from one key.
    per_key: u64,
    /// Most rows read per key batch: a scan never emits more than its limit.
    limit: u64,
    wrong_type_is_error: bool,
}

impl<S: PagedSource> PagedFetcher<S> {
    /// `page`: rows per request and chunk; `per_key`: most rows read from
    /// one key; `limit`: most rows the scan emits.
    pub(crate) fn new(
        source: S,
        layout: Arc<Layout>,
        page: usize,
        per_key: Option<u64>,
        limit: Option<usize>,
        wrong_type_is_error: bool,
    ) -> Self {
        PagedFetcher {
            source,
            layout,
            page: (page as u64).max(1),
            per_key: per_key.unwrap_or(u64::MAX),
            limit: limit.map_or(u64::MAX, |l| l as u64),
            wrong_type_is_error,
        }
    }

    /// Rows to ask for next from a key that may hold `up_to` more, having
    /// read `read` of it and with `budget` rows left for the batch.
    fn ask(&self, up_to: u64, read: u64, budget: u64) -> u64 {
        up_to.min(self.page).min(self.per_key - read).min(budget)
    }

    /// Whether a key may hold more rows after a page of `count` rows of
    /// the `ask`ed.
    fn may_continue(&self, count: u64, ask: u64) -> bool {
        count == ask || !S::SHORT_PAGES_END
    }

    /// Rows the first request of a key of this size asks for: one more than
    /// it holds, so that a short reply proves the key was read to the end.
    fn first_ask(&self, size: u64, budget: u64) -> u64 {
        self.ask(size.saturating_add(1), 0, budget)
    }

    /// Size probes (and TTLs) of every key; the keys that have rows.
    async fn probe(&self, conn: &mut Connection, keys: &[Vec<u8>]) -> Result<Vec<Found<S::Meta>>> {
        let with_ttl = self.layout.extra.ttl.is_some();
        let out = conn.write_buf();
        for key in keys {
            self.source.queue_size(out, key);
            if with_ttl {
                write_array(out, [&b"TTL"[..], key]);
            }
        }
        conn.flush().await?;
        let mut found = Vec::with_capacity(keys.len());
        let mut wrong_type = None;
        for (position, key) in keys.iter().enumerate() {
            let probe = conn
                .read_reply(S::SIZE_COMMAND, |r| match r.next()? {
                    Item::Error(msg) if is_wrong_type(msg) => Ok(Probe::WrongType),
                    Item::Error(msg) if self.source.is_missing(msg) => Ok(Probe::Missing),
                    Item::Error(msg) => Err(server_error(S::SIZE_COMMAND, Some(key), msg)),
                    item => Ok(match self.source.read_size(r, item, key)? {
                        Some((size, meta)) => Probe::Rows(size, meta),
                        None => Probe::Missing,
                    }),
                })
                .await?;
            let ttl = match with_ttl {
                true => conn.read_ttl(key).await?,
                false => None,
            };
            match probe {
                Probe::Rows(size, meta) if size > 0 => found.push(Found {
                    position,
                    size,
                    meta,
                    ttl,
                }),
                Probe::Rows(..) | Probe::Missing => {}
                Probe::WrongType => {
                    wrong_type.get_or_insert(position);
                }
            }
        }
        match wrong_type {
            Some(position) if self.wrong_type_is_error => {
                Err(conn.wrong_type_error(&keys[position], S::TYPE_NAME).await)
            }
            _ => Ok(found),
        }
    }

    /// The first requests of the next group: one per leading key of
    /// `found`, as many as fit in one page together (at least one while
    /// `budget` rows are left) and in the budget.
    fn plan_group(&self, found: &[Found<S::Meta>], budget: u64) -> Vec<u64> {
        let mut asks = Vec::new();
        let mut total = 0;
        for f in found {
            let ask = self.first_ask(f.size, budget - total);
            if ask == 0 || (total > 0 && total + ask > self.page) {
                break;
            }
            asks.push(ask);
            total += ask;
        }
        asks
    }

    /// Decode one range reply of `key`, read from `from`, into `rows`.
    async fn read_page(
        &self,
        conn: &mut Connection,
        rows: &mut RowBuilders,
        key: &[u8],
        (found, from): (&Found<S::Meta>, &S::Cursor),
    ) -> Result<Page<S::Cursor>> {
        conn.read_reply(S::PAGE_COMMAND, |r| {
            let len = match r.next()? {
                Item::Error(msg) if is_wrong_type(msg) => return Ok(Page::WrongType),
                Item::Error(msg) if self.source.is_missing(msg) => return Ok(Page::Missing),
                Item::Error(msg) => return Err(server_error(S::PAGE_COMMAND, Some(key), msg)),
                Item::Nil => 0,
                Item::Array(len) => len,
                _ => return Err(unexpected_reply(S::PAGE_COMMAND, key)),
            };
            let mut sink = RowSink::new(&self.layout, rows, key, found.ttl);
            let next = self
                .source
                .read_rows(r, len, &mut sink, &found.meta, from)?;
            Ok(Page::Rows {
                count: sink.count,
                next,
            })
        })
        .await
    }

    /// Read one group: a pipeline of first pages, emitted in key order, each
    /// key that may hold more continued right after its own rows; `budget`
    /// counts down the rows read. `false` when the scan has stopped.
    async fn read_group(
        &self,
        conn: &mut Connection,
        keys: &[Vec<u8>],
        (group, asks): (&[Found<S::Meta>], &[u64]),
        first: &S::Cursor,
        sink: &ChunkSink,
        budget: &mut u64,
    ) -> Result<bool> {
        let out = conn.write_buf();
        for (found, &ask) in group.iter().zip(asks) {
            self.source
                .queue_page(out, &keys[found.position], first, ask);
        }
        conn.flush().await?;
        let capacity = asks.iter().sum::<u64>();
        let mut rows = self.layout.builders(capacity as usize);
        // Per key: the end of its rows, and where it continues if it may.
        let mut ends = Vec::with_capacity(group.len());
        let mut appended = 0;
        let mut wrong_type = None;
        for (found, &ask) in group.iter().zip(asks) {
            let key = &keys[found.position];
            let more = match self.read_page(conn, &mut rows, key, (found, first)).await? {
                Page::Rows { count, next } => {
                    appended += count as usize;
                    *budget = budget.saturating_sub(count);
                    next.filter(|_| self.may_continue(count, ask) && count < self.per_key)
                        .map(|next| (next, count))
                }
                Page::Missing => None,
                Page::WrongType => {
                    wrong_type.get_or_insert(found.position);
                    None
                }
            };
            ends.push((appended, more));
        }
        if let (Some(position), true) = (wrong_type, self.wrong_type_is_error) {
            return Err(conn.wrong_type_error(&keys[position], S::TYPE_NAME).await);
        }
        let batch = self.layout.finish(&mut rows)?;
        let mut start = 0;
        for (found, (end, more)) in group.iter().zip(ends) {
            let Some((next, read)) = more else { continue };
            if !sink.emit(batch.slice(start, end - start)).await {
                return Ok(false);
            }
            start = end;
            let key = &keys[found.position];
            if !self
                .read_rest(conn, key, found, (next, read), sink, budget)
                .await?
            {
                return Ok(false);
            }
        }
        Ok(sink
            .emit(batch.slice(start, batch.num_rows() - start))
            .await)
    }

    /// Read the rest of one key, a page at a time from `from`, having read
    /// `read` rows of it. `false` when the scan has stopped.
    async fn read_rest(
        &self,
        conn: &mut Connection,
        key: &[u8],
        found: &Found<S::Meta>,
        (mut from, mut read): (S::Cursor, u64),
        sink: &ChunkSink,
        budget: &mut u64,
    ) -> Result<bool> {
        loop {
            let ask = self.ask(u64::MAX, read, *budget);
            if ask == 0 {
                return Ok(true);
            }
            self.source.queue_page(conn.write_buf(), key, &from, ask);
            conn.flush().await?;
            let mut rows = self.layout.builders(ask as usize);
            match self.read_page(conn, &mut rows, key, (found, &from)).await? {
                Page::Rows { count, next } => {
                    if !sink.emit(self.layout.finish(&mut rows)?).await {
                        return Ok(false);
                    }
                    read += count;
                    *budget = budget.saturating_sub(count);
                    match next {
                        Some(next) if self.may_continue(count, ask) => from = next,
                        _ => return Ok(true),
                    }
                }
                Page::Missing => return Ok(true),
                Page::WrongType if self.wrong_type_is_error => {
                    return Err(conn.wrong_type_error(key, S::TYPE_NAME).await)
                }
                Page::WrongType => return Ok(true),
            }
        }
    }
}

impl<S: PagedSource> Fetcher for PagedFetcher<S> {
    async fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> Result<()> {
        let found = self.probe(conn, &keys).await?;
        let Some(first) = self.source.first_cursor() else {
            return Ok(());
        };
        let mut budget = self.limit;
        let mut rest = &found[..];
        while !rest.is_empty() && budget > 0 {
            let asks = self.plan_group(rest, budget);
            if asks.is_empty() {
                break;
            }
            let (group, tail) = rest.split_at(asks.len());
            rest = tail;
            if !self
                .read_group(conn, &keys, (group, &asks), &first, sink, &mut budget)
                .await?
            {
                break;
            }
        }
        Ok(())
    }
}
