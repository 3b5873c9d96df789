//! One connection's share of a write: key batches taken in turn from the
//! server's queue, two in flight at a time (one, holding its node until all
//! of it is answered, under a latency budget: [`crate::LoadBudget`]), each
//! sized by the write's load budget, with the replies read into
//! per-key outcomes; after a dropped connection, idempotent keys are sent
//! again on a new one and the others reported unknown. Within a batch, the
//! keys of `append` with an expiry, `skip` and `fail` share checked
//! transactions ([`super::watch`], on a standalone server) or write-script
//! calls (on a cluster, keys of one slot), each reporting every key's own
//! outcome.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::check::Job;
use super::commands::Commands;
use super::conflict::{self, Outcome, ReplyShape, Strategy};
use super::frame::FrameCells;
use super::result::Final;
use super::script::{self, ScriptUnit};
use super::watch::{self, Check, Stopped, Transaction};
use crate::error::{Error, Result};
use crate::net::budget::Turn;
use crate::net::cluster::key_slot;
use crate::net::connection::Connection;
use crate::net::nodes::Opener;
use crate::net::resp::{write_array, Cmd};

/// Attempts per key batch after dropped connections.
const MAX_ATTEMPTS: usize = 3;

/// Keys (by group index) and how they ended.
pub(super) type Outcomes = Vec<(usize, Final)>;

/// Count key `g` as done in the write's progress (a redirected key is
/// not: it is sent again).
fn count_done(job: &Job, g: usize, done: &Final) {
    if let Some(progress) = &job.progress {
        if !matches!(done, Final::Redirected(_)) {
            progress.key_done(job.groups.rows(g).len(), matches!(done, Final::Written));
        }
    }
}

/// Keys (by group index) sent as one piece: one key's commands, or the
/// keys of one script call, in order; with the shape of the replies.
struct Unit {
    groups: Vec<usize>,
    shape: ReplyShape,
}

/// The units sent on a connection, in order.
type Sent = Vec<Unit>;

/// Every key of `units`.
fn keys_of(units: &[Unit]) -> impl Iterator<Item = usize> + '_ {
    units.iter().flat_map(|unit| unit.groups.iter().copied())
}

/// One connection's share of a write. Two key batches are in flight: the
/// next one is sent before the replies to the previous one are read, so the
/// server always has queued work while the client encodes and decodes.
pub(super) struct Worker<'a> {
    job: &'a Job,
    shared: &'a Shared,
    /// Opens a new connection to the worker's server after a drop.
    opener: &'a Opener,
    cells: FrameCells<'a>,
    conn: Option<Connection>,
    sha: Vec<u8>,
    /// Precede each key's commands with `ASKING` (its slot is being
    /// imported by the worker's server).
    asking: bool,
    cmds: Commands,
    out: Outcomes,
    /// Keys of a script call refused as a whole (nothing ran) for a reason
    /// that may concern only some of them, or of a transaction that could
    /// not be completed: sent again, one key per script call.
    split: Vec<usize>,
    /// How keys are checked in transactions; `None`: no transactions.
    check: Option<Check>,
    /// Transactions of the batch just sent, written after its replies.
    transactions: Vec<Transaction>,
}

