//! How far a running write has got ([`WriteProgress`]): counters the
//! workers bump as the server answers each key, read from another thread.

use std::sync::atomic::{AtomicU64, Ordering};

/// Rows and keys of a running write whose outcome is known, updated as the
/// server answers each key batch. Share one through
/// [`WriteOptions::with_progress`](super::WriteOptions::with_progress) and
/// read it from another thread while the write runs; the
/// [`WriteResult`](super::WriteResult) stays the exact account.
///
/// ```
/// use std::sync::Arc;
/// use polars_redis::write::WriteProgress;
///
/// let progress = Arc::new(WriteProgress::default());
/// assert_eq!((progress.rows(), progress.keys_written()), (0, 0));
/// ```
#[derive(Debug, Default)]
pub struct WriteProgress {
    rows: AtomicU64,
    keys_written: AtomicU64,
}

impl WriteProgress {
    /// Rows whose key has its outcome (written, skipped or failed).
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Keys written.
    pub fn keys_written(&self) -> u64 {
        self.keys_written.load(Ordering::Relaxed)
    }

    /// One key of `rows` rows has its outcome.
    pub(crate) fn key_done(&self, rows: usize, written: bool) {
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
        if written {
            self.keys_written.fetch_add(1, Ordering::Relaxed);
        }
    }
}
