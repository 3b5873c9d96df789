//! The manifest of a cache entry: what the entry holds and where its chunks
//! are, stored as one string value at the entry's key, and the names of the
//! chunk keys.
//!
//! A manifest is the text `polars-redis-cache/1\n` followed by a JSON
//! object. The prefix tells a cache entry from any other string a key may
//! hold: text without it is "not a cache entry", text with it that does not
//! parse is a corrupt entry.

use serde_json::{json, Value as Json};

use crate::error::{Error, Key, Result};
use crate::net::cluster::hash_tag;

/// Marks a string value as a cache manifest (and its layout version).
pub(crate) const MAGIC: &[u8] = b"polars-redis-cache/1\n";

/// What the caller says about the serialized frame; stored as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheMeta {
    /// Serialization format (`ipc`, `parquet`).
    pub format: String,
    /// Compression codec, if any.
    pub compression: Option<String>,
    /// Compression level, if one was given.
    pub compression_level: Option<i64>,
    /// Rows of the frame.
    pub rows: u64,
    /// Column names of the frame, in order.
    pub columns: Vec<String>,
}

/// One cache entry, as its manifest describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheManifest {
    /// What the frame is.
    pub meta: CacheMeta,
    /// The write that produced this entry (part of every chunk key).
    pub version: String,
    /// Chunk keys are `<base>:chunk:<version>:<index>`.
    pub(crate) chunk_base: Vec<u8>,
    /// Length of each chunk, in order.
    pub chunk_sizes: Vec<u64>,
    /// XXH3-64 of each chunk.
    pub(crate) chunk_checksums: Vec<u64>,
    /// XXH3-64 of the whole payload.
    pub(crate) checksum: u64,
    /// False when the payload was written as one value (`chunk_size` 0).
    pub chunked: bool,
    /// The chunk size the writer used (0: not chunked).
    pub chunk_size: u64,
    /// When the entry was written, in milliseconds since the Unix epoch.
    pub created_ms: u64,
}

impl CacheManifest {
    /// Total payload bytes.
    pub fn size(&self) -> u64 {
        self.chunk_sizes.iter().sum()
    }

    /// The key of chunk `index`.
    pub(crate) fn chunk_key(&self, index: usize) -> Vec<u8> {
        chunk_key(&self.chunk_base, &self.version, index)
    }

    /// Every chunk key, in order.
    pub(crate) fn chunk_keys(&self) -> Vec<Vec<u8>> {
        (0..self.chunk_sizes.len())
            .map(|i| self.chunk_key(i))
            .collect()
    }

    /// The stored text.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let meta = &self.meta;
        let body = json!({
            "format": meta.format,
            "compression": meta.compression,
            "compression_level": meta.compression_level,
            "rows": meta.rows,
            "columns": meta.columns,
            "version": self.version,
            "chunk_base": hex(&self.chunk_base),
            "chunk_sizes": self.chunk_sizes,
            "chunk_checksums": self.chunk_checksums,
            "checksum": self.checksum,
            "chunked": self.chunked,
            "chunk_size": self.chunk_size,
            "created_ms": self.created_ms,
        });
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(body.to_string().as_bytes());
        out
    }

    /// The manifest stored at `key`: `Ok(None)` when the text is not a
    /// cache manifest at all, [`Error::CacheCorrupt`] when it is a damaged one.
    pub(crate) fn decode(key: &[u8], text: &[u8]) -> Result<Option<Self>> {
        let Some(body) = text.strip_prefix(MAGIC) else {
            return Ok(None);
        };
        let corrupt = |what: &str| Error::CacheCorrupt {
            key: Key(key.to_vec()),
            message: format!("its manifest is damaged ({what})"),
        };
        let json: Json = serde_json::from_slice(body).map_err(|_| corrupt("not JSON"))?;
        let text = |name: &str| json.get(name).and_then(Json::as_str).map(str::to_string);
        let number = |name: &str| {
            json.get(name)
                .and_then(Json::as_u64)
                .ok_or_else(|| corrupt(name))
        };
        let numbers = |name: &str| -> Result<Vec<u64>> {
            json.get(name)
                .and_then(Json::as_array)
                .ok_or_else(|| corrupt(name))?
                .iter()
                .map(|v| v.as_u64().ok_or_else(|| corrupt(name)))
                .collect()
        };
        let columns = json
            .get("columns")
            .and_then(Json::as_array)
            .ok_or_else(|| corrupt("columns"))?
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| corrupt("columns"))
            })
            .collect::<Result<_>>()?;
        let manifest = CacheManifest {
            meta: CacheMeta {
                format: text("format").ok_or_else(|| corrupt("format"))?,
                compression: text("compression"),
                compression_level: json.get("compression_level").and_then(Json::as_i64),
                rows: number("rows")?,
                columns,
            },
            version: text("version").ok_or_else(|| corrupt("version"))?,
            chunk_base: text("chunk_base")
                .and_then(|h| unhex(&h))
                .ok_or_else(|| corrupt("chunk_base"))?,
            chunk_sizes: numbers("chunk_sizes")?,
            chunk_checksums: numbers("chunk_checksums")?,
            checksum: number("checksum")?,
            chunked: json
                .get("chunked")
                .and_then(Json::as_bool)
                .ok_or_else(|| corrupt("chunked"))?,
            chunk_size: number("chunk_size")?,
            created_ms: number("created_ms")?,
        };
        if manifest.chunk_sizes.len() != manifest.chunk_checksums.len() {
            return Err(corrupt("chunk lists of different lengths"));
        }
        Ok(Some(manifest))
    }
}

