//! Key management: list, inspect, expire, persist, rename and delete keys,
//! each key's commands pipelined to the master of its slot (see
//! [`Session`]), the answers decoded straight into Arrow or into a
//! [`KeyReport`].

use std::future::Future;
use std::sync::Arc;

use arrow_array::builder::{BinaryViewBuilder, Int64Builder, StringViewBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema};

use crate::error::{quote_bytes, Error, Key, Result};
use crate::net::budget::LoadBudget;
use crate::net::cluster::key_slot;
use crate::net::config::ConnectionConfig;
use crate::net::resp::{write_array, Value};
use crate::net::runtime::runtime;
use crate::read::keys::KeySelection;
use crate::read::layout::KeyType;

use super::report::{KeyReport, Outcome};
use super::session::Session;

/// The `SCAN ... TYPE` names a type filter may use, with friendlier aliases.
const KEY_TYPES: [(&str, &str); 11] = [
    ("string", "string"),
    ("list", "list"),
    ("set", "set"),
    ("zset", "zset"),
    ("hash", "hash"),
    ("stream", "stream"),
    ("ReJSON-RL", "ReJSON-RL"),
    ("json", "ReJSON-RL"),
    ("TSDB-TYPE", "TSDB-TYPE"),
    ("timeseries", "TSDB-TYPE"),
    ("vectorset", "vectorset"),
];

/// Default `SCAN ... COUNT` hint of a key listing.
pub const LIST_COUNT_HINT: usize = 1000;

/// What [`scan_keys`] reads besides each key and its type.
#[derive(Clone, Debug)]
pub struct KeyScan {
    /// Glob pattern of the keys.
    pub pattern: Vec<u8>,
    /// Only keys of this type (`SCAN ... TYPE`): `string`, `hash`, `json`, ...
    pub redis_type: Option<String>,
    /// Add `_ttl`: seconds left (as `TTL` rounds them), null without expiry.
    pub include_ttl: bool,
    /// Add `memory_bytes` (`MEMORY USAGE`).
    pub include_memory: bool,
    /// `SCAN ... COUNT` hint.
    pub count_hint: usize,
    /// Dtype of the `_key` column.
    pub key_type: KeyType,
}

/// How [`rename_keys`] treats a target key that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameMode {
    /// Leave the target alone and report the pair as failed (`RENAMENX`).
    Fail,
    /// Overwrite the target (`RENAME`).
    Replace,
}

impl RenameMode {
    /// Parse `fail` or `replace`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "fail" => Ok(RenameMode::Fail),
            "replace" => Ok(RenameMode::Replace),
            other => Err(Error::InvalidArgument(format!(
                "if_exists must be 'fail' or 'replace', got {other:?}"
            ))),
        }
    }
}

/// Run `work` on a session opened on `config`, its per-key commands paced
/// by `budget` (its rate limit: keys per second), blocking.
fn with_session<T, F, Fut>(config: &ConnectionConfig, budget: &LoadBudget, work: F) -> Result<T>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    runtime().block_on(async { work(Session::open(config).await?.paced(budget)).await })
}

/// The keys a selection names: a pattern's keys (listed with `SCAN` on
/// every master), or the given keys.
async fn resolve(session: &mut Session, selection: KeySelection) -> Result<Vec<Vec<u8>>> {
    match selection {
        KeySelection::Pattern(pattern) => session.list(&pattern, None, LIST_COUNT_HINT).await,
        KeySelection::Keys(keys) => Ok(keys),
        KeySelection::Query(_) => Err(Error::InvalidArgument(
            "key management takes a pattern or a list of keys, not a query".into(),
        )),
    }
}

/// The keys matching `pattern` (of `redis_type`, if given), each once.
pub fn list_keys(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    pattern: &[u8],
    redis_type: Option<&str>,
    count_hint: usize,
) -> Result<Vec<Vec<u8>>> {
    let redis_type = redis_type.map(type_filter).transpose()?;
    with_session(config, budget, |mut session| async move {
        session.list(pattern, redis_type, count_hint).await
    })
}

