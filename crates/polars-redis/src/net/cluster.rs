//! Where keys live: one standalone server, or the masters of a Redis Cluster
//! and the hash slots each of them serves.
//!
//! A cluster is read node by node (each master's `SCAN` sees only its own
//! keys) with every key batch sent to the node that holds it. A read is only
//! complete if the slot layout held still while it ran, so every master is
//! asked for its view when a read starts ([`Topology::survey`]) and again
//! once its keys are listed ([`Topology::check_unchanged`]): a slot that
//! changed owner or started migrating in between makes the read fail with
//! [`Error::Cluster`] instead of returning a partial answer.
//!
//! A slot already migrating when the read starts is read apart: its keys
//! are listed on both nodes (`CLUSTER GETKEYSINSLOT`, source first, as keys
//! only move from source to target) and each key is read from wherever it
//! is when it is read ([`Route::Migrating`]); such a slot may finish moving
//! during the read.

use crate::error::{Error, Result};
use crate::net::config::{ConnectionConfig, Endpoint};
use crate::net::connection::Connection;
use crate::net::resp::{Cmd, Value};
use crate::net::slots::{SlotRanges, SLOTS};

/// The hash slot of `key`: CRC16 (XMODEM) of the key, or of its hash tag
/// (the text between the first `{` and the next `}`, when not empty), mod 16384.
///
/// ```
/// use polars_redis::key_slot;
/// assert_eq!(key_slot(b"foo"), 12182);
/// // Keys sharing a hash tag share a slot.
/// assert_eq!(key_slot(b"{user:1}:name"), key_slot(b"{user:1}:email"));
/// ```
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) % SLOTS as u16
}

/// The part of `key` that decides its slot: its hash tag, or the whole key.
pub(crate) fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    match key[open + 1..].iter().position(|&b| b == b'}') {
        Some(len) if len > 0 => &key[open + 1..open + 1 + len],
        _ => key,
    }
}

const CRC16_TABLE: [u16; 256] = crc16_table();

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[((crc >> 8) as u8 ^ b) as usize]
    })
}

/// The servers a read talks to and which of them holds each key.
#[derive(Debug)]
pub(crate) struct Topology {
    /// One entry per server: the standalone server, or each master that
    /// serves slots (sorted by node id).
    nodes: Vec<ClusterNode>,
    /// The slot layout, empty for a standalone server.
    layout: SlotLayout,
    /// Slots migrating when the read started (see [`Topology::survey`]).
    migrations: Vec<Migration>,
}

/// A slot whose keys are moving from one master to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Migration {
    pub(crate) slot: u16,
    /// Index of the node the keys leave.
    pub(crate) source: usize,
    /// Index of the node the keys arrive at.
    pub(crate) target: usize,
}

/// Where the keys of a batch are read from.
pub(crate) enum Route<'a> {
    /// The node with this index holds them.
    Node(usize),
    /// They belong to a migrating slot: each is looked for on both nodes.
    Migrating(&'a Migration),
}

/// One server of a [`Topology`].
#[derive(Debug)]
pub(crate) struct ClusterNode {
    /// The cluster node id (empty for a standalone server).
    pub(crate) id: String,
    /// How to connect to it (the seed's credentials, TLS and timeouts).
    pub(crate) config: ConnectionConfig,
    /// Its replicas as the cluster lists them (not failing), for the
    /// `replicas` module; empty for a standalone server.
    pub(crate) replicas: Vec<ConnectionConfig>,
    /// Where reads of its keys go: live replicas chosen by the `replicas`
    /// module; empty: the node itself.
    pub(crate) readers: Vec<ConnectionConfig>,
    /// Reads go on on the node itself when its readers fail (`prefer_replica`).
    pub(crate) falls_back: bool,
}

impl ClusterNode {
    /// Where read connection number `nth` of this node goes: its readers in
    /// turn (spreading a read over every live replica), else the node.
    pub(crate) fn reader(&self, nth: usize) -> &ConnectionConfig {
        match self.readers.len() {
            0 => &self.config,
            len => &self.readers[nth % len],
        }
    }

    /// True when reads go to replicas rather than to the node itself.
    pub(crate) fn reads_replicas(&self) -> bool {
        !self.readers.is_empty()
    }

