//! Riding through faults: which failures a read tries again, and the
//! exponential backoff between attempts. Reads are idempotent, so a pipeline
//! whose connection dropped, timed out or met a restarting server is simply
//! sent again on a new connection; the overall deadline still bounds it all.

use std::time::Duration;

use crate::error::{Error, SizeLimit};

/// Default attempts a read makes after a failed one, per pipeline or `SCAN` step.
pub const DEFAULT_RETRIES: usize = 3;
/// The range of `retries`.
pub const RETRIES_LIMIT: SizeLimit = SizeLimit::new("retries", 0, 100);

/// The pause before the first retry; each next one doubles, up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// The longest pause between two attempts.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// The retries left to one piece of work and the pause before the next.
pub(crate) struct Backoff {
    retries: usize,
    left: usize,
    pause: Duration,
}

impl Backoff {
    /// Up to `retries` attempts after the first.
    pub(crate) fn new(retries: usize) -> Self {
        Backoff {
            retries,
            left: retries,
            pause: FIRST_PAUSE,
        }
    }

    /// Whether no retry is left (the next attempt is the last).
    pub(crate) fn exhausted(&self) -> bool {
        self.left == 0
    }

    /// After an attempt failed with `err`: `true` (after the pause) when it
    /// is worth another attempt, `false` when `err` is final.
    pub(crate) async fn again(&mut self, err: &Error) -> bool {
        if self.left == 0 || !is_transient(err) {
            return false;
        }
        self.left -= 1;
        log::info!(
            "retry {} of {} in {} ms after: {err}",
            self.retries - self.left,
            self.retries,
            self.pause.as_millis()
        );
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        true
    }
}

/// A failure another attempt may not meet: a dropped or refused
/// connection, a timeout, a server still loading its data after a restart.
pub(crate) fn is_transient(err: &Error) -> bool {
    match err {
        Error::Server { message, .. } => message.starts_with("LOADING"),
        _ => err.is_connection() || err.is_timeout(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropped() -> Error {
        Error::Connection {
            addr: "127.0.0.1:1".into(),
            message: "reset".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_with_growing_pauses() {
        let mut backoff = Backoff::new(3);
        let start = tokio::time::Instant::now();
        assert!(backoff.again(&dropped()).await);
        assert!(backoff.again(&dropped()).await);
        assert!(!backoff.exhausted());
        assert!(backoff.again(&dropped()).await);
        assert!(backoff.exhausted());
        assert!(!backoff.again(&dropped()).await);
        assert_eq!(start.elapsed(), Duration::from_millis(50 + 100 + 200));
    }

    #[tokio::test(start_paused = true)]
    async fn final_failures_are_not_retried() {
        let mut backoff = Backoff::new(3);
        let refused = Error::Server {
            command: "HGETALL".into(),
            key: None,
            message: "NOPERM".into(),
        };
        assert!(!backoff.again(&refused).await);
        let loading = Error::Server {
            command: "SCAN".into(),
            key: None,
            message: "LOADING Redis is loading the dataset in memory".into(),
        };
        assert!(backoff.again(&loading).await);
    }
}
