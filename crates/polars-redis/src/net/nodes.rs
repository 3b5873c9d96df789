//! Connections to the nodes of a topology, shared by reads and writes.
//!
//! A [`NodeConnections`] knows the nodes a read or write talks to (the
//! masters of its [`Topology`], plus any node a redirect names) and keeps
//! idle connections to them, each over a [`Link`]: plain, or in `ASKING`
//! mode for keys of a slot the node is importing. A read worker opens one
//! connection per link when it first needs it ([`NodeConnections::get`]);
//! a write opens its connections up front ([`NodeConnections::checkout`]),
//! so an unreachable node fails it before anything is sent, and each write
//! worker reconnects on its own with an [`Opener`].

use tokio::time::Instant;

use crate::error::Result;
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::resp::Cmd;

/// One way to reach a node of a [`NodeConnections`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    /// Index of the node (for a topology's masters, as in [`Topology::nodes`]).
    pub(crate) node: usize,
    /// For keys of a slot being imported by the node: `ASKING` precedes
    /// their commands (see [`Asking`]).
    pub(crate) asking: bool,
}

impl Link {
    /// The node, for the keys it serves.
    pub(crate) fn plain(node: usize) -> Self {
        Link {
            node,
            asking: false,
        }
    }

    /// The node, for keys of a slot it is importing.
    pub(crate) fn asking(node: usize) -> Self {
        Link { node, asking: true }
    }
}

/// Who sends `ASKING` on an asking [`Link`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Asking {
    /// The connection, before every command (reads, whose fetchers send
    /// any command).
    EveryCommand,
    /// The caller, once before each key's commands (writes: one `ASKING`
    /// covers a key's `MULTI` ... `EXEC`); the connection itself is plain.
    ByCaller,
}

/// Connections to the nodes of a topology, idle until used.
pub(crate) struct NodeConnections {
    configs: Vec<ConnectionConfig>,
    /// Per node: a cluster replica, whose connections send `READONLY`.
    readonly: Vec<bool>,
    /// Per node: where to go once it failed for good (`prefer_replica`).
    fallback: Vec<Option<ConnectionConfig>>,
    cluster: bool,
    asking: Asking,
    deadline: Option<Instant>,
    /// Idle connections of every node, plain then asking.
    idle: Vec<[Vec<Connection>; 2]>,
}

impl NodeConnections {
    /// No connection yet to the nodes of `topology`.
    pub(crate) fn new(topology: &Topology, asking: Asking) -> Self {
        let configs: Vec<ConnectionConfig> =
            topology.nodes().iter().map(|n| n.config.clone()).collect();
        NodeConnections {
            idle: configs.iter().map(|_| Default::default()).collect(),
            readonly: vec![false; configs.len()],
            fallback: vec![None; configs.len()],
            configs,
            cluster: topology.is_cluster(),
            asking,
            deadline: None,
        }
    }

    /// No connection yet to the nodes of `topology` as a read reaches them:
    /// read connection `nth` of each node goes to its `nth` reader in turn
    /// (see [`ClusterNode::reader`](crate::net::cluster::ClusterNode::reader)),
    /// so a read's workers spread over every live replica.
    pub(crate) fn reading(topology: &Topology, asking: Asking, nth: usize) -> Self {
        let mut conns = Self::new(topology, asking);
        for (node, of) in topology.nodes().iter().enumerate() {
            conns.configs[node] = of.reader(nth).clone();
            conns.readonly[node] = conns.cluster && of.reads_replicas();
            conns.fallback[node] = of.fallback_reader().cloned();
        }
        conns
    }

    /// Connections opened from now on fail any read that would end after
    /// `deadline`.
    pub(crate) fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// How to connect to `node`.
    pub(crate) fn config(&self, node: usize) -> &ConnectionConfig {
        &self.configs[node]
    }

