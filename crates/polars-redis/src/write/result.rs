//! What a write reports: every input row is counted exactly once, as
//! written, skipped, failed or unknown. The report's data lives beside
//! [`crate::Error`] (an incomplete write's error carries it); its behaviour
//! lives here.

use std::fmt;

pub use crate::error::{KeyFailure, WriteResult};

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
