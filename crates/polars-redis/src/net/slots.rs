//! Sets of hash slots, as sorted, disjoint, inclusive ranges: what one
//! partition of a scan reads (see `read::partition`).

use std::fmt;

use crate::error::{Error, Result};

/// Number of hash slots of a Redis Cluster.
pub const SLOTS: usize = 16384;

/// A set of hash slots (0 to 16383), kept as sorted, disjoint, merged
/// inclusive ranges.
///
/// ```
/// use polars_redis::SlotRanges;
/// let slots = SlotRanges::new([(10, 20), (0, 9), (100, 100)]).unwrap();
/// assert_eq!(slots.to_string(), "0-20,100");
/// assert!(slots.contains(15) && !slots.contains(21));
/// assert_eq!(slots.count(), 22);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotRanges(Vec<(u16, u16)>);

impl SlotRanges {
    /// The slots of `ranges` (`(first, last)`, both included, in any order);
    /// an error for a slot past 16383, a range whose `first` is past its
    /// `last`, overlapping ranges, or no range at all.
    pub fn new(ranges: impl IntoIterator<Item = (u16, u16)>) -> Result<Self> {
        let mut ranges: Vec<(u16, u16)> = ranges.into_iter().collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (first, last) in ranges {
            if first > last || usize::from(last) >= SLOTS {
                return Err(Error::InvalidArgument(format!(
                    "slot range {first}-{last} is not within 0-{}",
                    SLOTS - 1
                )));
            }
            match merged.last_mut() {
                Some(prev) if first <= prev.1 => {
                    return Err(Error::InvalidArgument(format!(
                        "slot ranges {}-{} and {first}-{last} overlap",
                        prev.0, prev.1
                    )))
                }
                Some(prev) if u32::from(first) == u32::from(prev.1) + 1 => prev.1 = last,
                _ => merged.push((first, last)),
            }
        }
        if merged.is_empty() {
            return Err(Error::InvalidArgument(
                "a slot set needs at least one range".into(),
            ));
        }
        Ok(SlotRanges(merged))
    }

    /// Every slot, 0 to 16383.
    pub fn all() -> Self {
        SlotRanges(vec![(0, (SLOTS - 1) as u16)])
    }

    /// The ranges, sorted, disjoint and merged.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// True when `slot` is in the set.
    pub fn contains(&self, slot: u16) -> bool {
        let i = self.0.partition_point(|&(_, last)| last < slot);
        self.0.get(i).is_some_and(|&(first, _)| first <= slot)
    }

    /// True when the set and `other` share a slot.
    pub fn overlaps(&self, other: &SlotRanges) -> bool {
        other.0.iter().any(|&(first, last)| {
            let i = self.0.partition_point(|&(_, end)| end < first);
            self.0.get(i).is_some_and(|&(start, _)| start <= last)
        })
    }

    /// The number of slots in the set.
    pub fn count(&self) -> usize {
        self.0
            .iter()
            .map(|&(first, last)| usize::from(last - first) + 1)
            .sum()
    }

    /// The set cut into `parts` sets of consecutive slots whose sizes differ
    /// by at most one (fewer when the set has fewer slots than `parts`).
    pub fn split(&self, parts: usize) -> Vec<SlotRanges> {
        let count = self.count();
        let parts = parts.clamp(1, count);
        let mut slots = self
            .0
            .iter()
            .flat_map(|&(first, last)| first..=last)
            .peekable();
        (0..parts)
            .map(|part| {
                let size = count / parts + usize::from(part < count % parts);
                let mut ranges: Vec<(u16, u16)> = Vec::new();
                for slot in slots.by_ref().take(size) {
                    match ranges.last_mut() {
                        Some(prev) if u32::from(slot) == u32::from(prev.1) + 1 => prev.1 = slot,
                        _ => ranges.push((slot, slot)),
                    }
                }
                SlotRanges(ranges)
            })
            .collect()
    }
}

impl fmt::Display for SlotRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(first, last)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if first == last {
                write!(f, "{first}")?;
            } else {
                write!(f, "{first}-{last}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_ranges() {
        assert!(SlotRanges::new([(5, 4)]).is_err());
        assert!(SlotRanges::new([(0, 16384)]).is_err());
        assert!(SlotRanges::new([(0, 10), (10, 12)]).is_err());
        assert!(SlotRanges::new([]).is_err());
    }

    #[test]
    fn split_covers_every_slot_once() {
        let set = SlotRanges::new([(0, 99), (200, 16383)]).unwrap();
        for parts in [1, 2, 3, 7, 20_000] {
            let pieces = set.split(parts);
            assert_eq!(pieces.len(), parts.min(set.count()));
            let total: usize = pieces.iter().map(SlotRanges::count).sum();
            assert_eq!(total, set.count());
            if parts > 7 {
                continue;
            }
            for slot in 0..SLOTS as u16 {
                let owners = pieces.iter().filter(|p| p.contains(slot)).count();
                assert_eq!(owners, usize::from(set.contains(slot)), "slot {slot}");
            }
        }
    }

    #[test]
    fn overlap() {
        let a = SlotRanges::new([(0, 10), (20, 30)]).unwrap();
        assert!(a.overlaps(&SlotRanges::new([(11, 20)]).unwrap()));
        assert!(!a.overlaps(&SlotRanges::new([(11, 19), (31, 40)]).unwrap()));
    }
}
