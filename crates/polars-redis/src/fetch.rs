//! Reply handling every fetcher shares: TTL replies, unexpected reply
//! shapes, and the error for a key of another type.

use crate::connection::{server_error, Connection};
use crate::error::{Error, Key, Result};
use crate::resp::{write_array, Cmd, Item};

/// Queue `TTL key` (its reply is read by [`read_ttl`]).
pub(crate) fn queue_ttl(out: &mut Vec<u8>, key: &[u8]) {
    write_array(out, [&b"TTL"[..], key], 2);
}

/// Read the reply to a queued `TTL`: seconds left, `None` for no expiry or
/// a missing key.
pub(crate) async fn read_ttl(conn: &mut Connection, key: &[u8]) -> Result<Option<i64>> {
    conn.read_reply("TTL", |r| match r.next()? {
        Item::Int(ttl) if ttl >= 0 => Ok(Some(ttl)),
        Item::Int(_) => Ok(None),
        Item::Error(msg) => Err(server_error("TTL", Some(key), msg)),
        _ => Err(unexpected("TTL", key)),
    })
    .await
}

/// A reply whose shape the command never produces.
pub(crate) fn unexpected(command: &str, key: &[u8]) -> Error {
    Error::Protocol(format!(
        "unexpected reply shape to {command} for key {}",
        Key::from(key)
    ))
}

/// True for the `WRONGTYPE` error reply.
pub(crate) fn is_wrong_type(message: &[u8]) -> bool {
    message.starts_with(b"WRONGTYPE")
}

/// The error for a key that is not a `expected`, naming its actual type
/// (asked with `TYPE`, so call it with no reply pending on `conn`).
pub(crate) async fn wrong_type_error(
    conn: &mut Connection,
    key: &[u8],
    expected: &'static str,
) -> Error {
    let actual = match conn.query(Cmd::new("TYPE").arg(key)).await {
        Ok(value) => value.to_text(),
        Err(err) => return err,
    };
    Error::WrongType {
        key: Key::from(key),
        expected,
        actual,
    }
}
