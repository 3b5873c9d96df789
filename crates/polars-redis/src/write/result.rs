//! What a write reports: every input row is counted exactly once, as
//! written, skipped, failed or unknown. The report's data lives beside
//! [`crate::Error`] (an incomplete write's error carries it); its behaviour
//! lives here, with how the engine's per-key outcomes ([`Final`]) become one.

use std::fmt;

use super::conflict::{IfExists, Outcome};
use super::frame::{Frame, Groups};
use crate::error::Key;
use crate::net::cluster::Redirect;

pub use crate::error::{KeyFailure, WriteResult};

/// How a key ended.
#[derive(Clone, Debug)]
pub(crate) enum Final {
    Written,
    Skipped,
    Failed(String),
    Unknown(String),
    /// Not written: the slot is served elsewhere (cluster `MOVED`/`ASK`).
    Redirected(Redirect),
}

impl Final {
    /// How a key ended, from the server's reply to its commands sent with
    /// `mode`.
    pub(crate) fn of(outcome: Outcome, mode: IfExists) -> Final {
        match (outcome, mode) {
            (Outcome::Written, _) => Final::Written,
            (Outcome::Exists, IfExists::Skip) => Final::Skipped,
            (Outcome::Exists, IfExists::Fail) => Final::Failed(
                "key was created by another client after the existence check; not overwritten"
                    .into(),
            ),
            (Outcome::Exists, _) => Final::Failed("the server did not write the key".into()),
            (Outcome::Failed(message), _) => Final::Failed(message),
            (Outcome::Redirected(redirect), _) => Final::Redirected(redirect),
        }
    }
}

impl WriteResult {
    /// Count every row of `frame` by how its key (a group of `groups`)
    /// ended; a key without an outcome is unknown, a redirect not followed
    /// failed.
    pub(crate) fn collect(frame: &Frame, groups: &Groups, finals: Vec<Option<Final>>) -> Self {
        let mut result = WriteResult {
            rows: frame.rows(),
            ..WriteResult::default()
        };
        for (g, outcome) in finals.into_iter().enumerate() {
            let rows = groups.rows(g);
            let failure = |message: String| KeyFailure {
                key: Key::from(groups.key(g)),
                first_row: rows.iter().map(|r| frame.global(*r)).min().unwrap_or(0),
                rows: rows.len(),
                message,
            };
            match outcome.unwrap_or_else(|| Final::Unknown("no outcome recorded".into())) {
                Final::Written => {
                    result.written += rows.len();
                    result.keys_written += 1;
                }
                Final::Skipped => {
                    result.skipped += rows.len();
                    result.skipped_keys.push(Key::from(groups.key(g)));
                }
                Final::Failed(message) | Final::Redirected(Redirect { message, .. }) => {
                    result.failed += rows.len();
                    result.failures.push(failure(message));
                }
                Final::Unknown(message) => {
                    result.unknown += rows.len();
                    result.unknown_keys.push(failure(message));
                }
            }
        }
        result
    }

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
