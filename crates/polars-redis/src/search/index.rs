//! What an index is: `FT._LIST` and `FT.INFO` read into [`IndexInfo`], the
//! checks that decide whether an index may answer a scan, and index
//! management (`FT.CREATE` from a column schema, `FT.DROPINDEX`).

use std::fmt;

use super::vector::VectorSpec;
use crate::error::{Error, Result};
use crate::net::connection::Connection;
use crate::net::glob::literal_prefix;
use crate::net::resp::{Cmd, Value};
use crate::types::{FieldType, IndexOn, VectorType};

/// The type of an index attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeKind {
    /// Full-text: tokenized, stemmed, stopwords removed.
    Text,
    /// Exact-match tags, split on a separator.
    Tag,
    /// Double-precision numbers.
    Numeric,
    /// Longitude/latitude points.
    Geo,
    /// A vector attribute to create (`FT.INFO` reports an existing one as
    /// `Other("VECTOR")`).
    Vector(VectorSpec),
    /// Anything else (VECTOR, GEOSHAPE, ...), never used for pushdown.
    Other(String),
}

impl AttributeKind {
    fn parse(name: &str) -> Self {
        match name {
            "TEXT" => AttributeKind::Text,
            "TAG" => AttributeKind::Tag,
            "NUMERIC" => AttributeKind::Numeric,
            "GEO" => AttributeKind::Geo,
            other => AttributeKind::Other(other.to_string()),
        }
    }

    /// The `FT.CREATE` type name.
    pub fn name(&self) -> &str {
        match self {
            AttributeKind::Text => "TEXT",
            AttributeKind::Tag => "TAG",
            AttributeKind::Numeric => "NUMERIC",
            AttributeKind::Geo => "GEO",
            AttributeKind::Vector(_) => "VECTOR",
            AttributeKind::Other(name) => name,
        }
    }
}

/// One attribute of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// What is indexed: the hash field, or the JSON path (`$.a.b`).
    pub identifier: String,
    /// The name queries use (`@name`): the alias, or the identifier.
    pub name: String,
    /// The attribute type.
    pub kind: AttributeKind,
    /// TAG: values are compared case-sensitively.
    pub case_sensitive: bool,
    /// TAG: the separator that splits one value into tags (none for JSON arrays).
    pub separator: Option<char>,
    /// `SORTABLE`.
    pub sortable: bool,
    /// Every flag as `FT.INFO` lists it (`SORTABLE`, `NOSTEM`, `INDEXMISSING`, ...).
    pub flags: Vec<String>,
    /// VECTOR: the element type and dimension of its vectors.
    pub vector: Option<(VectorType, usize)>,
}

/// What `FT.INFO` says about an index.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexInfo {
    /// The index name.
    pub name: String,
    /// Hashes or JSON documents.
    pub on: IndexOn,
    /// Key prefixes it indexes (empty: every key).
    pub prefixes: Vec<Vec<u8>>,
    /// The `FILTER` expression, if any: keys failing it are not indexed.
    pub filter: Option<String>,
    /// The attributes, in schema order.
    pub attributes: Vec<Attribute>,
    /// Documents in the index.
    pub num_docs: u64,
    /// True while the initial scan is still running.
    pub indexing: bool,
    /// Fraction of the keyspace scanned so far (1.0 when done).
    pub percent_indexed: f64,
    /// Documents that could not be indexed (and so are missing from it).
    pub indexing_failures: u64,
}

impl IndexInfo {
    /// The attribute indexing this hash field / JSON path, if any.
    pub fn attribute_for(&self, identifier: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.identifier == identifier)
    }

    /// The attribute queries call `name`, if any.
    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Why this index cannot answer a query completely right now, if it cannot.
    pub fn not_ready(&self) -> Option<String> {
        if self.indexing || self.percent_indexed < 1.0 {
            return Some(format!(
                "index `{}` is still indexing ({:.1}% done); its results would be incomplete",
                self.name,
                self.percent_indexed * 100.0
            ));
        }
        None
    }

    /// Why this index cannot stand in for a scan of `pattern`, if it cannot:
    /// it must hold every key the pattern can match, with nothing left out.
    pub fn cannot_cover(&self, on: IndexOn, pattern: &[u8]) -> Option<String> {
        if self.on != on {
            return Some(format!("it indexes {} documents", self.on.name()));
        }
        let (literal, _) = literal_prefix(pattern);
        let covered =
            self.prefixes.is_empty() || self.prefixes.iter().any(|p| literal.starts_with(p));
        if !covered {
            return Some("its prefixes do not cover the key pattern".into());
        }
        if let Some(filter) = &self.filter {
            return Some(format!("it has a FILTER ({filter}) that leaves keys out"));
        }
        if self.indexing_failures > 0 {
            return Some(format!(
                "{} document(s) failed to index and would be missing",
                self.indexing_failures
            ));
        }
        self.not_ready()
    }
}

