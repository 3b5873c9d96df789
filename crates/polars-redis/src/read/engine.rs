//! The scan engine.
//!
//! ```text
//!  key producer ──key batches──▶ dispatcher ──work──▶ N fetch workers (own connection each)
//!  (SCAN / list)                    │                        │ chunks (bounded, per batch)
//!                                   └──per-batch receivers──▶ coordinator ──▶ consumer
//! ```
//!
//! Each key batch gets its own small chunk channel; the coordinator drains
//! those channels strictly in batch order, so output order is stable while
//! up to N pipelines are in flight. Every channel is bounded: a slow consumer
//! stops the workers and the SCAN (backpressure), and a fetcher that turns one
//! key into millions of rows (a long list or stream) emits them in chunks, so
//! memory follows `batch_size x parallelism`, never the size of the data.
//!
//! On a Redis Cluster every master is scanned at once, each key batch holds
//! keys of one master, and each worker keeps one connection per master, so
//! `parallelism` pipelines can be in flight on every master.
//!
//! Under a [`LoadBudget`] each key batch is sent as pipelines the call's
//! [`Pacer`] sizes and lets through (rate limit, one pipeline per node at a
//! time under a latency budget); the batches and their order stay the same.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::net::budget::{LoadBudget, Pacer};
use crate::net::cluster::{Migration, Route, Topology};
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::modules::Requirement;
use crate::net::nodes::{Asking, Link, NodeConnections};
use crate::net::replicas::{route_reads, ReadFrom};
use crate::net::resp::{Cmd, Value};
use crate::net::retry::{is_transient, Backoff};
use crate::read::keys::{KeyBatch, KeyProducer, KeySelection};
use crate::read::layout::Layout;
use crate::read::warnings::{FirstKeys, NullColumns, ScanChecks};

/// Reads the rows of one batch of keys of one Redis type.
pub(crate) trait Fetcher: Send + Sync + 'static {
    /// Fetch `keys` over `conn` and emit their rows, in key order and in the
    /// layout's fetch schema, as one or more chunks. Keys that no longer exist
    /// produce no row. Returns early, without error, once the sink is closed.
    fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Where a fetcher puts the chunks of one key batch.
pub(crate) struct ChunkSink {
    chunks: mpsc::Sender<Result<RecordBatch>>,
    /// Rows handed over so far.
    rows: AtomicUsize,
}

impl ChunkSink {
    fn new(chunks: mpsc::Sender<Result<RecordBatch>>) -> Self {
        ChunkSink {
            chunks,
            rows: AtomicUsize::new(0),
        }
    }

    /// Hand over a chunk; `false` when the scan has stopped and the fetcher
    /// should return.
    pub(crate) async fn emit(&self, chunk: RecordBatch) -> bool {
        self.rows.fetch_add(chunk.num_rows(), Ordering::Relaxed);
        chunk.num_rows() == 0 || self.chunks.send(Ok(chunk)).await.is_ok()
    }

    fn rows(&self) -> usize {
        self.rows.load(Ordering::Relaxed)
    }

    /// A sink that never makes its fetcher wait, and its chunks.
    fn unbounded() -> (Self, mpsc::Receiver<Result<RecordBatch>>) {
        let (tx, rx) = mpsc::channel(tokio::sync::Semaphore::MAX_PERMITS);
        (ChunkSink::new(tx), rx)
    }

    /// Hand the chunks this (unbounded) sink collected over to `to`;
    /// `false` when the scan has stopped.
    async fn forward(
        self,
        mut chunks: mpsc::Receiver<Result<RecordBatch>>,
        to: &ChunkSink,
    ) -> bool {
        drop(self);
        while let Ok(chunk) = chunks.try_recv() {
            let handed = match chunk {
                Ok(chunk) => to.emit(chunk).await,
                Err(err) => to.chunks.send(Err(err)).await.is_ok(),
            };
            if !handed {
                return false;
            }
        }
        true
    }
}

/// A key batch with the sink for its chunks.
type Work = (KeyBatch, ChunkSink);

/// Everything a running scan needs.
pub(crate) struct ScanJob<F> {
    pub(crate) config: ConnectionConfig,
    pub(crate) fetcher: Arc<F>,
    pub(crate) layout: Arc<Layout>,
    pub(crate) keys: KeyProducer,
    pub(crate) parallelism: usize,
    pub(crate) limit: Option<usize>,
    pub(crate) deadline: Option<Duration>,
    /// How much of the servers the scan may use.
    pub(crate) budget: LoadBudget,
    /// Attempts after a failed one, per pipeline (see [`Backoff`]).
    pub(crate) retries: usize,
    /// What to look into once the scan has run to its end.
    pub(crate) checks: ScanChecks,
    /// The module the type needs, checked on the first connection.
    pub(crate) module: Option<Requirement>,
    /// Which servers the keys are listed and read on.
    pub(crate) read_from: ReadFrom,
}

/// Batches ready for the consumer (kept small: this is the backpressure point).
const OUTPUT_QUEUE: usize = 2;