/// `_key`, `type` and, as asked, `_ttl` and `memory_bytes` of every key
/// matching the pattern. Keys that disappear between `SCAN` and their
/// commands are left out.
pub fn scan_keys(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    scan: &KeyScan,
) -> Result<RecordBatch> {
    let redis_type = scan.redis_type.as_deref().map(type_filter).transpose()?;
    with_session(config, budget, |mut session| async move {
        let keys = Arc::new(
            session
                .list(&scan.pattern, redis_type, scan.count_hint)
                .await?,
        );
        let (ask_type, ttl, memory) = (redis_type.is_none(), scan.include_ttl, scan.include_memory);
        let per_key = usize::from(ask_type) + usize::from(ttl) + usize::from(memory);
        let listed = keys.clone();
        let write = Arc::new(move |job: usize, out: &mut Vec<u8>| {
            let key = listed[job].as_slice();
            if ask_type {
                write_array(out, [b"TYPE".as_slice(), key]);
            }
            if ttl {
                write_array(out, [b"PTTL".as_slice(), key]);
            }
            if memory {
                write_array(out, [b"MEMORY".as_slice(), b"USAGE", key]);
            }
        });
        let routing: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let replies = match per_key {
            0 => Vec::new(),
            _ => session.run(&routing, per_key, write).await?,
        };
        let mut columns = KeyColumns::new(scan.key_type, keys.len());
        let mut types = StringViewBuilder::with_capacity(keys.len());
        let mut ttls = Int64Builder::with_capacity(if ttl { keys.len() } else { 0 });
        let mut memories = Int64Builder::with_capacity(if memory { keys.len() } else { 0 });
        for (i, key) in keys.iter().enumerate() {
            let mut replies = replies.iter().skip(i * per_key).take(per_key);
            let key_type = match redis_type {
                Some(name) => name.to_string(),
                None => text_reply(replies.next(), "TYPE", key)?,
            };
            let ttl_ms = ttl
                .then(|| int_reply(replies.next(), "PTTL", key))
                .transpose()?;
            let memory_reply = memory.then(|| replies.next().unwrap_or(&Value::Nil));
            let gone = key_type == "none"
                || ttl_ms == Some(Some(-2))
                || matches!(memory_reply, Some(Value::Nil));
            if gone {
                continue;
            }
            columns.push(key)?;
            types.append_value(&key_type);
            if let Some(ms) = ttl_ms {
                ttls.append_option(ms.and_then(ttl_seconds));
            }
            if let Some(reply) = memory_reply {
                memories.append_option(int_reply(Some(reply), "MEMORY USAGE", key)?);
            }
        }
        let mut fields = vec![columns.field("_key"), string_field("type")];
        let mut arrays: Vec<ArrayRef> = vec![columns.finish(), Arc::new(types.finish())];
        if ttl {
            fields.push(int_field("_ttl"));
            arrays.push(Arc::new(ttls.finish()));
        }
        if memory {
            fields.push(int_field("memory_bytes"));
            arrays.push(Arc::new(memories.finish()));
        }
        batch(fields, arrays)
    })
}

/// Delete the selected keys with `UNLINK`, one key per command (so a
/// cluster takes any mix of slots). Returns the keys acted on (for a
/// pattern: those it matched) and the report; with `dry_run` nothing is
/// deleted and the report is empty.
pub fn delete_keys(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    selection: KeySelection,
    dry_run: bool,
) -> Result<(Vec<Vec<u8>>, KeyReport)> {
    with_session(config, budget, |mut session| async move {
        let keys = resolve(&mut session, selection).await?;
        if dry_run {
            return Ok((keys, KeyReport::default()));
        }
        let replies = per_key(&session, &keys, 1, |key, out| {
            write_array(out, [b"UNLINK".as_slice(), key])
        })
        .await?;
        let report = KeyReport::collect(
            keys.iter().map(Vec::as_slice),
            replies.iter().map(Outcome::of_flag),
        );
        Ok((keys, report))
    })
}