impl fmt::Display for IndexInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefixes: Vec<String> = self
            .prefixes
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        write!(
            f,
            "index `{}` on {} prefixes {:?} ({} docs)",
            self.name,
            self.on.name(),
            prefixes,
            self.num_docs
        )
    }
}

/// The key/value pairs of a RESP3 map or a RESP2 flat array.
fn pairs(value: &Value) -> Vec<(String, &Value)> {
    match value {
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.to_text(), v))
            .collect::<Vec<_>>(),
        Value::Array(items) => items
            .chunks_exact(2)
            .map(|pair| (pair[0].to_text(), &pair[1]))
            .collect(),
        _ => Vec::new(),
    }
}

fn get<'a>(pairs: &[(String, &'a Value)], name: &str) -> Option<&'a Value> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

fn number(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Double(d)) => *d,
        Some(Value::Bytes(b)) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
        _ => 0.0,
    }
}

fn texts(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().map(Value::to_text).collect())
        .unwrap_or_default()
}

/// Read an `FT.INFO` reply (RESP2 or RESP3).
pub(crate) fn parse_info(name: &str, reply: &Value) -> Result<IndexInfo> {
    let bad = |what: &str| Error::Protocol(format!("unexpected FT.INFO reply: {what}"));
    let top = pairs(reply);
    let definition = pairs(get(&top, "index_definition").ok_or_else(|| bad("no definition"))?);
    let on = match get(&definition, "key_type").map(Value::to_text).as_deref() {
        Some("HASH") => IndexOn::Hash,
        Some("JSON") => IndexOn::Json,
        other => return Err(bad(&format!("key type {other:?}"))),
    };
    let prefixes = get(&definition, "prefixes")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|p| p.as_bytes().map(<[u8]>::to_vec))
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let attributes = get(&top, "attributes")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .map(parse_attribute)
        .collect::<Result<_>>()?;
    let failures = number(get(&top, "hash_indexing_failures"))
        .max(number(get(&top, "json_indexing_failures")));
    Ok(IndexInfo {
        name: name.to_string(),
        on,
        prefixes,
        filter: get(&definition, "filter").map(Value::to_text),
        attributes,
        num_docs: number(get(&top, "num_docs")) as u64,
        indexing: number(get(&top, "indexing")) != 0.0,
        percent_indexed: get(&top, "percent_indexed").map_or(1.0, |v| number(Some(v))),
        indexing_failures: failures as u64,
    })
}

/// One attribute: a RESP3 map, or a RESP2 array of `key value` pairs in
/// which bare flags (`SORTABLE`, ...) stand alone.
fn parse_attribute(value: &Value) -> Result<Attribute> {
    let (entries, mut flags): (Vec<(String, &Value)>, Vec<String>) = match value {
        Value::Map(_) => {
            let entries = pairs(value);
            let flags = texts(get(&entries, "flags"));
            (entries, flags)
        }
        Value::Array(items) => {
            let mut entries = Vec::new();
            let mut flags = Vec::new();
            let mut i = 0;
            while i < items.len() {
                let key = items[i].to_text();
                let keyed = matches!(
                    key.as_str(),
                    "identifier"
                        | "attribute"
                        | "type"
                        | "SEPARATOR"
                        | "WEIGHT"
                        | "PHONETIC"
                        | "algorithm"
                        | "data_type"
                        | "dim"
                        | "distance_metric"
                        | "M"
                        | "ef_construction"
                        | "ef_runtime"
                        | "epsilon"
                        | "initial_cap"
                        | "block_size"
                );
                if keyed && i + 1 < items.len() {
                    entries.push((key, &items[i + 1]));
                    i += 2;
                } else {
                    flags.push(key);
                    i += 1;
                }
            }
            (entries, flags)
        }
        _ => return Err(Error::Protocol("unexpected FT.INFO attribute".into())),
    };
    flags.retain(|f| !f.is_empty());
    let text = |name: &str| get(&entries, name).map(Value::to_text);
    let identifier = text("identifier")
        .ok_or_else(|| Error::Protocol("FT.INFO attribute without identifier".into()))?;
    let name = text("attribute").unwrap_or_else(|| identifier.clone());
    let kind = AttributeKind::parse(&text("type").unwrap_or_default());
    // No SEPARATOR entry means the default `,`; an empty one means none
    // (JSON tags: each string is one tag).
    let separator = match text("SEPARATOR") {
        None => Some(','),
        Some(s) => s.chars().next(),
    };
    Ok(Attribute {
        identifier,
        name,
        case_sensitive: flags.iter().any(|f| f == "CASESENSITIVE"),
        sortable: flags.iter().any(|f| f == "SORTABLE"),
        separator: match kind {
            AttributeKind::Tag => separator,
            _ => None,
        },
        vector: match (text("data_type").as_deref(), number(get(&entries, "dim"))) {
            (Some("FLOAT32"), dim) if dim >= 1.0 => Some((VectorType::Float32, dim as usize)),
            (Some("FLOAT64"), dim) if dim >= 1.0 => Some((VectorType::Float64, dim as usize)),
            _ => None,
        },
        kind,
        flags,
    })
}