impl<F: Fetcher> ScanJob<F> {
    /// Start the scan on `runtime`; batches arrive on the returned channel.
    pub(crate) fn spawn(
        self,
        runtime: &tokio::runtime::Handle,
    ) -> mpsc::Receiver<Result<RecordBatch>> {
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
        match result {
            // Every key was read: what may be wrong with the result is
            // looked into (on its own time budget, not the scan's deadline)
            // before the batch channel closes.
            Ok(Some(done)) => {
                self.checks
                    .run(&done.topology, done.rows, done.null_columns)
                    .await
            }
            Ok(None) => {}
            Err(err) => {
                let _ = out.send(Err(err)).await;
            }
        }
    }

    /// Run the scan; `None` when it stopped early (row limit reached,
    /// consumer gone), else what the checks of a complete scan need.
    async fn run(
        &self,
        deadline: Option<Instant>,
        out: &mpsc::Sender<Result<RecordBatch>>,
    ) -> Result<Option<Completed>> {
        if self.limit == Some(0) {
            return Ok(None);
        }
        // The JoinSet aborts every task when this function returns, which is
        // how an early stop (limit reached, consumer gone, error) cancels work.
        let mut tasks = JoinSet::new();
        let mut first = Connection::connect(&self.config).await?;
        first.set_deadline(deadline);
        if let Some(module) = self.module {
            first.require(module).await?;
        }
        let mut topology = Topology::discover(&mut first, &self.config).await?;
        topology.survey().await?;
        route_reads(&mut topology, self.read_from).await?;
        let topology = Arc::new(topology);
        let workers = self.parallelism * topology.nodes().len();
        let (key_tx, key_rx) = mpsc::channel(workers * 2);
        let scan_conn = match self.keys.selection {
            KeySelection::Pattern(_) | KeySelection::Query(_)
                if !topology.is_cluster() && !topology.nodes()[0].reads_replicas() =>
            {
                Some(first)
            }
            _ => None,
        };
        tasks.spawn(self.keys.clone().run(topology.clone(), scan_conn, key_tx));

        let (work_tx, work_rx) = mpsc::channel::<Work>(workers);
        let (order_tx, mut order_rx) = mpsc::channel(workers + 1);
        tasks.spawn(dispatch(
            key_rx,
            work_tx,
            order_tx,
            self.checks.first_keys.clone(),
        ));
        let work_rx = Arc::new(Mutex::new(work_rx));
        let pacer = Pacer::new(self.budget);
        for worker in 0..workers {
            // One connection per node (and per node in `ASKING` mode, for
            // migrating slots), opened when first needed; under `read_from`
            // the workers take a node's replicas in turn.
            let conns = NodeConnections::reading(&topology, Asking::EveryCommand, worker)
                .with_deadline(deadline);
            tasks.spawn(fetch_worker(
                topology.clone(),
                pacer.clone(),
                self.retries,
                conns,
                self.fetcher.clone(),
                work_rx.clone(),
            ));
        }

        let mut emitted = 0usize;
        let mut null_columns = NullColumns::new(&self.checks);
        while let Some(mut chunks) = order_rx.recv().await {
            while let Some(chunk) = chunks.recv().await {
                let chunk = chunk?;
                let remaining = self.limit.map_or(usize::MAX, |limit| limit - emitted);
                let chunk = chunk.slice(0, chunk.num_rows().min(remaining));
                if chunk.num_rows() == 0 {
                    continue;
                }
                let first_index = u32::try_from(emitted).map_err(|_| {
                    Error::InvalidArgument("the row index column overflows UInt32".into())
                })?;
                emitted += chunk.num_rows();
                null_columns.observe(&chunk);
                let chunk = self.layout.with_row_index(chunk, first_index)?;
                if out.send(Ok(chunk)).await.is_err() || Some(emitted) == self.limit {
                    return Ok(None);
                }
            }
        }
        Ok(Some(Completed {
            topology,
            rows: emitted,
            null_columns,
        }))
    }
}

/// What a scan that read every key hands to its checks.
struct Completed {
    topology: Arc<Topology>,
    rows: usize,
    null_columns: NullColumns,
}

/// Give each key batch a chunk channel: the sender goes with the work to a
/// worker, the receiver to the coordinator, in batch order.
async fn dispatch(
    mut keys: mpsc::Receiver<Result<KeyBatch>>,
    work: mpsc::Sender<Work>,
    order: mpsc::Sender<mpsc::Receiver<Result<RecordBatch>>>,
    first_keys: FirstKeys,
) {
    /// Chunks of one batch buffered ahead of the coordinator.
    const CHUNKS_AHEAD: usize = 2;
    while let Some(batch) = keys.recv().await {
        let (chunk_tx, chunk_rx) = mpsc::channel(CHUNKS_AHEAD);
        if order.send(chunk_rx).await.is_err() {
            return;
        }
        match batch {
            Ok(batch) => {
                first_keys.offer(&batch.keys);
                if work.send((batch, ChunkSink::new(chunk_tx))).await.is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = chunk_tx.send(Err(err)).await;
                return;
            }
        }
    }
}

