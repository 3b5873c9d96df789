//! Fetching hashes: `HGETALL` or `HMGET` per key, pipelined, decoded straight
//! into the column builders.
//!
//! `HMGET` cannot tell a missing key from a key that has none of the asked
//! fields: both reply with all nils. Such rows are re-read with `HGETALL`
//! (one atomic command that answers empty only for a missing key, and needs
//! no transaction rights) before they are emitted, so a key deleted after
//! SCAN never turns into a phantom all-null row.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{RecordBatch, UInt32Array};

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::modules::{Module, Requirement};
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::engine::{ChunkSink, Fetcher};
use crate::read::fetch::{queue_per_key, read_rows, read_ttl, Outcome};
use crate::read::field_ttl::{ttl_column_name, ttl_fields, FieldTtlColumns};
use crate::read::layout::{Layout, RowBuilders};
use crate::read::scan::{FetchContext, Plan, ScanBuilder};
use crate::read::warnings::{FieldCheck, FieldNames};
use crate::types::{Field, IndexOn};

/// Builds a scan of Redis hashes, one row per hash.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, Field, FieldType, HashScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let schema = vec![Field::new("name", FieldType::Utf8), Field::new("age", FieldType::Int64)];
/// let reader = HashScanBuilder::new(config, schema)
///     .with_pattern("user:*")
///     .with_batch_size(500)
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type HashScanBuilder = ScanBuilder<HashKind>;

/// The settings of a [`HashScanBuilder`].
#[derive(Clone, Debug)]
pub struct HashKind {
    schema: Vec<Field>,
    fetch: HashFetch,
    /// The fields whose `<field>_ttl` column the scan adds.
    field_ttl: Vec<String>,
}

impl HashScanBuilder {
    /// A scan of every hash (pattern `*`) with these value fields.
    pub fn new(config: ConnectionConfig, schema: Vec<Field>) -> Self {
        let kind = HashKind {
            schema,
            fetch: HashFetch::Auto,
            field_ttl: Vec::new(),
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// Choose between `HGETALL` and `HMGET`. Default [`HashFetch::Auto`].
    pub fn with_fetch(mut self, fetch: HashFetch) -> Self {
        self.kind.fetch = fetch;
        self
    }

    /// Add a `<field>_ttl` column (`Int64` seconds left, null when the field
    /// never expires or is missing) for each of these schema fields, read
    /// with `HTTL` (hash-field expiry needs Redis 7.4 or later: an older
    /// server is an [`Error::Unsupported`] naming its version). A column is
    /// only read when projected; a TTL column name that is also a schema
    /// field is an [`Error::InvalidArgument`].
    pub fn with_field_ttl<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.kind.field_ttl = fields.into_iter().map(Into::into).collect();
        self
    }
}

impl Plan for HashKind {
    type Fetcher = HashFetcher;
    const REDIS_TYPE: &'static str = "hash";

    fn requirement(&self) -> Option<Requirement> {
        let needed_by = "field_ttl";
        (!self.field_ttl.is_empty()).then(|| Requirement::new(Module::HashFieldExpiry, needed_by))
    }

    fn fields(&self) -> Result<Vec<Field>> {
        let mut fields = self.schema.clone();
        fields.extend(ttl_fields(&self.schema, &self.field_ttl)?);
        Ok(fields)
    }

    fn index_on(&self) -> Option<IndexOn> {
        Some(IndexOn::Hash)
    }

    /// A TTL column is no hash field: no index attribute holds it.
    fn index_identifiers(&self, column: &str) -> Vec<String> {
        match self.field_ttl.iter().any(|f| ttl_column_name(f) == column) {
            true => Vec::new(),
            false => vec![column.to_string()],
        }
    }

    fn field_check(&self) -> Option<FieldCheck> {
        let names = self.schema.iter().map(|f| f.name.as_str());
        Some(FieldCheck::by_name(names, "field", FieldNames::Hash))
    }

    fn fetcher(&self, context: FetchContext) -> Result<HashFetcher> {
        let ttls = FieldTtlColumns::new(&context.layout, &self.field_ttl);
        Ok(HashFetcher::new(
            context.layout,
            self.schema.len(),
            self.fetch,
            context.wrong_type_is_error,
        )
        .with_field_ttls(ttls))
    }
}

/// How field values are fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFetch {
    /// `HMGET` when at most half of the schema's fields are needed, else `HGETALL`
    /// (measured on 10-field hashes: HMGET of 2 or 5 fields beats HGETALL by
    /// 30% and 16%; `bench/bench_hashes.py` cases c).
    Auto,
    /// Always `HGETALL` (whole hash; unknown fields are ignored).
    All,
    /// Always `HMGET` with exactly the needed fields.
    Fields,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Hgetall,
    Hmget,
    /// No value column is needed: `TYPE` tells existence and type at once.
    Type,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Hgetall => "HGETALL",
            Command::Hmget => "HMGET",
            Command::Type => "TYPE",
        }
    }
}

