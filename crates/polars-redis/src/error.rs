//! The one error type of the crate.
//!
//! Every fallible operation returns [`Result<T>`]. The enum is `#[non_exhaustive]`
//! so new failure kinds can be added without breaking callers; match on the
//! predicates ([`Error::is_timeout`], [`Error::is_connection`], ...) when only the
//! kind matters. Messages name the key and field involved and never contain a
//! password.

use std::fmt;

/// Shorthand for `std::result::Result<T, polars_redis::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while talking to Redis or decoding its data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection URL or an option is malformed.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),

    /// A caller-supplied argument (schema, pattern, batch size, ...) is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The server could not be reached, or the connection broke.
    #[error("connection to {addr} failed: {message}")]
    Connection {
        /// `host:port` or socket path (never the password).
        addr: String,
        /// What the operating system or TLS layer said.
        message: String,
    },

    /// The server rejected the credentials (`WRONGPASS`, `NOAUTH`, ...).
    #[error("authentication to {addr} failed: {message}")]
    Auth {
        /// `host:port` or socket path.
        addr: String,
        /// The server's reply.
        message: String,
    },

    /// A connect, a command or the overall deadline ran out.
    #[error("timed out after {after_ms} ms while {during}")]
    Timeout {
        /// What was being waited for.
        during: String,
        /// The limit that ran out, in milliseconds.
        after_ms: u64,
    },

    /// The server answered a command with an error reply.
    #[error("Redis error from `{command}`{}: {message}", key_suffix(key))]
    Server {
        /// The command name, e.g. `HGETALL`.
        command: String,
        /// The key the command was about, if any.
        key: Option<Key>,
        /// The error reply, e.g. `ERR unknown command`.
        message: String,
    },

    /// A key holds another Redis type than the one being read.
    #[error("key {key} holds a {actual}, not a {expected}")]
    WrongType {
        /// The offending key.
        key: Key,
        /// The type that was expected (`hash`, `string`, ...).
        expected: &'static str,
        /// The type the key actually has (from `TYPE`), or `unknown`.
        actual: String,
    },

    /// A stored value could not be parsed as the declared dtype (strict mode).
    #[error(
        "key {key}, field `{field}`: cannot parse {value} as {dtype}{}",
        hint_suffix(hint)
    )]
    Parse {
        /// The key whose value failed to parse.
        key: Key,
        /// The field (column) name.
        field: String,
        /// The offending value, quoted and truncated for display.
        value: String,
        /// The declared dtype, e.g. `Int64` or `Datetime(ms, UTC)`.
        dtype: String,
        /// Extra advice, e.g. that the dtype came from schema inference.
        hint: Option<String>,
    },

    /// The server or the request needs something this version does not do.
    #[error("not supported: {0}")]
    Unsupported(String),

    /// Schema inference had nothing (or too little) to look at.
    #[error("schema inference failed: {0}")]
    Inference(String),

    /// The server sent bytes that are not valid RESP.
    #[error("protocol error: {0}")]
    Protocol(String),

    /// A write did not write every key; the result says which keys failed
    /// (with the Redis error) and which have an unknown outcome.
    #[error("write incomplete: {0}")]
    WriteFailed(Box<WriteResult>),

    /// A RediSearch request cannot be answered completely: no such index,
    /// the index is still being built, the reply was partial, or the
    /// target cannot run it (a cluster without a search coordinator).
    #[error("search: {0}")]
    Search(String),

    /// A cached frame (the DataFrame cache) failed its checks: a chunk is
    /// missing, has the wrong length or checksum, or its manifest is
    /// damaged. Nothing is returned rather than a wrong frame; write the
    /// entry again.
    #[error("cache entry {key} is corrupt: {message}")]
    CacheCorrupt {
        /// The cache key (its manifest).
        key: Key,
        /// What failed (which chunk, expected and found).
        message: String,
    },

    /// A Redis Cluster changed under a read (a slot moved or is migrating, a
    /// node answered `MOVED`/`ASK`) or cannot serve every slot. The read is
    /// abandoned rather than returned partially; retrying is safe.
    #[error("cluster: {0}")]
    Cluster(String),

    /// A cluster node answered `MOVED` or `ASK` to a read: the key's slot
    /// was moved while the read ran. Retrying is safe.
    #[error(
        "cluster: `{command}`{} was redirected (`{message}`): the slot moved during the read; retry",
        key_suffix(key)
    )]
    Redirected {
        /// The command name, e.g. `HGETALL`.
        command: String,
        /// The key the command was about, if any.
        key: Option<Key>,
        /// The redirect, e.g. `MOVED 3999 10.0.0.5:6379`.
        message: String,
    },
}

impl Error {
    /// True for connect, command and deadline timeouts.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True when the server could not be reached or the connection broke.
    pub fn is_connection(&self) -> bool {
        matches!(self, Error::Connection { .. })
    }

