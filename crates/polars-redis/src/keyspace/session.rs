//! A [`Session`]: the topology behind a URL, the keys of a pattern, and
//! per-key commands pipelined to the node of each key's slot.
//!
//! Each job (one key's commands, routed by one key) goes to the master of
//! its slot. Every node's jobs are sent over their own connection, all nodes
//! at once, in pipelines of [`JOBS_PER_PIPELINE`] jobs with the next one
//! sent before the replies of the last are read. A job whose reply is a
//! `MOVED` or `ASK` redirect is sent again, whole, to the node it names (after
//! `ASKING` for `ASK`), for up to [`REDIRECT_ROUNDS`] rounds; any other error
//! reply is handed back to the caller as [`Value::Error`], so one refused key
//! never stops the others.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::net::budget::{LoadBudget, Pacer};
use crate::net::cluster::{Redirect, Topology};
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::nodes::{Asking, Link, NodeConnections, Opener};
use crate::net::resp::{Item, Value};
use crate::net::retry::DEFAULT_RETRIES;
use crate::read::keys::{KeyProducer, KeySelection};

/// Jobs per pipeline sent to one node.
pub(crate) const JOBS_PER_PIPELINE: usize = 1000;

/// How many times a redirected job is sent again before its redirect is
/// reported as its error.
pub(crate) const REDIRECT_ROUNDS: usize = 5;

/// Writes job `index`'s commands (RESP arrays) into the buffer.
pub(crate) type JobWriter = Arc<dyn Fn(usize, &mut Vec<u8>) + Send + Sync>;

/// The server (or cluster) behind one URL.
pub(crate) struct Session {
    seed: ConnectionConfig,
    topology: Arc<Topology>,
    first: Option<Connection>,
    pacer: Arc<Pacer>,
}

impl Session {
    /// Connect to `config` and learn its topology (and, for a cluster, its
    /// migrating slots).
    pub(crate) async fn open(config: &ConnectionConfig) -> Result<Self> {
        let mut conn = Connection::connect(config).await?;
        let mut topology = Topology::discover(&mut conn, config).await?;
        topology.survey().await?;
        Ok(Session {
            seed: config.clone(),
            topology: Arc::new(topology),
            first: Some(conn),
            pacer: Pacer::new(LoadBudget::default()),
        })
    }

    /// Pace the per-key commands by `budget`'s rate limit (keys per second,
    /// over all nodes together).
    pub(crate) fn paced(mut self, budget: &LoadBudget) -> Self {
        self.pacer = Pacer::new(*budget);
        self
    }

