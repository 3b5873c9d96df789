//! Load budgets: how much of a live server one call may use.
//!
//! A [`LoadBudget`] has two independent limits. `rate_limit` caps the units
//! (keys for reads, rows for writes) the call sends per second, over all of
//! its connections together. `latency_budget` caps how long any one request
//! of the call may occupy a server: each pipeline is sized from the time per
//! unit observed on that node so far (elapsed time of whole pipelines,
//! round trip included, so the estimate errs long), and only one pipeline of
//! the call is on a node at a time, so an online command queued behind the
//! call waits about the budget at most.
//!
//! A call turns its budget into one shared [`Pacer`]; every pipeline is sent
//! inside a [`Turn`] taken from it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::{Error, Result};

/// The longest burst a rate limit lets through at once, as a share of one
/// second's units (also the pipeline size it allows).
const RATE_BURST: f64 = 0.05;
/// Units in the first pipeline to a node under a latency budget, before any
/// time per unit was observed there.
const FIRST_PIPELINE: usize = 8;
/// Weight of the newest observation in the time-per-unit average.
const NEWEST_WEIGHT: f64 = 0.3;

/// How much of a server a call may use (see the module docs). The default
/// is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoadBudget {
    rate_limit: Option<f64>,
    latency_budget: Option<Duration>,
}

impl LoadBudget {
    /// At most `per_second` units (keys read, rows written) per second over
    /// all connections of the call; `None` for no limit. Must be positive.
    pub fn with_rate_limit(mut self, per_second: Option<f64>) -> Result<Self> {
        if let Some(rate) = per_second {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "rate_limit must be a positive number of units per second, got {rate}"
                )));
            }
        }
        self.rate_limit = per_second;
        Ok(self)
    }

    /// The longest one request of the call should occupy a server; `None`
    /// for no limit (pipelines of `batch_size`, `parallelism` in flight).
    pub fn with_latency_budget(mut self, budget: Option<Duration>) -> Result<Self> {
        if budget.is_some_and(|b| b.is_zero()) {
            return Err(Error::InvalidArgument(
                "latency_budget_ms must be a positive number of milliseconds".into(),
            ));
        }
        self.latency_budget = budget;
        Ok(self)
    }

    /// The units per second allowed, if limited.
    pub fn rate_limit(&self) -> Option<f64> {
        self.rate_limit
    }

    /// The longest a request may occupy a server, if limited.
    pub fn latency_budget(&self) -> Option<Duration> {
        self.latency_budget
    }

    /// Whether the budget limits anything.
    pub fn is_unlimited(&self) -> bool {
        self.rate_limit.is_none() && self.latency_budget.is_none()
    }
}

/// The budget of one running call, shared by all its connections.
pub(crate) struct Pacer {
    budget: LoadBudget,
    /// When the next unit may be sent (rate limit only).
    next_send: Mutex<Option<Instant>>,
    /// Per node (by topology index), grown when a new node shows up.
    nodes: Mutex<Vec<Arc<NodeLoad>>>,
}

/// What a latency budget knows of one node.
struct NodeLoad {
    /// One pipeline of the call on the node at a time.
    turn: Arc<Semaphore>,
    /// Observed time per unit, in nanoseconds (0: nothing observed yet).
    nanos_per_unit: AtomicU64,
    /// Units in the last pipeline sent (caps how fast pipelines grow).
    last_units: AtomicU64,
}

impl Pacer {
    /// The pacer of a call with this budget.
    pub(crate) fn new(budget: LoadBudget) -> Arc<Self> {
        Arc::new(Pacer {
            budget,
            next_send: Mutex::new(None),
            nodes: Mutex::new(Vec::new()),
        })
    }

    /// How many of `wanted` units the next pipeline to `node` should hold
    /// (at least one).
    pub(crate) fn pipeline_len(&self, node: usize, wanted: usize) -> usize {
        let mut len = wanted;
        if let Some(rate) = self.budget.rate_limit {
            len = len.min((rate * RATE_BURST).ceil() as usize);
        }
        if let Some(budget) = self.budget.latency_budget {
            let load = self.node(node);
            let per_unit = load.nanos_per_unit.load(Ordering::Relaxed);
            let last = load.last_units.load(Ordering::Relaxed) as usize;
            let fits = match (budget.as_nanos() as u64).checked_div(per_unit) {
                // Nothing observed on the node yet.
                None => FIRST_PIPELINE,
                Some(fits) => (fits as usize).min(last.saturating_mul(2)),
            };
            len = len.min(fits);
        }
        len.max(1)
    }

    /// Wait until a pipeline of `units` may go to `node`: the rate limit
    /// lets it through and, under a latency budget, no other pipeline of
    /// the call is on the node. Hold the turn while the pipeline is in
    /// flight; [`Turn::done`] records how long it took.
    pub(crate) async fn turn(&self, node: usize, units: usize) -> Turn {
        self.wait_for_rate(units).await;
        let Some(_) = self.budget.latency_budget else {
            return Turn {
                load: None,
                permit: None,
                units,
                started: Instant::now(),
            };
        };
        let load = self.node(node);
        let permit = load.turn.clone().acquire_owned().await.ok();
        load.last_units.store(units as u64, Ordering::Relaxed);
        Turn {
            load: Some(load),
            permit,
            units,
            started: Instant::now(),
        }
    }