/// Refuse targets whose indexes cannot answer for the whole keyspace: a
/// cluster node without a search coordinator only sees its own shard.
/// (Asks `HELLO 2`: switch to RESP3 only after this check.)
pub(crate) async fn check_target(conn: &mut Connection) -> Result<()> {
    if crate::net::cluster::server_mode(conn).await?.as_deref() != Some("cluster") {
        return Ok(());
    }
    let reply = conn
        .query(
            Cmd::new("COMMAND")
                .arg("INFO")
                .arg("FT.CLUSTERINFO")
                .arg("SEARCH.CLUSTERINFO"),
        )
        .await?;
    let coordinated = reply
        .as_array()
        .is_some_and(|items| items.iter().any(|i| !matches!(i, Value::Nil)));
    if coordinated {
        return Ok(());
    }
    Err(Error::Search(format!(
        "{} is a cluster node without a search coordinator: its indexes only hold the keys of \
         its own shard, so a search there would silently miss the others",
        conn.addr()
    )))
}

/// The names of every index (`FT._LIST`).
pub(crate) async fn list(conn: &mut Connection) -> Result<Vec<String>> {
    let reply = conn.query(&Cmd::new("FT._LIST")).await?;
    Ok(texts(Some(&reply)))
}

/// `FT.INFO name`, or a search error naming the index when it does not exist.
pub(crate) async fn info(conn: &mut Connection, name: &str) -> Result<IndexInfo> {
    match conn.query(Cmd::new("FT.INFO").arg(name)).await {
        Ok(reply) => parse_info(name, &reply),
        Err(Error::Server { message, .. }) if is_unknown_index(&message) => {
            Err(Error::Search(format!("no index named `{name}`")))
        }
        Err(err) => Err(err),
    }
}

/// Whether `message` is RediSearch's "no such index" reply.
pub(crate) fn is_unknown_index(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("unknown index") || message.contains("no such index")
}

/// One index as the survey found it: covering the pattern, or why not.
pub(crate) struct Verdict {
    pub(crate) name: String,
    pub(crate) covers: std::result::Result<IndexInfo, String>,
}

/// Every index, in `FT._LIST` order, with whether it may answer a scan of
/// `pattern` over `on` documents (database `db`). `Err` says why no index
/// may be used at all. Leaves `conn` in RESP3 when it got that far.
pub(crate) async fn survey(
    conn: &mut Connection,
    db: u32,
    on: IndexOn,
    pattern: &[u8],
) -> std::result::Result<Vec<Verdict>, String> {
    if db != 0 {
        return Err("RediSearch only indexes database 0".into());
    }
    check_target(conn).await.map_err(|e| e.to_string())?;
    conn.hello3().await.map_err(|e| e.to_string())?;
    let names = list(conn).await.map_err(|e| e.to_string())?;
    let mut verdicts = Vec::with_capacity(names.len());
    for name in names {
        let covers = match info(conn, &name).await {
            Ok(info) => match info.cannot_cover(on, pattern) {
                Some(why) => Err(why),
                None => Ok(info),
            },
            Err(err) => Err(err.to_string()),
        };
        verdicts.push(Verdict { name, covers });
    }
    Ok(verdicts)
}

/// One attribute of a new index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeSpec {
    /// Hash field or JSON path (`$.a`); a bare JSON name means `$.name`.
    pub identifier: String,
    /// Alias used in queries (`AS`), if different from the identifier.
    pub alias: Option<String>,
    /// The attribute type.
    pub kind: AttributeKind,
    /// `SORTABLE`.
    pub sortable: bool,
    /// TAG: `CASESENSITIVE`.
    pub case_sensitive: bool,
}

impl AttributeSpec {
    /// The attribute type a column of `field_type` gets by default: numbers
    /// (and booleans) NUMERIC, text TAG (exact match; ask for TEXT
    /// explicitly for full-text search), float arrays a FLAT, COSINE
    /// VECTOR ([`VectorSpec::default_for`]). `None` for types an index
    /// cannot hold usefully (binary, temporal, decimal).
    pub fn default_kind(field_type: &FieldType) -> Option<AttributeKind> {
        use FieldType::*;
        if let Some(spec) = VectorSpec::default_for(field_type) {
            return Some(AttributeKind::Vector(spec));
        }
        match field_type {
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float32 | Float64 => {
                Some(AttributeKind::Numeric)
            }
            Utf8 | Categorical | Enum { .. } => Some(AttributeKind::Tag),
            _ => None,
        }
    }
}