/// Give every key the TTL of its position in `ttls` (seconds, at least 1;
/// one value applies to all keys) with `EXPIRE`.
pub fn set_ttl(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    keys: &[Vec<u8>],
    ttls: &[i64],
) -> Result<KeyReport> {
    if ttls.len() != 1 && ttls.len() != keys.len() {
        return Err(Error::InvalidArgument(format!(
            "{} TTLs given for {} keys",
            ttls.len(),
            keys.len()
        )));
    }
    let ttl_of = |row: usize| ttls[if ttls.len() == 1 { 0 } else { row }];
    if let Some(row) = (0..keys.len()).find(|&row| ttl_of(row) < 1) {
        return Err(Error::InvalidArgument(format!(
            "the TTL of key {} (row {row}) must be at least 1 second, got {}",
            Key::from(keys[row].as_slice()),
            ttl_of(row)
        )));
    }
    let seconds: Vec<String> = (0..keys.len()).map(|row| ttl_of(row).to_string()).collect();
    let keys_owned = keys.to_vec();
    with_session(config, budget, |session| async move {
        let seconds = Arc::new(seconds);
        let listed = Arc::new(keys_owned);
        let (s, k) = (seconds.clone(), listed.clone());
        let write = Arc::new(move |job: usize, out: &mut Vec<u8>| {
            write_array(out, [b"EXPIRE".as_slice(), &k[job], s[job].as_bytes()])
        });
        let routing: Vec<&[u8]> = listed.iter().map(Vec::as_slice).collect();
        let replies = session.run(&routing, 1, write).await?;
        Ok(KeyReport::collect(
            routing.iter().copied(),
            replies.iter().map(Outcome::of_flag),
        ))
    })
}

/// Remove the TTL of every key (`PERSIST`); a key without one is skipped.
pub fn persist_keys(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    keys: &[Vec<u8>],
) -> Result<KeyReport> {
    with_session(config, budget, |session| async move {
        let replies = per_key(&session, keys, 2, |key, out| {
            write_array(out, [b"EXISTS".as_slice(), key]);
            write_array(out, [b"PERSIST".as_slice(), key]);
        })
        .await?;
        let outcomes = replies.chunks(2).map(|pair| match pair {
            [Value::Int(0), _] => Outcome::Missing,
            [_, Value::Int(1)] => Outcome::Done,
            [_, Value::Int(0)] => Outcome::Skipped,
            [Value::Error(_), _] => Outcome::of_other(&pair[0]),
            [_, other] => Outcome::of_other(other),
            _ => Outcome::Failed("missing reply".into()),
        });
        Ok(KeyReport::collect(keys.iter().map(Vec::as_slice), outcomes))
    })
}

/// Each key's TTL in seconds as `TTL` gives it: -1 without expiry, -2 for a
/// missing key.
pub fn get_ttl(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    keys: &[Vec<u8>],
) -> Result<Vec<i64>> {
    with_session(config, budget, |session| async move {
        let replies = per_key(&session, keys, 1, |key, out| {
            write_array(out, [b"TTL".as_slice(), key])
        })
        .await?;
        keys.iter()
            .zip(&replies)
            .map(|(key, reply)| {
                int_reply(Some(reply), "TTL", key)?.ok_or_else(|| unexpected("TTL", key, reply))
            })
            .collect()
    })
}

/// Whether each key exists.
pub fn exists_keys(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    keys: &[Vec<u8>],
) -> Result<Vec<bool>> {
    with_session(config, budget, |session| async move {
        let replies = per_key(&session, keys, 1, |key, out| {
            write_array(out, [b"EXISTS".as_slice(), key])
        })
        .await?;
        keys.iter()
            .zip(&replies)
            .map(
                |(key, reply)| match int_reply(Some(reply), "EXISTS", key)? {
                    Some(n) => Ok(n > 0),
                    None => Err(unexpected("EXISTS", key, reply)),
                },
            )
            .collect()
    })
}

