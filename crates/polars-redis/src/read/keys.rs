//! Which keys a scan reads: a SCAN over a pattern (server-side TYPE filter),
//! an explicit list, or the reply of a query command (`TS.QUERYINDEX`); a
//! pattern may instead be answered by a [`PatternKeySource`] (a RediSearch
//! index, implemented in the `search` module).
//! Either way every key is handed out at most once, in batches whose keys
//! all live on one server (on a cluster: one `SCAN` per master, listed keys
//! routed by hash slot).

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use futures_core::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::net::cluster::{key_slot, keys_in_slot, Topology};
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::glob::glob_match;
use crate::net::resp::{Cmd, Value};
use crate::net::retry::Backoff;
use crate::net::slots::SlotRanges;
use crate::types::{Field, IndexOn};

/// Where the keys of a scan come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySelection {
    /// `SCAN 0 MATCH pattern COUNT hint TYPE <type>` until the cursor returns to 0.
    Pattern(Vec<u8>),
    /// Exactly these keys, in this order; duplicates are read once.
    Keys(Vec<Vec<u8>>),
    /// The keys listed by one command's reply (an array of key names), sent
    /// when the scan starts, e.g. `TS.QUERYINDEX sensor=temp`. The keys are
    /// of the scanned type when listed, so a key of another type by the time
    /// it is fetched is skipped, as for patterns.
    Query(Vec<Vec<u8>>),
}

/// For logs and messages: the pattern, or how many keys are listed (never the keys).
impl fmt::Display for KeySelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySelection::Pattern(pattern) => {
                write!(f, "pattern '{}'", String::from_utf8_lossy(pattern))
            }
            KeySelection::Keys(keys) => write!(f, "{} listed keys", keys.len()),
            KeySelection::Query(command) => write!(
                f,
                "the keys `{}` lists",
                command
                    .iter()
                    .map(|arg| String::from_utf8_lossy(arg))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }
}

/// What a pattern key source may know about the scan it lists keys for,
/// fixed when the scan is built.
#[derive(Clone, Debug)]
pub(crate) struct ScanFacts {
    pub(crate) config: ConnectionConfig,
    /// The `SCAN ... TYPE` name of the scanned type.
    pub(crate) redis_type: &'static str,
    /// The kind of document an index over the scanned type reads, if any can.
    pub(crate) index_on: Option<IndexOn>,
    /// The full (unprojected) value schema.
    pub(crate) fields: Vec<Field>,
    /// Per column, the identifiers an index attribute over it may have.
    pub(crate) identifiers: Vec<(String, Vec<String>)>,
    /// The serialized Polars predicate the scan narrows by, if any.
    pub(crate) predicate: Option<String>,
    /// The scan's row limit.
    pub(crate) limit: Option<usize>,
}

/// Settings (in [`ScanOptions`](crate::ScanOptions)) that make a
/// [`PatternKeySource`] for each scan.
pub(crate) trait PatternKeyPlanner: fmt::Debug + Send + Sync {
    /// Check the settings on their own (when the scan is validated).
    fn validate(&self) -> Result<()>;

    /// The source for `scan`, or `None` when the settings leave the keys to
    /// `SCAN`; an error when they cannot apply to this scan.
    fn source(&self, scan: ScanFacts) -> Result<Option<Arc<dyn PatternKeySource>>>;

    /// The planner as [`Any`], for its owner to recover the concrete settings.
    fn as_any(&self) -> &dyn Any;
}

/// Lists the keys of a pattern scan some other way than `SCAN`.
pub(crate) trait PatternKeySource: fmt::Debug + Send + Sync {
    /// Whether the source lists the keys on `topology` (else `SCAN` does).
    fn lists_keys_on(&self, topology: &Topology) -> bool;

    /// Send the keys matching `pattern` to `tx` in batches of
    /// `producer.batch_size`, each routed to its node; `conn` is a
    /// connection to the first node. The source may fall back to
    /// [`KeyProducer::send_scan`].
    fn send_keys<'a>(
        &'a self,
        producer: &'a KeyProducer,
        topology: &'a Arc<Topology>,
        conn: Connection,
        pattern: &'a [u8],
        tx: &'a mpsc::Sender<Result<KeyBatch>>,
    ) -> BoxFuture<'a, Result<()>>;
}

/// One unit of work for a fetch worker: keys that all live on one node
/// (or all belong to one migrating slot).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KeyBatch {
    /// The route (see [`Topology::route`]): a node index, or past the
    /// nodes, a migrating slot.
    pub(crate) node: usize,
    pub(crate) keys: Vec<Vec<u8>>,
}

