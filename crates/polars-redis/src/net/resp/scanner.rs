//! Finding the end of a complete reply in a growing read buffer.

use crate::error::{Error, Result};

/// Resumable check for "is a whole reply in the buffer yet?".
///
/// It remembers how far it got, so a large reply arriving in many reads is
/// scanned once in total rather than once per read.
#[derive(Debug, Default)]
pub(crate) struct FrameScanner {
    /// Offset of the next unscanned header.
    pos: usize,
    /// Items still expected at each open aggregate level.
    pending: Vec<i64>,
}

impl FrameScanner {
    /// Returns `Some(len)` when `buf[..len]` holds one complete reply; the
    /// scanner is then reset for the next reply, which starts at `buf[len]`.
    pub(crate) fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>> {
        loop {
            let Some((kind, header_end, number)) = header(buf, self.pos)? else {
                return Ok(None);
            };
            match kind {
                b'$' | b'=' | b'!' if number >= 0 => {
                    let end = header_end + number as usize + 2;
                    if end > buf.len() {
                        return Ok(None);
                    }
                    self.pos = end;
                }
                b'*' | b'~' | b'>' | b'%' if number > 0 => {
                    self.pos = header_end;
                    let items = if kind == b'%' { number * 2 } else { number };
                    self.pending.push(items);
                    continue;
                }
                _ => self.pos = header_end,
            }
            // One item completed: close every aggregate it completes.
            loop {
                match self.pending.last_mut() {
                    None => {
                        let end = self.pos;
                        self.pos = 0;
                        return Ok(Some(end));
                    }
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.pending.pop();
                    }
                }
            }
        }
    }
}

/// Parse the header line at `pos`: its type byte, the offset after its CRLF,
/// and its length or count (`0` for types whose line carries no count).
fn header(buf: &[u8], pos: usize) -> Result<Option<(u8, usize, i64)>> {
    if pos >= buf.len() {
        return Ok(None);
    }
    let Some(nl) = memchr::memchr(b'\n', &buf[pos..]) else {
        return Ok(None);
    };
    let line_end = pos + nl;
    if nl == 0 || buf[line_end - 1] != b'\r' {
        return Err(Error::Protocol("reply line not terminated by CRLF".into()));
    }
    let kind = buf[pos];
    let line = &buf[pos + 1..line_end - 1];
    let number = match kind {
        b'$' | b'=' | b'!' | b'*' | b'~' | b'>' | b'%' => parse_len(line)?,
        b'+' | b'-' | b':' | b',' | b'_' | b'#' | b'(' => 0,
        other => {
            return Err(Error::Protocol(format!(
                "unexpected reply type byte 0x{other:02x}"
            )))
        }
    };
    Ok(Some((kind, line_end + 1, number)))
}

pub(crate) fn parse_len(line: &[u8]) -> Result<i64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| *n >= -1)
        .ok_or_else(|| Error::Protocol("invalid length in reply header".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_complete_replies_across_partial_reads() {
        let reply = b"*2\r\n$3\r\nabc\r\n*2\r\n:1\r\n$-1\r\n+OK\r\n";
        let first = reply.len() - 5;
        for cut in 0..first {
            let mut s = FrameScanner::default();
            assert_eq!(s.scan(&reply[..cut]).unwrap(), None, "cut at {cut}");
            assert_eq!(s.scan(reply).unwrap(), Some(first));
        }
        let mut s = FrameScanner::default();
        assert_eq!(s.scan(reply).unwrap(), Some(first));
        assert_eq!(s.scan(&reply[first..]).unwrap(), Some(5));
    }

    #[test]
    fn handles_empty_and_null_aggregates_and_maps() {
        let mut s = FrameScanner::default();
        assert_eq!(s.scan(b"*0\r\n").unwrap(), Some(4));
        assert_eq!(s.scan(b"*-1\r\n").unwrap(), Some(5));
        assert_eq!(s.scan(b"%1\r\n+a\r\n:1\r\n").unwrap(), Some(12));
    }

    #[test]
    fn rejects_garbage() {
        assert!(FrameScanner::default().scan(b"?x\r\n").is_err());
        assert!(FrameScanner::default().scan(b"$-7\r\n").is_err());
    }
}