/// Rename each `(old, new)` pair: `RENAMENX` for [`RenameMode::Fail`] (an
/// existing target fails the pair), `RENAME` for [`RenameMode::Replace`]. On
/// a cluster every pair must share a hash slot (use a hash tag such as
/// `{user:1}`); otherwise nothing is renamed and the first offending pairs
/// are named.
pub fn rename_keys(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    pairs: &[(Vec<u8>, Vec<u8>)],
    mode: RenameMode,
) -> Result<KeyReport> {
    with_session(config, budget, |session| async move {
        if session.is_cluster() {
            refuse_cross_slot(pairs)?;
        }
        let command: &'static [u8] = match mode {
            RenameMode::Fail => b"RENAMENX",
            RenameMode::Replace => b"RENAME",
        };
        let listed = Arc::new(pairs.to_vec());
        let shared = listed.clone();
        let write = Arc::new(move |job: usize, out: &mut Vec<u8>| {
            let (old, new) = &shared[job];
            write_array(out, [command, old, new]);
        });
        let routing: Vec<&[u8]> = listed.iter().map(|(old, _)| old.as_slice()).collect();
        let replies = session.run(&routing, 1, write).await?;
        let outcomes = listed
            .iter()
            .zip(&replies)
            .map(|((_, new), reply)| match reply {
                Value::Int(1) | Value::Bytes(_) => Outcome::Done,
                Value::Int(0) => Outcome::Failed(format!(
                    "the target key {} exists (if_exists=\"fail\")",
                    Key::from(new.as_slice())
                )),
                Value::Error(message) if message.contains("no such key") => Outcome::Missing,
                other => Outcome::of_other(other),
            });
        Ok(KeyReport::collect(routing.iter().copied(), outcomes))
    })
}

/// The columns of [`key_info`].
pub const KEY_INFO_COLUMNS: [&str; 6] = [
    "key",
    "key_type",
    "ttl",
    "memory_usage",
    "encoding",
    "length",
];

/// Per key: `key`, `key_type` (`none` when missing), `ttl` (seconds, -1
/// without expiry, -2 when missing), `memory_usage` (bytes), `encoding`
/// (`OBJECT ENCODING`) and `length` (`STRLEN`, `LLEN`, `SCARD`, `ZCARD`,
/// `HLEN` or `XLEN` by type; null for other types and missing keys).
pub fn key_info(
    config: &ConnectionConfig,
    budget: &LoadBudget,
    selection: KeySelection,
    key_type: KeyType,
) -> Result<RecordBatch> {
    with_session(config, budget, |mut session| async move {
        let keys = resolve(&mut session, selection).await?;
        let first = per_key(&session, &keys, 4, |key, out| {
            write_array(out, [b"TYPE".as_slice(), key]);
            write_array(out, [b"TTL".as_slice(), key]);
            write_array(out, [b"MEMORY".as_slice(), b"USAGE", key]);
            write_array(out, [b"OBJECT".as_slice(), b"ENCODING", key]);
        })
        .await?;
        let types = keys
            .iter()
            .zip(first.chunks(4))
            .map(|(key, replies)| text_reply(replies.first(), "TYPE", key))
            .collect::<Result<Vec<_>>>()?;
        let lengths = lengths(&session, &keys, &types).await?;
        let mut columns = KeyColumns::new(key_type, keys.len());
        let mut type_col = StringViewBuilder::with_capacity(keys.len());
        let mut ttl_col = Int64Builder::with_capacity(keys.len());
        let mut memory_col = Int64Builder::with_capacity(keys.len());
        let mut encoding_col = StringViewBuilder::with_capacity(keys.len());
        let mut length_col = Int64Builder::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let replies = &first[i * 4..i * 4 + 4];
            columns.push(key)?;
            type_col.append_value(&types[i]);
            ttl_col.append_option(int_reply(Some(&replies[1]), "TTL", key)?);
            memory_col.append_option(int_reply(Some(&replies[2]), "MEMORY USAGE", key)?);
            match &replies[3] {
                Value::Bytes(text) => encoding_col.append_value(String::from_utf8_lossy(text)),
                _ => encoding_col.append_null(),
            }
            length_col.append_option(lengths[i]);
        }
        let fields = vec![
            columns.field(KEY_INFO_COLUMNS[0]),
            string_field(KEY_INFO_COLUMNS[1]),
            int_field(KEY_INFO_COLUMNS[2]),
            int_field(KEY_INFO_COLUMNS[3]),
            string_field(KEY_INFO_COLUMNS[4]),
            int_field(KEY_INFO_COLUMNS[5]),
        ];
        let arrays: Vec<ArrayRef> = vec![
            columns.finish(),
            Arc::new(type_col.finish()),
            Arc::new(ttl_col.finish()),
            Arc::new(memory_col.finish()),
            Arc::new(encoding_col.finish()),
            Arc::new(length_col.finish()),
        ];
        batch(fields, arrays)
    })
}

