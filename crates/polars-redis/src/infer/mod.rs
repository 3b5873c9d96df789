//! Schema inference: sample keys, look at their values, and say which type
//! each field most likely has, and how sure that is.
//!
//! Sampling walks the keyspace with `SCAN` and keeps a uniform reservoir
//! sample of `sample_size` keys (so the sample is spread over the whole
//! keyspace, not the first page), within a time budget. The sampled values
//! are folded into per-field counters as they arrive, so memory follows the
//! number of fields, not the number of values.
//!
//! ```no_run
//! use polars_redis::{infer_hash_schema, ConnectionConfig, InferOptions};
//!
//! let config = ConnectionConfig::from_url("redis://localhost:6379")?;
//! let inferred = infer_hash_schema(&config, b"user:*", &InferOptions::default())?;
//! println!("sampled {} keys", inferred.sample_count);
//! for field in inferred.low_confidence(0.9) {
//!     println!("{}: {} ({:.0}%) {:?}", field.name, field.field_type, field.confidence * 100.0, field.note);
//! }
//! # Ok::<(), polars_redis::Error>(())
//! ```

pub(crate) mod json;

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::keys::{ScanCursor, SeenKeys};
use crate::types::parse;
use crate::types::Field;
use crate::types::{FieldType, TimeUnit};

/// How to sample.
#[derive(Clone, Debug)]
pub struct InferOptions {
    /// Keys to sample. Default 100.
    pub sample_size: usize,
    /// Stop walking the keyspace after this long and use the keys seen so
    /// far. Default 5 s.
    pub scan_budget: Duration,
    /// `COUNT` hint for `SCAN`. Default 1000.
    pub count_hint: usize,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            sample_size: 100,
            scan_budget: Duration::from_secs(5),
            count_hint: 1000,
        }
    }
}

/// The narrowest type a single text value fits, in preference order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Boolean,
    Int,
    Float,
    Date,
    Datetime,
    DatetimeWithOffset,
    Text,
}

impl Kind {
    pub(crate) fn of(bytes: &[u8]) -> Kind {
        if bytes.eq_ignore_ascii_case(b"true") || bytes.eq_ignore_ascii_case(b"false") {
            Kind::Boolean
        } else if parse::parse_number::<i64>(bytes).is_some() {
            Kind::Int
        } else if parse::parse_number::<f64>(bytes).is_some() {
            Kind::Float
        } else {
            match parse::parse_iso_datetime(bytes) {
                Some(_) if bytes.len() == 10 => Kind::Date,
                Some((_, None)) => Kind::Datetime,
                Some((_, Some(_))) => Kind::DatetimeWithOffset,
                None => Kind::Text,
            }
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Boolean => "Boolean",
            Kind::Int => "Int64",
            Kind::Float => "Float64",
            Kind::Date => "Date",
            Kind::Datetime => "Datetime",
            Kind::DatetimeWithOffset => "Datetime (with offset)",
            Kind::Text => "String",
        }
    }
}

/// What inference concluded about one field.
#[derive(Clone, Debug, PartialEq)]
pub struct InferredField {
    /// Field name.
    pub name: String,
    /// The chosen type.
    pub field_type: FieldType,
    /// Sampled keys that have this field.
    pub present: usize,
    /// Values whose narrowest type is the chosen one.
    pub matching: usize,
    /// Every narrowest type seen, with how many values had it.
    pub candidates: Vec<(String, usize)>,
    /// `matching / present`: 1.0 when every value pointed at the chosen type.
    pub confidence: f64,
    /// Why a wider type was chosen, when it was.
    pub note: Option<String>,
}

/// The result of schema inference.
#[derive(Clone, Debug, PartialEq)]
pub struct InferredSchema {
    /// One entry per field seen, sorted by name.
    pub fields: Vec<InferredField>,
    /// Keys actually sampled (and found when fetched).
    pub sample_count: usize,
    /// Distinct matching keys seen while walking the keyspace.
    pub keys_seen: usize,
    /// False when the time budget ended the walk before the keyspace did.
    pub complete_scan: bool,
}

impl InferredSchema {
    /// The inferred fields as a scan schema.
    pub fn schema(&self) -> Vec<Field> {
        self.fields
            .iter()
            .map(|f| Field::new(f.name.clone(), f.field_type.clone()))
            .collect()
    }

    /// Fields whose confidence is below `threshold`.
    pub fn low_confidence(&self, threshold: f64) -> Vec<&InferredField> {
        self.fields
            .iter()
            .filter(|f| f.confidence < threshold)
            .collect()
    }

    /// Replace the type of one field (a user correction); no re-sampling.
    pub fn with_override(mut self, name: &str, field_type: FieldType) -> Result<Self> {
        let field = self
            .fields
            .iter_mut()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                Error::InvalidArgument(format!("cannot override `{name}`: no such inferred field"))
            })?;
        field.field_type = field_type;
        field.note = Some("type set by the user".into());
        Ok(self)
    }
}

/// Per-field counts of narrowest kinds.
#[derive(Default)]
struct FieldStats {
    present: usize,
    kinds: BTreeMap<Kind, usize>,
}

