//! The write engine: check everything, then send keys in pipelines over
//! `parallelism` connections (per master on a Redis Cluster, each key to the
//! master of its slot), retrying idempotent keys after a dropped connection
//! and reporting the others as unknown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Int64Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};

use super::conflict::{self, Expiry, IfExists, Outcome, ReplyShape, Strategy};
use super::frame::{name_rows, Frame, Groups, KeySource};
use super::result::{KeyFailure, WriteResult};
use super::{Commands, Encoder, GroupCtx, Ttl, WritePlan};
use crate::error::{Error, Key, Result};
use crate::net::cluster::{Redirect, Topology};
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::resp::{Cmd, Item};

/// Attempts per key batch after dropped connections.
const MAX_ATTEMPTS: usize = 3;

/// Times a key follows `MOVED`/`ASK` redirects before it is reported failed.
const MAX_REDIRECTS: usize = 5;

/// How each key ended.
#[derive(Clone, Debug)]
enum Final {
    Written,
    Skipped,
    Failed(String),
    Unknown(String),
    /// Not written: the slot is served elsewhere (cluster `MOVED`/`ASK`).
    Redirected(Redirect),
}

/// Keys (by group index) and how they ended.
type Outcomes = Vec<(usize, Final)>;

/// A checked write, ready to send.
pub(crate) struct Job {
    frame: Frame,
    groups: Groups,
    encoder: Box<dyn Encoder>,
    expiries: Vec<Expiry>,
    mode: IfExists,
    /// Retrying a key whose reply was lost leaves the same value.
    idempotent: bool,
    batch_size: usize,
    parallelism: usize,
}

impl Job {
    /// Check the frame and key every row (nothing is sent).
    pub(crate) fn prepare<P: WritePlan>(plan: &P, frame: Frame) -> Result<Job> {
        let options = plan.options();
        let mut reserved = Vec::new();
        let (source, key_name) = match &options.key_column {
            Some(name) => {
                let column = frame.column(name, "key")?;
                reserved.push(column);
                (KeySource::Column(column), name.clone())
            }
            None => (KeySource::RowIndex, "row index".to_string()),
        };
        let ttl_column = match &options.ttl {
            Ttl::Column(name) => {
                let column = frame.column(name, "TTL")?;
                check_ttl_type(frame.data_type(column), name)?;
                reserved.push(column);
                Some(column)
            }
            _ => None,
        };
        let encoder = plan.encoder(&frame, &reserved)?;
        let (groups, expiries) = {
            let cells = frame.cells()?;
            let groups = Groups::build(
                &frame,
                &cells,
                &source,
                &options.key_prefix,
                P::GROUPED,
                &key_name,
            )?;
            let expiries = expiries(&frame, &groups, &options.ttl, ttl_column)?;
            (groups, expiries)
        };
        {
            let cells = frame.cells()?;
            let mut scratch = Commands::default();
            for (g, expiry) in expiries.iter().enumerate() {
                let ctx = GroupCtx {
                    frame: &frame,
                    cells: &cells,
                    key: groups.key(g),
                    rows: groups.rows(g),
                    mode: options.if_exists,
                    expiry: *expiry,
                };
                encoder
                    .validate(&ctx, &mut scratch)
                    .map_err(|m| Error::InvalidArgument(format!("{m} (nothing was written)")))?;
            }
        }
        let idempotent = match options.if_exists {
            IfExists::Replace => true,
            IfExists::Append => P::APPEND_IDEMPOTENT,
            IfExists::Fail | IfExists::Skip => false,
        };
        Ok(Job {
            frame,
            groups,
            encoder,
            expiries,
            mode: options.if_exists,
            idempotent,
            batch_size: options.batch_size,
            parallelism: options.parallelism,
        })
    }

