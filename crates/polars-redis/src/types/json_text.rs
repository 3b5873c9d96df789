//! A pull reader over JSON text, borrowing from the reply buffer.
//!
//! RedisJSON replies are read with it without building a document tree: the
//! JSON reader asks for the next value, numbers and strings come back as
//! slices of the reply (strings are unescaped only when they hold escapes),
//! and values nobody asked for are skipped by scanning brackets and quotes.
//! Nesting is tracked with a counter, never recursion, so any depth is safe.

use crate::error::{Error, Result};

/// What the next value is, judged from its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// The raw content of a JSON string (between the quotes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsonStr<'a> {
    raw: &'a [u8],
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// The string's bytes, unescaped into `scratch` only when needed.
    #[inline]
    pub(crate) fn decode<'b>(&self, scratch: &'b mut Vec<u8>) -> Result<&'b [u8]>
    where
        'a: 'b,
    {
        if !self.escaped {
            return Ok(self.raw);
        }
        scratch.clear();
        unescape(self.raw, scratch)?;
        Ok(scratch)
    }
}

/// A cursor over one JSON text.
pub(crate) struct JsonCursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> JsonCursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        JsonCursor { buf, pos: 0 }
    }

    /// Byte offset of the cursor, for [`JsonCursor::seek`].
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The text from `start` to the cursor.
    pub(crate) fn text_since(&self, start: usize) -> &'a [u8] {
        &self.buf[start.min(self.pos)..self.pos]
    }

    /// Skip whitespace; the cursor is then at the next value's first byte.
    pub(crate) fn value_start(&mut self) -> usize {
        self.skip_ws();
        self.pos
    }

    fn error(&self, what: &str) -> Error {
        Error::Protocol(format!("invalid JSON at byte {}: {what}", self.pos))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.buf.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The kind of the next value (whitespace skipped).
    pub(crate) fn peek(&mut self) -> Result<Kind> {
        self.skip_ws();
        Ok(match self.buf.get(self.pos) {
            Some(b'n') => Kind::Null,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            Some(_) => return Err(self.error("expected a value")),
            None => return Err(self.error("text ended where a value was expected")),
        })
    }

    /// `null`, `true` or `false`, as its text.
    pub(crate) fn literal(&mut self) -> Result<&'a [u8]> {
        self.skip_ws();
        for word in [&b"null"[..], b"true", b"false"] {
            if self.buf[self.pos..].starts_with(word) {
                self.pos += word.len();
                return Ok(word);
            }
        }
        Err(self.error("expected null, true or false"))
    }

    /// A number, as its text (the column's parse rule checks it).
    pub(crate) fn number(&mut self) -> Result<&'a [u8]> {
        self.skip_ws();
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.buf.get(self.pos) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("expected a number"));
        }
        Ok(&self.buf[start..self.pos])
    }

    /// A string; the cursor ends after its closing quote.
    pub(crate) fn string(&mut self) -> Result<JsonStr<'a>> {
        self.skip_ws();
        if self.buf.get(self.pos) != Some(&b'"') {
            return Err(self.error("expected a string"));
        }
        let start = self.pos + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            // Most strings are short: a plain loop beats a SIMD search there.
            let mut short = self.buf[at..].iter().take(16);
            let found = match short.position(|&b| b == b'"' || b == b'\\') {
                Some(found) => Some(found),
                None => memchr::memchr2(b'"', b'\\', &self.buf[at..]),
            };
            let Some(found) = found else {
                return Err(self.error("unterminated string"));
            };
            at += found;
            if self.buf[at] == b'"' {
                self.pos = at + 1;
                return Ok(JsonStr {
                    raw: &self.buf[start..at],
                    escaped,
                });
            }
            escaped = true;
            at += 2;
            if at > self.buf.len() {
                return Err(self.error("unterminated string"));
            }
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<()> {
        self.skip_ws();
        if self.buf.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// Enter an array; then call [`JsonCursor::next_element`] before each element.
    pub(crate) fn begin_array(&mut self) -> Result<()> {
        self.expect(b'[', "expected an array")
    }

    /// True when another element follows (the cursor is then at it); false
    /// after the closing bracket. `first` must start true for each array.
    pub(crate) fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        self.skip_ws();
        match self.buf.get(self.pos) {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !*first => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if *first => {
                *first = false;
                Ok(true)
            }
            _ => Err(self.error("expected , or ] in an array")),
        }
    }

    /// Enter an object; then call [`JsonCursor::next_member`] for each member.
    pub(crate) fn begin_object(&mut self) -> Result<()> {
        self.expect(b'{', "expected an object")
    }

    /// The next member's name, with the cursor at its value; `None` after the
    /// closing brace. `first` must start true for each object.
    pub(crate) fn next_member(&mut self, first: &mut bool) -> Result<Option<JsonStr<'a>>> {
        self.skip_ws();
        match self.buf.get(self.pos) {
            Some(b'}') => {
                self.pos += 1;
                return Ok(None);
            }
            Some(b',') if !*first => self.pos += 1,
            Some(b'"') if *first => *first = false,
            _ => return Err(self.error("expected , or } in an object")),
        }
        let name = self.string()?;
        self.expect(b':', "expected : after a member name")?;
        Ok(Some(name))
    }

    /// Skip the next value, returning its text.
    pub(crate) fn skip_value(&mut self) -> Result<&'a [u8]> {
        let start = self.value_start();
        match self.peek()? {
            Kind::Null | Kind::Bool => {
                self.literal()?;
            }
            Kind::Number => {
                self.number()?;
            }
            Kind::String => {
                self.string()?;
            }
            Kind::Array | Kind::Object => {
                let mut depth = 0usize;
                loop {
                    match self.buf.get(self.pos) {
                        Some(b'"') => {
                            self.string()?;
                            continue;
                        }
                        Some(b'[' | b'{') => depth += 1,
                        Some(b']' | b'}') => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                break;
                            }
                        }
                        Some(_) => {}
                        None => return Err(self.error("unterminated array or object")),
                    }
                    self.pos += 1;
                }
            }
        }
        Ok(&self.buf[start..self.pos])
    }

    /// Check that only whitespace is left.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.skip_ws();
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(self.error("unexpected text after the value"))
        }
    }
}

