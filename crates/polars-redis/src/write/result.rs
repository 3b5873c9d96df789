//! What a write reports: every input row is counted exactly once, as
//! written, skipped, failed or unknown.

use std::fmt;

use crate::error::Key;

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

impl WriteResult {
    /// True when every row was written or deliberately skipped.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.unknown == 0
    }
}

impl fmt::Display for WriteResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} rows written ({} keys), {} skipped, {} failed, {} unknown",
            self.written, self.rows, self.keys_written, self.skipped, self.failed, self.unknown
        )?;
        let shown = 5;
        for failure in self.failures.iter().take(shown) {
            write!(f, "; key {} failed: {}", failure.key, failure.message)?;
        }
        if self.failures.len() > shown {
            write!(f, "; {} more failed keys", self.failures.len() - shown)?;
        }
        for unknown in self.unknown_keys.iter().take(shown) {
            write!(f, "; key {} unknown: {}", unknown.key, unknown.message)?;
        }
        if self.unknown_keys.len() > shown {
            write!(
                f,
                "; {} more keys with unknown outcome",
                self.unknown_keys.len() - shown
            )?;
        }
        Ok(())
    }
}