impl<'a> Worker<'a> {
    /// Send the batches of `shared` over `conn` until there are no more;
    /// the outcome of every key sent.
    pub(super) async fn run(
        job: &'a Job,
        mut conn: Connection,
        shared: &'a Shared,
        opener: &'a Opener,
        asking: bool,
    ) -> Result<Outcomes> {
        let sha = load_script(&mut conn).await?;
        let check = if shared.cluster || asking {
            None
        } else {
            Check::for_mode(job.mode, job.encoder.checked_type())
        };
        let mut worker = Worker {
            job,
            shared,
            opener,
            cells: job.frame.cells()?,
            conn: Some(conn),
            sha,
            asking,
            cmds: Commands::default(),
            out: Vec::new(),
            split: Vec::new(),
            check,
            transactions: Vec::new(),
        };
        let mut in_flight: Option<Sent> = None;
        loop {
            let next = worker.next_batch();
            let done = next.is_none();
            let mut doubt = Vec::new();
            let mut error = None;
            let mut just_sent = None;
            let mut turn = None;
            if let Some((pending, one_per_call)) = next {
                let rows = pending.iter().map(|&g| job.groups.rows(g).len()).sum();
                turn = Some(job.pacer.turn(shared.node, rows).await);
                match worker.send(&pending, one_per_call).await {
                    Ok(sent) => just_sent = Some(sent),
                    Err((sent, err)) => {
                        doubt.extend(keys_of(&sent));
                        error = Some(err);
                    }
                }
            }
            if let Some(previous) = in_flight.take() {
                if error.is_some() {
                    // The connection broke: no reply of the previous batch was read.
                    doubt.extend(keys_of(&previous));
                } else if let Err((unread, err)) = worker.receive(&previous).await {
                    doubt.extend(unread);
                    doubt.extend(keys_of(&just_sent.take().unwrap_or_default()));
                    error = Some(err);
                }
            }
            if let Some(err) = error {
                worker.recover(doubt, err).await;
            }
            in_flight = just_sent;
            // Under a latency budget the batch holds its node until all of
            // it is answered, transactions included.
            let holds_node = turn.as_ref().is_some_and(Turn::holds_node);
            if holds_node || !worker.transactions.is_empty() {
                // A transaction needs the connection to itself.
                if let Some(sent) = in_flight.take() {
                    worker.settle(&sent).await;
                }
                worker.write_transactions().await;
            }
            if let Some(turn) = turn {
                turn.done();
            }
            if done && in_flight.is_none() && worker.split.is_empty() {
                return Ok(worker.out);
            }
        }
    }

    /// The groups of the next key batch, and whether to send them one key
    /// per script call (keys of a call refused as a whole, which come first);
    /// `None` when there are no more. A batch holds about as many rows as
    /// the load budget allows (at most `batch_size`). Batches taken after
    /// the write stopped are failed without being sent.
    fn next_batch(&mut self) -> Option<(Vec<usize>, bool)> {
        let rows = self
            .job
            .pacer
            .pipeline_len(self.shared.node, self.job.batch_size);
        if !self.split.is_empty() {
            let rest = self.split.split_off(rows.min(self.split.len()));
            return Some((std::mem::replace(&mut self.split, rest), true));
        }
        loop {
            let batch = self.shared.take(self.job, rows)?;
            let stopped = self.shared.stopped.lock().expect("lock").clone();
            match stopped {
                Some(reason) => self.out.extend(
                    batch
                        .iter()
                        .map(|&g| (g, Final::Failed(format!("not sent: {reason}")))),
                ),
                None => return Some((batch, false)),
            }
        }
    }