/// The length of each key of a type that has one, by its type's command.
async fn lengths(
    session: &Session,
    keys: &[Vec<u8>],
    types: &[String],
) -> Result<Vec<Option<i64>>> {
    let command = |key_type: &str| -> Option<&'static [u8]> {
        Some(match key_type {
            "string" => b"STRLEN",
            "list" => b"LLEN",
            "set" => b"SCARD",
            "zset" => b"ZCARD",
            "hash" => b"HLEN",
            "stream" => b"XLEN",
            _ => return None,
        })
    };
    let measured: Vec<(usize, &'static [u8])> = types
        .iter()
        .enumerate()
        .filter_map(|(i, t)| command(t).map(|c| (i, c)))
        .collect();
    let jobs = Arc::new(
        measured
            .iter()
            .map(|&(i, c)| (c, keys[i].clone()))
            .collect::<Vec<_>>(),
    );
    let shared = jobs.clone();
    let write = Arc::new(move |job: usize, out: &mut Vec<u8>| {
        let (command, key) = &shared[job];
        write_array(out, [*command, key.as_slice()]);
    });
    let routing: Vec<&[u8]> = jobs.iter().map(|(_, key)| key.as_slice()).collect();
    let replies = session.run(&routing, 1, write).await?;
    let mut lengths = vec![None; keys.len()];
    for (&(i, _), reply) in measured.iter().zip(&replies) {
        lengths[i] = int_reply(Some(reply), "length", &keys[i])?;
    }
    Ok(lengths)
}

/// Send the `commands` commands `write` gives each key to its node; the
/// replies in key order.
async fn per_key(
    session: &Session,
    keys: &[Vec<u8>],
    commands: usize,
    write: fn(&[u8], &mut Vec<u8>),
) -> Result<Vec<Value>> {
    let listed = Arc::new(keys.to_vec());
    let shared = listed.clone();
    let writer = Arc::new(move |job: usize, out: &mut Vec<u8>| write(&shared[job], out));
    let routing: Vec<&[u8]> = listed.iter().map(Vec::as_slice).collect();
    session.run(&routing, commands, writer).await
}

/// Refuse renames across hash slots, naming the first few pairs.
fn refuse_cross_slot(pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
    let crossing: Vec<String> = pairs
        .iter()
        .filter(|(old, new)| key_slot(old) != key_slot(new))
        .map(|(old, new)| {
            format!(
                "{} (slot {}) -> {} (slot {})",
                Key::from(old.as_slice()),
                key_slot(old),
                Key::from(new.as_slice()),
                key_slot(new)
            )
        })
        .collect();
    if crossing.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = crossing.iter().take(3).map(String::as_str).collect();
    Err(Error::InvalidArgument(format!(
        "on a cluster a key can only be renamed within its hash slot; {} pair(s) cross slots, \
         e.g. {}: nothing was renamed (give both names the same hash tag, e.g. {{user:1}}:old \
         -> {{user:1}}:new)",
        crossing.len(),
        shown.join(", ")
    )))
}

