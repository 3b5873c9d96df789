//! Splitting a scan into independent partitions by hash slot, for engines
//! that run them in other processes (Ray, Dask).
//!
//! Every key has exactly one hash slot, so partitions whose slot sets
//! divide the 16384 slots between them read every key of a scan exactly
//! once: each partition is the scan with
//! [`ScanOptions::with_slots`](crate::ScanOptions::with_slots), which keeps
//! only the keys of its slots, wherever they are served when it runs.
//!
//! - On a cluster, each master's slots are cut into consecutive pieces
//!   (at least one partition per master). A partition reads the masters
//!   that serve its slots when it runs: a slot that moved since planning is
//!   read on its new owner, and a layout that changes while a partition
//!   runs fails it with [`Error::Cluster`](crate::Error::Cluster), as any
//!   cluster read does.
//! - A standalone server has no slots of its own; the same rule (CRC16 of
//!   the key or its hash tag) sorts its keys into slot ranges: each
//!   partition walks the server's `SCAN` and keeps its own slots' keys. Each
//!   partition's walk sees every key present for the whole walk, as one
//!   scan does, so the union is exact on the same terms as one scan.

use crate::error::{Result, SizeLimit};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::runtime::runtime;
use crate::net::slots::SlotRanges;

/// Accepted values for the number of partitions asked for: one slot each at most.
pub const PARTITIONS_LIMIT: SizeLimit = SizeLimit::new("partitions", 1, 16384);

/// One partition of a scan: the slots it reads and the server that served
/// them when it was planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPartition {
    /// `host:port` of the server serving the slots at planning time (a
    /// locality hint: the partition reads wherever they are served when it runs).
    pub node: String,
    /// The hash slots whose keys the partition reads.
    pub slots: SlotRanges,
}

/// Plan the partitions of a scan of the server or cluster `config` points
/// at (blocking; see [`plan_partitions_async`]).
pub fn plan_partitions(
    config: &ConnectionConfig,
    partitions: Option<usize>,
) -> Result<Vec<PlannedPartition>> {
    runtime().block_on(plan_partitions_async(config, partitions))
}

/// Plan the partitions of a scan: `partitions` (default: one per server)
/// spread evenly over the masters, each master's slots cut into
/// `ceil(partitions / masters)` consecutive pieces of equal size (so there
/// are at least `partitions`, and at least one per master). A standalone
/// server's 16384 slots are cut the same way.
pub async fn plan_partitions_async(
    config: &ConnectionConfig,
    partitions: Option<usize>,
) -> Result<Vec<PlannedPartition>> {
    let partitions = partitions.map(|p| PARTITIONS_LIMIT.check(p)).transpose()?;
    let mut conn = Connection::connect(config).await?;
    let mut topology = Topology::discover(&mut conn, config).await?;
    topology.survey().await?;
    let masters = topology.nodes().len();
    let per_master = partitions.map_or(1, |p| p.div_ceil(masters));
    let mut planned = Vec::new();
    for (index, node) in topology.nodes().iter().enumerate() {
        let endpoint = node.config.endpoint().to_string();
        for slots in topology.slots_of(index)?.split(per_master) {
            planned.push(PlannedPartition {
                node: endpoint.clone(),
                slots,
            });
        }
    }
    Ok(planned)
}
