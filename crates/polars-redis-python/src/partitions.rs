//! Planning a scan's partitions (`plan_partitions`), the hash slots of
//! listed keys (`key_slots`) and showing a URL without its secrets
//! (`redact_url`), for `polars_redis.partition`.

use polars_redis::{SlotRanges, PARTITIONS_LIMIT};
use pyo3::prelude::*;

use crate::client::Target;
use crate::errors::BindingResult;
use crate::scanners::{connection, size};

/// One planned partition as Python receives it: `(node, [(first slot, last slot), ...])`.
type PartitionTuple = (String, Vec<(u16, u16)>);

/// The partitions of a scan of `url`. The GIL is released while Redis is asked.
#[pyfunction]
#[pyo3(signature = (url, partitions=None, connect_timeout=None, command_timeout=None))]
pub(crate) fn plan_partitions(
    py: Python<'_>,
    url: Target,
    partitions: Option<i128>,
    connect_timeout: Option<f64>,
    command_timeout: Option<f64>,
) -> BindingResult<Vec<PartitionTuple>> {
    let config = connection(&url, connect_timeout, command_timeout)?;
    let partitions = partitions.map(|p| size(PARTITIONS_LIMIT, p)).transpose()?;
    let planned = py.detach(|| polars_redis::plan_partitions(&config, partitions))?;
    Ok(planned
        .into_iter()
        .map(|p| (p.node, p.slots.ranges().to_vec()))
        .collect())
}

/// The hash slot of each key (CRC16 of the key or its hash tag, mod 16384).
#[pyfunction]
pub(crate) fn key_slots(keys: Vec<Vec<u8>>) -> Vec<u16> {
    keys.iter().map(|key| polars_redis::key_slot(key)).collect()
}

/// The slot set of a partition, from the ranges Python holds.
pub(crate) fn slot_ranges(ranges: Option<&[(u16, u16)]>) -> BindingResult<Option<SlotRanges>> {
    Ok(ranges
        .map(|r| SlotRanges::new(r.iter().copied()))
        .transpose()?)
}
