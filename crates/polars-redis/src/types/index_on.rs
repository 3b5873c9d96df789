//! Which kind of document an index reads: hashes or JSON. Readers say which
//! kind they read; the `search` module matches it against an index.

use crate::error::{Error, Result};

/// Which documents an index reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexOn {
    /// Redis hashes (`ON HASH`).
    Hash,
    /// RedisJSON documents (`ON JSON`).
    Json,
}

impl IndexOn {
    /// `HASH` or `JSON`, as `FT.CREATE` spells it.
    pub fn name(self) -> &'static str {
        match self {
            IndexOn::Hash => "HASH",
            IndexOn::Json => "JSON",
        }
    }

    /// Parse `hash` / `json` (any case).
    pub fn from_name(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "hash" => Ok(IndexOn::Hash),
            "json" => Ok(IndexOn::Json),
            other => Err(Error::InvalidArgument(format!(
                "an index is on 'hash' or 'json', not {other:?}"
            ))),
        }
    }
}