    /// Send everything and collect the outcome of every key. On a Redis
    /// Cluster each key goes to the master serving its slot: every master
    /// gets its own `parallelism` connections and key batches, and a key
    /// whose slot has moved (`MOVED`) or is being migrated (`ASK`) is sent
    /// again where the reply points.
    pub(crate) async fn run(self, config: ConnectionConfig) -> Result<WriteResult> {
        if self.groups.len() == 0 {
            return Ok(WriteResult::default());
        }
        let mut first = connect(&config).await?;
        let topology = Topology::discover(&mut first, &config).await?;
        let mut lanes: Vec<Lane> = topology
            .nodes()
            .iter()
            .map(|node| Lane::new(node.config.clone(), false))
            .collect();
        for g in 0..self.groups.len() {
            lanes[topology.node_of(self.groups.key(g))].groups.push(g);
        }
        let mut first = Some(first).filter(|_| !topology.is_cluster());
        if self.mode == IfExists::Fail {
            let mut existing = Vec::new();
            for lane in &lanes {
                let mut conn = match first.take() {
                    Some(conn) => conn,
                    None => connect(&lane.config).await?,
                };
                existing.extend(self.existing_keys(&mut conn, &lane.groups).await?);
                first = Some(conn).filter(|_| !topology.is_cluster());
            }
            if !existing.is_empty() {
                return Ok(self.conflict_result(&existing));
            }
        }
        let job = Arc::new(self);
        let mut finals: Vec<Option<Final>> = vec![None; job.groups.len()];
        send_lanes(&job, lanes, first, &mut finals).await?;
        // A redirected key was not written (the server refused it before
        // running anything), so sending it again is always safe.
        for _ in 0..MAX_REDIRECTS {
            let lanes = redirected_lanes(&config, &mut finals);
            if lanes.is_empty() {
                break;
            }
            if let Err(err) = send_lanes(&job, lanes.clone(), None, &mut finals).await {
                for lane in lanes {
                    for g in lane.groups {
                        finals[g] = Some(Final::Failed(format!(
                            "redirected to {}, which could not be reached: {err}",
                            lane.config.endpoint()
                        )));
                    }
                }
            }
        }
        Ok(job.result(finals))
    }

