//! A tiny blocking RESP2 client (with the RESP3 reply types decoded too), used
//! to check server readiness and to seed ground truth independently of the
//! library under test.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Default read/write timeout of a [`Connection`].
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A decoded reply.
#[derive(Clone, PartialEq)]
pub enum RespValue {
    /// `+OK`
    Simple(String),
    /// `-ERR ...` (also RESP3 blob errors `!`)
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nfoo` (also RESP3 verbatim strings, without their `txt:` prefix)
    Bulk(Vec<u8>),
    /// `$-1`, `*-1`, RESP3 `_`
    Nil,
    /// `*N`
    Array(Vec<RespValue>),
    /// RESP3 `,1.5`
    Double(f64),
    /// RESP3 `#t`
    Boolean(bool),
    /// RESP3 `(123...` (kept as text)
    BigNumber(String),
    /// RESP3 `%N` key/value pairs, in server order
    Map(Vec<(RespValue, RespValue)>),
    /// RESP3 `~N`
    Set(Vec<RespValue>),
    /// RESP3 `>N`
    Push(Vec<RespValue>),
}

impl RespValue {
    /// `RespValue::Bulk` from anything byte-like (handy in assertions).
    pub fn bulk(data: impl AsRef<[u8]>) -> Self {
        RespValue::Bulk(data.as_ref().to_vec())
    }

    /// `RespValue::Simple` (handy in assertions).
    pub fn simple(text: &str) -> Self {
        RespValue::Simple(text.to_owned())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, RespValue::Error(_))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, RespValue::Nil)
    }

    /// Bytes of a bulk, simple or big-number reply.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            RespValue::Bulk(b) => Some(b),
            RespValue::Simple(s) | RespValue::BigNumber(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// UTF-8 text of a bulk, simple or big-number reply.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// An integer reply, or a bulk/simple reply holding an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            RespValue::Integer(i) => Some(*i),
            other => other.as_str().and_then(|s| s.parse().ok()),
        }
    }

    /// Elements of an array, set or push reply.
    pub fn as_array(&self) -> Option<&[RespValue]> {
        match self {
            RespValue::Array(a) | RespValue::Set(a) | RespValue::Push(a) => Some(a),
            _ => None,
        }
    }

    /// Panics (with the reply) unless this is an error-free reply; returns it.
    #[track_caller]
    pub fn expect_ok(self) -> Self {
        if let RespValue::Error(e) = &self {
            panic!("redis replied with an error: {e}");
        }
        self
    }
}

impl fmt::Debug for RespValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespValue::Simple(s) => write!(f, "Simple({s:?})"),
            RespValue::Error(s) => write!(f, "Error({s:?})"),
            RespValue::Integer(i) => write!(f, "Integer({i})"),
            RespValue::Bulk(b) => match std::str::from_utf8(b) {
                Ok(s) => write!(f, "Bulk({s:?})"),
                Err(_) => write!(f, "Bulk({:?})", b.escape_ascii().to_string()),
            },
            RespValue::Nil => write!(f, "Nil"),
            RespValue::Array(a) => f.debug_tuple("Array").field(a).finish(),
            RespValue::Double(d) => write!(f, "Double({d})"),
            RespValue::Boolean(b) => write!(f, "Boolean({b})"),
            RespValue::BigNumber(s) => write!(f, "BigNumber({s})"),
            RespValue::Map(m) => f.debug_tuple("Map").field(m).finish(),
            RespValue::Set(s) => f.debug_tuple("Set").field(s).finish(),
            RespValue::Push(p) => f.debug_tuple("Push").field(p).finish(),
        }
    }
}

/// Encodes one command as a RESP array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + args.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn protocol_error(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn read_line<R: BufRead>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed by server",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(protocol_error(format!(
            "unterminated RESP line: {:?}",
            line.escape_ascii().to_string()
        )));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn parse_num<T: std::str::FromStr>(raw: &[u8]) -> io::Result<T> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            protocol_error(format!(
                "bad RESP number: {:?}",
                raw.escape_ascii().to_string()
            ))
        })
}

fn read_blob<R: BufRead>(r: &mut R, len: usize) -> io::Result<Vec<u8>> {
    let mut data = vec![0u8; len + 2];
    r.read_exact(&mut data)?;
    if !data.ends_with(b"\r\n") {
        return Err(protocol_error("bulk string not terminated by CRLF".into()));
    }
    data.truncate(len);
    Ok(data)
}

