//! Test-only harness for polars-redis: throw-away Redis servers.
//!
//! * [`RedisServer::plain`]: Debian's `redis-server`.
//! * [`RedisServer::stack`]: Redis Stack 7.4 with RediSearch, RedisJSON,
//!   RedisTimeSeries (and RedisBloom).
//! * [`RedisServer::builder`]: extra arguments, modules, a unix socket, a
//!   password, ...
//! * [`RedisCluster::start`]: N masters joined with `redis-cli --cluster create`.
//!
//! Each server listens on `127.0.0.1` on a free port (never 6379), in its own
//! temporary directory with persistence off, and is killed (directory removed)
//! when dropped — or when the test process exits, even for servers kept in
//! statics ([`RedisServer::shared_plain`]).
//!
//! [`RedisServer::cmd`] is a tiny blocking RESP client for seeding ground
//! truth without the library under test:
//!
//! ```no_run
//! use redis_test_support::{RedisServer, RespValue};
//! let server = RedisServer::plain();
//! server.cmd(&["HSET", "h:1", "name", "x"]).expect_ok();
//! assert_eq!(server.cmd(&["HGET", "h:1", "name"]), RespValue::bulk("x"));
//! let url = server.url(); // redis://127.0.0.1:PORT
//! ```
//!
//! Binaries come from the environment variables written to `.redis/env.sh`
//! by `scripts/install-redis.sh` (`POLARS_REDIS_SERVER`, `POLARS_REDIS_CLI`,
//! `POLARS_REDIS_STACK_SERVER`, `POLARS_REDIS_STACK_MODULES`,
//! `POLARS_REDIS_STACK_LD_LIBRARY_PATH`), falling back to
//! `<workspace>/.redis/env.json`. A missing binary panics with a hint.
//!
//! The `redis-harness` binary (`src/bin/redis-harness.rs`) offers the same
//! servers and clusters to other test suites: the Python fixtures start
//! theirs through it (`tests/redis_servers.py`).

pub mod cluster;
pub mod config;
pub mod resp;
pub mod server;

use std::fmt;
use std::io;

pub use cluster::{key_slot, RedisCluster, CLUSTER_SLOTS};
pub use resp::{Connection, RespValue};
pub use server::{free_port, RedisServer, RedisServerBuilder};

/// Why a server or cluster could not be started or used.
#[derive(Debug)]
pub enum HarnessError {
    /// A binary or module is not installed / not configured.
    Unavailable(String),
    /// The server did not come up.
    Startup {
        name: String,
        message: String,
        log_tail: String,
    },
    /// Cluster creation or inspection failed (message includes log tails).
    Cluster(String),
    /// An unexpected reply to a harness command.
    Command(String),
    Io(io::Error),
}

impl HarnessError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, HarnessError::Unavailable(_))
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::Unavailable(msg) => write!(f, "redis test server unavailable: {msg}"),
            HarnessError::Startup {
                name,
                message,
                log_tail,
            } => write!(f, "{name}: {message}\n--- log tail ---\n{log_tail}"),
            HarnessError::Cluster(msg) => write!(f, "redis cluster: {msg}"),
            HarnessError::Command(msg) => write!(f, "redis command: {msg}"),
            HarnessError::Io(e) => write!(f, "redis harness I/O error: {e}"),
        }
    }
}

impl std::error::Error for HarnessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HarnessError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// `Result::unwrap` that panics with the error's `Display` text (including
/// log tails) at the caller's location.
pub trait UnwrapOrPanic<T> {
    #[track_caller]
    fn unwrap_or_panic(self) -> T;
}

impl<T> UnwrapOrPanic<T> for Result<T, HarnessError> {
    #[track_caller]
    fn unwrap_or_panic(self) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }
}

impl From<io::Error> for HarnessError {
    fn from(e: io::Error) -> Self {
        HarnessError::Io(e)
    }
}
