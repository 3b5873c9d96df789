//! [`KeyReport`]: what a key-management command did to each key.

use crate::error::{Key, KeyFailure};
use crate::net::resp::Value;

/// The outcome of a key-management command (delete, expire, persist,
/// rename), key by key. Every key asked about is counted in exactly one of
/// `succeeded`, `skipped`, `missing` or `failures`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyReport {
    /// Keys asked about (for a pattern: the keys it matched).
    pub keys: usize,
    /// Keys the command changed.
    pub succeeded: usize,
    /// Keys left as they were because there was nothing to do (a key
    /// without a TTL given to `persist_keys`), in input order.
    pub skipped: Vec<Key>,
    /// Keys that did not exist, in input order.
    pub missing: Vec<Key>,
    /// Keys the server refused or that were not changed for a reason the
    /// message gives (a rename target that exists with `if_exists="fail"`),
    /// in input order; `first_row` is the key's position in the input.
    pub failures: Vec<KeyFailure>,
}

/// What one key's replies said.
pub(crate) enum Outcome {
    Done,
    Skipped,
    Missing,
    Failed(String),
}

impl KeyReport {
    /// The report of `keys`, each with its outcome.
    pub(crate) fn collect<'a>(
        keys: impl IntoIterator<Item = &'a [u8]>,
        outcomes: impl IntoIterator<Item = Outcome>,
    ) -> Self {
        let mut report = KeyReport::default();
        for (row, (key, outcome)) in keys.into_iter().zip(outcomes).enumerate() {
            report.keys += 1;
            match outcome {
                Outcome::Done => report.succeeded += 1,
                Outcome::Skipped => report.skipped.push(Key::from(key)),
                Outcome::Missing => report.missing.push(Key::from(key)),
                Outcome::Failed(message) => report.failures.push(KeyFailure {
                    key: Key::from(key),
                    first_row: row,
                    rows: 1,
                    message,
                }),
            }
        }
        report
    }
}

impl Outcome {
    /// An integer reply that is 1 when the command did its work and 0 when
    /// the key is missing (`UNLINK`, `EXPIRE`).
    pub(crate) fn of_flag(reply: &Value) -> Self {
        match reply {
            Value::Int(1) => Outcome::Done,
            Value::Int(0) => Outcome::Missing,
            other => Outcome::of_other(other),
        }
    }

    /// An error reply's message, or the unexpected reply shown.
    pub(crate) fn of_other(reply: &Value) -> Self {
        match reply {
            Value::Error(message) => Outcome::Failed(message.clone()),
            other => Outcome::Failed(format!("unexpected reply {other:?}")),
        }
    }
}
