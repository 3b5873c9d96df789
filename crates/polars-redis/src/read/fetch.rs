//! What every one-row-per-key fetcher shares: queueing one command (and
//! TTL) per key, and reading the replies into the row builders.

use arrow_array::RecordBatch;

use crate::error::Result;
use crate::net::connection::Connection;
use crate::net::resp::{write_array, ReplyReader};
use crate::read::layout::{Layout, RowBuilders};

/// What one key's reply said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A row was appended.
    Row,
    /// A row was appended, but the reply could also mean a missing key: the
    /// fetcher confirms it before emitting it.
    Tentative,
    /// The key no longer exists: no row.
    Missing,
    /// The key holds another type: no row.
    WrongType,
}

/// The rows read for one key batch.
pub(crate) struct Rows {
    pub(crate) batch: RecordBatch,
    /// Key position of each row.
    pub(crate) positions: Vec<usize>,
    /// Key positions of the rows whose outcome was [`Outcome::Tentative`].
    pub(crate) tentative: Vec<usize>,
}

/// Queue, per key, the command `write` encodes and, when the layout has a
/// TTL column, `TTL key`: the pipeline [`read_rows`] reads.
pub(crate) fn queue_per_key(
    conn: &mut Connection,
    layout: &Layout,
    keys: &[Vec<u8>],
    mut write: impl FnMut(&mut Vec<u8>, &[u8]),
) {
    let with_ttl = layout.extra.ttl.is_some();
    let out = conn.write_buf();
    for key in keys {
        write(out, key);
        if with_ttl {
            write_array(out, [&b"TTL"[..], key]);
        }
    }
}

/// Read the replies of a flushed pipeline holding, per key, one `command`
/// and (when the layout has a TTL column) one `TTL`. `decode` appends the
/// value columns of a row; this appends its key and TTL. A key of another
/// type is an [`Error::WrongType`] when `wrong_type_is_error`, else skipped.
pub(crate) async fn read_rows(
    conn: &mut Connection,
    layout: &Layout,
    keys: &[Vec<u8>],
    command: &str,
    expected_type: &'static str,
    wrong_type_is_error: bool,
    mut decode: impl FnMut(&mut ReplyReader<'_>, &mut RowBuilders, &[u8]) -> Result<Outcome>,
) -> Result<Rows> {
    let mut rows = layout.builders(keys.len());
    let mut positions = Vec::with_capacity(keys.len());
    let mut tentative = Vec::new();
    let mut wrong_type = None;
    for (position, key) in keys.iter().enumerate() {
        let outcome = conn
            .read_reply(command, |r| decode(r, &mut rows, key))
            .await?;
        let ttl = read_ttl(conn, layout, key).await?;
        match outcome {
            Outcome::Row | Outcome::Tentative => {
                layout.append_key_and_ttl(&mut rows, key, ttl)?;
                positions.push(position);
                if outcome == Outcome::Tentative {
                    tentative.push(position);
                }
            }
            Outcome::Missing => {}
            Outcome::WrongType => {
                wrong_type.get_or_insert(position);
            }
        }
    }
    if let (Some(position), true) = (wrong_type, wrong_type_is_error) {
        return Err(conn.wrong_type_error(&keys[position], expected_type).await);
    }
    Ok(Rows {
        batch: layout.finish(&mut rows)?,
        positions,
        tentative,
    })
}

/// Read the reply to `TTL key` when the layout has a TTL column.
pub(crate) async fn read_ttl(
    conn: &mut Connection,
    layout: &Layout,
    key: &[u8],
) -> Result<Option<i64>> {
    match layout.extra.ttl {
        Some(_) => conn.read_ttl(key).await,
        None => Ok(None),
    }
}
