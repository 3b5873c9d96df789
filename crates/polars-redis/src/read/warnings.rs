//! What a scan that ran to its end says besides its rows: the mistakes
//! that give a plausible but wrong result rather than an error.
//!
//! * A declared field no row had (a misspelt hash field, JSON member or
//!   path, stream entry field or time series label): its column is all
//!   null. The field names a few of the keys read do hold are looked up,
//!   and the closest are suggested.
//! * A pattern scan that found no key of its type, while keys of other
//!   types match the pattern (`events:*` read as hashes, but they are
//!   streams): one `SCAN` walk (without `TYPE`) per master is looked at, until
//!   it shows some keys, and their types are named.
//!
//! The warnings are collected in a [`WarningSlot`] when the last batch is
//! out and before the batch channel closes, so a consumer that has seen the
//! end of the batches finds them complete
//! ([`RecordBatchIter::warnings`](crate::RecordBatchIter::warnings)).
//! Looking things up is advice only, on its own time budget (not the scan's
//! deadline, which covers the rows): if a lookup fails (a connection lost, a
//! command the ACL user may not run, more than a few seconds), the rows stand
//! and the warning is given without suggestions, or not at all.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::{Array, RecordBatch};

use crate::error::{Key, Result};
use crate::net::cluster::Topology;
use crate::net::nodes::{Asking, Link, NodeConnections};
use crate::net::resp::{Cmd, Value};
use crate::read::keys::ScanCursor;

/// Something a scan that ran to its end noticed that makes its result
/// likely wrong without being an error.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanWarning {
    /// A declared field (hash or stream entry field, JSON member or path,
    /// time series label) that no row read had: its column is all null.
    #[non_exhaustive]
    FieldNotFound {
        /// What was declared: `field`, `path` (a JSON column's own path) or `label`.
        what: &'static str,
        /// The field name, path or label as declared.
        field: String,
        /// The output column it was read into.
        column: String,
        /// What holds the fields: `hash`, `JSON document`, `stream entry`, `time series`.
        holder: &'static str,
        /// The names a few of the keys read do have, closest first (empty
        /// for paths, or when the lookup failed).
        closest: Vec<String>,
    },
    /// A pattern scan found no key of its type, but keys of other types
    /// match the pattern.
    #[non_exhaustive]
    OtherTypes {
        /// The pattern scanned.
        pattern: Key,
        /// The scanned type, as `TYPE` names it (`hash`, `stream`, `ReJSON-RL`, ...).
        redis_type: &'static str,
        /// The types of keys matching the pattern, as `TYPE` names them, sorted.
        found: Vec<String>,
    },
}

impl fmt::Display for ScanWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanWarning::FieldNotFound {
                what,
                field,
                column,
                holder,
                closest,
            } => {
                // A JSON member or path may hold a null that is there: say both.
                let how = match *holder {
                    "JSON document" => "was missing or null in every",
                    _ => "was found in no",
                };
                write!(f, "{what} `{field}` {how} {holder} read")?;
                if field != column {
                    write!(f, ", so column `{column}` is all null")?;
                } else {
                    write!(f, ", so its column is all null")?;
                }
                if !closest.is_empty() {
                    let names: Vec<String> = closest.iter().map(|n| format!("`{n}`")).collect();
                    write!(f, "; closest {what} names seen: {}", names.join(", "))?;
                }
                Ok(())
            }
            ScanWarning::OtherTypes {
                pattern,
                redis_type,
                found,
            } => write!(
                f,
                "pattern {pattern} matched no {}; keys there are of type {}",
                holder_of(redis_type),
                found.join(", ")
            ),
        }
    }
}

/// What keys of a Redis type are called in messages.
fn holder_of(redis_type: &str) -> &'static str {
    match redis_type {
        "hash" => "hash",
        "ReJSON-RL" => "JSON document",
        "stream" => "stream",
        "TSDB-TYPE" => "time series",
        "string" => "string",
        "list" => "list",
        "set" => "set",
        "zset" => "sorted set",
        _ => "key of the scanned type",
    }
}

/// Where a running scan leaves its warnings for the consumer.
#[derive(Clone, Debug, Default)]
pub(crate) struct WarningSlot(Arc<Mutex<Vec<ScanWarning>>>);

impl WarningSlot {
    fn add(&self, warnings: Vec<ScanWarning>) {
        self.lock().extend(warnings);
    }

