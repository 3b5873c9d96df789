//! Strings: one row per key, its value parsed as one column, fetched with one
//! `MGET` per key batch.
//!
//! On a cluster node, where `MGET` must not span hash slots, each key gets
//! its own `GET` in the pipeline instead.
//!
//! `MGET` answers nil both for a missing key and for a key of another type.
//! For a pattern scan (SCAN already filtered by type) a nil is skipped. When
//! the user listed the keys, the nil keys are asked their `TYPE` in one
//! pipeline, so a key of another type is reported rather than dropped.

use crate::error::{Error, Key, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::unexpected_reply as unexpected;
use crate::net::connection::{server_error, Connection};
use crate::net::resp::{write_array, Item};
use crate::read::engine::{ChunkSink, Fetcher};
use crate::read::layout::RowBuilders;
use crate::read::scan::{FetchContext, Plan, ScanBuilder};
use crate::types::Field;
use crate::types::FieldType;

/// Builds a scan of Redis strings, one row per key.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, FieldType, StringScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let reader = StringScanBuilder::new(config)
///     .with_value("visits", FieldType::Int64)
///     .with_pattern("counter:*")
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type StringScanBuilder = ScanBuilder<StringKind>;

/// The settings of a [`StringScanBuilder`].
#[derive(Clone, Debug)]
pub struct StringKind {
    value: Field,
}

impl StringScanBuilder {
    /// A scan of every string (pattern `*`), values as UTF-8 in column `value`.
    pub fn new(config: ConnectionConfig) -> Self {
        let value = Field::new("value", FieldType::Utf8);
        ScanBuilder::with_kind(config, StringKind { value })
    }

    /// Name and type of the value column. Default `value`, `Utf8`.
    pub fn with_value(mut self, name: impl Into<String>, field_type: FieldType) -> Self {
        self.kind.value = Field::new(name, field_type);
        self
    }
}

impl Plan for StringKind {
    const REDIS_TYPE: &'static str = "string";
    type Fetcher = StringFetcher;

    fn fields(&self) -> Result<Vec<Field>> {
        // A List or Struct value is read from its JSON text.
        Ok(vec![self.value.clone()])
    }

    fn fetcher(&self, context: FetchContext) -> Result<StringFetcher> {
        let value = context.column(&self.value.name);
        Ok(StringFetcher { context, value })
    }
}

pub(crate) struct StringFetcher {
    context: FetchContext,
    /// The value column, if projected.
    value: Option<usize>,
}

impl Fetcher for StringFetcher {
    async fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> Result<()> {
        let with_ttl = self.context.layout.extra.ttl.is_some();
        let per_key = conn.in_cluster();
        let out = conn.write_buf();
        if with_ttl {
            for key in &keys {
                write_array(out, [&b"TTL"[..], key]);
            }
        }
        if per_key {
            for key in &keys {
                write_array(out, [&b"GET"[..], key]);
            }
        } else {
            write_array(
                out,
                std::iter::once(&b"MGET"[..]).chain(keys.iter().map(Vec::as_slice)),
            );
        }
        conn.flush().await?;
        let mut ttls = Vec::with_capacity(if with_ttl { keys.len() } else { 0 });
        for key in keys.iter().filter(|_| with_ttl) {
            ttls.push(conn.read_ttl(key).await?);
        }
        let mut rows = Rows {
            fetcher: self,
            builders: self.context.layout.builders(keys.len()),
            ttls,
            nils: Vec::new(),
        };
        if per_key {
            for (position, key) in keys.iter().enumerate() {
                conn.read_reply("GET", |r| match r.next()? {
                    // A key that became another type since it was listed.
                    Item::Error(msg) if msg.starts_with(b"WRONGTYPE") => {
                        rows.add(position, key, None)
                    }
                    Item::Error(msg) => Err(server_error("GET", Some(key), msg)),
                    item => rows.add(position, key, Some(item)),
                })
                .await?;
            }
        } else {
            let first = keys.first().map_or(&b""[..], Vec::as_slice);
            conn.read_reply("MGET", |r| {
                match r.next()? {
                    Item::Array(n) if n == keys.len() => {}
                    Item::Error(msg) => return Err(server_error("MGET", Some(first), msg)),
                    _ => return Err(unexpected("MGET", first)),
                }
                for (position, key) in keys.iter().enumerate() {
                    rows.add(position, key, Some(r.next()?))?;
                }
                Ok(())
            })
            .await?;
        }
        let Rows {
            mut builders, nils, ..
        } = rows;
        if self.context.wrong_type_is_error && !nils.is_empty() {
            check_nils_are_missing(conn, &nils).await?;
        }
        sink.emit(self.context.layout.finish(&mut builders)?).await;
        Ok(())
    }
}

/// The rows of one key batch, built as the values arrive.
struct Rows<'a> {
    fetcher: &'a StringFetcher,
    builders: RowBuilders,
    ttls: Vec<Option<i64>>,
    /// Keys without a string value (missing, or of another type).
    nils: Vec<Vec<u8>>,
}

impl Rows<'_> {
    /// Add the row of the key at `position` from its value reply (`None`
    /// for a key of another type).
    fn add(&mut self, position: usize, key: &[u8], value: Option<Item<'_>>) -> Result<()> {
        let layout = &self.fetcher.context.layout;
        match value {
            Some(Item::Bytes(value)) => {
                if let Some(column) = self.fetcher.value {
                    layout.append_value(&mut self.builders, column, key, Some(value))?;
                }
                let ttl = self.ttls.get(position).copied().flatten();
                layout.append_key_and_ttl(&mut self.builders, key, ttl)
            }
            Some(Item::Nil) | None => {
                self.nils.push(key.to_vec());
                Ok(())
            }
            Some(_) => Err(unexpected("GET", key)),
        }
    }
}

/// Ask the `TYPE` of keys `MGET` answered nil for: a key of another type is
/// an error; a missing key (or one that became a string since) is not.
async fn check_nils_are_missing(conn: &mut Connection, keys: &[Vec<u8>]) -> Result<()> {
    let out = conn.write_buf();
    for key in keys {
        write_array(out, [&b"TYPE"[..], key]);
    }
    conn.flush().await?;
    let mut wrong = None;
    for key in keys {
        let actual = conn
            .read_reply("TYPE", |r| match r.next()? {
                Item::Bytes(b"none" | b"string") => Ok(None),
                Item::Bytes(other) => Ok(Some(String::from_utf8_lossy(other).into_owned())),
                Item::Error(msg) => Err(server_error("TYPE", Some(key), msg)),
                _ => Err(unexpected("TYPE", key)),
            })
            .await?;
        if let (None, Some(actual)) = (&wrong, actual) {
            wrong = Some(Error::WrongType {
                key: Key::from(key.as_slice()),
                expected: "string",
                actual,
            });
        }
    }
    wrong.map_or(Ok(()), Err)
}
