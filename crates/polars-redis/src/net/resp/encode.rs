//! Encoding commands as RESP arrays of bulk strings.

use super::scanner::FrameScanner;
use crate::error::{Error, Result};

/// One command, encoded incrementally into a RESP array.
///
/// ```ignore
/// let mut cmd = Cmd::new("HMGET");
/// cmd.arg(b"user:1").arg("name");
/// ```
#[derive(Clone, Debug, Default)]
pub(crate) struct Cmd {
    args: Vec<Vec<u8>>,
}

impl Cmd {
    pub(crate) fn new(name: &str) -> Self {
        Cmd {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    pub(crate) fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    pub(crate) fn args<I, A>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// The command name, for messages.
    pub(crate) fn name(&self) -> String {
        String::from_utf8_lossy(&self.args[0]).to_uppercase()
    }

    /// True for a command after which the connection is no longer like a
    /// new one (a subscription, RESP3, a client setting, another
    /// database, replica reads...), so it must not be reused by others.
    pub(crate) fn changes_session(&self) -> bool {
        const SESSION: [&str; 12] = [
            "SUBSCRIBE",
            "PSUBSCRIBE",
            "SSUBSCRIBE",
            "CLIENT",
            "READONLY",
            "READWRITE",
            "SELECT",
            "AUTH",
            "MONITOR",
            "RESET",
            "WATCH",
            "MULTI",
        ];
        let name = self.name();
        SESSION.contains(&name.as_str())
            || (name == "HELLO" && self.args.get(1).map(Vec::as_slice) != Some(&b"2"[..]))
    }

    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        write_array(out, self.args.iter().map(Vec::as_slice));
    }
}

/// Encode an array of bulk strings without building a [`Cmd`] first; the
/// fast path for pipelines of thousands of small commands. The array
/// length is counted from `args` (walked twice, so it must be `Clone`).
pub(crate) fn write_array<'a, I>(out: &mut Vec<u8>, args: I)
where
    I: IntoIterator<Item = &'a [u8]>,
    I::IntoIter: Clone,
{
    let args = args.into_iter();
    out.push(b'*');
    push_decimal(out, args.clone().count());
    out.extend_from_slice(b"\r\n");
    for arg in args {
        out.push(b'$');
        push_decimal(out, arg.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Copy the encoded commands in `buf`, each preceded by `prefix` (itself
/// an encoded command, such as `ASKING`).
pub(crate) fn prefix_commands(buf: &[u8], prefix: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(buf.len() + prefix.len() * 8);
    let mut rest = buf;
    while !rest.is_empty() {
        let len = FrameScanner::default()
            .scan(rest)?
            .ok_or_else(|| Error::Protocol("an incomplete command was queued".into()))?;
        out.extend_from_slice(prefix);
        out.extend_from_slice(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(out)
}

/// How many encoded commands `buf` holds; `None` when one is incomplete
/// or malformed.
pub(crate) fn count_commands(buf: &[u8]) -> Option<usize> {
    let mut rest = buf;
    let mut count = 0;
    while !rest.is_empty() {
        let len = FrameScanner::default().scan(rest).ok()??;
        rest = &rest[len..];
        count += 1;
    }
    Some(count)
}

/// Append `n` in decimal ASCII.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_every_command() {
        let mut out = Vec::new();
        write_array(&mut out, [&b"GET"[..], b"a\r\n"]);
        write_array(&mut out, [&b"PING"[..]]);
        let prefixed = prefix_commands(&out, b"+P\r\n").unwrap();
        assert_eq!(
            prefixed,
            b"+P\r\n*2\r\n$3\r\nGET\r\n$3\r\na\r\n\r\n+P\r\n*1\r\n$4\r\nPING\r\n".to_vec()
        );
        assert!(prefix_commands(b"*2\r\n$3\r\nGET\r\n", b"+P\r\n").is_err());
    }

    #[test]
    fn knows_commands_that_change_the_session() {
        for (cmd, changes) in [
            (Cmd::new("HGETALL").arg("k").clone(), false),
            (Cmd::new("HELLO").arg("2").clone(), false),
            (Cmd::new("HELLO").arg("3").clone(), true),
            (Cmd::new("subscribe").arg("news").clone(), true),
            (Cmd::new("CLIENT").arg("TRACKING").arg("ON").clone(), true),
            (Cmd::new("READONLY"), true),
            (Cmd::new("SELECT").arg("1").clone(), true),
        ] {
            assert_eq!(cmd.changes_session(), changes, "{cmd:?}");
        }
    }

    #[test]
    fn counts_commands() {
        let mut out = Vec::new();
        write_array(&mut out, [&b"GET"[..], b"a\r\n"]);
        write_array(&mut out, [&b"PING"[..]]);
        assert_eq!(count_commands(&out), Some(2));
        assert_eq!(count_commands(&out[..out.len() - 1]), None);
        assert_eq!(count_commands(b""), Some(0));
    }

    #[test]
    fn encodes_binary_safe_arrays() {
        let mut out = Vec::new();
        Cmd::new("SET").arg(b"k\r\n").arg("").write_to(&mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n");
    }
}