    /// Which of `groups` (keys on `conn`'s server) exist now (for `fail`).
    async fn existing_keys(&self, conn: &mut Connection, groups: &[usize]) -> Result<Vec<usize>> {
        const CHUNK: usize = 10_000;
        let mut existing = Vec::new();
        for chunk in groups.chunks(CHUNK) {
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
                        Item::Error(m) => Err(crate::net::connection::server_error(
                            "EXISTS",
                            Some(self.groups.key(g)),
                            m,
                        )),
                        _ => Err(Error::Protocol("unexpected reply to EXISTS".into())),
                    })
                    .await?;
                if hit {
                    existing.push(g);
                }
            }
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
        self.result(finals)
    }

    /// `groups` cut into batches of about `batch_size` rows (at least one
    /// group each), in order.
    fn key_batches(&self, groups: &[usize]) -> Vec<Vec<usize>> {
        let mut batches = Vec::new();
        let mut batch = Vec::new();
        let mut rows = 0;
        for &g in groups {
            batch.push(g);
            rows += self.groups.rows(g).len();
            if rows >= self.batch_size {
                batches.push(std::mem::take(&mut batch));
                rows = 0;
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        batches
    }

    fn finish(&self, outcome: Outcome) -> Final {
        match (outcome, self.mode) {
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

    fn result(&self, finals: Vec<Option<Final>>) -> WriteResult {
        let mut result = WriteResult {
            rows: self.frame.rows(),
            ..WriteResult::default()
        };
        for (g, outcome) in finals.into_iter().enumerate() {
            let rows = self.groups.rows(g);
            let failure = |message: String| KeyFailure {
                key: Key::from(self.groups.key(g)),
                first_row: rows
                    .iter()
                    .map(|r| self.frame.global(*r))
                    .min()
                    .unwrap_or(0),
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
                    result.skipped_keys.push(Key::from(self.groups.key(g)));
                }
                Final::Failed(message) => {
                    result.failed += rows.len();
                    result.failures.push(failure(message));
                }
                Final::Unknown(message) => {
                    result.unknown += rows.len();
                    result.unknown_keys.push(failure(message));
                }
                Final::Redirected(redirect) => {
                    result.failed += rows.len();
                    result.failures.push(failure(format!(
                        "{} (still redirected after {MAX_REDIRECTS} attempts; the cluster is \
                         resharding)",
                        redirect.message
                    )));
                }
            }
        }
        result
    }
}

/// The keys one server receives.
#[derive(Clone)]
struct Lane {
    config: ConnectionConfig,
    /// Send `ASKING` before each key: its slot is being imported there.
    asking: bool,
    groups: Vec<usize>,
}

impl Lane {
    fn new(config: ConnectionConfig, asking: bool) -> Self {
        Lane {
            config,
            asking,
            groups: Vec::new(),
        }
    }
}

/// Send the keys of every lane and record their outcomes in `finals`.
/// Every connection is opened before the first key is sent, so a server that
/// cannot be reached fails the call with nothing written. `first` is reused
/// as one of the connections (of a one-lane, standalone write).
async fn send_lanes(
    job: &Arc<Job>,
    lanes: Vec<Lane>,
    mut first: Option<Connection>,
    finals: &mut [Option<Final>],
) -> Result<()> {
    let mut ready = Vec::new();
    for lane in lanes.into_iter().filter(|lane| !lane.groups.is_empty()) {
        let batches = job.key_batches(&lane.groups);
        let mut conns = Vec::new();
        for _ in 0..job.parallelism.min(batches.len()) {
            conns.push(match first.take() {
                Some(conn) => conn,
                None => connect(&lane.config).await?,
            });
        }
        let shared = Arc::new(Shared {
            next: AtomicUsize::new(0),
            batches,
            stopped: Mutex::new(None),
        });
        ready.push((lane, shared, conns));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (lane, shared, conns) in ready {
        for conn in conns {
            let (job, shared, config) = (job.clone(), shared.clone(), lane.config.clone());
            let asking = lane.asking;
            tasks.spawn(async move { Worker::run(&job, conn, &shared, &config, asking).await });
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

/// The redirected keys, as lanes to the servers their redirects name.
fn redirected_lanes(seed: &ConnectionConfig, finals: &mut [Option<Final>]) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = Vec::new();
    for (g, outcome) in finals.iter_mut().enumerate() {
        let Some(Final::Redirected(redirect)) = outcome else {
            continue;
        };
        let Some(config) = redirect.target(seed) else {
            *outcome = Some(Final::Failed(redirect.message.clone()));
            continue;
        };
        let asking = redirect.ask;
        let found = lanes
            .iter()
            .position(|l| l.config == config && l.asking == asking);
        let lane = found.unwrap_or_else(|| {
            lanes.push(Lane::new(config, asking));
            lanes.len() - 1
        });
        lanes[lane].groups.push(g);
    }
    lanes
}

/// Keys sent on a connection, with the shape of their replies.
type Sent = Vec<(usize, ReplyShape)>;

/// One connection's share of a write. Two key batches are in flight: the
/// next one is sent before the replies to the previous one are read, so the
/// server always has queued work while the client encodes and decodes.
struct Worker<'a> {
    job: &'a Job,
    shared: &'a Shared,
    config: &'a ConnectionConfig,
    cells: super::FrameCells<'a>,
    conn: Option<Connection>,
    sha: Vec<u8>,
    /// Precede each key's commands with `ASKING` (see [`Lane::asking`]).
    asking: bool,
    cmds: Commands,
    out: Outcomes,
}

impl<'a> Worker<'a> {
    async fn run(
        job: &'a Job,
        mut conn: Connection,
        shared: &'a Shared,
        config: &'a ConnectionConfig,
        asking: bool,
    ) -> Result<Outcomes> {
        let sha = load_script(&mut conn).await?;
        let mut worker = Worker {
            job,
            shared,
            config,
            cells: job.frame.cells()?,
            conn: Some(conn),
            sha,
            asking,
            cmds: Commands::default(),
            out: Vec::new(),
        };
        let mut in_flight: Option<Sent> = None;
        loop {
            let next = worker.next_batch();
            let done = next.is_none();
            let mut doubt = Vec::new();
            let mut error = None;
            let mut just_sent = None;
            if let Some(pending) = next {
                match worker.send(&pending).await {
                    Ok(sent) => just_sent = Some(sent),
                    Err((sent, err)) => {
                        doubt.extend(sent.iter().map(|(g, _)| *g));
                        error = Some(err);
                    }
                }
            }
            if let Some(previous) = in_flight.take() {
                if error.is_some() {
                    // The connection broke: no reply of the previous batch was read.
                    doubt.extend(previous.iter().map(|(g, _)| *g));
                } else if let Err((unread, err)) = worker.receive(&previous).await {
                    doubt.extend(unread);
                    doubt.extend(just_sent.take().into_iter().flatten().map(|(g, _)| g));
                    error = Some(err);
                }
            }
            if let Some(err) = error {
                worker.recover(doubt, err).await;
            }
            in_flight = just_sent;
            if done && in_flight.is_none() {
                return Ok(worker.out);
            }
        }
    }

    /// The groups of the next key batch; `None` when there are no more.
    /// Batches taken after the write stopped are failed without being sent.
    fn next_batch(&mut self) -> Option<Vec<usize>> {
        loop {
            let index = self.shared.next.fetch_add(1, Ordering::Relaxed);
            let range = self.shared.batches.get(index)?;
            let stopped = self.shared.stopped.lock().expect("lock").clone();
            match stopped {
                Some(reason) => self.out.extend(
                    range
                        .iter()
                        .map(|&g| (g, Final::Failed(format!("not sent: {reason}")))),
                ),
                None => return Some(range.clone()),
            }
        }
    }

    /// Encode and send `pending` keys (reconnecting first if needed). Keys
    /// whose rows cannot be encoded are failed and not sent. On a connection
    /// error, the keys that may have reached the server and the error.
    async fn send(&mut self, pending: &[usize]) -> std::result::Result<Sent, (Sent, Error)> {
        if let Err(reason) = self.connected().await {
            self.out.extend(
                pending
                    .iter()
                    .map(|&g| (g, Final::Failed(format!("not sent: {reason}")))),
            );
            return Ok(Vec::new());
        }
        let conn = self.conn.as_mut().expect("connected");
        let job = self.job;
        let mut sent = Vec::with_capacity(pending.len());
        for &g in pending {
            let ctx = GroupCtx {
                frame: &job.frame,
                cells: &self.cells,
                key: job.groups.key(g),
                rows: job.groups.rows(g),
                mode: job.mode,
                expiry: job.expiries[g],
            };
            self.cmds.clear();
            if let Err(message) = job.encoder.encode(&ctx, &mut self.cmds) {
                self.out.push((g, Final::Failed(message)));
                continue;
            }
            let single_set = job.encoder.single_set();
            let strategy = Strategy::choose(job.mode, ctx.expiry, &self.cmds, single_set);
            let buf = conn.write_buf();
            if self.asking {
                crate::net::resp::write_array(buf, [&b"ASKING"[..]]);
            }
            let shape = conflict::encode(buf, strategy, ctx.key, &self.cmds, ctx.expiry, &self.sha);
            sent.push((g, shape));
        }
        match conn.flush().await {
            Ok(()) => Ok(sent),
            Err(err) => {
                self.conn = None;
                Err((sent, err))
            }
        }
    }

    /// Read the replies to `sent`, recording outcomes. On a connection
    /// error, the keys whose replies are missing and the error.
    async fn receive(
        &mut self,
        sent: &[(usize, ReplyShape)],
    ) -> std::result::Result<(), (Vec<usize>, Error)> {
        let conn = self.conn.as_mut().expect("connected");
        for (i, (g, shape)) in sent.iter().enumerate() {
            match read_one(conn, *shape, self.asking).await {
                Ok(outcome) => self.out.push((*g, self.job.finish(outcome))),
                Err(err) => {
                    self.conn = None;
                    return Err((sent[i..].iter().map(|(g, _)| *g).collect(), err));
                }
            }
        }
        Ok(())
    }

    /// Keys in doubt after a connection error: re-send them on a new
    /// connection when that is safe (idempotent), else report them unknown.
    async fn recover(&mut self, mut pending: Vec<usize>, mut err: Error) {
        self.conn = None;
        let mut attempt = 1;
        loop {
            if let Error::Protocol(_) = err {
                // Not a network fault: stop sending, report what is unsure.
                let why = format!("unreadable reply, write stopped: {err}");
                *self.shared.stopped.lock().expect("lock") = Some(why.clone());
                return self.unknown(&pending, &why);
            }
            if !self.job.idempotent || attempt >= MAX_ATTEMPTS {
                let why = if self.job.idempotent {
                    format!("connection lost {attempt} times: {err}")
                } else {
                    format!("connection lost before the reply, not retried (not idempotent): {err}")
                };
                return self.unknown(&pending, &why);
            }
            tokio::time::sleep(Duration::from_millis(50 * attempt as u64)).await;
            attempt += 1;
            if let Err(reason) = self.connected().await {
                let why = format!("connection lost and not re-established: {reason}");
                return self.unknown(&pending, &why);
            }
            match self.send(&pending).await {
                Err((sent, e)) => {
                    pending = sent.iter().map(|(g, _)| *g).collect();
                    err = e;
                }
                Ok(sent) => match self.receive(&sent).await {
                    Ok(()) => return,
                    Err((unread, e)) => {
                        pending = unread;
                        err = e;
                    }
                },
            }
        }
    }

    /// Reconnect if the connection was dropped. When that fails, the write
    /// stops (later batches are not sent) and the reason is returned.
    async fn connected(&mut self) -> std::result::Result<(), String> {
        if self.conn.is_some() {
            return Ok(());
        }
        match reconnect(self.config).await {
            Ok((conn, sha)) => {
                self.conn = Some(conn);
                self.sha = sha;
                Ok(())
            }
            Err(err) => {
                let reason = err.to_string();
                *self.shared.stopped.lock().expect("lock") = Some(reason.clone());
                Err(reason)
            }
        }
    }

    fn unknown(&mut self, groups: &[usize], why: &str) {
        self.out
            .extend(groups.iter().map(|&g| (g, Final::Unknown(why.to_string()))));
    }
}

/// The key batches of one server, taken in turn by its workers.
struct Shared {
    next: AtomicUsize,
    batches: Vec<Vec<usize>>,
    /// Set when a connection could not be re-established: later batches
    /// are failed without being sent.
    stopped: Mutex<Option<String>>,
}

async fn connect(config: &ConnectionConfig) -> Result<Connection> {
    Connection::connect(config).await
}

async fn reconnect(config: &ConnectionConfig) -> Result<(Connection, Vec<u8>)> {
    let mut conn = connect(config).await?;
    let sha = load_script(&mut conn).await?;
    Ok((conn, sha))
}

/// Load the write script; its SHA1 for `EVALSHA`.
async fn load_script(conn: &mut Connection) -> Result<Vec<u8>> {
    let reply = conn
        .query(Cmd::new("SCRIPT").arg("LOAD").arg(conflict::WRITE_SCRIPT))
        .await;
    match reply {
        Ok(value) => value
            .as_bytes()
            .map(<[u8]>::to_vec)
            .ok_or_else(|| Error::Protocol("unexpected reply to SCRIPT LOAD".into())),
        // Without scripting (e.g. an ACL user without SCRIPT) only
        // replace and plain appends work; a script call fails per key.
        Err(Error::Server { .. }) => Ok(b"0000000000000000000000000000000000000000".to_vec()),
        Err(err) => Err(err),
    }
}

/// Read one key's replies (after the `+OK` to `ASKING` when `asking`).
/// A redirect is [`Outcome::Redirected`] only when nothing of the key ran.
async fn read_one(conn: &mut Connection, shape: ReplyShape, asking: bool) -> Result<Outcome> {
    if asking {
        conn.read_reply("ASKING", conflict::first_error).await?;
    }
    match shape {
        ReplyShape::Native(n) => {
            let mut outcome = Outcome::Written;
            let mut ran = false;
            for _ in 0..n {
                let next = conn.read_reply("write", conflict::native_outcome).await?;
                ran |= matches!(next, Outcome::Written | Outcome::Exists);
                if outcome == Outcome::Written {
                    outcome = next;
                }
            }
            Ok(if ran { outcome } else { outcome.redirected() })
        }
        ReplyShape::Multi(queued) => {
            let mut queue_error = None;
            for _ in 0..queued + 1 {
                let error = conn.read_reply("MULTI", conflict::first_error).await?;
                queue_error = queue_error.or(error);
            }
            // A command refused while queueing aborts the whole transaction.
            let aborted = queue_error.is_some();
            let outcome = conn
                .read_reply("EXEC", |r| conflict::exec_outcome(r, queue_error))
                .await?;
            Ok(if aborted {
                outcome.redirected()
            } else {
                outcome
            })
        }
        ReplyShape::Script => Ok(conn
            .read_reply("EVALSHA", conflict::script_outcome)
            .await?
            .redirected()),
    }
}

fn check_ttl_type(data_type: &DataType, name: &str) -> Result<()> {
    match data_type {
        t if t.is_integer() => Ok(()),
        DataType::Duration(_) | DataType::Timestamp(..) | DataType::Null => Ok(()),
        other => Err(Error::InvalidArgument(format!(
            "TTL column `{name}` is {other}; expected integer seconds, a Duration or a Datetime"
        ))),
    }
}

/// The expiry of every group, from the TTL setting.
fn expiries(
    frame: &Frame,
    groups: &Groups,
    ttl: &Ttl,
    column: Option<usize>,
) -> Result<Vec<Expiry>> {
    let constant = match ttl {
        Ttl::None => Some(Expiry::Keep),
        Ttl::Seconds(s) => Some(Expiry::Seconds(*s as i64)),
        Ttl::Column(_) => None,
    };
    if let Some(expiry) = constant {
        return Ok(vec![expiry; groups.len()]);
    }
    let column = column.expect("TTL column resolved");
    let name = frame.name(column);
    let per_batch: Vec<Vec<Option<Expiry>>> = frame
        .batches
        .iter()
        .map(|b| row_expiries(b.column(column), name))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(groups.len());
    for g in 0..groups.len() {
        let mut expiry: Option<(Expiry, usize)> = None;
        for at in groups.rows(g) {
            let Some(this) = per_batch[at.batch as usize][at.row as usize] else {
                continue;
            };
            let row = frame.global(*at);
            if let Expiry::Seconds(s) | Expiry::AtMillis(s) = this {
                if s <= 0 && matches!(this, Expiry::Seconds(_)) {
                    return Err(Error::InvalidArgument(format!(
                        "row {row}, key {}, TTL column `{name}`: {s} is not a positive number of \
                         seconds (nothing was written)",
                        Key::from(groups.key(g))
                    )));
                }
            }
            match expiry {
                Some((seen, first)) if seen != this => {
                    return Err(Error::InvalidArgument(format!(
                        "key {}: TTL column `{name}` differs between {} (one key has one TTL; \
                         nothing was written)",
                        Key::from(groups.key(g)),
                        name_rows(&[first, row])
                    )))
                }
                Some(_) => {}
                None => expiry = Some((this, row)),
            }
        }
        out.push(expiry.map_or(Expiry::Keep, |(e, _)| e));
    }
    Ok(out)
}

/// The expiry of each row of one TTL column chunk.
fn row_expiries(array: &ArrayRef, name: &str) -> Result<Vec<Option<Expiry>>> {
    let millis = |values: Vec<Option<i64>>, per_ms: i64, ceil: bool| -> Vec<Option<i64>> {
        values
            .into_iter()
            .map(|v| {
                v.map(|v| {
                    if ceil {
                        v.div_euclid(per_ms) + i64::from(v.rem_euclid(per_ms) != 0)
                    } else {
                        v.div_euclid(per_ms)
                    }
                })
            })
            .collect()
    };
    Ok(match array.data_type() {
        DataType::Null => vec![None; array.len()],
        t if t.is_integer() => {
            let cast = integer_values(array).map_err(|reason| {
                Error::InvalidArgument(format!("TTL column `{name}`: {reason}"))
            })?;
            cast.into_iter().map(|v| v.map(Expiry::Seconds)).collect()
        }
        DataType::Duration(unit) => {
            let (values, per_second) = match unit {
                ArrowTimeUnit::Second => (opt(array.as_primitive::<DurationSecondType>()), 1),
                ArrowTimeUnit::Millisecond => {
                    (opt(array.as_primitive::<DurationMillisecondType>()), 1_000)
                }
                ArrowTimeUnit::Microsecond => (
                    opt(array.as_primitive::<DurationMicrosecondType>()),
                    1_000_000,
                ),
                ArrowTimeUnit::Nanosecond => (
                    opt(array.as_primitive::<DurationNanosecondType>()),
                    1_000_000_000,
                ),
            };
            // Whole seconds, rounded up, so a key never expires early.
            millis(values, per_second, true)
                .into_iter()
                .map(|v| v.map(Expiry::Seconds))
                .collect()
        }
        DataType::Timestamp(unit, _) => {
            let per_ms = match unit {
                ArrowTimeUnit::Second => 0,
                ArrowTimeUnit::Millisecond => 1,
                ArrowTimeUnit::Microsecond => 1_000,
                ArrowTimeUnit::Nanosecond => 1_000_000,
            };
            let raw = timestamp_values(array);
            let ms: Vec<Option<i64>> = if per_ms == 0 {
                raw.into_iter().map(|v| v.map(|s| s * 1000)).collect()
            } else {
                millis(raw, per_ms, true)
            };
            ms.into_iter().map(|v| v.map(Expiry::AtMillis)).collect()
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "TTL column `{name}` is {other}; expected integer seconds, a Duration or a Datetime"
            )))
        }
    })
}

fn opt<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    array: &arrow_array::PrimitiveArray<T>,
) -> Vec<Option<i64>> {
    array.iter().collect()
}