pub(crate) struct HashFetcher {
    layout: Arc<Layout>,
    command: Command,
    /// The value fields to read (the `HMGET` arguments), in layout order.
    names: Vec<Vec<u8>>,
    /// The layout column of each of `names`.
    value_columns: Vec<usize>,
    /// Field name to layout column.
    lookup: HashMap<Vec<u8>, usize>,
    /// The field TTL columns of the layout, read with `HTTL`.
    ttls: FieldTtlColumns,
    /// Explicit key lists report wrong-type keys; pattern scans skip keys
    /// whose type changed after SCAN.
    wrong_type_is_error: bool,
}

impl HashFetcher {
    pub(crate) fn new(
        layout: Arc<Layout>,
        schema_len: usize,
        fetch: HashFetch,
        wrong_type_is_error: bool,
    ) -> Self {
        let names: Vec<Vec<u8>> = layout
            .fields
            .iter()
            .map(|f| f.name.as_bytes().to_vec())
            .collect();
        let value_columns: Vec<usize> = (0..names.len()).collect();
        let command = match fetch {
            _ if names.is_empty() => Command::Type,
            HashFetch::All => Command::Hgetall,
            HashFetch::Fields => Command::Hmget,
            HashFetch::Auto if names.len() * 2 <= schema_len => Command::Hmget,
            HashFetch::Auto => Command::Hgetall,
        };
        let lookup = names.iter().cloned().zip(0..).collect();
        HashFetcher {
            layout,
            command,
            names,
            value_columns,
            lookup,
            ttls: FieldTtlColumns::default(),
            wrong_type_is_error,
        }
    }

    /// Read these field TTL columns too: they leave the value fields (and
    /// the choice of command, made again here).
    fn with_field_ttls(mut self, ttls: FieldTtlColumns) -> Self {
        if ttls.is_empty() {
            return self;
        }
        let kept: Vec<usize> = (0..self.names.len())
            .filter(|c| !ttls.contains(*c))
            .collect();
        self.names = kept.iter().map(|&c| self.names[c].clone()).collect();
        self.lookup = self
            .names
            .iter()
            .cloned()
            .zip(kept.iter().copied())
            .collect();
        self.value_columns = kept;
        if self.names.is_empty() {
            self.command = Command::Type;
        }
        self.ttls = ttls;
        self
    }

    fn queue(&self, conn: &mut Connection, command: Command, keys: &[Vec<u8>]) {
        queue_per_key(conn, &self.layout, keys, |out, key| match command {
            Command::Hgetall => write_array(out, [&b"HGETALL"[..], key]),
            Command::Type => write_array(out, [&b"TYPE"[..], key]),
            Command::Hmget => write_array(
                out,
                [&b"HMGET"[..], key]
                    .into_iter()
                    .chain(self.names.iter().map(Vec::as_slice)),
            ),
        });
    }

    /// Decode one reply to `command` into `rows`; `ttls` are the key's
    /// `HTTL` answers (see [`FieldTtlColumns`]).
    fn decode(
        &self,
        command: Command,
        r: &mut ReplyReader<'_>,
        rows: &mut RowBuilders,
        scratch: &mut RowScratch,
        key: &[u8],
        ttls: &[i64],
    ) -> Result<Outcome> {
        let item = r.next()?;
        let fields = match (command, item) {
            (_, Item::Error(msg)) if msg.starts_with(b"WRONGTYPE") => {
                return Ok(Outcome::WrongType)
            }
            (_, Item::Error(msg)) => return Err(server_error(command.name(), Some(key), msg)),
            (Command::Type, Item::Bytes(b"hash")) => {
                self.ttls
                    .append(&self.layout, rows, key, ttls, &scratch.present)?;
                return Ok(Outcome::Row);
            }
            (Command::Type, Item::Bytes(b"none")) => return Ok(Outcome::Missing),
            (Command::Type, Item::Bytes(_)) => return Ok(Outcome::WrongType),
            (Command::Hgetall, Item::Array(0) | Item::Map(0) | Item::Nil) => {
                return Ok(Outcome::Missing)
            }
            (Command::Hgetall, Item::Array(n)) if n % 2 == 0 => n / 2,
            (Command::Hgetall, Item::Map(n)) => n,
            (Command::Hmget, Item::Array(n)) if n == self.names.len() => n,
            _ => return Err(unexpected_reply(command.name(), key)),
        };
        let RowScratch { filled, present } = scratch;
        filled.fill(false);
        present.fill(false);
        let mut any_value = false;
        for position in 0..fields {
            let column = match command {
                Command::Hmget => Some(self.value_columns[position]),
                _ => match r.next()? {
                    Item::Bytes(name) => self.lookup.get(name).copied(),
                    _ => return Err(unexpected_reply(command.name(), key)),
                },
            };
            let value = match r.next()? {
                Item::Bytes(value) => Some(value),
                Item::Nil => None,
                _ => return Err(unexpected_reply(command.name(), key)),
            };
            if let Some(column) = column {
                let value = value.filter(|_| !self.ttls.gone(ttls, column));
                any_value |= value.is_some();
                filled[column] = true;
                present[column] = value.is_some();
                self.layout.append_hash_value(rows, column, key, value)?;
            }
        }
        for &column in &self.value_columns {
            if !filled[column] {
                self.layout.append_value(rows, column, key, None)?;
            }
        }
        self.ttls.append(&self.layout, rows, key, ttls, present)?;
        // `HMGET` returning only nils means a missing key or no such
        // fields: the row is re-read before it is emitted.
        Ok(match command {
            Command::Hmget if !any_value => Outcome::Tentative,
            _ => Outcome::Row,
        })
    }