/// Reads one reply (recursively for aggregates).
pub fn read_value<R: BufRead>(r: &mut R) -> io::Result<RespValue> {
    let line = read_line(r)?;
    let (kind, rest) = line
        .split_first()
        .ok_or_else(|| protocol_error("empty RESP line".into()))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    Ok(match kind {
        b'+' => RespValue::Simple(text()),
        b'-' => RespValue::Error(text()),
        b':' => RespValue::Integer(parse_num(rest)?),
        b'_' => RespValue::Nil,
        b',' => RespValue::Double(match rest {
            b"inf" => f64::INFINITY,
            b"-inf" => f64::NEG_INFINITY,
            b"nan" => f64::NAN,
            _ => parse_num(rest)?,
        }),
        b'#' => RespValue::Boolean(rest == b"t"),
        b'(' => RespValue::BigNumber(text()),
        b'$' | b'!' | b'=' => {
            let len: i64 = parse_num(rest)?;
            if len < 0 {
                RespValue::Nil
            } else {
                let data = read_blob(r, len as usize)?;
                match kind {
                    b'!' => RespValue::Error(String::from_utf8_lossy(&data).into_owned()),
                    // Verbatim string: "txt:" / "mkd:" prefix.
                    b'=' if data.len() >= 4 => RespValue::Bulk(data[4..].to_vec()),
                    _ => RespValue::Bulk(data),
                }
            }
        }
        b'*' | b'~' | b'>' => {
            let len: i64 = parse_num(rest)?;
            if len < 0 {
                RespValue::Nil
            } else {
                let items = (0..len)
                    .map(|_| read_value(r))
                    .collect::<io::Result<Vec<_>>>()?;
                match kind {
                    b'~' => RespValue::Set(items),
                    b'>' => RespValue::Push(items),
                    _ => RespValue::Array(items),
                }
            }
        }
        b'%' | b'|' => {
            let len: usize = parse_num(rest)?;
            let mut pairs = Vec::with_capacity(len);
            for _ in 0..len {
                let k = read_value(r)?;
                let v = read_value(r)?;
                pairs.push((k, v));
            }
            if *kind == b'|' {
                // Attribute: metadata preceding the real reply.
                return read_value(r);
            }
            RespValue::Map(pairs)
        }
        other => {
            return Err(protocol_error(format!(
                "unknown RESP type byte {:?} in line {:?}",
                *other as char,
                line.escape_ascii().to_string()
            )))
        }
    })
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// A blocking connection speaking RESP.
pub struct Connection {
    stream: BufReader<Stream>,
}

impl Connection {
    /// Connects over TCP (with `timeout` for connect, reads and writes).
    pub fn tcp(addr: impl ToSocketAddrs, timeout: Duration) -> io::Result<Self> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    s.set_nodelay(true)?;
                    s.set_read_timeout(Some(timeout))?;
                    s.set_write_timeout(Some(timeout))?;
                    return Ok(Self {
                        stream: BufReader::with_capacity(64 * 1024, Stream::Tcp(s)),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address")))
    }

    /// Connects to a unix socket.
    pub fn unix(path: impl AsRef<Path>, timeout: Duration) -> io::Result<Self> {
        let s = UnixStream::connect(path)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Self {
            stream: BufReader::with_capacity(64 * 1024, Stream::Unix(s)),
        })
    }

    /// Sends one command without reading its reply (for pipelining).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        let stream = self.stream.get_mut();
        stream.write_all(&encode_command(args))?;
        stream.flush()
    }

    /// Reads the next reply.
    pub fn read_reply(&mut self) -> io::Result<RespValue> {
        read_value(&mut self.stream)
    }

    /// Sends one command and reads its reply. Error replies are returned as
    /// [`RespValue::Error`], not as `Err`.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<RespValue> {
        self.send(args)?;
        self.read_reply()
    }

    /// Sends all commands in one write, then reads all replies.
    pub fn pipeline<C: AsRef<[A]>, A: AsRef<[u8]>>(
        &mut self,
        commands: &[C],
    ) -> io::Result<Vec<RespValue>> {
        let mut buf = Vec::new();
        for c in commands {
            buf.extend_from_slice(&encode_command(c.as_ref()));
        }
        let stream = self.stream.get_mut();
        stream.write_all(&buf)?;
        stream.flush()?;
        (0..commands.len()).map(|_| self.read_reply()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &[u8]) -> RespValue {
        let mut r = raw;
        let v = read_value(&mut r).unwrap();
        assert!(r.is_empty(), "trailing bytes: {r:?}");
        v
    }

    #[test]
    fn encodes_bulk_array() {
        assert_eq!(
            encode_command(&["SET", "k", ""]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n".to_vec()
        );
        assert_eq!(
            encode_command(&[&b"a\r\nb"[..], b"\x00"]),
            b"*2\r\n$4\r\na\r\nb\r\n$1\r\n\x00\r\n".to_vec()
        );
    }

    #[test]
    fn decodes_resp2() {
        assert_eq!(decode(b"+OK\r\n"), RespValue::simple("OK"));
        assert_eq!(decode(b"-ERR x\r\n"), RespValue::Error("ERR x".into()));
        assert_eq!(decode(b":-7\r\n"), RespValue::Integer(-7));
        assert_eq!(decode(b"$-1\r\n"), RespValue::Nil);
        assert_eq!(decode(b"*-1\r\n"), RespValue::Nil);
        assert_eq!(decode(b"$4\r\na\r\nb\r\n"), RespValue::bulk("a\r\nb"));
        assert_eq!(
            decode(b"*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n-E\r\n"),
            RespValue::Array(vec![
                RespValue::Integer(1),
                RespValue::Array(vec![RespValue::bulk("x"), RespValue::Nil]),
                RespValue::Error("E".into()),
            ])
        );
    }

    #[test]
    fn decodes_resp3() {
        assert_eq!(decode(b"_\r\n"), RespValue::Nil);
        assert_eq!(decode(b",1.5\r\n"), RespValue::Double(1.5));
        assert_eq!(decode(b"#f\r\n"), RespValue::Boolean(false));
        assert_eq!(decode(b"=7\r\ntxt:abc\r\n"), RespValue::bulk("abc"));
        assert_eq!(
            decode(b"%1\r\n+a\r\n~1\r\n:2\r\n"),
            RespValue::Map(vec![(
                RespValue::simple("a"),
                RespValue::Set(vec![RespValue::Integer(2)])
            )])
        );
    }

    #[test]
    fn rejects_garbage() {
        let mut r: &[u8] = b"?x\r\n";
        assert!(read_value(&mut r).is_err());
        let mut r: &[u8] = b"$3\r\nab";
        assert!(read_value(&mut r).is_err());
        let mut r: &[u8] = b"";
        assert_eq!(
            read_value(&mut r).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
