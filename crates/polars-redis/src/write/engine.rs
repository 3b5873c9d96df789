//! The write engine: sends a checked [`Job`] to its servers. Keys are cut
//! into batches sent over `parallelism` connections per server (per master
//! on a Redis Cluster, each key to the master of its slot), each connection
//! run by a [`Worker`]; `fail` first checks that no key exists, and keys
//! whose slot moved (`MOVED`) or is migrating (`ASK`) are sent again where
//! the reply points.

use std::sync::Arc;

use super::check::Job;
use super::conflict::IfExists;
use super::result::{Final, WriteResult};
use super::worker::{Shared, Worker};
use crate::error::{Error, Result};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, Connection};
use crate::net::nodes::{Asking, Link, NodeConnections};
use crate::net::resp::Item;

/// Times a key follows `MOVED`/`ASK` redirects before it is reported failed.
const MAX_REDIRECTS: usize = 5;

/// The keys one server receives, over one link.
#[derive(Clone)]
struct Lane {
    link: Link,
    groups: Vec<usize>,
}

impl Lane {
    fn new(link: Link) -> Self {
        Lane {
            link,
            groups: Vec::new(),
        }
    }
}

impl Job {
    /// Send everything and collect the outcome of every key. On a Redis
    /// Cluster each key goes to the master serving its slot: every master
    /// gets its own `parallelism` connections and key batches, and a key
    /// whose slot has moved (`MOVED`) or is being migrated (`ASK`) is sent
    /// again where the reply points.
    pub(crate) async fn run(self, config: ConnectionConfig) -> Result<WriteResult> {
        if self.groups.len() == 0 {
            return Ok(WriteResult::default());
        }
        let mut first = Connection::connect(&config).await?;
        if let Some(module) = self.module {
            first.require(module).await?;
        }
        let topology = Topology::discover(&mut first, &config).await?;
        // A write sends `ASKING` itself, once per key (see `Worker`).
        let mut nodes = NodeConnections::new(&topology, Asking::ByCaller);
        if !topology.is_cluster() {
            nodes.put(Link::plain(0), first);
        }
        let mut lanes: Vec<Lane> = (0..topology.nodes().len())
            .map(|node| Lane::new(Link::plain(node)))
            .collect();
        for g in 0..self.groups.len() {
            lanes[topology.node_of(self.groups.key(g))].groups.push(g);
        }
        if self.mode == IfExists::Fail {
            let mut existing = Vec::new();
            for lane in &lanes {
                let conn = nodes.get(lane.link).await?;
                let node = lane.link.node;
                existing.extend(self.existing_keys(conn, node, &lane.groups).await?);
            }
            // The writes cost more per key than `EXISTS`.
            self.pacer.new_phase();
            if !existing.is_empty() {
                return Ok(self.conflict_result(&existing));
            }
        }
        let cluster = topology.is_cluster();
        let job = Arc::new(self);
        let mut finals: Vec<Option<Final>> = vec![None; job.groups.len()];
        send_lanes(&job, &mut nodes, cluster, lanes, &mut finals).await?;
        // A redirected key was not written (the server refused it before
        // running anything), so sending it again is always safe.
        for round in 1..=MAX_REDIRECTS {
            let lanes = redirected_lanes(&mut nodes, &config, &mut finals);
            if lanes.is_empty() {
                break;
            }
            let counts: Vec<(Link, usize)> = lanes
                .iter()
                .map(|lane| (lane.link, lane.groups.len()))
                .collect();
            nodes.log_redirects(round, &counts);
            if let Err(err) =
                send_lanes(&job, &mut nodes, cluster, lanes.clone(), &mut finals).await
            {
                for lane in lanes {
                    let endpoint = nodes.config(lane.link.node).endpoint();
                    for g in lane.groups {
                        finals[g] = Some(Final::Failed(format!(
                            "redirected to {endpoint}, which could not be reached: {err}",
                        )));
                    }
                }
            }
        }
        for outcome in &mut finals {
            if let Some(Final::Redirected(redirect)) = outcome {
                *outcome = Some(Final::Failed(format!(
                    "{} (still redirected after {MAX_REDIRECTS} attempts; the cluster is \
                     resharding)",
                    redirect.message
                )));
            }
        }
        let result = WriteResult::collect(&job.frame, &job.groups, finals);
        log::info!(
            "write to {}: {} of {} rows written ({} keys), {} skipped, {} failed, {} unknown",
            config.endpoint,
            result.written,
            result.rows,
            result.keys_written,
            result.skipped,
            result.failed,
            result.unknown
        );
        Ok(result)
    }