impl FieldStats {
    fn add(&mut self, value: &[u8]) {
        self.present += 1;
        *self.kinds.entry(Kind::of(value)).or_default() += 1;
    }

    fn conclude(self, name: String) -> InferredField {
        let kinds: Vec<Kind> = self.kinds.keys().copied().collect();
        let (field_type, chosen, note) = choose(&kinds);
        let matching = chosen
            .iter()
            .map(|k| self.kinds.get(k).copied().unwrap_or(0))
            .sum::<usize>();
        InferredField {
            name,
            field_type,
            present: self.present,
            matching,
            candidates: self
                .kinds
                .iter()
                .map(|(k, n)| (k.name().to_string(), *n))
                .collect(),
            confidence: matching as f64 / self.present.max(1) as f64,
            note,
        }
    }
}

/// The widest sound type for a set of kinds, the kinds that point at it
/// exactly, and a note when it had to widen.
pub(crate) fn choose(kinds: &[Kind]) -> (FieldType, Vec<Kind>, Option<String>) {
    use Kind::*;
    let datetime_us = |tz: Option<&str>| {
        FieldType::datetime(TimeUnit::Microsecond, tz).expect("UTC is a valid zone")
    };
    let widen = |to: &str| {
        let seen: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        Some(format!("mixed {} -> {to}", seen.join(", ")))
    };
    match kinds {
        [Boolean] => (FieldType::Boolean, vec![Boolean], None),
        [Int] => (FieldType::Int64, vec![Int], None),
        [Float] => (FieldType::Float64, vec![Float], None),
        [Int, Float] => (FieldType::Float64, vec![Float], widen("Float64")),
        [Date] => (FieldType::Date, vec![Date], None),
        [Datetime] => (datetime_us(None), vec![Datetime], None),
        [Date, Datetime] => (datetime_us(None), vec![Datetime], widen("Datetime")),
        [DatetimeWithOffset] => (datetime_us(Some("UTC")), vec![DatetimeWithOffset], None),
        [Text] => (FieldType::Utf8, vec![Text], None),
        _ => (FieldType::Utf8, vec![Text], widen("String")),
    }
}

/// What one Redis type contributes to inference: the command that reads a
/// sampled key, and how its reply is folded into per-field statistics.
pub(crate) trait SampleFolder: Default {
    /// `SCAN ... TYPE` name.
    const REDIS_TYPE: &'static str;
    /// What a key holds, for messages (`hash`, `JSON document`).
    const WHAT: &'static str;
    /// Command name, for messages.
    const COMMAND: &'static str;

    /// Queue the command that reads `key`.
    fn queue(out: &mut Vec<u8>, key: &[u8]);
    /// Fold one reply in; false when the key is gone (or changed type).
    fn fold(&mut self, r: &mut ReplyReader<'_>, key: &[u8]) -> Result<bool>;
    /// The per-field conclusions, sorted by name.
    fn conclude(self) -> Vec<InferredField>;
}

/// Sample keys of one type under `pattern`, read them in pipelines and fold
/// their values into a schema.
pub(crate) async fn infer_sampled<F: SampleFolder>(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    if options.sample_size == 0 {
        return Err(Error::InvalidArgument(
            "sample_size must be at least 1".into(),
        ));
    }
    let mut conn = Connection::connect(config).await?;
    let mut topology = Topology::discover(&mut conn, config).await?;
    topology.survey().await?;
    let mut conns = vec![conn];
    if topology.is_cluster() {
        conns.clear();
        for node in topology.nodes() {
            conns.push(Connection::connect(&node.config).await?);
        }
    }
    let sample = sample_keys(&mut conns, pattern, F::REDIS_TYPE, options).await?;
    if sample.keys.is_empty() {
        return Err(Error::Inference(format!(
            "no {} matches pattern {}; pass a schema instead",
            F::WHAT,
            crate::error::Key(pattern.to_vec())
        )));
    }
    let mut folder = F::default();
    let mut sample_count = 0;
    for (node, conn) in conns.iter_mut().enumerate() {
        // Keys of a migrating slot may have left their node: not folded.
        let keys: Vec<&Vec<u8>> = sample
            .keys
            .iter()
            .filter(|key| topology.route_of(key) == node)
            .collect();
        for chunk in keys.chunks(1000) {
            for key in chunk {
                F::queue(conn.write_buf(), key);
            }
            conn.flush().await?;
            for key in chunk {
                let found = conn.read_reply(F::COMMAND, |r| folder.fold(r, key)).await?;
                sample_count += usize::from(found);
            }
        }
    }
    Ok(InferredSchema {
        fields: folder.conclude(),
        sample_count,
        keys_seen: sample.seen,
        complete_scan: sample.complete,
    })
}

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
    const COMMAND: &'static str = "HGETALL";

    fn queue(out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [&b"HGETALL"[..], key]);
    }

    fn fold(&mut self, r: &mut ReplyReader<'_>, _key: &[u8]) -> Result<bool> {
        fold_hash(r, &mut self.0)
    }

    fn conclude(self) -> Vec<InferredField> {
        self.0
            .into_iter()
            .map(|(name, stats)| stats.conclude(name))
            .collect()
    }
}