/// Append the unescaped form of a string's raw content to `out`.
fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let bad = |what: &str| Error::Protocol(format!("invalid JSON string escape: {what}"));
    let mut rest = raw;
    while let Some(at) = memchr::memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..at]);
        let (&code, tail) = rest[at + 1..].split_first().ok_or_else(|| bad("at end"))?;
        rest = tail;
        let byte = match code {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let (unit, tail) = hex4(rest).ok_or_else(|| bad("\\u needs 4 hex digits"))?;
                rest = tail;
                let c = if (0xD800..0xDC00).contains(&unit) {
                    let low = tail
                        .strip_prefix(b"\\u")
                        .and_then(hex4)
                        .filter(|(low, _)| (0xDC00..0xE000).contains(low));
                    let (low, tail) = low.ok_or_else(|| bad("unpaired surrogate"))?;
                    rest = tail;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                } else {
                    char::from_u32(unit)
                };
                let c = c.ok_or_else(|| bad("unpaired surrogate"))?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            other => return Err(bad(&format!("\\{}", other as char))),
        };
        out.push(byte);
    }
    out.extend_from_slice(rest);
    Ok(())
}

fn hex4(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (digits, rest) = bytes.split_at_checked(4)?;
    let text = std::str::from_utf8(digits).ok()?;
    Some((u32::from_str_radix(text, 16).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_objects_arrays_and_scalars() {
        let mut c = JsonCursor::new(br#" {"a" : [1, -2.5e3, true, null], "b\"c": {"d": "x"}} "#);
        c.begin_object().unwrap();
        let mut first = true;
        let name = c.next_member(&mut first).unwrap().unwrap();
        assert_eq!(name.decode(&mut Vec::new()).unwrap(), b"a");
        c.begin_array().unwrap();
        let mut first_el = true;
        assert!(c.next_element(&mut first_el).unwrap());
        assert_eq!(c.number().unwrap(), b"1");
        assert!(c.next_element(&mut first_el).unwrap());
        assert_eq!(
            (c.peek().unwrap(), c.number().unwrap()),
            (Kind::Number, &b"-2.5e3"[..])
        );
        assert!(c.next_element(&mut first_el).unwrap());
        assert_eq!(c.literal().unwrap(), b"true");
        assert!(c.next_element(&mut first_el).unwrap());
        assert_eq!(c.peek().unwrap(), Kind::Null);
        assert_eq!(c.literal().unwrap(), b"null");
        assert!(!c.next_element(&mut first_el).unwrap());
        let name = c.next_member(&mut first).unwrap().unwrap();
        assert_eq!(name.decode(&mut Vec::new()).unwrap(), b"b\"c");
        assert_eq!(c.skip_value().unwrap(), br#"{"d": "x"}"#);
        assert!(c.next_member(&mut first).unwrap().is_none());
        c.finish().unwrap();
    }

    #[test]
    fn skips_nested_values_with_tricky_strings() {
        let text = br#"[{"a":"]}\"[{"},[[]],"\\"] 7"#;
        let mut c = JsonCursor::new(text);
        assert_eq!(c.skip_value().unwrap(), &text[..text.len() - 2]);
        assert_eq!(c.number().unwrap(), b"7");
        c.finish().unwrap();
    }

    #[test]
    fn unescapes_strings() {
        let mut c = JsonCursor::new(br#""tab\t \u00e9 \ud83d\ude00 \/""#);
        let s = c.string().unwrap();
        let mut scratch = Vec::new();
        assert_eq!(
            std::str::from_utf8(s.decode(&mut scratch).unwrap()).unwrap(),
            "tab\t é 😀 /"
        );
        for bad in [&br#""\ud83d""#[..], br#""\x""#, br#""\u12""#] {
            let s = JsonCursor::new(bad).string().unwrap();
            assert!(s.decode(&mut scratch).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [&b"[1,"[..], b"\"abc", b"?", b"", b"tru", b"{\"a\":\"}"] {
            let mut c = JsonCursor::new(bad);
            assert!(
                c.skip_value().is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut c = JsonCursor::new(b"[1 2]");
        c.begin_array().unwrap();
        let mut first = true;
        assert!(c.next_element(&mut first).unwrap());
        c.number().unwrap();
        assert!(c.next_element(&mut first).is_err());
        let mut c = JsonCursor::new(b"{\"a\" 1}");
        c.begin_object().unwrap();
        assert!(c.next_member(&mut true).is_err());
        let mut c = JsonCursor::new(b"1 2");
        c.number().unwrap();
        assert!(c.finish().is_err());
    }
}
