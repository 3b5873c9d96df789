//! Writing, reading and deleting cache entries (blocking; each call opens
//! its own connections).
//!
//! A write stores the payload's chunks under a new version (with an orphan
//! expiry, so a writer that dies leaves nothing behind for long), then
//! publishes them with one `SET key manifest [PX ttl] GET`: readers see the
//! old entry or the new one, never a mix. The reply is the replaced
//! manifest, whose chunks the writer then unlinks; the new chunks get the
//! entry's TTL (or none) after the switch, so they never expire before
//! their manifest.
//!
//! A read gets the manifest, then the chunks (two `GET`s in flight), and
//! checks each chunk's length and XXH3-64 and the whole payload's. A chunk
//! missing because a newer write replaced the entry meanwhile makes the
//! read start over; a chunk missing under an unchanged manifest, or one
//! failing its checksum, is [`Error::CacheCorrupt`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::manifest::{chunk_base, CacheManifest, CacheMeta};
use crate::error::{Error, Key, Result, SizeLimit};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::nodes::{Asking, Link, NodeConnections};
use crate::net::resp::{write_array, Cmd, Item, Value};

/// The largest value one Redis string holds (`proto-max-bulk-len`'s default).
pub const MAX_VALUE_BYTES: usize = 512 * 1024 * 1024;

/// The range of `chunk_size` in bytes (0: one value, not chunked).
pub const CHUNK_SIZE_LIMIT: SizeLimit = SizeLimit::new("chunk_size", 0, MAX_VALUE_BYTES);

/// The chunk size used when the caller gives none: 100 MiB.
pub const DEFAULT_CHUNK_SIZE: usize = 100 * 1024 * 1024;

/// Expiry of chunks until their manifest is published: a writer that dies
/// before publishing leaves chunks that vanish after this.
const ORPHAN_TTL: Duration = Duration::from_secs(3600);

/// Reads that start over because the entry was rewritten meanwhile.
const READ_ATTEMPTS: usize = 20;

/// Delete the manifest only if it is one (a string starting with the magic
/// prefix), and return what was there: one atomic step.
const DELETE_SCRIPT: &str = "local v = redis.call('GET', KEYS[1]) \
     if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end \
     return v";

fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    crate::net::runtime::runtime().block_on(future)
}

/// Store `payload` (a serialized frame described by `meta`) at `key`, in
/// chunks of `chunk_size` bytes (0: one value), expiring after `ttl`.
/// Returns the manifest now published.
pub fn store_cached(
    config: &ConnectionConfig,
    key: &[u8],
    payload: &[u8],
    meta: CacheMeta,
    chunk_size: usize,
    ttl: Option<Duration>,
) -> Result<CacheManifest> {
    CHUNK_SIZE_LIMIT.check(chunk_size)?;
    if chunk_size == 0 && payload.len() > MAX_VALUE_BYTES {
        return Err(Error::InvalidArgument(format!(
            "the frame for cache key {} serializes to {} bytes, more than one Redis value \
             holds ({MAX_VALUE_BYTES}); give a chunk_size instead of 0",
            Key::from(key),
            payload.len()
        )));
    }
    let ttl_ms = match ttl {
        Some(ttl) if ttl.as_millis() == 0 => {
            return Err(Error::InvalidArgument(
                "ttl must be at least 1 millisecond".into(),
            ))
        }
        ttl => ttl.map(|t| t.as_millis() as u64),
    };
    let chunks: Vec<&[u8]> = match chunk_size {
        0 => vec![payload],
        size => payload.chunks(size).collect(),
    };
    let created_ms = now_ms();
    let mut whole = Xxh3::new();
    whole.update(payload);
    let manifest = CacheManifest {
        meta,
        version: new_version(created_ms),
        chunk_base: chunk_base(key),
        chunk_sizes: chunks.iter().map(|c| c.len() as u64).collect(),
        chunk_checksums: chunks.iter().map(|c| xxh3_64(c)).collect(),
        checksum: whole.digest(),
        chunked: chunk_size != 0,
        chunk_size: chunk_size as u64,
        created_ms,
    };
    block_on(async {
        let mut links = Links::open(config).await?;
        let written = write_chunks(&mut links, &manifest, &chunks).await;
        let published = match written {
            Ok(()) => publish(&mut links, key, &manifest, ttl_ms).await,
            Err(err) => Err(err),
        };
        let replaced = match published {
            Ok(replaced) => replaced,
            Err(err) => {
                // Best effort: the orphan expiry removes them anyway.
                let _ = unlink(&mut links, &manifest.chunk_keys()).await;
                return Err(err);
            }
        };
        set_chunk_ttl(&mut links, &manifest, ttl_ms).await?;
        if let Some(old) = replaced.filter(|old| old.version != manifest.version) {
            unlink(&mut links, &old.chunk_keys()).await?;
        }
        Ok(manifest)
    })
}

