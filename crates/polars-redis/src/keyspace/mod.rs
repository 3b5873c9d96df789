//! Key management: commands over many keys at once (list, inspect, expire,
//! persist, rename, delete), pipelined per node and cluster-aware
//! ([`session`] routes each key to the master of its slot and follows
//! redirects), with a [`KeyReport`] of what happened to each key.

pub(crate) mod manage;
pub(crate) mod report;
pub(crate) mod session;
pub(crate) mod size;

pub use manage::{
    delete_keys, exists_keys, get_ttl, key_info, list_keys, persist_keys, rename_keys, scan_keys,
    set_ttl, KeyScan, RenameMode, KEY_INFO_COLUMNS, LIST_COUNT_HINT,
};
pub use report::KeyReport;
pub use size::count_keys;