    /// Log one round of cluster redirects: how many keys each link
    /// receives (`MOVED`: a plain link, `ASK`: an asking one). No key is named.
    pub(crate) fn log_redirects(&self, round: usize, keys_per_link: &[(Link, usize)]) {
        if keys_per_link.is_empty() || !log::log_enabled!(log::Level::Info) {
            return;
        }
        let targets: Vec<String> = keys_per_link
            .iter()
            .map(|(link, keys)| {
                let kind = if link.asking { "ASK" } else { "MOVED" };
                format!("{keys} keys {kind} to {}", self.configs[link.node].endpoint)
            })
            .collect();
        log::info!("redirect round {round}: {}", targets.join(", "));
    }

    /// The node reached with `config`, added when it is not one of the set
    /// (a redirect may name a node the topology did not list).
    pub(crate) fn node_at(&mut self, config: ConnectionConfig) -> usize {
        match self.configs.iter().position(|known| *known == config) {
            Some(node) => node,
            None => {
                self.configs.push(config);
                self.readonly.push(false);
                self.fallback.push(None);
                self.idle.push(Default::default());
                self.configs.len() - 1
            }
        }
    }

    /// Opens new connections over `link`, for a task that reconnects on its own.
    pub(crate) fn opener(&self, link: Link) -> Opener {
        Opener {
            config: self.configs[link.node].clone(),
            cluster: self.cluster,
            asking: link.asking && self.asking == Asking::EveryCommand,
            readonly: self.readonly[link.node],
            deadline: self.deadline,
        }
    }

    /// An idle connection over `link`, opened if there is none. It stays in
    /// the set.
    pub(crate) async fn get(&mut self, link: Link) -> Result<&mut Connection> {
        if self.idle_of(link).is_empty() {
            let conn = self.opener(link).open().await?;
            self.idle_of(link).push(conn);
        }
        Ok(&mut self.idle_of(link)[0])
    }

    /// `count` connections over `link` for the caller to keep: the idle
    /// ones first, the rest opened now.
    pub(crate) async fn checkout(&mut self, link: Link, count: usize) -> Result<Vec<Connection>> {
        let idle = self.idle_of(link);
        let mut conns: Vec<Connection> = idle.drain(..count.min(idle.len())).collect();
        while conns.len() < count {
            conns.push(self.opener(link).open().await?);
        }
        Ok(conns)
    }

    /// Keep `conn`, opened elsewhere to the node of `link`, as idle.
    pub(crate) fn put(&mut self, link: Link, conn: Connection) {
        self.idle_of(link).push(conn);
    }

    /// Whether `node` has somewhere to go once it failed for good.
    pub(crate) fn can_fall_back(&self, node: usize) -> bool {
        self.fallback[node].is_some()
    }

    /// Go to `node`'s fallback (its primary) from now on; `false` when it
    /// has none (any more).
    pub(crate) fn fall_back(&mut self, node: usize) -> bool {
        let Some(config) = self.fallback[node].take() else {
            return false;
        };
        self.configs[node] = config;
        self.readonly[node] = false;
        self.idle[node] = Default::default();
        true
    }

    /// Drop the idle connections over `link` (one may be mid-reply).
    pub(crate) fn forget(&mut self, link: Link) {
        self.idle_of(link).clear();
    }

    fn idle_of(&mut self, link: Link) -> &mut Vec<Connection> {
        &mut self.idle[link.node][usize::from(link.asking)]
    }
}

/// How to open a connection over one [`Link`] (see
/// [`NodeConnections::opener`]).
#[derive(Clone, Debug)]
pub(crate) struct Opener {
    config: ConnectionConfig,
    cluster: bool,
    /// The connection sends `ASKING` before every command.
    asking: bool,
    /// A cluster replica: `READONLY` lets it serve reads of its master's slots.
    readonly: bool,
    deadline: Option<Instant>,
}

impl Opener {
    /// Open, authenticate and set the connection up for its link.
    pub(crate) async fn open(&self) -> Result<Connection> {
        let mut conn = Connection::connect(&self.config).await?;
        conn.set_deadline(self.deadline);
        conn.set_cluster(self.cluster);
        if self.readonly {
            conn.query(&Cmd::new("READONLY")).await?;
        }
        if self.asking {
            conn.set_asking();
        }
        Ok(conn)
    }
}