    /// The warnings given so far (all of them once the batches have ended).
    pub(crate) fn get(&self) -> Vec<ScanWarning> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ScanWarning>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A field a scan declares, checked for being in no row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeclaredField {
    /// The output column.
    pub(crate) column: String,
    /// The field name (or path, or label) as declared.
    pub(crate) field: String,
    /// `field`, `path` or `label`.
    pub(crate) what: &'static str,
    /// Whether `field` is a name among those [`FieldNames`] lists (not a path).
    pub(crate) named: bool,
}

impl DeclaredField {
    /// A field read by its name.
    pub(crate) fn named(name: &str, what: &'static str) -> Self {
        DeclaredField {
            column: name.to_string(),
            field: name.to_string(),
            what,
            named: true,
        }
    }
}

/// How to list the field names one key holds, to suggest names for a
/// declared field no row had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FieldNames {
    /// `HKEYS key`.
    Hash,
    /// `JSON.OBJKEYS key <root>`: the members of the root object.
    JsonMembers(String),
    /// `XRANGE key - + COUNT n`: the field names of the first entries.
    StreamEntries,
    /// `TS.INFO key`: the label names.
    TimeSeriesLabels,
}

/// The declared fields of a scan and how to look up the names keys have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldCheck {
    pub(crate) fields: Vec<DeclaredField>,
    pub(crate) names: FieldNames,
}

impl FieldCheck {
    /// Check `fields` (declared as `what`: `field`, `label`) by their names.
    pub(crate) fn by_name<'a>(
        fields: impl IntoIterator<Item = &'a str>,
        what: &'static str,
        names: FieldNames,
    ) -> Self {
        FieldCheck {
            fields: fields
                .into_iter()
                .map(|name| DeclaredField::named(name, what))
                .collect(),
            names,
        }
    }

    /// Only the fields whose column the scan emits (after projection).
    pub(crate) fn projected(mut self, emitted: &[crate::types::Field]) -> Option<Self> {
        self.fields
            .retain(|d| emitted.iter().any(|f| f.name == d.column));
        (!self.fields.is_empty()).then_some(self)
    }
}

/// Keys handed out first, to look up their field names.
#[derive(Clone, Debug, Default)]
pub(crate) struct FirstKeys(Arc<Mutex<Vec<Vec<u8>>>>);

/// Keys whose field names are looked up.
const KEYS_LOOKED_UP: usize = 5;
/// Entries whose field names are looked up, per stream.
const ENTRIES_LOOKED_UP: usize = 10;
/// Keys whose type is looked up, per master.
const KEYS_TYPED: usize = 16;
/// `SCAN` pages walked per master while they show no key.
const PAGES_WALKED: usize = 10;
/// Names suggested for a missing field.
const SUGGESTIONS: usize = 3;

impl FirstKeys {
    /// Remember some of `keys` while fewer than needed are known.
    pub(crate) fn offer(&self, keys: &[Vec<u8>]) {
        let mut first = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let room = KEYS_LOOKED_UP.saturating_sub(first.len());
        first.extend(keys.iter().take(room).cloned());
    }

