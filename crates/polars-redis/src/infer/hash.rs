//! Schema inference for hashes: every field's values vote for their
//! narrowest type (see `vote`).

use std::collections::BTreeMap;

use crate::error::{quote_bytes, Error, Key, Result};
use crate::infer::report::{InferredField, InferredSchema};
use crate::infer::sample::{infer_sampled, refused, InferOptions, SampleFolder};
use crate::infer::vote::FieldStats;
use crate::net::config::ConnectionConfig;
use crate::net::resp::{write_array, Item, ReplyReader};

/// Sample hashes matching `pattern` and infer their field types
/// (blocking; runs on the shared runtime).
pub fn infer_hash_schema(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    crate::net::runtime::runtime().block_on(infer_hash_schema_async(config, pattern, options))
}

/// Async form of [`infer_hash_schema`].
pub async fn infer_hash_schema_async(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    infer_sampled::<HashFolder>(config, pattern, options).await
}

/// Field statistics of sampled hashes.
#[derive(Default)]
struct HashFolder(BTreeMap<String, FieldStats>);

impl SampleFolder for HashFolder {
    const REDIS_TYPE: &'static str = "hash";
    const WHAT: &'static str = "hash";
    const COMMANDS: &'static [&'static str] = &["HGETALL"];

    fn queue(out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [&b"HGETALL"[..], key]);
    }

    fn fold(&mut self, r: &mut ReplyReader<'_>, key: &[u8], _reply: usize) -> Result<bool> {
        let pairs = match r.next()? {
            Item::Array(n) if n > 0 => n / 2,
            Item::Map(n) if n > 0 => n,
            Item::Error(message) => return refused("HGETALL", key, message),
            _ => return Ok(false),
        };
        fold_pairs(r, key, pairs, &mut self.0, "HGETALL")?;
        Ok(true)
    }

    fn conclude(self) -> Vec<InferredField> {
        self.0
            .into_iter()
            .map(|(name, stats)| stats.conclude(name))
            .collect()
    }
}

/// Add `pairs` field/value pairs of `key`'s `command` reply (a hash, a
/// stream entry) to the field counters. A field name that is not UTF-8
/// cannot name a column, so it is an error rather than a column no scan
/// could fill.
pub(super) fn fold_pairs(
    r: &mut ReplyReader<'_>,
    key: &[u8],
    pairs: usize,
    fields: &mut BTreeMap<String, FieldStats>,
    command: &str,
) -> Result<()> {
    for _ in 0..pairs {
        let (Item::Bytes(name), Item::Bytes(value)) = (r.next()?, r.next()?) else {
            return Err(Error::Protocol(format!("unexpected {command} reply shape")));
        };
        let Ok(name) = std::str::from_utf8(name) else {
            return Err(Error::Inference(format!(
                "key {} has a field name that is not UTF-8 ({}) in its {command} reply, which \
                 no column can be named after; pass schema= with the fields to read",
                Key::from(key),
                quote_bytes(name, 80)
            )));
        };
        match fields.get_mut(name) {
            Some(stats) => stats.add(value),
            None => fields.entry(name.to_string()).or_default().add(value),
        }
    }
    Ok(())
}
