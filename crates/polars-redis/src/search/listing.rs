//! Listing indexes, and which index a scan with `index="auto"` would read
//! its keys from ([`find_index_for_pattern`]), from the survey the `Auto`
//! planner (`plan.rs`) runs (`index::survey`), so the answer cannot drift
//! from it.

use super::admin;
use super::index::{self, survey, IndexInfo};
use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::types::IndexOn;

/// Which index `index="auto"` would choose for a key pattern, and why the
/// others (or all) cannot answer.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexMatch {
    /// The index `auto` uses for the pattern (when the scan's predicate can
    /// be pushed into it; otherwise the scan reads keys with `SCAN`).
    pub index: Option<IndexInfo>,
    /// Every other index, with why `auto` does not use it.
    pub rejected: Vec<(String, String)>,
    /// Why no index is chosen, when none is.
    pub reason: Option<String>,
}

/// Every index on the server, with what `FT.INFO` says about it.
pub fn list_indexes(config: &ConnectionConfig) -> Result<Vec<IndexInfo>> {
    admin::block_on(async {
        let mut conn = admin::connect(config).await?;
        let mut infos = Vec::new();
        for name in index::list(&mut conn).await? {
            match index::info(&mut conn, &name).await {
                Ok(info) => infos.push(info),
                // Dropped since FT._LIST.
                Err(Error::Search(_)) => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(infos)
    })
}

/// Which index a scan of `pattern` over `on` documents with
/// `index="auto"` reads its keys from, and why every other index (or any
/// index at all) is not used.
pub fn find_index_for_pattern(
    config: &ConnectionConfig,
    pattern: &[u8],
    on: IndexOn,
) -> Result<IndexMatch> {
    admin::block_on(async {
        let mut conn = Connection::connect(config).await?;
        let verdicts = match survey(&mut conn, config.db, on, pattern).await {
            Ok(verdicts) => verdicts,
            Err(reason) => {
                return Ok(IndexMatch {
                    index: None,
                    rejected: Vec::new(),
                    reason: Some(reason),
                })
            }
        };
        let mut chosen = None;
        let mut rejected = Vec::new();
        for verdict in verdicts {
            match verdict.covers {
                Ok(info) if chosen.is_none() => chosen = Some(info),
                Ok(_) => rejected.push((
                    verdict.name,
                    "it covers the pattern too, but `auto` uses the first index that does".into(),
                )),
                Err(why) => rejected.push((verdict.name, why)),
            }
        }
        let reason = match (&chosen, rejected.is_empty()) {
            (Some(_), _) => None,
            (None, true) => Some("there is no index".into()),
            (None, false) => Some(format!(
                "no index can answer: {}",
                rejected
                    .iter()
                    .map(|(name, why)| format!("`{name}`: {why}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        };
        Ok(IndexMatch {
            index: chosen,
            rejected,
            reason,
        })
    })
}