/// `FT.CREATE name ON HASH|JSON PREFIX n p... SCHEMA ...`.
pub(crate) fn create_command(
    name: &str,
    on: IndexOn,
    prefixes: &[Vec<u8>],
    attributes: &[AttributeSpec],
) -> Result<Cmd> {
    if attributes.is_empty() {
        return Err(Error::InvalidArgument(
            "an index needs at least one attribute".into(),
        ));
    }
    let mut cmd = Cmd::new("FT.CREATE");
    cmd.arg(name).arg("ON").arg(on.name());
    if !prefixes.is_empty() {
        cmd.arg("PREFIX")
            .arg(prefixes.len().to_string())
            .args(prefixes);
    }
    cmd.arg("SCHEMA");
    for spec in attributes {
        let json_path = match on {
            IndexOn::Json if !spec.identifier.starts_with('$') => {
                Some(format!("$.{}", spec.identifier))
            }
            _ => None,
        };
        match &json_path {
            Some(path) => {
                cmd.arg(path)
                    .arg("AS")
                    .arg(spec.alias.as_ref().unwrap_or(&spec.identifier));
            }
            None => {
                cmd.arg(&spec.identifier);
                if let Some(alias) = &spec.alias {
                    cmd.arg("AS").arg(alias);
                }
            }
        }
        match &spec.kind {
            AttributeKind::Other(name) => {
                return Err(Error::InvalidArgument(format!(
                    "attribute `{}`: type {name} cannot be created here (use TEXT, TAG, NUMERIC, GEO or VECTOR)",
                    spec.identifier
                )))
            }
            AttributeKind::Vector(vector) => {
                cmd.arg("VECTOR");
                vector.push_args(&mut cmd)?;
            }
            kind => {
                cmd.arg(kind.name());
            }
        };
        if spec.case_sensitive && spec.kind == AttributeKind::Tag {
            cmd.arg("CASESENSITIVE");
        }
        if spec.sortable {
            cmd.arg("SORTABLE");
        }
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_resp2_info() {
        let reply = Value::Array(vec![
            bytes("index_name"),
            bytes("idx"),
            bytes("index_definition"),
            Value::Array(vec![
                bytes("key_type"),
                bytes("HASH"),
                bytes("prefixes"),
                Value::Array(vec![bytes("u:")]),
            ]),
            bytes("attributes"),
            Value::Array(vec![Value::Array(vec![
                bytes("identifier"),
                bytes("city"),
                bytes("attribute"),
                bytes("town"),
                bytes("type"),
                bytes("TAG"),
                bytes("SEPARATOR"),
                bytes(";"),
                bytes("CASESENSITIVE"),
            ])]),
            bytes("num_docs"),
            bytes("3"),
            bytes("indexing"),
            Value::Int(0),
            bytes("percent_indexed"),
            bytes("1"),
            bytes("hash_indexing_failures"),
            Value::Int(0),
        ]);
        let info = parse_info("idx", &reply).unwrap();
        assert_eq!(info.on, IndexOn::Hash);
        assert_eq!(info.prefixes, vec![b"u:".to_vec()]);
        let city = info.attribute_for("city").unwrap();
        assert_eq!(city.name, "town");
        assert_eq!(city.kind, AttributeKind::Tag);
        assert!(city.case_sensitive);
        assert_eq!(city.separator, Some(';'));
        assert_eq!(info.num_docs, 3);
        assert!(info.cannot_cover(IndexOn::Hash, b"u:*").is_none());
        assert!(info.cannot_cover(IndexOn::Hash, b"u:1*").is_none());
        assert!(info.cannot_cover(IndexOn::Hash, b"v:*").is_some());
        assert!(info.cannot_cover(IndexOn::Hash, b"*").is_some());
        assert!(info.cannot_cover(IndexOn::Json, b"u:*").is_some());
    }

    #[test]
    fn creates_from_specs() {
        let spec = |id: &str, kind| AttributeSpec {
            identifier: id.into(),
            alias: None,
            kind,
            sortable: false,
            case_sensitive: false,
        };
        let mut out = Vec::new();
        create_command(
            "i",
            IndexOn::Json,
            &[b"d:".to_vec()],
            &[
                spec("a", AttributeKind::Numeric),
                spec("$.b", AttributeKind::Tag),
            ],
        )
        .unwrap()
        .write_to(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("$.a\r\n$2\r\nAS\r\n$1\r\na\r\n$7\r\nNUMERIC"));
        assert!(text.contains("$.b\r\n$3\r\nTAG"));
    }
}
