//! The sampling pipeline every inferable type shares: a uniform reservoir
//! over the whole `SCAN` walk (every master of a cluster in turn), within a
//! time budget, then the sampled keys read in pipelines and folded into
//! per-field statistics by the type's [`SampleFolder`].

use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result, SizeLimit};
use crate::infer::report::{InferredField, InferredSchema};
use crate::net::budget::{LoadBudget, Pacer};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, Connection};
use crate::net::modules::Requirement;
use crate::net::resp::ReplyReader;
use crate::net::retry::{Backoff, DEFAULT_RETRIES, RETRIES_LIMIT};
use crate::read::keys::{ScanCursor, SeenKeys};
use crate::read::scan::COUNT_HINT_LIMIT;

/// The range of [`InferOptions::sample_size`]. The reservoir grows with the
/// keys seen, so a size beyond the keyspace (to read every key) costs
/// nothing up front.
pub const SAMPLE_SIZE_LIMIT: SizeLimit = SizeLimit::new("sample_size", 1, 1_000_000_000);

/// Sampled keys read per pipeline (fewer under a latency budget).
const READ_PIPELINE: usize = 1000;

/// How to sample.
#[derive(Clone, Debug)]
pub struct InferOptions {
    /// Keys to sample. Default 100, within [`SAMPLE_SIZE_LIMIT`].
    pub sample_size: usize,
    /// Stop walking the keyspace after this long and use the keys seen so
    /// far. Default 5 s.
    pub scan_budget: Duration,
    /// `COUNT` hint for `SCAN`. Default 1000, within
    /// [`COUNT_HINT_LIMIT`](crate::COUNT_HINT_LIMIT).
    pub count_hint: usize,
    /// How much of the server sampling may use (see [`LoadBudget`]): the
    /// rate limit counts the keys a `SCAN` page visits (its `COUNT`) and the
    /// sampled keys read; the latency budget sizes both the `COUNT` of each
    /// page and the pipelines reading the sample. Default: unlimited.
    pub budget: LoadBudget,
    /// Attempts after one failed on a dropped connection, a timeout or a
    /// restarting server: the sample is taken again from the start
    /// (sampling only reads). Default [`DEFAULT_RETRIES`], within
    /// [`RETRIES_LIMIT`].
    pub retries: usize,
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            sample_size: 100,
            scan_budget: Duration::from_secs(5),
            count_hint: 1000,
            budget: LoadBudget::default(),
            retries: DEFAULT_RETRIES,
        }
    }
}

/// What one Redis type contributes to inference: the commands that read a
/// sampled key, and how their replies are folded into per-field statistics.
pub(crate) trait SampleFolder: Default {
    /// `SCAN ... TYPE` name.
    const REDIS_TYPE: &'static str;
    /// What a key holds, for messages (`hash`, `JSON document`).
    const WHAT: &'static str;
    /// The names of the commands [`SampleFolder::queue`] queues per key,
    /// in order (one reply each).
    const COMMANDS: &'static [&'static str];
    /// The module this type lives in, checked before sampling.
    const MODULE: Option<Requirement> = None;

    /// Queue the commands that read `key`.
    fn queue(out: &mut Vec<u8>, key: &[u8]);
    /// Fold in the reply to `COMMANDS[reply]`; false when it found nothing
    /// (the key is gone, or changed type). An error reply goes to
    /// [`refused`].
    fn fold(&mut self, r: &mut ReplyReader<'_>, key: &[u8], reply: usize) -> Result<bool>;
    /// The per-field conclusions, sorted by name.
    fn conclude(self) -> Vec<InferredField>;
}

/// The outcome of an error reply to a sampled key's `command`: a key that
/// changed type since `SCAN` is passed over (`false`); any other refusal
/// (`NOPERM` for a key the ACL user may not read, ...) is the error a scan
/// of that key would raise, so a sample never shrinks silently.
pub(crate) fn refused(command: &str, key: &[u8], message: &[u8]) -> Result<bool> {
    let wrong_type = message.starts_with(b"WRONGTYPE")
        || memchr::memmem::find(message, b"wrong Redis type").is_some();
    if wrong_type {
        Ok(false)
    } else {
        Err(server_error(command, Some(key), message))
    }
}

/// Sample keys of one type under `pattern`, read them in pipelines and fold
/// their values into a schema.
pub(crate) async fn infer_sampled<F: SampleFolder>(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    SAMPLE_SIZE_LIMIT.check(options.sample_size)?;
    COUNT_HINT_LIMIT.check(options.count_hint)?;
    RETRIES_LIMIT.check(options.retries)?;
    let mut backoff = Backoff::new(options.retries);
    loop {
        match sample_once::<F>(config, pattern, options).await {
            Err(err) if backoff.again(&err).await => continue,
            done => return done,
        }
    }
}

/// One attempt of [`infer_sampled`].
async fn sample_once<F: SampleFolder>(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    let mut conn = Connection::connect(config).await?;
    if let Some(module) = F::MODULE {
        conn.require(module).await?;
    }
    let mut topology = Topology::discover(&mut conn, config).await?;
    topology.survey().await?;
    let mut conns = vec![conn];
    if topology.is_cluster() {
        conns.clear();
        for node in topology.nodes() {
            conns.push(Connection::connect(&node.config).await?);
        }
    }
    let pacer = Pacer::new(options.budget);
    let sample = sample_keys(&mut conns, &pacer, pattern, F::REDIS_TYPE, options).await?;
    if sample.keys.is_empty() {
        return Err(Error::Inference(format!(
            "no {} matches pattern {}; pass a schema instead",
            F::WHAT,
            crate::error::Key(pattern.to_vec())
        )));
    }
    // Reading a key costs more than visiting it in a `SCAN`.
    pacer.new_phase();
    let mut folder = F::default();
    let mut sample_count = 0;
    for (node, conn) in conns.iter_mut().enumerate() {
        // Keys of a migrating slot may have left their node: not folded.
        let keys: Vec<&Vec<u8>> = sample
            .keys
            .iter()
            .filter(|key| topology.route_of(key) == node)
            .collect();
        let mut rest = &keys[..];
        while !rest.is_empty() {
            let len = pacer.pipeline_len(node, READ_PIPELINE).min(rest.len());
            let (chunk, after) = rest.split_at(len);
            rest = after;
            let turn = pacer.turn(node, len).await;
            for key in chunk {
                F::queue(conn.write_buf(), key);
            }
            conn.flush().await?;
            for key in chunk {
                let mut found = false;
                for (reply, command) in F::COMMANDS.iter().enumerate() {
                    found |= conn
                        .read_reply(command, |r| folder.fold(r, key, reply))
                        .await?;
                }
                sample_count += usize::from(found);
            }
            turn.done();
        }
    }
    Ok(InferredSchema {
        fields: folder.conclude(),
        sample_count,
        keys_seen: sample.seen,
        complete_scan: sample.complete,
    })
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
    pacer: &Pacer,
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
        for (node, (conn, cursor)) in conns.iter_mut().zip(&mut cursors).enumerate() {
            if cursor.is_done() {
                continue;
            }
            let count = pacer.pipeline_len(node, options.count_hint);
            let turn = pacer.turn(node, count).await;
            let Some(page) = cursor
                .next_page(conn, pattern, count, Some(redis_type))
                .await?
            else {
                continue;
            };
            turn.done();
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
