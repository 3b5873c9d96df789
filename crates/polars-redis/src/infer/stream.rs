//! Schema inference for streams: the entry fields of sampled streams vote
//! like hash fields (see `vote`). Each sampled stream gives its first and
//! its last entries (`XRANGE - + COUNT n`, `XREVRANGE + - COUNT n`), so
//! fields added or dropped over a stream's life are seen; an entry read by
//! both is counted once.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::infer::hash::fold_pairs;
use crate::infer::report::{InferredField, InferredSchema};
use crate::infer::sample::{infer_sampled, refused, InferOptions, SampleFolder};
use crate::infer::vote::FieldStats;
use crate::net::config::ConnectionConfig;
use crate::net::resp::{write_array, Item, ReplyReader};

/// Entries read from each end of a sampled stream.
const ENTRIES_PER_END: usize = 50;

/// Sample streams matching `pattern` and infer the types of their entry
/// fields from the first and last entries of each (blocking; runs on the
/// shared runtime). Field counts (`present`, `matching`) count entries;
/// `sample_count` counts streams.
pub fn infer_stream_schema(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    crate::net::runtime::runtime().block_on(infer_stream_schema_async(config, pattern, options))
}

/// Async form of [`infer_stream_schema`].
pub async fn infer_stream_schema_async(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    infer_sampled::<StreamFolder>(config, pattern, options).await
}

/// Entry field statistics of sampled streams.
#[derive(Default)]
struct StreamFolder {
    fields: BTreeMap<String, FieldStats>,
    /// The last id the current stream's first entries reached, when they
    /// did not cover the whole stream: its last entries stop there.
    first_entries_end: Option<(u64, u64)>,
}

impl SampleFolder for StreamFolder {
    const REDIS_TYPE: &'static str = "stream";
    const WHAT: &'static str = "stream";
    const COMMANDS: &'static [&'static str] = &["XRANGE", "XREVRANGE"];

    fn queue(out: &mut Vec<u8>, key: &[u8]) {
        let count = ENTRIES_PER_END.to_string();
        write_array(
            out,
            [&b"XRANGE"[..], key, b"-", b"+", b"COUNT", count.as_bytes()],
        );
        write_array(
            out,
            [
                &b"XREVRANGE"[..],
                key,
                b"+",
                b"-",
                b"COUNT",
                count.as_bytes(),
            ],
        );
    }

    fn fold(&mut self, r: &mut ReplyReader<'_>, key: &[u8], reply: usize) -> Result<bool> {
        let command = Self::COMMANDS[reply];
        let entries = match r.next()? {
            Item::Array(n) => n,
            Item::Error(message) => return refused(command, key, message),
            _ => return Err(bad_reply(command)),
        };
        // The last entries stop where the first ones ended; when the first
        // entries were the whole stream, there is nothing left to read.
        let stop = match reply {
            0 => None,
            _ => Some(self.first_entries_end.take()),
        };
        let mut last = None;
        let mut folded = false;
        for _ in 0..entries {
            let (Item::Array(2), Item::Bytes(id)) = (r.next()?, r.next()?) else {
                return Err(bad_reply(command));
            };
            let id = parse_id(id).ok_or_else(|| bad_reply(command))?;
            let pairs = match r.next()? {
                Item::Array(n) if n % 2 == 0 => n / 2,
                Item::Map(n) => n,
                Item::Nil => 0,
                _ => return Err(bad_reply(command)),
            };
            let read_before = match stop {
                Some(Some(end)) => id <= end,
                Some(None) => true,
                None => false,
            };
            if read_before {
                for _ in 0..pairs * 2 {
                    r.next()?;
                }
                continue;
            }
            fold_pairs(r, key, pairs, &mut self.fields, command)?;
            last = Some(id);
            folded = true;
        }
        if reply == 0 && entries == ENTRIES_PER_END {
            self.first_entries_end = last;
        }
        Ok(folded)
    }

    fn conclude(self) -> Vec<InferredField> {
        self.fields
            .into_iter()
            .map(|(name, stats)| stats.conclude(name))
            .collect()
    }
}

fn bad_reply(command: &str) -> Error {
    Error::Protocol(format!("unexpected {command} reply shape"))
}

/// An entry id `ms-seq` as numbers, which order like the ids.
fn parse_id(id: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(id).ok()?;
    let (ms, seq) = text.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_numerically() {
        assert!(parse_id(b"9-5").unwrap() < parse_id(b"10-0").unwrap());
        assert_eq!(parse_id(b"1700000000000-3"), Some((1_700_000_000_000, 3)));
        assert_eq!(parse_id(b"x"), None);
    }
}