/// Remembers which keys were already handed out.
///
/// SCAN may return a key more than once (when the keyspace is rehashed
/// mid-scan). Remembering each key's 128-bit XXH3 digest rather than the key
/// keeps memory at 16 bytes a key; two distinct keys collide with probability
/// about n²/2¹²⁹ (1e-26 for a billion keys).
#[derive(Default)]
pub(crate) struct SeenKeys(HashSet<u128, BuildHasherDefault<DigestHasher>>);

/// Hashes a digest by folding its own bits: XXH3 output is already uniform,
/// so hashing it again (SipHash, the default) only costs time.
#[derive(Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u128(&mut self, digest: u128) {
        self.0 = digest as u64 ^ (digest >> 64) as u64;
    }
}

impl SeenKeys {
    /// True the first time a key is offered.
    pub(crate) fn first_time(&mut self, key: &[u8]) -> bool {
        self.0.insert(xxhash_rust::xxh3::xxh3_128(key))
    }
}

/// Settings shared by the key producers.
#[derive(Clone, Debug)]
pub(crate) struct KeyProducer {
    pub(crate) selection: KeySelection,
    /// Redis type name for `SCAN ... TYPE`, e.g. `hash`; `None` lists keys
    /// of every type.
    pub(crate) redis_type: Option<&'static str>,
    pub(crate) batch_size: usize,
    pub(crate) count_hint: usize,
    /// Lists the keys instead of `SCAN` (pattern selections only).
    pub(crate) pattern_source: Option<Arc<dyn PatternKeySource>>,
    /// Attempts after a failed `SCAN` step (see [`Backoff`]).
    pub(crate) retries: usize,
    /// Only keys of these hash slots are read (one partition of a scan);
    /// `None` reads every slot.
    pub(crate) slots: Option<Arc<SlotRanges>>,
}

impl KeyProducer {
    /// Send key batches until the keys run out or the receiver goes away.
    /// `conn` is a connection to the (standalone) server, reused for `SCAN`.
    pub(crate) async fn run(
        self,
        topology: Arc<Topology>,
        conn: Option<Connection>,
        tx: mpsc::Sender<Result<KeyBatch>>,
    ) {
        let result = self.send_all(&topology, conn, &tx).await;
        if let Err(err) = result {
            let _ = tx.send(Err(err)).await;
        }
    }

    async fn send_all(
        &self,
        topology: &Arc<Topology>,
        conn: Option<Connection>,
        tx: &mpsc::Sender<Result<KeyBatch>>,
    ) -> Result<()> {
        let source = self
            .pattern_source
            .as_ref()
            .filter(|source| source.lists_keys_on(topology));
        match (&self.selection, source) {
            (KeySelection::Keys(keys), _) => return self.send_list(topology, keys, tx).await,
            (KeySelection::Pattern(pattern), Some(source)) => {
                let conn = connection(conn, topology, 0).await?;
                return source.send_keys(self, topology, conn, pattern, tx).await;
            }
            (KeySelection::Pattern(_) | KeySelection::Query(_), _) => {}
        }
        if matches!(self.selection, KeySelection::Query(_)) && !topology.migrations().is_empty() {
            return Err(Error::Cluster(
                "a key query cannot list the keys of a migrating slot completely; retry once \
                 the cluster is done resharding"
                    .into(),
            ));
        }
        // Every master lists its own keys, all at once (only the masters
        // serving a slot of the partition, when the scan is one).
        let mut nodes = JoinSet::new();
        let mut conn = conn;
        for node in 0..topology.nodes().len() {
            if !self.reads_slots_of(topology, node)? {
                continue;
            }
            let producer = self.clone();
            let (topology, tx) = (topology.clone(), tx.clone());
            let conn = conn.take().filter(|_| !topology.is_cluster());
            nodes.spawn(async move {
                let conn = connection(conn, &topology, node).await?;
                match &producer.selection {
                    KeySelection::Query(command) => {
                        producer.send_query(&topology, conn, command, &tx).await
                    }
                    _ => producer.send_scan(&topology, conn, node, &tx).await,
                }
            });
        }
        while let Some(done) = nodes.join_next().await {
            done.map_err(|err| Error::Protocol(format!("key listing task failed: {err}")))??;
        }
        if let KeySelection::Pattern(pattern) = &self.selection {
            self.send_migrating(topology, pattern, tx).await?;
        }
        // Keys that moved between nodes while they were listed could have
        // been missed (or seen twice): only a layout that held still counts.
        topology.check_unchanged().await
    }