/// Add one `HGETALL` reply to the field counters; false when the key is gone
/// (or no longer a hash).
fn fold_hash(r: &mut ReplyReader<'_>, fields: &mut BTreeMap<String, FieldStats>) -> Result<bool> {
    let pairs = match r.next()? {
        Item::Array(n) if n > 0 => n / 2,
        Item::Map(n) if n > 0 => n,
        _ => return Ok(false),
    };
    for _ in 0..pairs {
        let (Item::Bytes(name), Item::Bytes(value)) = (r.next()?, r.next()?) else {
            return Err(Error::Protocol("unexpected HGETALL reply shape".into()));
        };
        let name = String::from_utf8_lossy(name);
        match fields.get_mut(name.as_ref()) {
            Some(stats) => stats.add(value),
            None => fields.entry(name.into_owned()).or_default().add(value),
        }
    }
    Ok(true)
}

pub(crate) struct Sample {
    pub(crate) keys: Vec<Vec<u8>>,
    pub(crate) seen: usize,
    pub(crate) complete: bool,
}

/// A uniform reservoir sample of the keys the SCAN walks of `conns` (one
/// per cluster master, or the one server) yield, within the time budget.
/// The walks take turns page by page, so a budget that runs out leaves no
/// node unsampled.
pub(crate) async fn sample_keys(
    conns: &mut [Connection],
    pattern: &[u8],
    redis_type: &str,
    options: &InferOptions,
) -> Result<Sample> {
    let deadline = Instant::now() + options.scan_budget;
    let mut rng = SplitMix64::seeded(pattern);
    let mut reservoir: Vec<Vec<u8>> = Vec::new();
    let mut seen_keys = SeenKeys::default();
    let mut seen = 0usize;
    let mut cursors: Vec<ScanCursor> = conns.iter().map(|_| ScanCursor::start()).collect();
    let mut walking = conns.len();
    let mut complete = true;
    'walk: while walking > 0 {
        walking = 0;
        for (conn, cursor) in conns.iter_mut().zip(&mut cursors) {
            let Some(page) = cursor
                .next_page(conn, pattern, options.count_hint, redis_type)
                .await?
            else {
                continue;
            };
            walking += 1;
            for key in page {
                if !seen_keys.first_time(&key) {
                    continue;
                }
                seen += 1;
                if reservoir.len() < options.sample_size {
                    reservoir.push(key);
                } else {
                    let slot = rng.below(seen as u64) as usize;
                    if slot < options.sample_size {
                        reservoir[slot] = key;
                    }
                }
            }
            if Instant::now() >= deadline {
                complete = false;
                break 'walk;
            }
        }
    }
    Ok(Sample {
        keys: reservoir,
        seen,
        complete,
    })
}

/// A small, fast, non-cryptographic PRNG for reservoir sampling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn seeded(salt: &[u8]) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        SplitMix64(nanos ^ xxhash_rust::xxh3::xxh3_64(salt))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection to avoid modulo bias.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[&str]) -> InferredField {
        let mut stats = FieldStats::default();
        for v in values {
            stats.add(v.as_bytes());
        }
        stats.conclude("f".into())
    }

    #[test]
    fn picks_the_narrowest_sound_type() {
        assert_eq!(infer(&["1", "-2"]).field_type, FieldType::Int64);
        assert_eq!(infer(&["true", "False"]).field_type, FieldType::Boolean);
        assert_eq!(infer(&["2024-01-02"]).field_type, FieldType::Date);
        let naive = infer(&["2024-01-02T03:04:05", "2024-01-02 03:04"]);
        assert_eq!(
            naive.field_type,
            FieldType::datetime(TimeUnit::Microsecond, None).unwrap()
        );
        let aware = infer(&["2024-01-02T03:04:05Z", "2024-01-02T03:04:05+02:00"]);
        assert_eq!(
            aware.field_type,
            FieldType::datetime(TimeUnit::Microsecond, Some("UTC")).unwrap()
        );
        // Bare integers are integers, never epoch datetimes.
        assert_eq!(infer(&["1700000000000"]).field_type, FieldType::Int64);
    }

    #[test]
    fn widens_mixed_fields_and_says_so() {
        let f = infer(&["1", "2", "3", "2.5"]);
        assert_eq!(f.field_type, FieldType::Float64);
        assert_eq!((f.present, f.matching), (4, 1));
        assert_eq!(f.confidence, 0.25);
        assert!(f.note.unwrap().contains("Float64"));
        let s = infer(&["1", "x"]);
        assert_eq!(s.field_type, FieldType::Utf8);
        assert!(s.note.unwrap().contains("mixed Int64, String"));
        assert_eq!(infer(&["true", "1"]).field_type, FieldType::Utf8);
    }

    #[test]
    fn samples_uniformly() {
        let mut rng = SplitMix64(7);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            counts[rng.below(4) as usize] += 1;
        }
        assert!(
            counts.iter().all(|c| (9_000..11_000).contains(c)),
            "{counts:?}"
        );
    }
}
