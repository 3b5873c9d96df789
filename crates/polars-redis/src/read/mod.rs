//! Reading Redis keys into Arrow record batches: the options every scan
//! shares ([`scan`]), the engine that runs them, one module per Redis
//! type, and the planning of a scan's partitions (`partition`).

pub(crate) mod collection;
pub(crate) mod engine;
pub(crate) mod fetch;
pub(crate) mod field_ttl;
pub(crate) mod hash;
pub(crate) mod hash_fields;
pub(crate) mod json;
pub(crate) mod keys;
pub(crate) mod layout;
pub(crate) mod list;
pub(crate) mod output;
pub(crate) mod paged;
pub(crate) mod partition;
pub(crate) mod pushdown;
pub(crate) mod scan;
pub(crate) mod set;
pub(crate) mod stream;
pub(crate) mod string;
pub(crate) mod timeseries;
pub(crate) mod warnings;
pub(crate) mod zset;