    /// Re-read keys whose `HMGET` returned only nils with `HGETALL`, which
    /// answers empty exactly when the key does not exist. Returns the rows of
    /// the keys that exist and their key positions.
    async fn reread(
        &self,
        conn: &mut Connection,
        keys: &[Vec<u8>],
        positions: &[usize],
        ttls: &[i64],
    ) -> Result<(RecordBatch, Vec<usize>)> {
        let pending: Vec<Vec<u8>> = positions.iter().map(|&p| keys[p].clone()).collect();
        self.queue(conn, Command::Hgetall, &pending);
        conn.flush().await?;
        let mut rows = self.layout.builders(positions.len());
        let mut scratch = self.scratch();
        let mut existing = Vec::new();
        for (&p, key) in positions.iter().zip(&pending) {
            let ttls = self.ttls.of_key(ttls, p);
            let outcome = conn
                .read_reply("HGETALL", |r| {
                    self.decode(Command::Hgetall, r, &mut rows, &mut scratch, key, ttls)
                })
                .await?;
            let ttl = read_ttl(conn, &self.layout, key).await?;
            // Gone, or no longer a hash: no row (nothing was appended).
            if matches!(outcome, Outcome::Row) {
                self.layout.append_key_and_ttl(&mut rows, key, ttl)?;
                existing.push(p);
            }
        }
        Ok((self.layout.finish(&mut rows)?, existing))
    }
}

/// Per value column of the row being decoded: whether it was appended
/// (`filled`), and whether with a value (`present`).
struct RowScratch {
    filled: Vec<bool>,
    present: Vec<bool>,
}

impl HashFetcher {
    fn scratch(&self) -> RowScratch {
        let columns = self.layout.fields.len();
        RowScratch {
            filled: vec![false; columns],
            present: vec![false; columns],
        }
    }
}

impl Fetcher for HashFetcher {
    async fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> Result<()> {
        let batch = self.fetch_batch(conn, keys).await?;
        sink.emit(batch).await;
        Ok(())
    }
}

impl HashFetcher {
    async fn fetch_batch(&self, conn: &mut Connection, keys: Vec<Vec<u8>>) -> Result<RecordBatch> {
        // The field TTLs go first: see `field_ttl.rs` for why.
        self.ttls.queue(conn, &keys);
        self.queue(conn, self.command, &keys);
        conn.flush().await?;
        let ttls = self.ttls.read(conn, &keys).await?;
        let mut scratch = self.scratch();
        let mut position = 0;
        let rows = read_rows(
            conn,
            &self.layout,
            &keys,
            self.command.name(),
            "hash",
            self.wrong_type_is_error,
            |r, rows, key| {
                let key_ttls = self.ttls.of_key(&ttls, position);
                position += 1;
                self.decode(self.command, r, rows, &mut scratch, key, key_ttls)
            },
        )
        .await?;
        if rows.tentative.is_empty() {
            return Ok(rows.batch);
        }
        let (reread, reread_positions) = self.reread(conn, &keys, &rows.tentative, &ttls).await?;
        merge_in_key_order(
            &rows.batch,
            &rows.positions,
            &rows.tentative,
            &reread,
            &reread_positions,
        )
    }
}

/// Replace the tentative rows of `batch` (those at `pending` key positions)
/// by the re-read rows, keeping key order.
fn merge_in_key_order(
    batch: &RecordBatch,
    row_positions: &[usize],
    pending: &[usize],
    reread: &RecordBatch,
    reread_positions: &[usize],
) -> Result<RecordBatch> {
    let pending: std::collections::HashSet<usize> = pending.iter().copied().collect();
    let mut order: Vec<(usize, u32)> = row_positions
        .iter()
        .enumerate()
        .filter(|(_, p)| !pending.contains(p))
        .map(|(row, p)| (*p, row as u32))
        .collect();
    let offset = batch.num_rows() as u32;
    order.extend(
        reread_positions
            .iter()
            .enumerate()
            .map(|(row, p)| (*p, offset + row as u32)),
    );
    order.sort_unstable();
    let both = arrow_select::concat::concat_batches(&batch.schema(), [batch, reread])
        .map_err(|e| Error::Protocol(format!("internal: merge failed: {e}")))?;
    let indices = UInt32Array::from_iter_values(order.into_iter().map(|(_, row)| row));
    arrow_select::take::take_record_batch(&both, &indices)
        .map_err(|e| Error::Protocol(format!("internal: merge failed: {e}")))
}