/// The entry at `key` and its payload, checked; `None` if there is none.
pub fn load_cached(
    config: &ConnectionConfig,
    key: &[u8],
) -> Result<Option<(CacheManifest, Vec<u8>)>> {
    block_on(async {
        let mut links = Links::open(config).await?;
        for _ in 0..READ_ATTEMPTS {
            let Some(manifest) = read_manifest(&mut links, key).await? else {
                return Ok(None);
            };
            match read_chunks(&mut links, key, &manifest).await? {
                Ok(payload) => return Ok(Some((manifest, payload))),
                Err(missing) => {
                    let now = read_manifest(&mut links, key).await?;
                    if now.as_ref().map(|m| &m.version) == Some(&manifest.version) {
                        return Err(corrupt(
                            key,
                            format!(
                                "chunk {missing} of {} ({}) is missing",
                                manifest.chunk_sizes.len(),
                                Key(manifest.chunk_key(missing))
                            ),
                        ));
                    }
                }
            }
        }
        Err(Error::Timeout {
            during: format!(
                "reading cache entry {}: it was rewritten {READ_ATTEMPTS} times while being read",
                Key::from(key)
            ),
            after_ms: 0,
        })
    })
}

/// The manifest of the entry at `key`, without its payload.
pub fn cached_manifest(config: &ConnectionConfig, key: &[u8]) -> Result<Option<CacheManifest>> {
    block_on(async {
        let mut links = Links::open(config).await?;
        read_manifest(&mut links, key).await
    })
}

/// Delete the entry at `key` (manifest, then chunks); false if there was none.
pub fn delete_cached(config: &ConnectionConfig, key: &[u8]) -> Result<bool> {
    block_on(async {
        let mut links = Links::open(config).await?;
        let conn = links.conn(key).await?;
        let mut cmd = Cmd::new("EVAL");
        cmd.arg(DELETE_SCRIPT)
            .arg("1")
            .arg(key)
            .arg(super::manifest::MAGIC);
        let old = match conn.query(&cmd).await {
            Ok(Value::Bytes(text)) => text,
            Ok(_) => return Ok(false),
            Err(err) => return Err(wrong_type(conn, key, err).await),
        };
        let manifest = CacheManifest::decode(key, &old)?.ok_or_else(|| not_an_entry(key))?;
        unlink(&mut links, &manifest.chunk_keys()).await?;
        Ok(true)
    })
}

/// Seconds until the entry at `key` expires; `None` if it has no expiry
/// or does not exist.
pub fn cached_ttl(config: &ConnectionConfig, key: &[u8]) -> Result<Option<i64>> {
    block_on(async {
        let mut links = Links::open(config).await?;
        let conn = links.conn(key).await?;
        conn.queue(Cmd::new("TTL").arg(key));
        conn.flush().await?;
        conn.read_ttl(key).await
    })
}

/// Connections to the nodes holding an entry's keys.
struct Links {
    topology: Topology,
    nodes: NodeConnections,
}

impl Links {
    async fn open(config: &ConnectionConfig) -> Result<Self> {
        let mut conn = Connection::connect(config).await?;
        let topology = Topology::discover(&mut conn, config).await?;
        let mut nodes = NodeConnections::new(&topology, Asking::ByCaller);
        if !topology.is_cluster() {
            nodes.put(Link::plain(0), conn);
        }
        Ok(Links { topology, nodes })
    }