async fn fetch_worker<F: Fetcher>(
    topology: Arc<Topology>,
    pacer: Arc<Pacer>,
    retries: usize,
    mut conns: NodeConnections,
    fetcher: Arc<F>,
    work: Arc<Mutex<mpsc::Receiver<Work>>>,
) {
    loop {
        let next = work.lock().await.recv().await;
        let Some((batch, sink)) = next else { return };
        let fetch = Fetch {
            conns: &mut conns,
            fetcher: fetcher.as_ref(),
            sink: &sink,
            retries,
        };
        let fetched = fetch_batch(&topology, &pacer, fetch, batch);
        if let Err(err) = fetched.await {
            // The connection may be mid-reply: stop this worker after reporting.
            let _ = sink.chunks.send(Err(err)).await;
            return;
        }
    }
}

/// Where a worker fetches one key batch, and how often it may retry.
struct Fetch<'a, F> {
    conns: &'a mut NodeConnections,
    fetcher: &'a F,
    sink: &'a ChunkSink,
    retries: usize,
}

async fn fetch_batch<F: Fetcher>(
    topology: &Topology,
    pacer: &Pacer,
    mut fetch: Fetch<'_, F>,
    batch: KeyBatch,
) -> Result<()> {
    match topology.route(batch.node) {
        Route::Node(node) => {
            let mut keys = batch.keys;
            while !keys.is_empty() {
                let rest = keys.split_off(pacer.pipeline_len(node, keys.len()));
                let turn = pacer.turn(node, keys.len()).await;
                let sink = fetch.sink;
                if turn.holds_node() {
                    // The rows are handed over once the node is free again:
                    // a worker waiting to hand over a later batch must not
                    // keep the node from the worker reading an earlier one.
                    let (local, chunks) = ChunkSink::unbounded();
                    fetch.retrying(Link::plain(node), keys, &local).await?;
                    turn.done();
                    if !local.forward(chunks, sink).await {
                        return Ok(());
                    }
                } else {
                    fetch.retrying(Link::plain(node), keys, sink).await?;
                }
                keys = rest;
            }
            Ok(())
        }
        Route::Migrating(migration) => {
            for key in batch.keys {
                pacer.wait_for_rate(1).await;
                fetch_moving_key(fetch.conns, fetch.fetcher, migration, key, fetch.sink).await?;
            }
            Ok(())
        }
    }
}

impl<F: Fetcher> Fetch<'_, F> {
    /// Fetch `keys` over `link`; a transient failure before any of their
    /// rows was handed over is retried on a new connection.
    async fn retrying(
        &mut self,
        link: Link,
        mut keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> Result<()> {
        let mut backoff = Backoff::new(self.retries);
        loop {
            let before = sink.rows();
            let attempt = if backoff.exhausted() && !self.conns.can_fall_back(link.node) {
                std::mem::take(&mut keys)
            } else {
                keys.clone()
            };
            let keys_sent = attempt.len();
            let result = match self.conns.get(link).await {
                Ok(conn) => self.fetcher.fetch(conn, attempt, sink).await,
                Err(err) => Err(err),
            };
            match result {
                Err(err) if sink.rows() == before && backoff.again(&err).await => {
                    self.conns.forget(link);
                }
                // `prefer_replica`: a replica gone for good leaves its keys
                // to its primary.
                Err(err)
                    if sink.rows() == before
                        && is_transient(&err)
                        && self.conns.fall_back(link.node) =>
                {
                    backoff = Backoff::new(self.retries);
                }
                done => {
                    log::debug!(
                        "batch of {} keys read from {}: {} rows",
                        keys_sent,
                        self.conns.config(link.node).endpoint,
                        sink.rows() - before
                    );
                    return done;
                }
            }
        }
    }
}

/// Read one key of a migrating slot where it is now. Keys only move from
/// the source to the target, so a key the target has is final there (read
/// after `ASKING`); otherwise the source is read, and if the key left it
/// in between, the source redirects and the target is read instead.
async fn fetch_moving_key<F: Fetcher>(
    conns: &mut NodeConnections,
    fetcher: &F,
    migration: &Migration,
    key: Vec<u8>,
    sink: &ChunkSink,
) -> Result<()> {
    let target = conns.get(Link::asking(migration.target)).await?;
    let on_target = target.query(Cmd::new("EXISTS").arg(&key)).await?;
    if on_target != Value::Int(1) {
        let rows = sink.rows();
        let source = conns.get(Link::plain(migration.source)).await?;
        match fetcher.fetch(source, vec![key.clone()], sink).await {
            // Nothing of the key was handed over: read it on the target.
            Err(Error::Redirected { .. }) if sink.rows() == rows => {
                conns.forget(Link::plain(migration.source));
            }
            done => return done,
        }
    }
    let target = conns.get(Link::asking(migration.target)).await?;
    fetcher.fetch(target, vec![key], sink).await
}
