//! Reading from replicas (`read_from`): which servers a read's keys are
//! listed and fetched on.
//!
//! On a Redis Cluster the replicas of each master are those `CLUSTER NODES`
//! lists (not flagged failing); on a standalone primary, those its `ROLE`
//! reports (at the addresses the primary sees them at), or for a
//! `redis+sentinel://` URL those the sentinels consider up. Each candidate is
//! probed when a read starts (its own `ROLE` must say it is a replica with
//! its link to the master up); the live ones become the node's readers, and
//! the read's connections are spread over them. Under `prefer_replica` a
//! replica that fails for good during the read (its retries used up) is
//! replaced by its primary. Writes never go through
//! here: they always talk to the masters.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::net::cluster::{ClusterNode, Topology};
use crate::net::config::{ConnectionConfig, Endpoint};
use crate::net::connection::Connection;
use crate::net::resp::{Cmd, Value};

/// Which servers a read sends its commands to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadFrom {
    /// The primary (master) of each shard, as writes do: every read sees
    /// the newest writes.
    #[default]
    Primary,
    /// Only replicas, spread over every live replica of each shard; a shard
    /// without a live replica fails the read with [`Error::Connection`]
    /// naming it. A replica may lag behind its primary.
    Replica,
    /// Replicas where a shard has a live one, else its primary.
    PreferReplica,
}

impl ReadFrom {
    /// The option's name for this choice (`"primary"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ReadFrom::Primary => "primary",
            ReadFrom::Replica => "replica",
            ReadFrom::PreferReplica => "prefer_replica",
        }
    }
}

impl fmt::Display for ReadFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReadFrom {
    type Err = Error;

    /// `"primary"`, `"replica"` or `"prefer_replica"`; anything else is an
    /// [`Error::InvalidArgument`] naming `read_from`.
    ///
    /// ```
    /// use polars_redis::ReadFrom;
    /// assert_eq!("prefer_replica".parse::<ReadFrom>()?, ReadFrom::PreferReplica);
    /// assert!("replicas".parse::<ReadFrom>().unwrap_err().to_string().contains("read_from"));
    /// # Ok::<(), polars_redis::Error>(())
    /// ```
    fn from_str(text: &str) -> Result<Self> {
        [
            ReadFrom::Primary,
            ReadFrom::Replica,
            ReadFrom::PreferReplica,
        ]
        .into_iter()
        .find(|choice| choice.name() == text)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "read_from must be \"primary\", \"replica\" or \"prefer_replica\", got {text:?}"
            ))
        })
    }
}

/// Point the reads of every node of `topology` at its live replicas, as
/// `read_from` asks (after [`Topology::survey`]: a slot migrating when the
/// read starts is read on the masters, which alone know about it).
pub(crate) async fn route_reads(topology: &mut Topology, read_from: ReadFrom) -> Result<()> {
    if read_from == ReadFrom::Primary {
        return Ok(());
    }
    if !topology.migrations().is_empty() {
        return match read_from {
            ReadFrom::Replica => Err(Error::Cluster(
                "a slot is migrating, and only the masters can read it completely; retry \
                 once the cluster is done resharding, or use read_from=\"prefer_replica\""
                    .into(),
            )),
            _ => Ok(()),
        };
    }
    let cluster = topology.is_cluster();
    let slots = (0..topology.nodes().len())
        .map(|node| Ok(topology.slots_of(node)?.to_string()))
        .collect::<Result<Vec<_>>>()?;
    for (node, slots) in topology.nodes_mut().iter_mut().zip(slots) {
        let candidates = if cluster {
            node.replicas.clone()
        } else {
            match standalone_replicas(&node.config).await? {
                // The URL names a replica itself: reads already go to it.
                None => continue,
                Some(replicas) => replicas,
            }
        };
        let mut live = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            if is_live_replica(&candidate).await {
                live.push(candidate);
            }
        }
        if live.is_empty() && read_from == ReadFrom::Replica {
            return Err(no_live_replica(node, cluster.then_some(slots)));
        }
        node.readers = live;
        node.falls_back = read_from == ReadFrom::PreferReplica;
    }
    Ok(())
}

/// The replicas a standalone server's `ROLE` lists, or the sentinels know
/// (with `config`'s credentials and settings), or `None` when the server is
/// itself a replica.
async fn standalone_replicas(config: &ConnectionConfig) -> Result<Option<Vec<ConnectionConfig>>> {
    if let Some(sentinels) = &config.sentinel {
        return Ok(Some(sentinels.replicas(config).await?));
    }
    let mut conn = Connection::connect(config).await?;
    let role = conn.query(&Cmd::new("ROLE")).await?;
    let items = role.as_array().unwrap_or_default();
    match items.first().and_then(Value::as_bytes) {
        Some(b"master") => {}
        Some(b"slave") => return Ok(None),
        _ => {
            return Err(Error::Unsupported(format!(
                "{} is neither a primary nor a replica (ROLE: {}), so it has no replicas to \
                 read from",
                config.endpoint(),
                role.to_text()
            )))
        }
    }
    let listed = items.get(2).and_then(Value::as_array).unwrap_or_default();
    Ok(Some(
        listed
            .iter()
            .filter_map(|replica| {
                let fields = replica.as_array()?;
                let host = String::from_utf8(fields.first()?.as_bytes()?.to_vec()).ok()?;
                let port = u16::try_from(fields.get(1)?.as_int()?).ok()?;
                Some(config.with_endpoint(Endpoint::Tcp { host, port }))
            })
            .collect(),
    ))
}

/// Whether `config` reaches a replica whose link to its master is up (a
/// replica still syncing, or cut off from its master, is left out).
async fn is_live_replica(config: &ConnectionConfig) -> bool {
    let Ok(mut conn) = Connection::connect(config).await else {
        return false;
    };
    let Ok(role) = conn.query(&Cmd::new("ROLE")).await else {
        return false;
    };
    let items = role.as_array().unwrap_or_default();
    items.first().and_then(Value::as_bytes) == Some(b"slave")
        && items.get(3).and_then(Value::as_bytes) == Some(b"connected")
}

/// The error of `read_from="replica"` for a shard without a live replica.
/// `slots`: those the shard serves, on a cluster.
fn no_live_replica(node: &ClusterNode, slots: Option<String>) -> Error {
    let shard = match slots {
        Some(slots) => format!(
            "the shard of slots {slots} (master {} at {})",
            node.id,
            node.config.endpoint()
        ),
        None => format!("the primary {}", node.config.endpoint()),
    };
    Error::Connection {
        addr: node.config.endpoint().to_string(),
        message: format!(
            "read_from=\"replica\", but {shard} has no live replica; use \
             read_from=\"prefer_replica\" to read from the primary then"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_choice_and_names_the_option() {
        for choice in [
            ReadFrom::Primary,
            ReadFrom::Replica,
            ReadFrom::PreferReplica,
        ] {
            assert_eq!(choice.name().parse::<ReadFrom>().unwrap(), choice);
        }
        let err = "Replica".parse::<ReadFrom>().unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("read_from"), "{err}");
    }
}