    /// The connection to the node holding `key`.
    async fn conn(&mut self, key: &[u8]) -> Result<&mut Connection> {
        let node = self.topology.node_of(key);
        self.nodes.get(Link::plain(node)).await
    }
}

/// `SET chunk data PX orphan-ttl` for every chunk, pipelined; all chunks
/// share a hash tag, so one node holds them.
async fn write_chunks(links: &mut Links, manifest: &CacheManifest, chunks: &[&[u8]]) -> Result<()> {
    let Some(first) = manifest.chunk_keys().into_iter().next() else {
        return Ok(());
    };
    let conn = links.conn(&first).await?;
    let orphan_ms = ORPHAN_TTL.as_millis().to_string();
    for (index, chunk) in chunks.iter().enumerate() {
        let key = manifest.chunk_key(index);
        write_array(
            conn.write_buf(),
            [&b"SET"[..], &key, chunk, b"PX", orphan_ms.as_bytes()],
        );
        conn.flush().await?;
    }
    let mut first_error = None;
    for index in 0..chunks.len() {
        let key = manifest.chunk_key(index);
        let reply = conn
            .read_reply("SET", |r| match r.next()? {
                Item::Bytes(_) => Ok(()),
                Item::Error(message) => Err(server_error("SET", Some(&key), message)),
                _ => Err(unexpected_reply("SET", &key)),
            })
            .await;
        if let (Err(err), None) = (reply, &first_error) {
            first_error = Some(err);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Switch the manifest at `key` to `manifest` in one command; the one it
/// replaced, if it was a manifest.
async fn publish(
    links: &mut Links,
    key: &[u8],
    manifest: &CacheManifest,
    ttl_ms: Option<u64>,
) -> Result<Option<CacheManifest>> {
    let conn = links.conn(key).await?;
    let mut cmd = Cmd::new("SET");
    cmd.arg(key).arg(manifest.encode());
    if let Some(ms) = ttl_ms {
        cmd.arg("PX").arg(ms.to_string());
    }
    cmd.arg("GET");
    match conn.query(&cmd).await {
        // A damaged old manifest cannot name its chunks: they expire, or stay.
        Ok(Value::Bytes(old)) => Ok(CacheManifest::decode(key, &old).ok().flatten()),
        Ok(_) => Ok(None),
        Err(err) => Err(wrong_type(conn, key, err).await),
    }
}

/// Give the published chunks the entry's expiry (or none). A chunk already
/// gone was replaced by a newer write, whose manifest now rules.
async fn set_chunk_ttl(
    links: &mut Links,
    manifest: &CacheManifest,
    ttl_ms: Option<u64>,
) -> Result<()> {
    let keys = manifest.chunk_keys();
    let Some(first) = keys.first() else {
        return Ok(());
    };
    let conn = links.conn(first).await?;
    let ttl = ttl_ms.map(|ms| ms.to_string());
    for key in &keys {
        match &ttl {
            Some(ms) => write_array(conn.write_buf(), [&b"PEXPIRE"[..], key, ms.as_bytes()]),
            None => write_array(conn.write_buf(), [&b"PERSIST"[..], key.as_slice()]),
        }
    }
    conn.flush().await?;
    for key in &keys {
        conn.read_reply("PEXPIRE", |r| match r.next()? {
            Item::Int(_) => Ok(()),
            Item::Error(message) => Err(server_error("PEXPIRE", Some(key), message)),
            _ => Err(unexpected_reply("PEXPIRE", key)),
        })
        .await?;
    }
    Ok(())
}

/// `UNLINK` each key on its node (freed in the background).
async fn unlink(links: &mut Links, keys: &[Vec<u8>]) -> Result<()> {
    for key in keys {
        let conn = links.conn(key).await?;
        conn.query(Cmd::new("UNLINK").arg(key)).await?;
    }
    Ok(())
}

/// The manifest at `key`: `None` if the key does not exist; an error if it
/// holds something else.
async fn read_manifest(links: &mut Links, key: &[u8]) -> Result<Option<CacheManifest>> {
    let conn = links.conn(key).await?;
    match conn.query(Cmd::new("GET").arg(key)).await {
        Ok(Value::Bytes(text)) => CacheManifest::decode(key, &text)?
            .map_or_else(|| Err(not_an_entry(key)), |m| Ok(Some(m))),
        Ok(_) => Ok(None),
        Err(err) => Err(wrong_type(conn, key, err).await),
    }
}

/// The payload of `manifest`, checked, or the index of a missing chunk.
async fn read_chunks(
    links: &mut Links,
    key: &[u8],
    manifest: &CacheManifest,
) -> Result<std::result::Result<Vec<u8>, usize>> {
    let keys = manifest.chunk_keys();
    let size = manifest.size();
    let Some(first) = keys.first() else {
        return Ok(Ok(Vec::new()));
    };
    let capacity =
        usize::try_from(size).map_err(|_| corrupt(key, "its size does not fit memory".into()))?;
    let conn = links.conn(first).await?;
    let mut payload = Vec::with_capacity(capacity);
    let in_flight = 2;
    let mut sent = 0;
    let mut missing = None;
    for index in 0..keys.len() {
        while sent < keys.len() && sent < index + in_flight && missing.is_none() {
            write_array(conn.write_buf(), [&b"GET"[..], &keys[sent]]);
            conn.flush().await?;
            sent += 1;
        }
        if index >= sent {
            break;
        }
        let expected = (manifest.chunk_sizes[index], manifest.chunk_checksums[index]);
        let chunk = &keys[index];
        let found = conn
            .read_reply("GET", |r| match r.next()? {
                Item::Bytes(bytes) if missing.is_none() => {
                    check_chunk(key, index, bytes, expected)?;
                    payload.extend_from_slice(bytes);
                    Ok(true)
                }
                Item::Bytes(_) => Ok(true),
                Item::Nil => Ok(false),
                Item::Error(message) => Err(server_error("GET", Some(chunk), message)),
                _ => Err(unexpected_reply("GET", chunk)),
            })
            .await?;
        if !found && missing.is_none() {
            missing = Some(index);
        }
    }
    if let Some(index) = missing {
        return Ok(Err(index));
    }
    if xxh3_64(&payload) != manifest.checksum {
        return Err(corrupt(key, "the whole payload fails its checksum".into()));
    }
    Ok(Ok(payload))
}

/// Check chunk `index` against its recorded length and checksum.
fn check_chunk(key: &[u8], index: usize, bytes: &[u8], (len, checksum): (u64, u64)) -> Result<()> {
    if bytes.len() as u64 != len {
        return Err(corrupt(
            key,
            format!(
                "chunk {index} holds {} bytes, its manifest says {len}",
                bytes.len()
            ),
        ));
    }
    if xxh3_64(bytes) != checksum {
        return Err(corrupt(key, format!("chunk {index} fails its checksum")));
    }
    Ok(())
}

fn corrupt(key: &[u8], message: String) -> Error {
    Error::CacheCorrupt {
        key: Key::from(key),
        message,
    }
}

fn not_an_entry(key: &[u8]) -> Error {
    Error::InvalidArgument(format!(
        "key {} holds a string that is not a polars-redis cache entry",
        Key::from(key)
    ))
}

/// `err`, or [`Error::WrongType`] naming the key's type when the server
/// answered `WRONGTYPE`.
async fn wrong_type(conn: &mut Connection, key: &[u8], err: Error) -> Error {
    match &err {
        Error::Server { message, .. } if message.starts_with("WRONGTYPE") => {
            conn.wrong_type_error(key, "string (a cache manifest)")
                .await
        }
        _ => err,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A version id no other write (of this or another process) picks.
fn new_version(created_ms: u64) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut seed = Vec::with_capacity(32);
    seed.extend_from_slice(&nanos.to_le_bytes());
    seed.extend_from_slice(&std::process::id().to_le_bytes());
    seed.extend_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    format!("{created_ms:x}-{:016x}", xxh3_64(&seed))
}
