//! Per-field TTL columns of hash scans (hash-field expiry, Redis 7.4+): one
//! `<field>_ttl` column per requested field, `Int64` seconds left, null when
//! the field never expires or is missing. Read with `HTTL` in the same
//! pipeline as the values.
//!
//! Per key batch, the `HTTL` of every key is queued before the value
//! commands, and the two answers are made to agree: a TTL is only reported
//! beside a value that was read, and a value only beside a TTL. A field that
//! expires between the two reads as missing (null value, null TTL), and so
//! does a field whose expiry time has passed but that the server has not
//! deleted yet (`HTTL` answers -2 for it while `HGETALL` may still return
//! it): never a value whose TTL has run out.

use crate::error::{Error, Result};
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::resp::{write_array, Item};
use crate::read::layout::{Layout, RowBuilders};
use crate::types::{Field, FieldType};

/// What `HTTL` answers for a field that does not exist (or a missing key).
const NO_FIELD: i64 = -2;

/// The name of `field`'s TTL column: `<field>_ttl`.
pub(crate) fn ttl_column_name(field: &str) -> String {
    format!("{field}_ttl")
}

/// The TTL columns of `fields` (`Int64`, in the order given). Each must be a
/// schema field, and its TTL column's name must not be one: a schema field
/// `price_ttl` beside `field_ttl=["price"]` is refused rather than shadowed.
pub(crate) fn ttl_fields(schema: &[Field], fields: &[String]) -> Result<Vec<Field>> {
    let in_schema = |name: &str| schema.iter().any(|f| f.name == name);
    let mut out: Vec<Field> = Vec::with_capacity(fields.len());
    for field in fields {
        if !in_schema(field) {
            return Err(Error::InvalidArgument(format!(
                "field_ttl names field `{field}`, which is not in the schema"
            )));
        }
        let name = ttl_column_name(field);
        if in_schema(&name) {
            return Err(Error::InvalidArgument(format!(
                "field_ttl: the TTL column of field `{field}` would be `{name}`, which is also \
                 a schema field; leave `{field}` out of field_ttl or rename the field"
            )));
        }
        if out.iter().any(|f| f.name == name) {
            return Err(Error::InvalidArgument(format!(
                "field_ttl names field `{field}` twice"
            )));
        }
        out.push(Field::new(name, FieldType::Int64));
    }
    Ok(out)
}

/// One TTL column of a projected layout.
#[derive(Debug)]
struct TtlColumn {
    /// Its position among the layout's value columns.
    column: usize,
    /// The hash field it tells the TTL of.
    field: Vec<u8>,
    /// The layout column of that field's value, when projected.
    value_column: Option<usize>,
}

/// The TTL columns a projected layout holds (none: no `HTTL` is sent).
#[derive(Debug, Default)]
pub(crate) struct FieldTtlColumns {
    columns: Vec<TtlColumn>,
    /// Per layout value column, the TTL column (index into `columns`) of
    /// its field, if any.
    by_value: Vec<Option<usize>>,
}

impl FieldTtlColumns {
    /// The TTL columns of `fields` that the layout kept.
    pub(crate) fn new(layout: &Layout, fields: &[String]) -> Self {
        let position = |name: &str| layout.fields.iter().position(|f| f.name == name);
        let columns = fields
            .iter()
            .filter_map(|field| {
                Some(TtlColumn {
                    column: position(&ttl_column_name(field))?,
                    field: field.as_bytes().to_vec(),
                    value_column: position(field),
                })
            })
            .collect::<Vec<TtlColumn>>();
        let mut by_value = vec![None; layout.fields.len()];
        for (i, ttl_column) in columns.iter().enumerate() {
            if let Some(value_column) = ttl_column.value_column {
                by_value[value_column] = Some(i);
            }
        }
        FieldTtlColumns { columns, by_value }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Whether layout value column `column` is a TTL column.
    pub(crate) fn contains(&self, column: usize) -> bool {
        self.columns.iter().any(|c| c.column == column)
    }

    /// Queue `HTTL key FIELDS n field...` for every key.
    pub(crate) fn queue(&self, conn: &mut Connection, keys: &[Vec<u8>]) {
        if self.is_empty() {
            return;
        }
        let count = self.columns.len().to_string();
        let out = conn.write_buf();
        for key in keys {
            let head = [&b"HTTL"[..], key, b"FIELDS", count.as_bytes()];
            let fields = self.columns.iter().map(|c| c.field.as_slice());
            write_array(out, head.into_iter().chain(fields));
        }
    }

    /// Read the replies to [`FieldTtlColumns::queue`]: per key, one raw
    /// `HTTL` answer per TTL column (`-2` for a missing key, or a key of
    /// another type, whose row the value command drops anyway).
    pub(crate) async fn read(&self, conn: &mut Connection, keys: &[Vec<u8>]) -> Result<Vec<i64>> {
        let width = self.columns.len();
        let mut out = Vec::with_capacity(keys.len() * width);
        if width == 0 {
            return Ok(out);
        }
        for key in keys {
            conn.read_reply("HTTL", |r| {
                match r.next()? {
                    Item::Array(n) if n == width => {
                        for _ in 0..n {
                            match r.next()? {
                                Item::Int(ttl) => out.push(ttl),
                                _ => return Err(unexpected_reply("HTTL", key)),
                            }
                        }
                    }
                    Item::Nil | Item::Array(0) => out.extend(std::iter::repeat_n(NO_FIELD, width)),
                    Item::Error(msg) if msg.starts_with(b"WRONGTYPE") => {
                        out.extend(std::iter::repeat_n(NO_FIELD, width))
                    }
                    Item::Error(msg) => return Err(server_error("HTTL", Some(key), msg)),
                    _ => return Err(unexpected_reply("HTTL", key)),
                }
                Ok(())
            })
            .await?;
        }
        Ok(out)
    }

    /// Whether the `HTTL` answers `ttls` of a key say that the field of value
    /// column `column` is gone (its value, if still returned, is dropped).
    pub(crate) fn gone(&self, ttls: &[i64], column: usize) -> bool {
        let answer = self.by_value.get(column).copied().flatten();
        answer.is_some_and(|i| ttls.get(i) == Some(&NO_FIELD))
    }

    /// The `HTTL` answers of the key at `position` in the batch.
    pub(crate) fn of_key<'a>(&self, ttls: &'a [i64], position: usize) -> &'a [i64] {
        let width = self.columns.len();
        ttls.get(position * width..(position + 1) * width)
            .unwrap_or(&[])
    }

    /// Append one row's TTL columns from its `HTTL` answers; `present[c]`
    /// says whether value column `c` got a value (a TTL beside a missing
    /// value is null).
    pub(crate) fn append(
        &self,
        layout: &Layout,
        rows: &mut RowBuilders,
        key: &[u8],
        ttls: &[i64],
        present: &[bool],
    ) -> Result<()> {
        let mut number = itoa::Buffer::new();
        for (i, ttl_column) in self.columns.iter().enumerate() {
            let ttl = ttls.get(i).copied().unwrap_or(NO_FIELD);
            let read = ttl_column.value_column.is_none_or(|c| present[c]);
            let value = (ttl >= 0 && read).then(|| number.format(ttl).as_bytes());
            layout.append_value(rows, ttl_column.column, key, value)?;
        }
        Ok(())
    }
}
