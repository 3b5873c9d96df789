//! Walking one complete reply item by item, borrowing from the read buffer.

use super::scanner::parse_len;
use super::value::Value;
use crate::error::{Error, Result};

/// One RESP item. Aggregates give their element count; their elements follow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Item<'a> {
    /// Bulk, simple or verbatim string (verbatim strings lose their format prefix).
    Bytes(&'a [u8]),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Null bulk string, null array or RESP3 null.
    Nil,
    /// Array, set or push with this many elements.
    Array(usize),
    /// Map with this many key/value pairs (2x elements follow).
    Map(usize),
    /// An error reply.
    Error(&'a [u8]),
}

/// A cursor over one complete reply (as delimited by [`super::FrameScanner`]).
pub(crate) struct ReplyReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ReplyReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        ReplyReader { buf, pos: 0 }
    }

    /// The next item; aggregates must be followed by reading their elements.
    pub(crate) fn next(&mut self) -> Result<Item<'a>> {
        let start = self.pos;
        let nl = memchr::memchr(b'\n', &self.buf[start..]).ok_or_else(truncated)?;
        let line = &self.buf[start + 1..start + nl - 1];
        self.pos = start + nl + 1;
        let item = match self.buf[start] {
            b'+' => Item::Bytes(line),
            b'-' => Item::Error(line),
            b':' => Item::Int(parse_int(line)?),
            b'$' | b'=' | b'!' => match parse_len(line)? {
                -1 => Item::Nil,
                len => {
                    let body = self.pos;
                    let end = body + len as usize;
                    self.pos = end + 2;
                    let bytes = self.buf.get(body..end).ok_or_else(truncated)?;
                    match self.buf[start] {
                        b'!' => Item::Error(bytes),
                        b'=' => Item::Bytes(bytes.get(4..).unwrap_or(bytes)),
                        _ => Item::Bytes(bytes),
                    }
                }
            },
            b'*' | b'~' | b'>' => match parse_len(line)? {
                -1 => Item::Nil,
                n => Item::Array(n as usize),
            },
            b'%' => Item::Map(parse_len(line)? as usize),
            b'_' => Item::Nil,
            b',' => Item::Double(parse_double(line)?),
            b'#' => Item::Bool(line == b"t"),
            b'(' => Item::Bytes(line),
            other => {
                return Err(Error::Protocol(format!(
                    "unexpected reply type byte 0x{other:02x}"
                )))
            }
        };
        Ok(item)
    }

    /// Read the next whole value into an owned [`Value`].
    pub(crate) fn value(&mut self) -> Result<Value> {
        let item = self.next()?;
        self.value_from(item)
    }

    pub(crate) fn value_from(&mut self, item: Item<'a>) -> Result<Value> {
        Ok(match item {
            Item::Bytes(b) => Value::Bytes(b.to_vec()),
            Item::Int(i) => Value::Int(i),
            Item::Double(d) => Value::Double(d),
            Item::Bool(b) => Value::Bool(b),
            Item::Nil => Value::Nil,
            Item::Error(e) => Value::Error(String::from_utf8_lossy(e).into_owned()),
            Item::Array(n) => Value::Array((0..n).map(|_| self.value()).collect::<Result<_>>()?),
            Item::Map(n) => Value::Map(
                (0..n)
                    .map(|_| Ok((self.value()?, self.value()?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }
}

fn truncated() -> Error {
    Error::Protocol("reply ended early".into())
}

fn parse_int(line: &[u8]) -> Result<i64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Protocol("invalid integer reply".into()))
}

fn parse_double(line: &[u8]) -> Result<f64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Protocol("invalid double reply".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_nested_replies() {
        let buf = b"*3\r\n$2\r\nab\r\n:-5\r\n*2\r\n$-1\r\n-ERR x\r\n";
        let mut r = ReplyReader::new(buf);
        assert_eq!(r.next().unwrap(), Item::Array(3));
        assert_eq!(r.next().unwrap(), Item::Bytes(b"ab"));
        assert_eq!(r.next().unwrap(), Item::Int(-5));
        assert_eq!(
            r.value().unwrap(),
            Value::Array(vec![Value::Nil, Value::Error("ERR x".into())])
        );
    }

    #[test]
    fn decodes_resp3_scalars() {
        let mut r = ReplyReader::new(b"%1\r\n+k\r\n,1.5\r\n#t\r\n_\r\n=7\r\ntxt:abc\r\n");
        assert_eq!(
            r.value().unwrap(),
            Value::Map(vec![(Value::Bytes(b"k".to_vec()), Value::Double(1.5))])
        );
        assert_eq!(r.next().unwrap(), Item::Bool(true));
        assert_eq!(r.next().unwrap(), Item::Nil);
        assert_eq!(r.next().unwrap(), Item::Bytes(b"abc"));
    }
}