/// The `SCAN ... TYPE` name of a type filter.
fn type_filter(name: &str) -> Result<&'static str> {
    KEY_TYPES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, redis)| *redis)
        .ok_or_else(|| {
            let names: Vec<&str> = KEY_TYPES.iter().map(|(alias, _)| *alias).collect();
            Error::InvalidArgument(format!(
                "type must be one of {}, got {name:?}",
                names.join(", ")
            ))
        })
}

/// Redis rounds a `PTTL` to seconds this way for `TTL`; `None` without expiry.
fn ttl_seconds(ms: i64) -> Option<i64> {
    (ms >= 0).then(|| (ms + 500) / 1000)
}

fn text_reply(reply: Option<&Value>, command: &str, key: &[u8]) -> Result<String> {
    match reply {
        Some(Value::Bytes(text)) => Ok(String::from_utf8_lossy(text).into_owned()),
        Some(Value::Error(message)) => Err(server_error(command, key, message)),
        other => Err(unexpected(command, key, other.unwrap_or(&Value::Nil))),
    }
}

/// An integer reply; `None` for a null reply.
fn int_reply(reply: Option<&Value>, command: &str, key: &[u8]) -> Result<Option<i64>> {
    match reply {
        Some(Value::Int(n)) => Ok(Some(*n)),
        Some(Value::Nil) | None => Ok(None),
        Some(Value::Error(message)) => Err(server_error(command, key, message)),
        Some(other) => Err(unexpected(command, key, other)),
    }
}

fn server_error(command: &str, key: &[u8], message: &str) -> Error {
    Error::Server {
        command: command.to_string(),
        key: Some(Key::from(key)),
        message: message.to_string(),
    }
}

/// The error for a reply of an unexpected shape.
pub(crate) fn unexpected(command: &str, key: &[u8], reply: &Value) -> Error {
    Error::Protocol(format!(
        "unexpected reply {reply:?} to {command} for key {}",
        Key::from(key)
    ))
}

/// The key column of a frame, text or bytes.
pub(crate) enum KeyColumns {
    Utf8(StringViewBuilder),
    Binary(BinaryViewBuilder),
}

impl KeyColumns {
    pub(crate) fn new(key_type: KeyType, capacity: usize) -> Self {
        match key_type {
            KeyType::Utf8 => KeyColumns::Utf8(StringViewBuilder::with_capacity(capacity)),
            KeyType::Binary => KeyColumns::Binary(BinaryViewBuilder::with_capacity(capacity)),
        }
    }

    /// Append `key`; a key that is not UTF-8 cannot go in a text column.
    pub(crate) fn push(&mut self, key: &[u8]) -> Result<()> {
        match self {
            KeyColumns::Binary(keys) => keys.append_value(key),
            KeyColumns::Utf8(keys) => match std::str::from_utf8(key) {
                Ok(text) => keys.append_value(text),
                Err(_) => {
                    return Err(Error::Parse {
                        key: Key::from(key),
                        field: "key".into(),
                        value: quote_bytes(key, 80),
                        dtype: "String (the key is not valid UTF-8)".into(),
                        hint: Some("pass key_dtype=pl.Binary to read keys as bytes".into()),
                    })
                }
            },
        }
        Ok(())
    }

    pub(crate) fn field(&self, name: &str) -> ArrowField {
        let dtype = match self {
            KeyColumns::Utf8(_) => DataType::Utf8View,
            KeyColumns::Binary(_) => DataType::BinaryView,
        };
        ArrowField::new(name, dtype, false)
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            KeyColumns::Utf8(keys) => Arc::new(keys.finish()),
            KeyColumns::Binary(keys) => Arc::new(keys.finish()),
        }
    }
}

pub(crate) fn string_field(name: &str) -> ArrowField {
    ArrowField::new(name, DataType::Utf8View, true)
}

pub(crate) fn int_field(name: &str) -> ArrowField {
    ArrowField::new(name, DataType::Int64, true)
}

pub(crate) fn batch(fields: Vec<ArrowField>, arrays: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|err| Error::Protocol(format!("cannot assemble the result: {err}")))
}