    /// Encode and send `pending` keys (reconnecting first if needed), the
    /// write script's keys in as few calls as allowed (`one_per_call`: one
    /// key each, and no transactions). Keys checked in transactions are
    /// kept in `transactions`, for after the replies. Keys whose rows cannot
    /// be encoded are failed and not sent. On a connection error, the units
    /// that may have reached the server and the error.
    async fn send(
        &mut self,
        pending: &[usize],
        one_per_call: bool,
    ) -> std::result::Result<Sent, (Sent, Error)> {
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
        // After `ASKING` (an importing node), a call with several keys
        // would be refused with `TRYAGAIN` while some are missing.
        let max_keys = if one_per_call || self.asking {
            1
        } else {
            usize::MAX
        };
        let mut sent = Vec::with_capacity(pending.len());
        // Script calls being filled, by slot (one on a standalone server).
        let mut calls: Vec<(ScriptUnit, Vec<usize>)> = Vec::new();
        let mut call_of_slot: HashMap<u16, usize> = HashMap::new();
        let mut tx = self
            .check
            .filter(|_| !one_per_call && pending.len() >= watch::MIN_KEYS)
            .map(Transaction::new);
        for &g in pending {
            let ctx = job.group(&self.cells, g);
            self.cmds.clear();
            if let Err(message) = job.encoder.encode(&ctx, &mut self.cmds) {
                self.out.push((g, Final::Failed(message)));
                continue;
            }
            let single_set = job.encoder.single_set();
            let strategy = Strategy::choose(job.mode, ctx.expiry, &self.cmds, single_set);
            let buf = conn.write_buf();
            match strategy {
                Strategy::Direct(direct) => {
                    if self.asking {
                        write_array(buf, [&b"ASKING"[..]]);
                    }
                    let shape = conflict::encode(buf, direct, ctx.key, &self.cmds, ctx.expiry);
                    sent.push(Unit {
                        groups: vec![g],
                        shape,
                    });
                }
                Strategy::Script { guard } => {
                    if let Some(tx) = tx.as_mut().filter(|_| self.cmds.unconditional()) {
                        let mut number = itoa::Buffer::new();
                        tx.add(g, ctx.key, &self.cmds, ctx.expiry.command(&mut number));
                        if tx.full() {
                            self.transactions.push(tx.take());
                        }
                        continue;
                    }
                    let slot = if self.shared.cluster {
                        key_slot(ctx.key)
                    } else {
                        0
                    };
                    let call = *call_of_slot.entry(slot).or_insert_with(|| {
                        calls.push(Default::default());
                        calls.len() - 1
                    });
                    let (unit, groups) = &mut calls[call];
                    let mut number = itoa::Buffer::new();
                    unit.add(ctx.key, &self.cmds, ctx.expiry.command(&mut number), guard);
                    groups.push(g);
                    if unit.full(max_keys) {
                        sent.push(write_call(buf, unit, groups, self.asking, &self.sha));
                    }
                }
            }
        }
        self.transactions.extend(tx.filter(|tx| !tx.is_empty()));
        for (unit, groups) in &mut calls {
            if !groups.is_empty() {
                let buf = conn.write_buf();
                sent.push(write_call(buf, unit, groups, self.asking, &self.sha));
            }
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
    async fn receive(&mut self, sent: &[Unit]) -> std::result::Result<(), (Vec<usize>, Error)> {
        let conn = self.conn.as_mut().expect("connected");
        let guarded = self.job.mode.guarded();
        for (i, unit) in sent.iter().enumerate() {
            match read_unit(conn, unit.shape, self.asking, guarded).await {
                Ok(outcomes) => {
                    for (&g, outcome) in unit.groups.iter().zip(outcomes) {
                        match outcome {
                            Outcome::Failed(message)
                                if unit.groups.len() > 1 && refused_for_some_keys(&message) =>
                            {
                                self.split.push(g)
                            }
                            outcome => {
                                let done = Final::of(outcome, self.job.mode);
                                count_done(self.job, g, &done);
                                self.out.push((g, done));
                            }
                        }
                    }
                }
                Err(err) => {
                    self.conn = None;
                    return Err((keys_of(&sent[i..]).collect(), err));
                }
            }
        }
        Ok(())
    }

    /// Read the replies to `sent`; after a connection error, recover the
    /// keys whose replies are missing.
    async fn settle(&mut self, sent: &[Unit]) {
        if let Err((unread, err)) = self.receive(sent).await {
            self.recover(unread, err).await;
        }
    }

    /// Write the transactions of the batch just sent, one at a time.
    async fn write_transactions(&mut self) {
        for tx in std::mem::take(&mut self.transactions) {
            self.write_transaction(&tx).await;
        }
    }

    /// Write the keys of `tx`: checked and sent again while `EXEC` runs
    /// nothing (a watched key changed), at most [`watch::MAX_ATTEMPTS`]
    /// times, then one key per script call. Keys nothing was written to
    /// (the connection broke before `MULTI`, `WATCH` was refused) go one
    /// key per script call too; keys in doubt are recovered.
    async fn write_transaction(&mut self, tx: &Transaction) {
        let mut live = tx.all();
        for _ in 0..watch::MAX_ATTEMPTS {
            if let Err(reason) = self.connected().await {
                let failed = Final::Failed(format!("not sent: {reason}"));
                self.out
                    .extend(tx.groups(&live).map(|g| (g, failed.clone())));
                return;
            }
            let conn = self.conn.as_mut().expect("connected");
            match watch::exchange(conn, tx, &live).await {
                Ok(exchanged) => {
                    let mode = self.job.mode;
                    for (i, outcome) in exchanged.done {
                        let g = tx.groups(&[i]).next().expect("a key of the transaction");
                        self.out.push((g, Final::of(outcome, mode)));
                    }
                    live = exchanged.again;
                    if live.is_empty() {
                        return;
                    }
                }
                Err(Stopped::Unwritten(err)) if !matches!(err, Error::Protocol(_)) => {
                    if !matches!(err, Error::Server { .. }) {
                        self.conn = None;
                    }
                    self.split.extend(tx.groups(&live));
                    return;
                }
                Err(Stopped::Unwritten(err) | Stopped::InDoubt(err)) => {
                    let doubt = tx.groups(&live).collect();
                    return self.recover(doubt, err).await;
                }
            }
        }
        // The watched keys kept changing.
        self.split.extend(tx.groups(&live));
    }

    /// Keys in doubt after a connection error: re-send them on a new
    /// connection when that is safe (idempotent), else report them unknown.
    /// They are re-sent one key per script call (never in a transaction,
    /// whose recovery could recurse).
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
            match self.send(&pending, true).await {
                Err((sent, e)) => {
                    pending = keys_of(&sent).collect();
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
        match reconnect(self.opener).await {
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

/// The keys of one server, taken batch by batch by its workers.
pub(super) struct Shared {
    /// The server's keys (by group index), in order.
    groups: Vec<usize>,
    /// How many of them were taken.
    taken: Mutex<usize>,
    /// The server's node index (its load budget).
    node: usize,
    /// The server is a cluster node: a script call carries keys of one slot.
    cluster: bool,
    /// Set when a connection could not be re-established: later batches
    /// are failed without being sent.
    stopped: Mutex<Option<String>>,
}

impl Shared {
    pub(super) fn new(groups: Vec<usize>, node: usize, cluster: bool) -> Self {
        Shared {
            groups,
            taken: Mutex::new(0),
            node,
            cluster,
            stopped: Mutex::new(None),
        }
    }

    /// The next keys, in order, until they cover `rows` rows (at least one
    /// key); `None` when every key was taken.
    fn take(&self, job: &Job, rows: usize) -> Option<Vec<usize>> {
        let mut taken = self.taken.lock().expect("lock");
        let start = *taken;
        let mut covered = 0;
        while *taken < self.groups.len() && covered < rows {
            covered += job.groups.rows(self.groups[*taken]).len();
            *taken += 1;
        }
        (*taken > start).then(|| self.groups[start..*taken].to_vec())
    }
}

/// A new connection, with the write script loaded.
async fn reconnect(opener: &Opener) -> Result<(Connection, Vec<u8>)> {
    let mut conn = opener.open().await?;
    let sha = load_script(&mut conn).await?;
    Ok((conn, sha))
}

/// Load the write script; its SHA1 for `EVALSHA`.
async fn load_script(conn: &mut Connection) -> Result<Vec<u8>> {
    let reply = conn
        .query(Cmd::new("SCRIPT").arg("LOAD").arg(script::WRITE_SCRIPT))
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

/// True when a script call refused as a whole with this error (before
/// running anything) may have been refused for some of its keys only:
/// `NOPERM` (a key outside the user's key patterns) or `TRYAGAIN` (some
/// keys of a migrating slot are already gone).
fn refused_for_some_keys(message: &str) -> bool {
    message.starts_with("NOPERM") || message.starts_with("TRYAGAIN")
}

/// Write the call of `unit` (after `ASKING` when `asking`): the unit sent.
fn write_call(
    buf: &mut Vec<u8>,
    unit: &mut ScriptUnit,
    groups: &mut Vec<usize>,
    asking: bool,
    sha: &[u8],
) -> Unit {
    if asking {
        write_array(buf, [&b"ASKING"[..]]);
    }
    let shape = ReplyShape::Script(unit.keys());
    unit.write(buf, sha);
    Unit {
        groups: std::mem::take(groups),
        shape,
    }
}

/// Read the replies to one unit (after the `+OK` to `ASKING` when
/// `asking`): the outcome of each of its keys. A redirect is
/// [`Outcome::Redirected`] only when nothing of the key ran; `guarded`:
/// the write skips existing keys (a nil reply means one was found).
async fn read_unit(
    conn: &mut Connection,
    shape: ReplyShape,
    asking: bool,
    guarded: bool,
) -> Result<Vec<Outcome>> {
    if asking {
        conn.read_reply("ASKING", conflict::first_error).await?;
    }
    match shape {
        ReplyShape::Native(n) => {
            let mut outcome = Outcome::Written;
            let mut ran = false;
            for _ in 0..n {
                let next = conn
                    .read_reply("write", |r| conflict::native_outcome(r, guarded))
                    .await?;
                ran |= matches!(next, Outcome::Written | Outcome::Exists);
                if outcome == Outcome::Written {
                    outcome = next;
                }
            }
            Ok(vec![if ran { outcome } else { outcome.redirected() }])
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
            Ok(vec![if aborted {
                outcome.redirected()
            } else {
                outcome
            }])
        }
        ReplyShape::Script(keys) => {
            conn.read_reply("EVALSHA", |r| script::unit_outcomes(r, keys))
                .await
        }
    }
}
