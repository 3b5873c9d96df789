//! Connections kept open between calls ([`ConnectionPool`]): a reusable
//! client hands its pool to every call through its [`ConnectionConfig`], and
//! every connection that call opens to any node comes from the pool when an
//! idle one is there, and goes back to it when the call is done with it.
//!
//! A connection goes back only when it is in a known state: every command
//! sent has had its reply, nothing is left unread, and no command changed
//! the connection's session (`SUBSCRIBE`, `HELLO 3`, `CLIENT`, `READONLY`,
//! `SELECT`, ...; see `Connection`). Anything else (an error, a timeout, a
//! read stopped half way) closes it. A connection taken from the pool is
//! first checked for a close or stray bytes from the server, which drop it.
//!
//! The pool also remembers which seeds are standalone servers, so a call
//! need not ask (`HELLO`) again; a redirect or a connection the server
//! closed makes it forget (the topology is asked for again).

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::net::config::{ConnectionConfig, SharedPool};

/// An idle connection, held by type so that the pool does not depend on
/// connections (`Connection` puts and takes itself).
pub(crate) type Idle = Box<dyn Any + Send>;

/// How many idle connections a pool keeps per node when not told.
pub const DEFAULT_MAX_IDLE_PER_NODE: usize = 32;

/// Idle connections, per node, shared by the calls of one client.
///
/// Pools compare equal only to themselves.
pub struct ConnectionPool {
    /// The idle connections of each node, keyed by the node's settings
    /// (timeouts aside).
    idle: Mutex<Vec<(ConnectionConfig, Vec<Idle>)>>,
    max_idle_per_node: usize,
    closed: AtomicBool,
    /// Seeds (keyed like `idle`) known to be standalone servers.
    standalone: Mutex<Vec<ConnectionConfig>>,
}

impl ConnectionPool {
    /// An empty pool keeping at most `max_idle_per_node` idle connections
    /// to each node.
    pub fn new(max_idle_per_node: usize) -> Self {
        ConnectionPool {
            idle: Mutex::new(Vec::new()),
            max_idle_per_node,
            closed: AtomicBool::new(false),
            standalone: Mutex::new(Vec::new()),
        }
    }

    /// Close every idle connection; calls that use the pool from now on fail.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let idle = std::mem::take(&mut *self.lock());
        drop(idle);
    }

    /// True once [`ConnectionPool::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// How many idle connections the pool holds, over all nodes.
    pub fn idle_connections(&self) -> usize {
        self.lock().iter().map(|(_, conns)| conns.len()).sum()
    }

    /// An idle connection opened with settings like `config`'s, if any.
    pub(crate) fn take(&self, config: &ConnectionConfig) -> Option<Idle> {
        let key = pool_key(config);
        let mut idle = self.lock();
        let (_, conns) = idle.iter_mut().find(|(known, _)| *known == key)?;
        conns.pop()
    }

    /// Keep `conn`, opened with settings like `config`'s, for a later call
    /// (closed instead when the pool is full or closed).
    pub(crate) fn put(&self, config: &ConnectionConfig, conn: Idle) {
        if self.is_closed() {
            return;
        }
        let key = pool_key(config);
        let mut idle = self.lock();
        let index = match idle.iter().position(|(known, _)| *known == key) {
            Some(index) => index,
            None => {
                idle.push((key, Vec::new()));
                idle.len() - 1
            }
        };
        let conns = &mut idle[index].1;
        if conns.len() < self.max_idle_per_node {
            conns.push(conn);
        }
    }

    /// True when `seed` was found to be a standalone server.
    pub(crate) fn is_known_standalone(&self, seed: &ConnectionConfig) -> bool {
        let key = pool_key(seed);
        locked(&self.standalone).contains(&key)
    }

    /// Remember that `seed` is a standalone server.
    pub(crate) fn remember_standalone(&self, seed: &ConnectionConfig) {
        let key = pool_key(seed);
        let mut known = locked(&self.standalone);
        if !known.contains(&key) {
            known.push(key);
        }
    }

    /// Forget what was learnt of the servers' topology (after a redirect, or
    /// a connection the server closed: it may have restarted as another kind).
    pub(crate) fn forget_topology(&self) {
        locked(&self.standalone).clear();
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(ConnectionConfig, Vec<Idle>)>> {
        locked(&self.idle)
    }
}

/// The list behind `mutex`; a panic while it was held leaves only a list.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for ConnectionPool {
    fn default() -> Self {
        ConnectionPool::new(DEFAULT_MAX_IDLE_PER_NODE)
    }
}

impl fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("idle", &self.idle_connections())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl PartialEq for ConnectionPool {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for ConnectionPool {}

impl ConnectionConfig {
    /// Take connections from `pool` and give them back when done (a
    /// reusable client; see [`ConnectionPool`]).
    pub fn with_pool(mut self, pool: Arc<ConnectionPool>) -> Self {
        self.pool = Some(SharedPool(pool));
        self
    }

    /// The pool connections come from, if any.
    pub fn pool(&self) -> Option<Arc<ConnectionPool>> {
        let shared = self.pool.as_ref()?.0.clone();
        shared.downcast::<ConnectionPool>().ok()
    }
}

/// The settings that make connections interchangeable: all but the
/// timeouts (set again on every connection taken) and the pool itself.
fn pool_key(config: &ConnectionConfig) -> ConnectionConfig {
    ConnectionConfig {
        pool: None,
        ..config.clone()
    }
    .with_connect_timeout(crate::net::config::DEFAULT_CONNECT_TIMEOUT)
    .with_command_timeout(None)
}