/// Any timestamp column's raw values.
pub(crate) fn timestamp_values(array: &ArrayRef) -> Vec<Option<i64>> {
    let data = array.to_data();
    let ints = arrow_array::PrimitiveArray::<Int64Type>::from(
        data.into_builder()
            .data_type(DataType::Int64)
            .build()
            .expect("timestamps are 64-bit integers"),
    );
    ints.iter().collect()
}

/// Any integer column as i64 (UInt64 above i64::MAX is an error).
pub(crate) fn integer_values(array: &ArrayRef) -> std::result::Result<Vec<Option<i64>>, String> {
    use arrow_array::types::*;
    macro_rules! widen {
        ($t:ty) => {
            array
                .as_primitive::<$t>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect()
        };
    }
    Ok(match array.data_type() {
        DataType::Int8 => widen!(Int8Type),
        DataType::Int16 => widen!(Int16Type),
        DataType::Int32 => widen!(Int32Type),
        DataType::Int64 => array.as_primitive::<Int64Type>().iter().collect(),
        DataType::UInt8 => widen!(UInt8Type),
        DataType::UInt16 => widen!(UInt16Type),
        DataType::UInt32 => widen!(UInt32Type),
        DataType::UInt64 => array
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| {
                v.map(|v| i64::try_from(v).map_err(|_| format!("{v} is too large")))
                    .transpose()
            })
            .collect::<std::result::Result<_, _>>()?,
        other => return Err(format!("{other} is not an integer type")),
    })
}