/// The key of chunk `index` of `version`.
fn chunk_key(base: &[u8], version: &str, index: usize) -> Vec<u8> {
    let mut key = base.to_vec();
    key.extend_from_slice(format!(":chunk:{version}:{index}").as_bytes());
    key
}

/// The prefix of every chunk key of the entry at `key`, with a hash tag so
/// that on a cluster all of an entry's keys share one slot: `key` itself
/// when it has a hash tag, else `{key}` (the same slot as `key`). A key
/// holding a `}` but no tag gets a tag made of its digest (its chunks then
/// share a slot with each other, not with the manifest).
pub(crate) fn chunk_base(key: &[u8]) -> Vec<u8> {
    if hash_tag(key).len() != key.len() {
        return key.to_vec();
    }
    let mut base = Vec::with_capacity(key.len() + 2);
    base.push(b'{');
    if key.contains(&b'}') {
        base.extend_from_slice(format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key)).as_bytes());
        base.push(b'}');
        base.extend_from_slice(key);
    } else {
        base.extend_from_slice(key);
        base.push(b'}');
    }
    base
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::cluster::key_slot;

    fn manifest() -> CacheManifest {
        CacheManifest {
            meta: CacheMeta {
                format: "ipc".into(),
                compression: Some("zstd".into()),
                compression_level: None,
                rows: 3,
                columns: vec!["a".into(), "b".into()],
            },
            version: "v1".into(),
            chunk_base: chunk_base(b"k\xff"),
            chunk_sizes: vec![10, 4],
            chunk_checksums: vec![1, u64::MAX],
            checksum: 7,
            chunked: true,
            chunk_size: 10,
            created_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn encode_then_decode_is_identity() {
        let m = manifest();
        assert_eq!(CacheManifest::decode(b"k", &m.encode()).unwrap(), Some(m));
    }

    #[test]
    fn other_text_is_not_a_manifest_and_damaged_text_is_corrupt() {
        assert_eq!(CacheManifest::decode(b"k", b"hello").unwrap(), None);
        let mut text = manifest().encode();
        text.truncate(text.len() - 5);
        assert!(CacheManifest::decode(b"k", &text)
            .unwrap_err()
            .is_cache_corrupt());
    }

    #[test]
    fn chunks_share_the_slot_of_their_entry() {
        for key in [&b"plain"[..], b"{user:1}:frame", b"x{y"] {
            let chunk = chunk_key(&chunk_base(key), "v", 3);
            assert_eq!(key_slot(&chunk), key_slot(key), "{key:?}");
        }
        for odd in [&b"a}b"[..], b"a{}b"] {
            let base = chunk_base(odd);
            assert_eq!(
                key_slot(&chunk_key(&base, "v", 0)),
                key_slot(&chunk_key(&base, "w", 9))
            );
        }
    }
}