    /// Which of `groups` (keys on `node`, reached by `conn`) exist now
    /// (for `fail`), asked in pipelines the load budget sizes.
    async fn existing_keys(
        &self,
        conn: &mut Connection,
        node: usize,
        mut groups: &[usize],
    ) -> Result<Vec<usize>> {
        const CHUNK: usize = 10_000;
        let mut existing = Vec::new();
        while !groups.is_empty() {
            let (chunk, rest) =
                groups.split_at(self.pacer.pipeline_len(node, CHUNK).min(groups.len()));
            groups = rest;
            let turn = self.pacer.turn(node, chunk.len()).await;
            for &g in chunk {
                crate::net::resp::write_array(
                    conn.write_buf(),
                    [&b"EXISTS"[..], self.groups.key(g)],
                );
            }
            conn.flush().await?;
            for &g in chunk {
                let hit = conn
                    .read_reply("EXISTS", |r| match r.next()? {
                        Item::Int(n) => Ok(n > 0),
                        Item::Error(m) => Err(server_error("EXISTS", Some(self.groups.key(g)), m)),
                        _ => Err(Error::Protocol("unexpected reply to EXISTS".into())),
                    })
                    .await?;
                if hit {
                    existing.push(g);
                }
            }
            turn.done();
        }
        Ok(existing)
    }

    /// `fail` found existing keys: they fail, every other row is skipped.
    fn conflict_result(&self, existing: &[usize]) -> WriteResult {
        let mut finals = vec![Some(Final::Skipped); self.groups.len()];
        for &g in existing {
            finals[g] = Some(Final::Failed(
                "key already exists (if_exists='fail'; nothing was written)".into(),
            ));
        }
        WriteResult::collect(&self.frame, &self.groups, finals)
    }

    /// How many batches of about `batch_size` rows `groups` make (more
    /// under a load budget, which sizes batches as the write goes).
    fn batch_count(&self, groups: &[usize]) -> usize {
        let rows: usize = groups.iter().map(|&g| self.groups.rows(g).len()).sum();
        rows.div_ceil(self.batch_size).max(1)
    }
}

/// Send the keys of every lane and record their outcomes in `finals`
/// (`cluster`: the servers are cluster nodes, so a script call carries
/// keys of one slot).
/// Every connection is opened (or taken idle from `nodes`) before the first
/// key is sent, so a server that cannot be reached fails the call with
/// nothing written.
async fn send_lanes(
    job: &Arc<Job>,
    nodes: &mut NodeConnections,
    cluster: bool,
    lanes: Vec<Lane>,
    finals: &mut [Option<Final>],
) -> Result<()> {
    let mut ready = Vec::new();
    for lane in lanes.into_iter().filter(|lane| !lane.groups.is_empty()) {
        let batches = job.batch_count(&lane.groups);
        let conns = nodes
            .checkout(lane.link, job.parallelism.min(batches))
            .await?;
        log::debug!(
            "sending {} keys to {} in about {} batches over {} connections",
            lane.groups.len(),
            nodes.config(lane.link.node).endpoint,
            batches,
            conns.len()
        );
        let opener = Arc::new(nodes.opener(lane.link));
        let shared = Shared::new(lane.groups.clone(), lane.link.node, cluster);
        ready.push((lane, Arc::new(shared), opener, conns));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (lane, shared, opener, conns) in ready {
        for conn in conns {
            let (job, shared, opener) = (job.clone(), shared.clone(), opener.clone());
            let asking = lane.link.asking;
            tasks.spawn(async move { Worker::run(&job, conn, &shared, &opener, asking).await });
        }
        for &g in &lane.groups {
            finals[g] = None;
        }
    }
    // A worker that stopped on an error leaves its keys without an
    // outcome: they are reported as unknown with that error, while the
    // outcomes of every other key are kept.
    let mut worker_error = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(outcomes)) => {
                for (group, outcome) in outcomes {
                    finals[group] = Some(outcome);
                }
            }
            Ok(Err(err)) => worker_error = Some(err.to_string()),
            Err(err) => worker_error = Some(format!("write worker failed: {err}")),
        }
    }
    if let Some(message) = worker_error {
        for outcome in finals.iter_mut().filter(|o| o.is_none()) {
            *outcome = Some(Final::Unknown(message.clone()));
        }
    }
    Ok(())
}

/// The redirected keys, as lanes to the servers their redirects name
/// (added to `nodes` when new).
fn redirected_lanes(
    nodes: &mut NodeConnections,
    seed: &ConnectionConfig,
    finals: &mut [Option<Final>],
) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = Vec::new();
    for (g, outcome) in finals.iter_mut().enumerate() {
        let Some(Final::Redirected(redirect)) = outcome else {
            continue;
        };
        let Some(config) = redirect.target(seed) else {
            *outcome = Some(Final::Failed(redirect.message.clone()));
            continue;
        };
        let link = Link {
            node: nodes.node_at(config),
            asking: redirect.ask,
        };
        let lane = match lanes.iter().position(|l| l.link == link) {
            Some(lane) => lane,
            None => {
                lanes.push(Lane::new(link));
                lanes.len() - 1
            }
        };
        lanes[lane].groups.push(g);
    }
    lanes
}