    fn get(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What a scan checks once it has run to its end.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScanChecks {
    /// The declared fields, when the scan has any.
    pub(crate) fields: Option<FieldCheck>,
    /// The pattern scanned (SCAN or an index), when the keys came from one.
    pub(crate) pattern: Option<Vec<u8>>,
    /// The `SCAN ... TYPE` name of the scanned type.
    pub(crate) redis_type: &'static str,
    /// `COUNT` hint for the look at a pattern's keys.
    pub(crate) count_hint: usize,
    /// Where the warnings go.
    pub(crate) slot: WarningSlot,
    /// The first keys handed to the fetchers.
    pub(crate) first_keys: FirstKeys,
}

/// Follows which declared columns have been null in every row so far.
pub(crate) struct NullColumns(Vec<DeclaredField>);

impl NullColumns {
    pub(crate) fn new(checks: &ScanChecks) -> Self {
        NullColumns(
            checks
                .fields
                .as_ref()
                .map_or_else(Vec::new, |c| c.fields.clone()),
        )
    }

    /// Forget the columns that have a value in `chunk`.
    pub(crate) fn observe(&mut self, chunk: &RecordBatch) {
        if chunk.num_rows() > 0 {
            self.0.retain(|declared| {
                chunk
                    .column_by_name(&declared.column)
                    .is_none_or(|column| column.null_count() == column.len())
            });
        }
    }
}

impl ScanChecks {
    /// Look into what a scan that ran to its end (emitting `rows` rows)
    /// may have got wrong, and leave the warnings in the slot. Lookups
    /// that fail or take longer than [`LOOKUP_BUDGET`] are given up.
    pub(crate) async fn run(&self, topology: &Topology, rows: usize, null: NullColumns) {
        // On the servers the scan read (its replicas, under `read_from`).
        let mut conns = NodeConnections::reading(topology, Asking::EveryCommand, 0);
        let warnings = if rows == 0 {
            let other_types = within_budget(self.other_types(topology, &mut conns)).await;
            other_types.flatten().into_iter().collect()
        } else {
            self.fields_not_found(topology, &mut conns, null.0).await
        };
        self.slot.add(warnings);
    }

    async fn fields_not_found(
        &self,
        topology: &Topology,
        conns: &mut NodeConnections,
        missing: Vec<DeclaredField>,
    ) -> Vec<ScanWarning> {
        let Some(check) = &self.fields else {
            return Vec::new();
        };
        if missing.is_empty() {
            return Vec::new();
        }
        // Names unknown when the lookup fails: the warning stands without suggestions.
        let seen = within_budget(self.field_names(topology, conns, &check.names))
            .await
            .unwrap_or_default();
        missing
            .into_iter()
            // A member present with JSON nulls only is not missing.
            .filter(|declared| !(declared.named && seen.contains(&declared.field)))
            .map(|declared| ScanWarning::FieldNotFound {
                closest: if declared.named {
                    closest(&declared.field, &seen)
                } else {
                    Vec::new()
                },
                what: declared.what,
                field: declared.field,
                column: declared.column,
                holder: match check.names {
                    FieldNames::Hash => "hash",
                    FieldNames::JsonMembers(_) => "JSON document",
                    FieldNames::StreamEntries => "stream entry",
                    FieldNames::TimeSeriesLabels => "time series",
                },
            })
            .collect()
    }

    /// The field names the first keys read hold.
    async fn field_names(
        &self,
        topology: &Topology,
        conns: &mut NodeConnections,
        names: &FieldNames,
    ) -> Result<BTreeSet<String>> {
        let mut seen = BTreeSet::new();
        for key in self.first_keys.get() {
            let node = topology.route_of(&key);
            if node >= topology.nodes().len() {
                continue; // A migrating slot: another key will do.
            }
            let mut cmd = match names {
                FieldNames::Hash => Cmd::new("HKEYS"),
                FieldNames::JsonMembers(_) => Cmd::new("JSON.OBJKEYS"),
                FieldNames::StreamEntries => Cmd::new("XRANGE"),
                FieldNames::TimeSeriesLabels => Cmd::new("TS.INFO"),
            };
            cmd.arg(&key);
            match names {
                FieldNames::JsonMembers(root) => {
                    cmd.arg(root);
                }
                FieldNames::StreamEntries => {
                    cmd.arg("-")
                        .arg("+")
                        .arg("COUNT")
                        .arg(ENTRIES_LOOKED_UP.to_string());
                }
                FieldNames::Hash | FieldNames::TimeSeriesLabels => {}
            }
            // A key that cannot be looked up (gone, another type) is passed over.
            let Ok(reply) = conns.get(Link::plain(node)).await?.query(&cmd).await else {
                continue;
            };
            let mut texts = Vec::new();
            match names {
                FieldNames::Hash | FieldNames::JsonMembers(_) => strings_in(&reply, &mut texts),
                FieldNames::StreamEntries => stream_field_names(&reply, &mut texts),
                FieldNames::TimeSeriesLabels => label_names(&reply, &mut texts),
            }
            seen.extend(texts);
        }
        Ok(seen)
    }

    /// The warning for a pattern whose keys are all of other types, if so.
    async fn other_types(
        &self,
        topology: &Topology,
        conns: &mut NodeConnections,
    ) -> Result<Option<ScanWarning>> {
        let Some(pattern) = &self.pattern else {
            return Ok(None);
        };
        let mut found = BTreeSet::new();
        for node in 0..topology.nodes().len() {
            let conn = conns.get(Link::plain(node)).await?;
            let mut cursor = ScanCursor::start();
            let mut keys = Vec::new();
            for _ in 0..PAGES_WALKED {
                match cursor
                    .next_page(conn, pattern, self.count_hint, None)
                    .await?
                {
                    Some(page) => keys.extend(page),
                    None => break,
                }
                if !keys.is_empty() {
                    break;
                }
            }
            for key in keys.iter().take(KEYS_TYPED) {
                if let Value::Bytes(name) = conn.query(Cmd::new("TYPE").arg(key)).await? {
                    if name != b"none" {
                        found.insert(String::from_utf8_lossy(&name).into_owned());
                    }
                }
            }
        }
        if found.is_empty() || found.contains(self.redis_type) {
            return Ok(None);
        }
        Ok(Some(ScanWarning::OtherTypes {
            pattern: Key(pattern.clone()),
            redis_type: self.redis_type,
            found: found.into_iter().collect(),
        }))
    }
}

/// The time the lookups of a finished scan may take.
const LOOKUP_BUDGET: Duration = Duration::from_secs(5);

/// The result of `lookup`, or `None` when it failed or ran out of [`LOOKUP_BUDGET`].
async fn within_budget<T>(lookup: impl Future<Output = Result<T>>) -> Option<T> {
    tokio::time::timeout(LOOKUP_BUDGET, lookup)
        .await
        .ok()
        .and_then(Result::ok)
}

/// Every string in a reply, nested arrays flattened (`HKEYS`, `JSON.OBJKEYS`).
fn strings_in(reply: &Value, out: &mut Vec<String>) {
    match reply {
        Value::Bytes(text) => out.push(String::from_utf8_lossy(text).into_owned()),
        Value::Array(items) => items.iter().for_each(|item| strings_in(item, out)),
        _ => {}
    }
}

/// The field names of the entries of an `XRANGE` reply.
fn stream_field_names(reply: &Value, out: &mut Vec<String>) {
    let Value::Array(entries) = reply else {
        return;
    };
    for entry in entries {
        match entry {
            Value::Array(parts) => match parts.get(1) {
                Some(Value::Array(pairs)) => {
                    for name in pairs.iter().step_by(2) {
                        strings_in(name, out);
                    }
                }
                Some(Value::Map(pairs)) => pairs.iter().for_each(|(name, _)| strings_in(name, out)),
                _ => {}
            },
            _ => continue,
        }
    }
}

/// The label names of a `TS.INFO` reply (RESP2 pairs or a RESP3 map).
fn label_names(reply: &Value, out: &mut Vec<String>) {
    let labels = match reply {
        Value::Array(items) => items
            .chunks(2)
            .find(|pair| pair[0] == Value::Bytes(b"labels".to_vec()))
            .and_then(|pair| pair.get(1)),
        Value::Map(pairs) => pairs
            .iter()
            .find(|(name, _)| *name == Value::Bytes(b"labels".to_vec()))
            .map(|(_, labels)| labels),
        _ => None,
    };
    match labels {
        Some(Value::Array(pairs)) => {
            for pair in pairs {
                if let Value::Array(pair) = pair {
                    if let Some(name) = pair.first() {
                        strings_in(name, out);
                    }
                }
            }
        }
        Some(Value::Map(pairs)) => pairs.iter().for_each(|(name, _)| strings_in(name, out)),
        _ => {}
    }
}

/// The names of `seen` closest to `name` (edit distance, case ignored), closest first.
fn closest(name: &str, seen: &BTreeSet<String>) -> Vec<String> {
    let mut ranked: Vec<(usize, &String)> = seen
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .collect();
    ranked.sort();
    ranked
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, candidate)| candidate.clone())
        .collect()
}