    /// Where reads go once a reader failed for good: the node itself, when
    /// it reads replicas and may fall back.
    pub(crate) fn fallback_reader(&self) -> Option<&ConnectionConfig> {
        (self.falls_back && self.reads_replicas()).then_some(&self.config)
    }
}

impl Topology {
    /// The one server `config` points at.
    pub(crate) fn standalone(config: &ConnectionConfig) -> Self {
        Topology {
            nodes: vec![ClusterNode {
                id: String::new(),
                config: config.clone(),
                replicas: Vec::new(),
                readers: Vec::new(),
                falls_back: false,
            }],
            layout: SlotLayout::default(),
            migrations: Vec::new(),
        }
    }

    /// What `conn` (opened with `seed`) is part of, as `conn`'s server sees
    /// it. A read then calls [`Topology::survey`]; a write follows redirects
    /// instead. A seed whose pool knows it for a standalone server is not
    /// asked again.
    pub(crate) async fn discover(conn: &mut Connection, seed: &ConnectionConfig) -> Result<Self> {
        let pool = conn.pool().cloned();
        if pool
            .as_ref()
            .is_some_and(|pool| pool.is_known_standalone(seed))
        {
            return Ok(Self::standalone(seed));
        }
        if server_mode(conn).await?.as_deref() != Some("cluster") {
            log::debug!("{} is a standalone server", seed.endpoint);
            if let Some(pool) = pool {
                pool.remember_standalone(seed);
            }
            return Ok(Self::standalone(seed));
        }
        let view = NodesView::parse(&cluster_nodes(conn).await?)?;
        let layout = view.layout()?;
        let nodes = layout
            .owners()
            .into_iter()
            .map(|id| {
                let config = view.config_of(&id, seed)?;
                let replicas = view.replicas_of(&id, seed);
                Ok(ClusterNode {
                    id,
                    config,
                    replicas,
                    readers: Vec::new(),
                    falls_back: false,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        log::info!(
            "cluster topology from {}: {} masters ({})",
            seed.endpoint,
            nodes.len(),
            nodes
                .iter()
                .map(|node| node.config.endpoint.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(Topology {
            nodes,
            layout,
            migrations: Vec::new(),
        })
    }

    /// True for a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        !self.layout.ranges.is_empty()
    }

    pub(crate) fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }

    /// The servers, to choose where reads go (see the `replicas` module).
    pub(crate) fn nodes_mut(&mut self) -> &mut [ClusterNode] {
        &mut self.nodes
    }

    /// The slots node `node` serves; every slot for a standalone server.
    pub(crate) fn slots_of(&self, node: usize) -> Result<SlotRanges> {
        if !self.is_cluster() {
            return Ok(SlotRanges::all());
        }
        let id = &self.nodes[node].id;
        let ranges = self.layout.ranges.iter().filter(|r| &r.owner == id);
        SlotRanges::new(ranges.map(|r| (r.first, r.last)))
    }

    /// Index (into [`Topology::nodes`]) of the node holding `key`.
    pub(crate) fn node_of(&self, key: &[u8]) -> usize {
        if !self.is_cluster() {
            return 0;
        }
        self.owner_of(key_slot(key))
    }

    /// Index of the node serving `slot` (of a cluster).
    fn owner_of(&self, slot: u16) -> usize {
        let range = self
            .layout
            .ranges
            .partition_point(|range| range.last < slot);
        let owner = &self.layout.ranges[range].owner;
        self.nodes
            .binary_search_by(|node| node.id.as_str().cmp(owner))
            .unwrap_or(0)
    }

    /// Key batch routes: one per node, then one per migrating slot.
    pub(crate) fn routes(&self) -> usize {
        self.nodes.len() + self.migrations.len()
    }

    pub(crate) fn route(&self, route: usize) -> Route<'_> {
        match route.checked_sub(self.nodes.len()) {
            Some(migration) => Route::Migrating(&self.migrations[migration]),
            None => Route::Node(route),
        }
    }

    /// The route of `key`: its node, or its migrating slot.
    pub(crate) fn route_of(&self, key: &[u8]) -> usize {
        if !self.is_cluster() {
            return 0;
        }
        let slot = key_slot(key);
        match self.migrations.iter().position(|m| m.slot == slot) {
            Some(migration) => self.nodes.len() + migration,
            None => self.owner_of(slot),
        }
    }

    /// Index of the migration `key`'s slot is part of, if any.
    pub(crate) fn migration_of(&self, key: &[u8]) -> Option<usize> {
        if self.migrations.is_empty() {
            return None;
        }
        let slot = key_slot(key);
        self.migrations.iter().position(|m| m.slot == slot)
    }

    pub(crate) fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// Ask every master for its view of the cluster when a read starts:
    /// they must agree on the slot layout; the slots they report migrating
    /// are remembered, to be read apart.
    pub(crate) async fn survey(&mut self) -> Result<()> {
        if !self.is_cluster() {
            return Ok(());
        }
        let mut migrations: Vec<Migration> = Vec::new();
        for (node, view) in self.views().await?.iter().enumerate() {
            self.check_layout(node, &view.layout()?, &[])?;
            for migration in self.migrations_of(node, view)? {
                let slot = migration.slot;
                match migrations.iter().find(|m| m.slot == slot) {
                    Some(known) if *known != migration => {
                        return Err(Error::Cluster(format!(
                            "the masters disagree about where slot {slot} is migrating; retry"
                        )))
                    }
                    Some(_) => {}
                    None => migrations.push(migration),
                }
            }
        }
        if !migrations.is_empty() {
            log::info!(
                "{} slots migrating (their keys are read from both masters): {}",
                migrations.len(),
                migrations
                    .iter()
                    .map(|m| m.slot.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        self.migrations = migrations;
        Ok(())
    }

    /// Ask every master for its view again once the keys are listed: no
    /// slot may have changed owner or started migrating since
    /// [`Topology::survey`] (a slot migrating then may have reached its
    /// target). Otherwise keys may have moved between nodes while they were
    /// listed, and the read fails with [`Error::Cluster`].
    pub(crate) async fn check_unchanged(&self) -> Result<()> {
        if !self.is_cluster() {
            return Ok(());
        }
        for (node, view) in self.views().await?.iter().enumerate() {
            self.check_layout(node, &view.layout()?, &self.migrations)?;
            for migration in self.migrations_of(node, view)? {
                if !self.migrations.contains(&migration) {
                    return Err(Error::Cluster(format!(
                        "slot {} started migrating during the read (the cluster is \
                         resharding); retry",
                        migration.slot
                    )));
                }
            }
        }
        log::debug!(
            "slot layout of the {} masters unchanged since the read started",
            self.nodes.len()
        );
        Ok(())
    }

    /// The migrations node `node` reports in its own `view`.
    fn migrations_of(&self, node: usize, view: &NodesView) -> Result<Vec<Migration>> {
        view.own_migrations()
            .into_iter()
            .map(|(slot, peer, importing)| {
                let peer = self.index_of(&peer)?;
                let (source, target) = if importing {
                    (peer, node)
                } else {
                    (node, peer)
                };
                Ok(Migration {
                    slot,
                    source,
                    target,
                })
            })
            .collect()
    }

    /// `CLUSTER NODES` from every master, in node order.
    async fn views(&self) -> Result<Vec<NodesView>> {
        let mut views = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let mut conn = Connection::connect(&node.config).await?;
            views.push(NodesView::parse(&cluster_nodes(&mut conn).await?)?);
        }
        Ok(views)
    }

    /// `layout` (node `node`'s view) must match this topology's, except that
    /// a slot of `moving` may be owned by its target.
    fn check_layout(&self, node: usize, layout: &SlotLayout, moving: &[Migration]) -> Result<()> {
        let (ours, theirs) = (self.layout.owner_by_slot(), layout.owner_by_slot());
        let changed = (0..SLOTS).find(|&slot| {
            ours[slot] != theirs[slot]
                && !moving
                    .iter()
                    .any(|m| usize::from(m.slot) == slot && theirs[slot] == self.nodes[m.target].id)
        });
        match changed {
            None => Ok(()),
            Some(slot) => Err(Error::Cluster(format!(
                "the slot layout changed during the read ({} reports another owner for \
                 slot {slot}); retry",
                self.nodes[node].config.endpoint()
            ))),
        }
    }

    fn index_of(&self, id: &str) -> Result<usize> {
        self.nodes
            .binary_search_by(|node| node.id.as_str().cmp(id))
            .map_err(|_| {
                Error::Cluster(format!(
                    "a slot is migrating to or from node {id}, which serves no slots; retry \
                     once the migration is done"
                ))
            })
    }
}

/// The keys of `slot` on `conn`'s node (`CLUSTER GETKEYSINSLOT`).
pub(crate) async fn keys_in_slot(conn: &mut Connection, slot: u16) -> Result<Vec<Vec<u8>>> {
    let count = conn
        .query(
            Cmd::new("CLUSTER")
                .arg("COUNTKEYSINSLOT")
                .arg(slot.to_string()),
        )
        .await?;
    let Value::Int(count) = count else {
        return Err(Error::Protocol(
            "unexpected reply to CLUSTER COUNTKEYSINSLOT".into(),
        ));
    };
    // Keys added since are new to the read and may be left out, as by SCAN.
    let reply = conn
        .query(
            Cmd::new("CLUSTER")
                .arg("GETKEYSINSLOT")
                .arg(slot.to_string())
                .arg(count.max(1).to_string()),
        )
        .await?;
    let bad = || Error::Protocol("unexpected reply to CLUSTER GETKEYSINSLOT".into());
    let Value::Array(keys) = reply else {
        return Err(bad());
    };
    keys.into_iter()
        .map(|key| match key {
            Value::Bytes(key) => Ok(key),
            _ => Err(bad()),
        })
        .collect()
}

async fn cluster_nodes(conn: &mut Connection) -> Result<String> {
    Ok(conn
        .query(Cmd::new("CLUSTER").arg("NODES"))
        .await?
        .to_text())
}

/// Which node serves each slot, as sorted, contiguous ranges.
#[derive(Debug, Default, PartialEq, Eq)]
struct SlotLayout {
    ranges: Vec<SlotRange>,
}

#[derive(Debug, PartialEq, Eq)]
struct SlotRange {
    first: u16,
    last: u16,
    owner: String,
}

impl SlotLayout {
    /// The id of each slot's owner, by slot.
    fn owner_by_slot(&self) -> Vec<&str> {
        let mut owners = Vec::with_capacity(SLOTS);
        for range in &self.ranges {
            for _ in range.first..=range.last {
                owners.push(range.owner.as_str());
            }
        }
        owners
    }

    /// The ids of the nodes serving slots, sorted.
    fn owners(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.ranges.iter().map(|r| r.owner.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// One node's `CLUSTER NODES` reply, parsed.
struct NodesView {
    lines: Vec<NodeLine>,
}

struct NodeLine {
    id: String,
    /// `ip:port@cport[,hostname]`.
    address: String,
    flags: Vec<String>,
    /// The id of the master this node replicates (`-` for a master).
    master: String,
    /// `first-last`, `slot`, `[slot->-id]` (migrating) or `[slot-<-id]` (importing).
    slots: Vec<String>,
}

impl NodesView {
    fn parse(text: &str) -> Result<Self> {
        let lines = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let parts: Vec<&str> = line.split_whitespace().collect();
                if parts.len() < 8 {
                    return Err(Error::Protocol(format!(
                        "unexpected CLUSTER NODES line: {line}"
                    )));
                }
                Ok(NodeLine {
                    id: parts[0].to_string(),
                    address: parts[1].to_string(),
                    flags: parts[2].split(',').map(str::to_string).collect(),
                    master: parts[3].to_string(),
                    slots: parts[8..].iter().map(|s| s.to_string()).collect(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(NodesView { lines })
    }

    /// The slots this node reports moving (only a node's own line lists
    /// them): `(slot, the other node's id, true when importing)`.
    fn own_migrations(&self) -> Vec<(u16, String, bool)> {
        let Some(own) = self
            .lines
            .iter()
            .find(|line| line.flags.iter().any(|f| f == "myself"))
        else {
            return Vec::new();
        };
        own.slots
            .iter()
            .filter_map(|slot| {
                let inner = slot.strip_prefix('[')?.strip_suffix(']')?;
                let (slot, peer, importing) = match inner.split_once("->-") {
                    Some((slot, peer)) => (slot, peer, false),
                    None => {
                        let (slot, peer) = inner.split_once("-<-")?;
                        (slot, peer, true)
                    }
                };
                Some((slot.parse().ok()?, peer.to_string(), importing))
            })
            .collect()
    }

    /// The slot layout this view reports; every slot must be served.
    fn layout(&self) -> Result<SlotLayout> {
        let mut ranges = Vec::new();
        for line in &self.lines {
            if !line.flags.iter().any(|f| f == "master") {
                continue;
            }
            for slots in line.slots.iter().filter(|s| !s.starts_with('[')) {
                let (first, last) = slots.split_once('-').unwrap_or((slots, slots));
                let (Ok(first), Ok(last)) = (first.parse::<u16>(), last.parse::<u16>()) else {
                    return Err(Error::Protocol(format!(
                        "unexpected slot range `{slots}` in CLUSTER NODES"
                    )));
                };
                if line.flags.iter().any(|f| f == "fail" || f == "fail?") {
                    return Err(Error::Cluster(format!(
                        "the master serving slots {slots} ({}) is failing",
                        line.address
                    )));
                }
                ranges.push(SlotRange {
                    first,
                    last,
                    owner: line.id.clone(),
                });
            }
        }
        ranges.sort_by_key(|r| r.first);
        let mut merged: Vec<SlotRange> = Vec::with_capacity(ranges.len());
        let mut next = 0u32;
        for range in ranges {
            if u32::from(range.first) != next || range.last < range.first {
                return Err(Error::Cluster(format!(
                    "slot {next} is not served by any master (the cluster is down or \
                     being reconfigured)"
                )));
            }
            next = u32::from(range.last) + 1;
            match merged.last_mut() {
                Some(prev) if prev.owner == range.owner => prev.last = range.last,
                _ => merged.push(range),
            }
        }
        if next != SLOTS as u32 {
            return Err(Error::Cluster(format!(
                "slot {next} is not served by any master (the cluster is down or \
                 being reconfigured)"
            )));
        }
        Ok(SlotLayout { ranges: merged })
    }

    /// How to reach the replicas of master `id` that the cluster does not
    /// flag as failing (each is probed before it is read from).
    fn replicas_of(&self, id: &str, seed: &ConnectionConfig) -> Vec<ConnectionConfig> {
        self.lines
            .iter()
            .filter(|line| line.master == id)
            .filter(|line| {
                !line
                    .flags
                    .iter()
                    .any(|f| matches!(f.as_str(), "fail" | "fail?" | "noaddr" | "handshake"))
            })
            .filter_map(|line| self.config_of(&line.id, seed).ok())
            .collect()
    }

    /// How to reach node `id`: its announced address with the seed's
    /// settings (a node that does not know its own IP reports none: the
    /// seed's host is used, as that is how the client reached it).
    fn config_of(&self, id: &str, seed: &ConnectionConfig) -> Result<ConnectionConfig> {
        let line = self
            .lines
            .iter()
            .find(|line| line.id == id)
            .ok_or_else(|| Error::Protocol(format!("node {id} missing from CLUSTER NODES")))?;
        let (addr, hostname) = match line.address.split_once(',') {
            Some((addr, hostname)) => (addr, Some(hostname).filter(|h| !h.is_empty())),
            None => (line.address.as_str(), None),
        };
        let addr = addr.split('@').next().unwrap_or(addr);
        node_config(addr, hostname, seed)
            .ok_or_else(|| Error::Protocol(format!("unexpected node address `{}`", line.address)))
    }
}

/// How to reach the node at `ip:port` (or `hostname`): the seed's settings
/// with that address. An empty IP (a node that does not know its own
/// address) means the seed's host, as that is how the client reached it.
fn node_config(
    addr: &str,
    hostname: Option<&str>,
    seed: &ConnectionConfig,
) -> Option<ConnectionConfig> {
    let (ip, port) = addr.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    let host = match (hostname, seed.endpoint()) {
        (Some(hostname), _) => hostname.to_string(),
        (None, _) if !ip.is_empty() && ip != "?" => ip.to_string(),
        (None, Endpoint::Tcp { host, .. }) => host.clone(),
        (None, Endpoint::Unix(_)) => return None,
    };
    Some(seed.with_endpoint(Endpoint::Tcp { host, port }))
}

/// A cluster node's reply that a key is served by another node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Redirect {
    /// `ASK` (the slot is migrating: send the key there once, after
    /// `ASKING`) rather than `MOVED` (the slot has a new owner).
    pub(crate) ask: bool,
    /// `host:port` of the node to send the key to.
    addr: String,
    /// The whole reply, for reports.
    pub(crate) message: String,
}

impl Redirect {
    /// Parse `MOVED <slot> <host:port>` or `ASK <slot> <host:port>`.
    pub(crate) fn parse(message: &str) -> Option<Self> {
        let mut parts = message.split_whitespace();
        let ask = match parts.next()? {
            "MOVED" => false,
            "ASK" => true,
            _ => return None,
        };
        parts.next()?.parse::<u16>().ok()?;
        Some(Redirect {
            ask,
            addr: parts.next()?.to_string(),
            message: message.to_string(),
        })
    }

    /// How to reach the node the redirect names.
    pub(crate) fn target(&self, seed: &ConnectionConfig) -> Option<ConnectionConfig> {
        node_config(&self.addr, None, seed)
    }
}

/// `standalone`, `cluster` or `sentinel`, from `HELLO` (allowed for every
/// user), else from `INFO`; `None` when the server will not say.
pub(crate) async fn server_mode(conn: &mut Connection) -> Result<Option<String>> {
    match conn.query(Cmd::new("HELLO").arg("2")).await {
        Ok(Value::Array(items)) => {
            let mode = items
                .chunks(2)
                .find(|pair| pair[0].as_bytes() == Some(b"mode"))
                .and_then(|pair| pair.get(1))
                .map(Value::to_text);
            return Ok(mode);
        }
        Ok(_) => return Ok(None),
        Err(err) if !err.is_server() => return Err(err),
        Err(_) => {} // HELLO unknown (Redis < 6): ask INFO.
    }
    match conn.query(Cmd::new("INFO").arg("cluster")).await {
        Ok(info) => Ok(Some(
            if info
                .to_text()
                .lines()
                .any(|l| l.trim() == "cluster_enabled:1")
            {
                "cluster".into()
            } else {
                "standalone".into()
            },
        )),
        Err(err) if err.is_server() => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_spec() {
        // Reference values from the Redis Cluster specification and CLUSTER KEYSLOT.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // Empty or unclosed tags hash the whole key.
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % 16384);
        assert_eq!(key_slot(b"foo{bar"), crc16(b"foo{bar") % 16384);
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    const NODES: &str = "\
b1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
c2 127.0.0.1:7002@17002,cache-2 master - 0 0 2 connected 5461-10922
a3 :7003@17003 master - 0 0 3 connected 10923-16383
d4 127.0.0.1:7004@17004 slave a3 0 0 3 connected
";

    #[test]
    fn parses_the_slot_layout_and_addresses() {
        let view = NodesView::parse(NODES).unwrap();
        let layout = view.layout().unwrap();
        assert_eq!(layout.owners(), ["a3", "b1", "c2"]);
        assert_eq!(layout.ranges.len(), 3);
        let seed = ConnectionConfig::from_url("redis://u:p@seed.local:7001/0").unwrap();
        let endpoint = |id| view.config_of(id, &seed).unwrap().endpoint().to_string();
        assert_eq!(endpoint("b1"), "127.0.0.1:7001");
        assert_eq!(endpoint("c2"), "cache-2:7002");
        assert_eq!(endpoint("a3"), "seed.local:7003");
        assert!(view.own_migrations().is_empty());
    }

    #[test]
    fn parses_redirects() {
        let seed = ConnectionConfig::from_url("redis://seed.local:7001").unwrap();
        let moved = Redirect::parse("MOVED 3999 127.0.0.1:6381").unwrap();
        assert!(!moved.ask);
        let target = moved.target(&seed).unwrap();
        assert_eq!(target.endpoint().to_string(), "127.0.0.1:6381");
        let ask = Redirect::parse("ASK 1 :7002").unwrap();
        assert!(ask.ask);
        assert_eq!(
            ask.target(&seed).unwrap().endpoint().to_string(),
            "seed.local:7002"
        );
        assert!(Redirect::parse("ERR MOVED 1 a:1").is_none());
        assert!(Redirect::parse("MOVED x a:1").is_none());
    }

    #[test]
    fn refuses_uncovered_slots_and_lists_migrations() {
        let gap = NODES.replace("5461-10922", "5461-10000");
        let err = NodesView::parse(&gap).unwrap().layout().unwrap_err();
        assert!(err.to_string().contains("slot 10001"), "{err}");
        let migrating = NODES.replace("0-5460", "0-5460 [93->-c2] [7-<-a3]");
        let view = NodesView::parse(&migrating).unwrap();
        assert_eq!(
            view.own_migrations(),
            [(93, "c2".to_string(), false), (7, "a3".to_string(), true)]
        );
    }
}