    /// True for a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.topology.is_cluster()
    }

    /// Every key matching `pattern` (of `redis_type`, if given), each once:
    /// `SCAN` on every master, as a scan lists them (keys of migrating slots
    /// included; a layout that changes meanwhile fails with [`Error::Cluster`]).
    pub(crate) async fn list(
        &mut self,
        pattern: &[u8],
        redis_type: Option<&'static str>,
        count_hint: usize,
    ) -> Result<Vec<Vec<u8>>> {
        let producer = KeyProducer {
            selection: KeySelection::Pattern(pattern.to_vec()),
            redis_type,
            batch_size: JOBS_PER_PIPELINE,
            count_hint,
            pattern_source: None,
            retries: DEFAULT_RETRIES,
            slots: None,
        };
        let (tx, mut rx) = mpsc::channel(16);
        let conn = self.first.take().filter(|_| !self.is_cluster());
        let listing = tokio::spawn(producer.run(self.topology.clone(), conn, tx));
        let mut keys = Vec::new();
        while let Some(batch) = rx.recv().await {
            keys.extend(batch?.keys);
        }
        listing
            .await
            .map_err(|err| Error::Protocol(format!("key listing task failed: {err}")))?;
        Ok(keys)
    }

    /// Send each job's `per_job` commands (written by `write`) to the node
    /// of its routing key; the replies, `per_job` per job in job order, an
    /// error reply as [`Value::Error`].
    pub(crate) async fn run(
        &self,
        routing: &[&[u8]],
        per_job: usize,
        write: JobWriter,
    ) -> Result<Vec<Value>> {
        let mut replies = vec![Value::Nil; routing.len() * per_job];
        let mut nodes = NodeConnections::new(&self.topology, Asking::EveryCommand);
        let mut pending: Vec<(Link, Vec<usize>)> = self.by_node(routing);
        for round in 0..=REDIRECT_ROUNDS {
            let mut tasks = JoinSet::new();
            for (link, jobs) in pending.drain(..) {
                let opener = nodes.opener(link);
                let write = write.clone();
                tasks.spawn(send_jobs(opener, jobs, per_job, write, self.pacer.clone()));
            }
            let mut redirected: Vec<(Link, Vec<usize>)> = Vec::new();
            while let Some(done) = tasks.join_next().await {
                let (jobs, values) = done
                    .map_err(|err| Error::Protocol(format!("key command task failed: {err}")))??;
                for (job, values) in jobs.into_iter().zip(values.chunks(per_job)) {
                    let target = (round < REDIRECT_ROUNDS)
                        .then(|| self.redirect_of(values, &mut nodes))
                        .flatten();
                    match target {
                        Some(link) => match redirected.iter_mut().find(|(l, _)| *l == link) {
                            Some((_, jobs)) => jobs.push(job),
                            None => redirected.push((link, vec![job])),
                        },
                        None => {
                            replies[job * per_job..(job + 1) * per_job].clone_from_slice(values)
                        }
                    }
                }
            }
            if redirected.is_empty() {
                break;
            }
            let counts: Vec<(Link, usize)> = redirected
                .iter()
                .map(|(link, jobs)| (*link, jobs.len()))
                .collect();
            nodes.log_redirects(round + 1, &counts);
            pending = redirected;
        }
        Ok(replies)
    }

    /// Job indices grouped by the node of their routing key.
    fn by_node(&self, routing: &[&[u8]]) -> Vec<(Link, Vec<usize>)> {
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); self.topology.nodes().len()];
        for (job, key) in routing.iter().enumerate() {
            groups[self.topology.node_of(key)].push(job);
        }
        groups
            .into_iter()
            .enumerate()
            .filter(|(_, jobs)| !jobs.is_empty())
            .map(|(node, jobs)| (Link::plain(node), jobs))
            .collect()
    }

    /// Where a job's replies say to send it again, if one is a redirect.
    fn redirect_of(&self, values: &[Value], nodes: &mut NodeConnections) -> Option<Link> {
        let redirect = values.iter().find_map(|value| match value {
            Value::Error(message) => Redirect::parse(message),
            _ => None,
        })?;
        let node = nodes.node_at(redirect.target(&self.seed)?);
        Some(match redirect.ask {
            true => Link::asking(node),
            false => Link::plain(node),
        })
    }
}

/// One node's share: its jobs' commands in pipelines of
/// [`JOBS_PER_PIPELINE`] jobs, the next sent before the last one's replies
/// are read. Returns the jobs and their replies.
async fn send_jobs(
    opener: Opener,
    jobs: Vec<usize>,
    per_job: usize,
    write: JobWriter,
    pacer: Arc<Pacer>,
) -> Result<(Vec<usize>, Vec<Value>)> {
    let mut conn = opener.open().await?;
    let mut values = Vec::with_capacity(jobs.len() * per_job);
    let mut chunks = jobs.chunks(pacer.pipeline_len(0, JOBS_PER_PIPELINE));
    let mut in_flight = match chunks.next() {
        Some(chunk) => send_chunk(&mut conn, chunk, &write, &pacer).await?,
        None => 0,
    };
    while in_flight > 0 {
        let next = match chunks.next() {
            Some(chunk) => send_chunk(&mut conn, chunk, &write, &pacer).await?,
            None => 0,
        };
        for _ in 0..in_flight * per_job {
            values.push(read_value(&mut conn).await?);
        }
        in_flight = next;
    }
    Ok((jobs, values))
}

/// Write and send the commands of `chunk`'s jobs; how many jobs were sent.
async fn send_chunk(
    conn: &mut Connection,
    chunk: &[usize],
    write: &JobWriter,
    pacer: &Pacer,
) -> Result<usize> {
    pacer.wait_for_rate(chunk.len()).await;
    for &job in chunk {
        write(job, conn.write_buf());
    }
    conn.flush().await?;
    Ok(chunk.len())
}

/// The next reply, an error reply as [`Value::Error`].
async fn read_value(conn: &mut Connection) -> Result<Value> {
    conn.read_reply("a key command", |r| match r.next()? {
        Item::Error(message) => Ok(Value::Error(String::from_utf8_lossy(message).into_owned())),
        item => r.value_from(item),
    })
    .await
}