/// Levenshtein distance over lowercased characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_names() {
        let seen: BTreeSet<String> = ["age", "name", "city", "Agent"].map(String::from).into();
        assert_eq!(closest("agee", &seen), ["age", "Agent", "name"]);
        assert_eq!(edit_distance("AGE", "age"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn messages_name_the_field_and_the_types() {
        let missing = ScanWarning::FieldNotFound {
            what: "field",
            field: "agee".into(),
            column: "agee".into(),
            holder: "hash",
            closest: vec!["age".into()],
        };
        assert_eq!(
            missing.to_string(),
            "field `agee` was found in no hash read, so its column is all null; \
             closest field names seen: `age`"
        );
        let other = ScanWarning::OtherTypes {
            pattern: Key(b"events:*".to_vec()),
            redis_type: "hash",
            found: vec!["stream".into()],
        };
        assert_eq!(
            other.to_string(),
            "pattern \"events:*\" matched no hash; keys there are of type stream"
        );
    }

    #[test]
    fn reads_label_and_entry_names() {
        let bytes = |s: &str| Value::Bytes(s.as_bytes().to_vec());
        let info = Value::Array(vec![
            bytes("totalSamples"),
            Value::Int(3),
            bytes("labels"),
            Value::Array(vec![Value::Array(vec![bytes("room"), bytes("kitchen")])]),
        ]);
        let mut names = Vec::new();
        label_names(&info, &mut names);
        assert_eq!(names, ["room"]);
        let entries = Value::Array(vec![Value::Array(vec![
            bytes("1-0"),
            Value::Array(vec![bytes("user"), bytes("a"), bytes("amount"), bytes("1")]),
        ])]);
        let mut names = Vec::new();
        stream_field_names(&entries, &mut names);
        assert_eq!(names, ["user", "amount"]);
    }
}
