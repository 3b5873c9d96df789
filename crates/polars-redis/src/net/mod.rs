//! The Redis client, with no Arrow in it: URLs, TLS options, credential
//! providers and connection pools ([`config`]),
//! how much of a server one call may use ([`budget`]), which failures a read
//! tries again ([`retry`]),
//! the TLS handshake and telling TLS from plain servers (`tls`), the module
//! checks (`modules`), one
//! connection with in-place reply decoding, the cluster topology and key
//! slots, the per-node connection sets reads and writes share ([`nodes`]),
//! which servers a read uses ([`replicas`]), Redis Sentinel (`sentinel`), the
//! RESP codec, the shared Tokio runtime, glob matching and sets of hash
//! slots (`slots`).

pub mod budget;
pub(crate) mod cluster;
pub mod config;
pub(crate) mod connection;
pub(crate) mod credentials;
pub(crate) mod glob;
pub(crate) mod modules;
pub(crate) mod nodes;
pub(crate) mod pool;
pub mod replicas;
pub(crate) mod resp;
pub mod retry;
pub(crate) mod runtime;
pub(crate) mod sentinel;
pub(crate) mod slots;
pub(crate) mod tls;
pub(crate) mod tls_options;
