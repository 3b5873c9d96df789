//! The scan engine: one task produces key batches (SCAN or a key list),
//! several workers fetch them over their own connections (one pipeline in
//! flight each), and a coordinator puts the fetched batches back in order,
//! applies the row limit and the row index, and hands them to the consumer
//! through a small bounded channel. Every channel is bounded, so a slow
//! consumer stops the workers and the SCAN (backpressure) and memory stays
//! proportional to `batch_size x parallelism`, not to the number of keys.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::ConnectionConfig;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::keys::{KeyBatch, KeyProducer, KeySelection};
use crate::layout::Layout;

/// Reads the rows of one batch of keys of one Redis type.
pub(crate) trait Fetcher: Send + Sync + 'static {
    /// Fetch `keys` over `conn` and return their rows in key order, in the
    /// layout's fetch schema. Keys that no longer exist produce no row.
    fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
    ) -> impl Future<Output = Result<RecordBatch>> + Send;
}

/// Everything a running scan needs.
pub(crate) struct ScanJob<F> {
    pub(crate) config: ConnectionConfig,
    pub(crate) fetcher: Arc<F>,
    pub(crate) layout: Arc<Layout>,
    pub(crate) keys: KeyProducer,
    pub(crate) parallelism: usize,
    pub(crate) limit: Option<usize>,
    pub(crate) deadline: Option<Duration>,
}

/// Batches ready for the consumer (kept small: this is the backpressure point).
const OUTPUT_QUEUE: usize = 2;

impl<F: Fetcher> ScanJob<F> {
    /// Start the scan on `runtime`; batches arrive on the returned channel.
    pub(crate) fn spawn(self, runtime: &tokio::runtime::Handle) -> mpsc::Receiver<Result<RecordBatch>> {
        let (out, rx) = mpsc::channel(OUTPUT_QUEUE);
        runtime.spawn(self.run_until_deadline(out));
        rx
    }

    async fn run_until_deadline(self, out: mpsc::Sender<Result<RecordBatch>>) {
        let deadline = self.deadline.map(|d| (d, Instant::now() + d));
        let result = match deadline {
            None => self.run(None, &out).await,
            Some((limit, at)) => tokio::time::timeout_at(at, self.run(Some(at), &out))
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        during: "scanning (overall deadline)".into(),
                        after_ms: limit.as_millis() as u64,
                    })
                }),
        };
        if let Err(err) = result {
            let _ = out.send(Err(err)).await;
        }
    }

    async fn run(self, deadline: Option<Instant>, out: &mpsc::Sender<Result<RecordBatch>>) -> Result<()> {
        if self.limit == Some(0) {
            return Ok(());
        }
        let connect = || async {
            let mut conn = Connection::connect(&self.config).await?;
            conn.set_deadline(deadline);
            Ok::<_, Error>(conn)
        };
        // The JoinSet aborts every task when this function returns, which is
        // how an early stop (limit reached, consumer gone, error) cancels work.
        let mut tasks = JoinSet::new();
        let (key_tx, key_rx) = mpsc::channel(self.parallelism * 2);
        let scan_conn = match self.keys.selection {
            KeySelection::Pattern(_) => Some(connect().await?),
            KeySelection::Keys(_) => None,
        };
        tasks.spawn(self.keys.clone().run(scan_conn, key_tx));

        let key_rx = Arc::new(Mutex::new(key_rx));
        let (done_tx, mut done_rx) = mpsc::channel(self.parallelism);
        for _ in 0..self.parallelism {
            let conn = connect().await?;
            tasks.spawn(fetch_worker(conn, self.fetcher.clone(), key_rx.clone(), done_tx.clone()));
        }
        drop(done_tx);

        let mut reorder = BTreeMap::new();
        let mut next_seq = 0;
        let mut emitted = 0usize;
        while let Some(done) = done_rx.recv().await {
            let (seq, batch) = done?;
            reorder.insert(seq, batch);
            while let Some(batch) = reorder.remove(&next_seq) {
                next_seq += 1;
                let remaining = self.limit.map_or(usize::MAX, |limit| limit - emitted);
                let batch = batch.slice(0, batch.num_rows().min(remaining));
                if batch.num_rows() == 0 {
                    continue;
                }
                let first_index = u32::try_from(emitted).map_err(|_| {
                    Error::InvalidArgument("the row index column overflows UInt32".into())
                })?;
                emitted += batch.num_rows();
                let batch = self.layout.with_row_index(batch, first_index)?;
                if out.send(Ok(batch)).await.is_err() || Some(emitted) == self.limit {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

async fn fetch_worker<F: Fetcher>(
    mut conn: Connection,
    fetcher: Arc<F>,
    keys: Arc<Mutex<mpsc::Receiver<Result<KeyBatch>>>>,
    done: mpsc::Sender<Result<(u64, RecordBatch)>>,
) {
    loop {
        let next = keys.lock().await.recv().await;
        let Some(next) = next else { return };
        let result = match next {
            Ok(batch) => fetcher
                .fetch(&mut conn, batch.keys)
                .await
                .map(|rows| (batch.seq, rows)),
            Err(err) => Err(err),
        };
        let failed = result.is_err();
        if done.send(result).await.is_err() || failed {
            return;
        }
    }
}