    /// Whether node `node` serves a slot this producer reads.
    fn reads_slots_of(&self, topology: &Topology, node: usize) -> Result<bool> {
        match &self.slots {
            Some(slots) => Ok(slots.overlaps(&topology.slots_of(node)?)),
            None => Ok(true),
        }
    }

    /// A batcher of keys for node (or route) `node`.
    fn batcher(&self, node: usize) -> Batcher {
        Batcher::new(self.batch_size, node).with_slots(self.slots.clone())
    }

    /// A batcher routing each key to its node (or migrating slot).
    pub(crate) fn routed_batcher(&self, topology: Arc<Topology>) -> Batcher {
        Batcher::routed(self.batch_size, topology).with_slots(self.slots.clone())
    }

    async fn send_list(
        &self,
        topology: &Arc<Topology>,
        keys: &[Vec<u8>],
        tx: &mpsc::Sender<Result<KeyBatch>>,
    ) -> Result<()> {
        let mut seen = SeenKeys::default();
        let mut batcher = self.routed_batcher(topology.clone());
        for key in keys {
            if seen.first_time(key) {
                if let Some(batch) = batcher.push(key.clone()) {
                    if tx.send(Ok(batch)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        for batch in batcher.finish() {
            if tx.send(Ok(batch)).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    /// `SCAN` one node (`conn`) for the selection's pattern. Keys of a
    /// migrating slot are left to [`KeyProducer::send_migrating`].
    pub(crate) async fn send_scan(
        &self,
        topology: &Topology,
        mut conn: Connection,
        node: usize,
        tx: &mpsc::Sender<Result<KeyBatch>>,
    ) -> Result<()> {
        let pattern = match &self.selection {
            KeySelection::Pattern(pattern) => pattern.as_slice(),
            _ => b"*",
        };
        // Each key lives on one node, so each node's keys are deduplicated
        // on their own (SCAN repeats keys when the keyspace is rehashed).
        let mut seen = SeenKeys::default();
        let mut batcher = self.batcher(node);
        let mut cursor = ScanCursor::start();
        let mut run = run_id(&mut conn, self.retries).await?;
        let mut backoff = Backoff::new(self.retries);
        let mut source = topology.nodes()[node].reader(0);
        let mut fallback = topology.nodes()[node].fallback_reader();
        loop {
            let page = cursor
                .next_page(&mut conn, pattern, self.count_hint, self.redis_type)
                .await;
            let keys = match page {
                Ok(Some(keys)) => keys,
                Ok(None) => break,
                Err(err) => {
                    // Resume from the cursor on the same server; a restarted
                    // server (new run id) is walked again from the start, and
                    // `seen` keeps the keys already sent from coming twice.
                    conn = match reconnect(source, &mut backoff, err).await {
                        Ok(conn) => conn,
                        // `prefer_replica`: the replica is gone for good;
                        // its primary lists the keys (a new run id).
                        Err(err) => {
                            let primary = fallback.take().ok_or(err)?;
                            source = primary;
                            backoff = Backoff::new(self.retries);
                            Connection::connect(source).await?
                        }
                    };
                    let now = run_id(&mut conn, self.retries).await?;
                    if now.is_none() || now != run {
                        log::info!(
                            "SCAN of {} starts again from the beginning: {} (keys already \
                             read are not sent twice)",
                            conn.addr(),
                            match now {
                                Some(_) => "the server restarted (new run_id)",
                                None => "the server does not tell whether it restarted",
                            }
                        );
                        cursor = ScanCursor::start();
                        run = now;
                    }
                    continue;
                }
            };
            backoff = Backoff::new(self.retries);
            for key in keys {
                if topology.migration_of(&key).is_none() && seen.first_time(&key) {
                    if let Some(batch) = batcher.push(key) {
                        if tx.send(Ok(batch)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
        }
        for batch in batcher.finish() {
            let _ = tx.send(Ok(batch)).await;
        }
        Ok(())
    }

    /// Send the keys of each slot that was migrating when the read started
    /// and match `pattern`: listed on the source, then on the target (keys
    /// only move that way, so none is missed), each batch routed to the
    /// migration.
    async fn send_migrating(
        &self,
        topology: &Topology,
        pattern: &[u8],
        tx: &mpsc::Sender<Result<KeyBatch>>,
    ) -> Result<()> {
        for (i, migration) in topology.migrations().iter().enumerate() {
            if self
                .slots
                .as_ref()
                .is_some_and(|s| !s.contains(migration.slot))
            {
                continue;
            }
            let mut seen = SeenKeys::default();
            let mut batcher = self.batcher(topology.nodes().len() + i);
            for node in [migration.source, migration.target] {
                let mut conn = Connection::connect(&topology.nodes()[node].config).await?;
                for key in keys_in_slot(&mut conn, migration.slot).await? {
                    if glob_match(pattern, &key) && seen.first_time(&key) {
                        if let Some(batch) = batcher.push(key) {
                            if tx.send(Ok(batch)).await.is_err() {
                                return Ok(());
                            }
                        }
                    }
                }
            }
            for batch in batcher.finish() {
                if tx.send(Ok(batch)).await.is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Send the keys listed by `command` on one node (every master of a
    /// cluster answers for its own keys).
    async fn send_query(
        &self,
        topology: &Arc<Topology>,
        mut conn: Connection,
        command: &[Vec<u8>],
        tx: &mpsc::Sender<Result<KeyBatch>>,
    ) -> Result<()> {
        let (name, args) = command
            .split_first()
            .ok_or_else(|| Error::InvalidArgument("the key query command is empty".into()))?;
        let mut cmd = Cmd::new(&String::from_utf8_lossy(name));
        for arg in args {
            cmd.arg(arg);
        }
        let bad = || Error::Protocol(format!("unexpected reply shape to {}", cmd.name()));
        let keys = key_names(conn.query(&cmd).await?, bad)?;
        self.send_list(topology, &keys, tx).await
    }
}

/// `conn` if given, else a new connection to where node `node`'s keys are
/// read (the node, or its first reader).
async fn connection(
    conn: Option<Connection>,
    topology: &Topology,
    node: usize,
) -> Result<Connection> {
    match conn {
        Some(conn) => Ok(conn),
        None => Connection::connect(topology.nodes()[node].reader(0)).await,
    }
}

/// A new connection with `config`, after one failed with `err`, retried
/// while `backoff` allows.
async fn reconnect(
    config: &ConnectionConfig,
    backoff: &mut Backoff,
    mut err: Error,
) -> Result<Connection> {
    loop {
        if !backoff.again(&err).await {
            return Err(err);
        }
        match Connection::connect(config).await {
            Ok(conn) => return Ok(conn),
            Err(next) => err = next,
        }
    }
}

/// The server's `run_id` (new after every restart), when the walk may be
/// retried (else nothing is asked). `None` also when the server will not
/// tell (an ACL user without `INFO`): the walk then starts over after every
/// reconnect, and the keys already sent still come once.
async fn run_id(conn: &mut Connection, retries: usize) -> Result<Option<Vec<u8>>> {
    if retries == 0 {
        return Ok(None);
    }
    let info = match conn.query(Cmd::new("INFO").arg("server")).await {
        Ok(info) => info,
        Err(Error::Server { .. }) => return Ok(None),
        Err(err) => return Err(err),
    };
    let text = info
        .as_bytes()
        .ok_or_else(|| Error::Protocol("unexpected reply to INFO".into()))?;
    Ok(text
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"run_id:"))
        .map(|id| id.trim_ascii_end().to_vec()))
}

/// Position of a `SCAN ... MATCH ... TYPE ...` walk over the keyspace.
pub(crate) struct ScanCursor(Option<Vec<u8>>);

impl ScanCursor {
    pub(crate) fn start() -> Self {
        ScanCursor(Some(b"0".to_vec()))
    }

    /// Whether the walk is complete.
    pub(crate) fn is_done(&self) -> bool {
        self.0.is_none()
    }

    /// The next page of keys (possibly empty, possibly repeating earlier
    /// keys), or `None` once the walk is complete. `redis_type` (`TYPE`)
    /// keeps only keys of that type; `None` lists keys of every type.
    pub(crate) async fn next_page(
        &mut self,
        conn: &mut Connection,
        pattern: &[u8],
        count: usize,
        redis_type: Option<&str>,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(cursor) = &self.0 else {
            return Ok(None);
        };
        let mut cmd = Cmd::new("SCAN");
        cmd.arg(cursor).arg("MATCH").arg(pattern);
        cmd.arg("COUNT").arg(count.to_string());
        if let Some(redis_type) = redis_type {
            cmd.arg("TYPE").arg(redis_type);
        }
        // The cursor moves on only once a page arrived, so a walk whose
        // connection dropped resumes where it was.
        let (next, keys) = parse_scan_reply(conn.query(&cmd).await?)?;
        self.0 = Some(next).filter(|next| next != b"0");
        Ok(Some(keys))
    }
}

fn parse_scan_reply(reply: Value) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
    let bad = || Error::Protocol("unexpected SCAN reply shape".into());
    let Value::Array(mut parts) = reply else {
        return Err(bad());
    };
    if parts.len() != 2 {
        return Err(bad());
    }
    let keys = key_names(parts.pop().ok_or_else(bad)?, bad)?;
    let Value::Bytes(cursor) = parts.pop().ok_or_else(bad)? else {
        return Err(bad());
    };
    Ok((cursor, keys))
}

/// The key names of an array reply; `bad()` for any other shape.
fn key_names(reply: Value, bad: impl Fn() -> Error) -> Result<Vec<Vec<u8>>> {
    let Value::Array(items) = reply else {
        return Err(bad());
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Bytes(key) => Ok(key),
            _ => Err(bad()),
        })
        .collect()
}

/// Cuts a key stream into batches of keys that live on one node, dropping
/// the keys of slots outside the scan's partition.
pub(crate) struct Batcher {
    size: usize,
    /// The slots whose keys are kept (`None`: every slot).
    slots: Option<Arc<SlotRanges>>,
    /// Where each key lives; `None` when every key is on node `node`.
    topology: Option<Arc<Topology>>,
    node: usize,
    /// The keys waiting for a batch, per node.
    pending: Vec<Vec<Vec<u8>>>,
}

impl Batcher {
    /// Batches of `size` keys, all for node `node`.
    pub(crate) fn new(size: usize, node: usize) -> Self {
        let pending = vec![Vec::new(); node + 1];
        Batcher {
            size,
            slots: None,
            topology: None,
            node,
            pending,
        }
    }

    /// Batches of up to `size` keys, each key routed to the node holding it
    /// (or to its migrating slot).
    pub(crate) fn routed(size: usize, topology: Arc<Topology>) -> Self {
        let pending = vec![Vec::new(); topology.routes()];
        Batcher {
            size,
            slots: None,
            topology: Some(topology),
            node: 0,
            pending,
        }
    }

    /// Keep only the keys of `slots` (every key when `None`).
    fn with_slots(mut self, slots: Option<Arc<SlotRanges>>) -> Self {
        self.slots = slots;
        self
    }

    /// Add a key; a batch is returned when its node's batch is full. A key
    /// of a slot outside the batcher's slots is dropped.
    pub(crate) fn push(&mut self, key: Vec<u8>) -> Option<KeyBatch> {
        if let Some(slots) = &self.slots {
            if !slots.contains(key_slot(&key)) {
                return None;
            }
        }
        let node = match &self.topology {
            Some(topology) => topology.route_of(&key),
            None => self.node,
        };
        let pending = &mut self.pending[node];
        pending.push(key);
        (pending.len() >= self.size).then(|| KeyBatch {
            node,
            keys: std::mem::take(pending),
        })
    }

    /// The partly filled batches, once the keys run out.
    pub(crate) fn finish(&mut self) -> Vec<KeyBatch> {
        self.pending
            .iter_mut()
            .enumerate()
            .filter(|(_, keys)| !keys.is_empty())
            .map(|(node, keys)| KeyBatch {
                node,
                keys: std::mem::take(keys),
            })
            .collect()
    }
}

/// Escape glob metacharacters so `text` matches itself in a SCAN pattern.
pub fn escape_glob(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\' | b'^' | b'-') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keys_and_batcher() {
        let mut seen = SeenKeys::default();
        assert!(seen.first_time(b"a") && !seen.first_time(b"a") && seen.first_time(b"b"));
        let mut b = Batcher::new(2, 1);
        assert!(b.push(b"a".to_vec()).is_none());
        let full = b.push(b"b".to_vec()).unwrap();
        assert_eq!((full.node, full.keys.len()), (1, 2));
        b.push(b"c".to_vec());
        let rest = KeyBatch {
            node: 1,
            keys: vec![b"c".to_vec()],
        };
        assert_eq!(b.finish(), vec![rest]);
        assert!(b.finish().is_empty());
    }

    #[test]
    fn escapes_glob_characters() {
        assert_eq!(escape_glob(b"a*b?[c]\\"), b"a\\*b\\?\\[c\\]\\\\".to_vec());
    }
}