    /// True when the server rejected the credentials.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth { .. })
    }

    /// True when a key held another Redis type than the one requested.
    pub fn is_wrong_type(&self) -> bool {
        matches!(self, Error::WrongType { .. })
    }

    /// True when a stored value could not be parsed as its declared dtype.
    pub fn is_parse(&self) -> bool {
        matches!(self, Error::Parse { .. })
    }

    /// True for malformed URLs, options and arguments.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidConfig(_) | Error::InvalidArgument(_))
    }

    /// True when a write left keys failed or with an unknown outcome.
    pub fn is_write_failed(&self) -> bool {
        matches!(self, Error::WriteFailed(_))
    }

    /// True for RediSearch refusals (see [`Error::Search`]).
    pub fn is_search(&self) -> bool {
        matches!(self, Error::Search(_))
    }

    /// True when a cluster's slot layout changed or was incomplete during a
    /// read (see [`Error::Cluster`] and [`Error::Redirected`]).
    pub fn is_cluster(&self) -> bool {
        matches!(self, Error::Cluster(_) | Error::Redirected { .. })
    }

    /// True when a cached frame failed its checksums or lost a chunk.
    pub fn is_cache_corrupt(&self) -> bool {
        matches!(self, Error::CacheCorrupt { .. })
    }

    /// True when the server replied with an error.
    pub fn is_server(&self) -> bool {
        matches!(self, Error::Server { .. })
    }

    pub(crate) fn io(addr: &str, err: std::io::Error) -> Self {
        Error::Connection {
            addr: addr.to_string(),
            message: err.to_string(),
        }
    }
}

fn key_suffix(key: &Option<Key>) -> String {
    match key {
        Some(key) => format!(" on key {key}"),
        None => String::new(),
    }
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(hint) => format!(" ({hint})"),
        None => String::new(),
    }
}

/// The documented range of a size option (`batch_size`, `parallelism`, ...).
///
/// Every size a caller gives is checked against its limit before anything
/// is allocated or sent, so an absurd value is an [`Error::InvalidArgument`]
/// naming the option and its range, never an allocation failure. The
/// limits are public constants next to the options they bound
/// ([`BATCH_SIZE_LIMIT`](crate::BATCH_SIZE_LIMIT), ...), so bindings can show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeLimit {
    /// The option's name, as callers spell it (`batch_size`).
    pub name: &'static str,
    /// The smallest value allowed.
    pub min: usize,
    /// The largest value allowed.
    pub max: usize,
}

impl SizeLimit {
    /// The limit of option `name`: from `min` to `max`, both included.
    pub const fn new(name: &'static str, min: usize, max: usize) -> Self {
        SizeLimit { name, min, max }
    }

    /// `value`, if it lies within the limit.
    pub fn check(&self, value: usize) -> Result<usize> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(self.out_of_range(value))
        }
    }

    /// The error for a value outside the limit, shown as given (which may
    /// not even fit a `usize`, e.g. a negative number from a binding).
    pub fn out_of_range(&self, given: impl fmt::Display) -> Error {
        Error::InvalidArgument(format!(
            "{} must be between {} and {}, got {given}",
            self.name, self.min, self.max
        ))
    }
}

/// A Redis key as it appears in error messages: the raw bytes, displayed
/// quoted, with non-UTF-8 bytes escaped as `\xNN`.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(pub Vec<u8>);

impl Key {
    /// Borrow the raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for Key {
    fn from(bytes: &[u8]) -> Self {
        Key(bytes.to_vec())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", quote_bytes(&self.0, 200))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Quote bytes for a message: `"text"`, with invalid UTF-8 and control bytes
/// escaped, cut after `max_chars` characters.
pub(crate) fn quote_bytes(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::from("\"");
    let mut written = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if written == max_chars {
                out.push_str("...\"");
                return out;
            }
            written += 1;
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&c.escape_default().to_string()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            if written == max_chars {
                out.push_str("...\"");
                return out;
            }
            written += 1;
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// One key that was not written (or whose outcome is unknown), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFailure {
    /// The key.
    pub key: Key,
    /// Its first row in the input (0-based).
    pub first_row: usize,
    /// How many input rows it covers.
    pub rows: usize,
    /// The Redis error reply, or what went wrong.
    pub message: String,
}

/// The outcome of a write, per key; the row counts add up to the input rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteResult {
    /// Input rows.
    pub rows: usize,
    /// Rows written.
    pub written: usize,
    /// Rows not written because their key existed (`if_exists="skip"`, or
    /// every row when `"fail"` found existing keys).
    pub skipped: usize,
    /// Rows whose key the server refused (see [`WriteResult::failures`]).
    pub failed: usize,
    /// Rows whose key may or may not have been written: the connection
    /// dropped before the reply came and the commands were not safe to retry.
    pub unknown: usize,
    /// Keys written.
    pub keys_written: usize,
    /// Keys skipped, in input order.
    pub skipped_keys: Vec<Key>,
    /// Keys that failed, with the error, in input order.
    pub failures: Vec<KeyFailure>,
    /// Keys whose outcome is unknown, with the connection error, in input order.
    pub unknown_keys: Vec<KeyFailure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_keys() {
        assert_eq!(Key(b"user:1".to_vec()).to_string(), "\"user:1\"");
        assert_eq!(Key(b"a\xffb\"".to_vec()).to_string(), "\"a\\xffb\\\"\"");
        assert_eq!(quote_bytes(b"abcdef", 3), "\"abc...\"");
    }

    #[test]
    fn parse_error_names_key_field_value() {
        let err = Error::Parse {
            key: Key(b"user:7".to_vec()),
            field: "age".into(),
            value: quote_bytes(b"forty", 80),
            dtype: "Int64".into(),
            hint: None,
        };
        assert_eq!(
            err.to_string(),
            "key \"user:7\", field `age`: cannot parse \"forty\" as Int64"
        );
        assert!(err.is_parse() && !err.is_timeout());
    }
}