    /// Sleep until `units` more fit in the rate limit (reserved now, so
    /// concurrent callers queue up behind each other).
    pub(crate) async fn wait_for_rate(&self, units: usize) {
        let Some(rate) = self.budget.rate_limit else {
            return;
        };
        let start = {
            let mut next = self.next_send.lock().expect("pacer lock");
            let now = Instant::now();
            let start = next.map_or(now, |at| at.max(now));
            *next = Some(start + Duration::from_secs_f64(units as f64 / rate));
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// Start the time-per-unit estimates over: the call moves on to
    /// commands of another cost (a walk's `SCAN` pages, then the reads of
    /// the keys it found). The rate limit carries on.
    pub(crate) fn new_phase(&self) {
        for load in self.nodes.lock().expect("pacer lock").iter() {
            load.nanos_per_unit.store(0, Ordering::Relaxed);
            load.last_units.store(0, Ordering::Relaxed);
        }
    }

    fn node(&self, node: usize) -> Arc<NodeLoad> {
        let mut nodes = self.nodes.lock().expect("pacer lock");
        while nodes.len() <= node {
            nodes.push(Arc::new(NodeLoad {
                turn: Arc::new(Semaphore::new(1)),
                nanos_per_unit: AtomicU64::new(0),
                last_units: AtomicU64::new(0),
            }));
        }
        nodes[node].clone()
    }
}

/// A pipeline's permission to be on its node (see [`Pacer::turn`]).
pub(crate) struct Turn {
    load: Option<Arc<NodeLoad>>,
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
    started: Instant,
}

impl Turn {
    /// Whether the pipeline has its node to itself (under a latency budget).
    pub(crate) fn holds_node(&self) -> bool {
        self.permit.is_some()
    }

    /// The pipeline's replies are all read: record its time per unit and
    /// free the node. (A turn dropped without this frees the node only.)
    pub(crate) fn done(self) {
        if let (Some(load), Some(_)) = (&self.load, &self.permit) {
            let sample = self.started.elapsed().as_nanos() as f64 / self.units.max(1) as f64;
            let old = load.nanos_per_unit.load(Ordering::Relaxed) as f64;
            let average = if old == 0.0 {
                sample
            } else {
                old + NEWEST_WEIGHT * (sample - old)
            };
            load.nanos_per_unit
                .store((average as u64).max(1), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_refuse_what_limits_nothing() {
        let budget = LoadBudget::default();
        assert!(budget.with_rate_limit(Some(0.0)).is_err());
        assert!(budget.with_rate_limit(Some(f64::NAN)).is_err());
        assert!(budget.with_latency_budget(Some(Duration::ZERO)).is_err());
        assert!(budget.with_rate_limit(None).unwrap().is_unlimited());
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_spaces_units_across_callers() {
        let budget = LoadBudget::default().with_rate_limit(Some(100.0)).unwrap();
        let pacer = Pacer::new(budget);
        assert_eq!(pacer.pipeline_len(0, 1000), 5);
        let start = Instant::now();
        for _ in 0..20 {
            pacer.turn(0, 5).await.done();
        }
        // 100 units at 100/s: the first 5 go at once, the rest over 0.95 s.
        assert_eq!(start.elapsed(), Duration::from_millis(950));
    }

    #[tokio::test(start_paused = true)]
    async fn latency_budget_sizes_pipelines_from_observed_time() {
        let budget = LoadBudget::default()
            .with_latency_budget(Some(Duration::from_millis(1)))
            .unwrap();
        let pacer = Pacer::new(budget);
        assert_eq!(pacer.pipeline_len(0, 1000), FIRST_PIPELINE);
        // 8 units took 80 us: 10 us each, so 100 fit in 1 ms, but a
        // pipeline at most doubles.
        let turn = pacer.turn(0, 8).await;
        tokio::time::advance(Duration::from_micros(80)).await;
        turn.done();
        assert_eq!(pacer.pipeline_len(0, 1000), 16);
        assert_eq!(pacer.pipeline_len(1, 1000), FIRST_PIPELINE);
        let turn = pacer.turn(0, 64).await;
        tokio::time::advance(Duration::from_micros(640)).await;
        turn.done();
        assert_eq!(pacer.pipeline_len(0, 1000), 100);
        assert_eq!(pacer.pipeline_len(0, 40), 40);
        pacer.new_phase();
        assert_eq!(pacer.pipeline_len(0, 1000), FIRST_PIPELINE);
    }

    #[tokio::test(start_paused = true)]
    async fn one_pipeline_per_node_at_a_time() {
        let budget = LoadBudget::default()
            .with_latency_budget(Some(Duration::from_millis(1)))
            .unwrap();
        let pacer = Pacer::new(budget);
        let first = pacer.turn(0, 1).await;
        let other_node = pacer.turn(1, 1).await;
        let waiting = tokio::time::timeout(Duration::from_millis(10), pacer.turn(0, 1)).await;
        assert!(waiting.is_err(), "a second pipeline got onto node 0");
        drop(first);
        other_node.done();
        pacer.turn(0, 1).await.done();
    }
}
