//! Schema inference for RedisJSON documents: nested objects become Structs,
//! arrays Lists (with their element type), nulls make a field nullable
//! without deciding its type, and disagreeing values widen by the same
//! rules as hash fields (Int64 + Float64 -> Float64, anything else -> String,
//! which reads any JSON value as its text).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::error::{Error, Key, Result};
use crate::infer::report::{InferredField, InferredSchema};
use crate::infer::sample::{infer_sampled, refused, InferOptions, SampleFolder};
use crate::infer::vote::{choose, Kind};
use crate::net::config::ConnectionConfig;
use crate::net::modules::{Module, Requirement};
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::types::Field;
use crate::types::FieldType;

/// The merged shape of the values seen at one place in the documents.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    /// Only nulls so far.
    Null,
    /// Scalars, by the narrowest kinds seen.
    Scalar(BTreeSet<Kind>),
    /// Arrays, with the merged shape of all their elements.
    List(Box<Shape>),
    /// Objects, member by member.
    Struct(BTreeMap<String, Shape>),
    /// Values of different structure (e.g. an object and a number).
    Mixed,
}

impl Shape {
    fn of(value: &Json) -> Shape {
        match value {
            Json::Null => Shape::Null,
            Json::Bool(_) => Shape::Scalar(BTreeSet::from([Kind::Boolean])),
            Json::Number(n) if n.is_i64() || n.is_u64() => {
                Shape::Scalar(BTreeSet::from([Kind::Int]))
            }
            Json::Number(_) => Shape::Scalar(BTreeSet::from([Kind::Float])),
            Json::String(s) => Shape::Scalar(BTreeSet::from([string_kind(s)])),
            Json::Array(items) => Shape::List(Box::new(
                items.iter().map(Shape::of).fold(Shape::Null, Shape::merge),
            )),
            Json::Object(members) => Shape::Struct(
                members
                    .iter()
                    .map(|(name, value)| (name.clone(), Shape::of(value)))
                    .collect(),
            ),
        }
    }

    fn merge(self, other: Shape) -> Shape {
        match (self, other) {
            (Shape::Null, x) | (x, Shape::Null) => x,
            (Shape::Scalar(mut a), Shape::Scalar(b)) => {
                a.extend(b);
                Shape::Scalar(a)
            }
            (Shape::List(a), Shape::List(b)) => Shape::List(Box::new(a.merge(*b))),
            (Shape::Struct(mut a), Shape::Struct(b)) => {
                for (name, shape) in b {
                    let merged = match a.remove(&name) {
                        Some(existing) => existing.merge(shape),
                        None => shape,
                    };
                    a.insert(name, merged);
                }
                Shape::Struct(a)
            }
            _ => Shape::Mixed,
        }
    }

    /// The top-level category, for candidate counts.
    fn name(&self) -> String {
        match self {
            Shape::Null => "Null".into(),
            Shape::Scalar(kinds) => kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join("|"),
            Shape::List(_) => "List".into(),
            Shape::Struct(_) => "Struct".into(),
            Shape::Mixed => "Mixed".into(),
        }
    }

    /// The field type, and a note when something had to widen.
    fn field_type(&self) -> (FieldType, Option<String>) {
        match self {
            Shape::Null => (FieldType::Utf8, Some("only nulls seen -> String".into())),
            Shape::Mixed => (
                FieldType::Utf8,
                Some("mixed structure -> String (JSON text)".into()),
            ),
            Shape::Scalar(kinds) => {
                let kinds: Vec<Kind> = kinds.iter().copied().collect();
                let (field_type, _, note) = choose(&kinds);
                (field_type, note)
            }
            Shape::List(inner) => {
                let (inner, note) = inner.field_type();
                (
                    FieldType::List(Box::new(inner)),
                    note.map(|n| format!("list element: {n}")),
                )
            }
            Shape::Struct(members) if members.is_empty() => (
                FieldType::Utf8,
                Some("only empty objects seen -> String".into()),
            ),
            Shape::Struct(members) => {
                let mut notes = Vec::new();
                let fields = members
                    .iter()
                    .map(|(name, shape)| {
                        let (field_type, note) = shape.field_type();
                        if let Some(note) = note {
                            notes.push(format!("{name}: {note}"));
                        }
                        Field::new(name.clone(), field_type)
                    })
                    .collect();
                let note = (!notes.is_empty()).then(|| notes.join("; "));
                (FieldType::Struct(fields), note)
            }
        }
    }
}

/// Strings keep to string types: digits in quotes are text, not numbers.
fn string_kind(text: &str) -> Kind {
    match Kind::of(text.as_bytes()) {
        Kind::Boolean | Kind::Int | Kind::Float => Kind::Text,
        kind => kind,
    }
}

/// What the sample says about one top-level member.
#[derive(Default)]
struct MemberStats {
    present: usize,
    shape: Option<Shape>,
    /// Top-level shape names of the individual values.
    votes: BTreeMap<String, usize>,
}

impl MemberStats {
    fn add(&mut self, value: &Json) {
        let shape = Shape::of(value);
        self.present += 1;
        *self.votes.entry(shape.name()).or_default() += 1;
        self.shape = Some(match self.shape.take() {
            Some(seen) => seen.merge(shape),
            None => shape,
        });
    }

    fn conclude(self, name: String) -> InferredField {
        let shape = self.shape.unwrap_or(Shape::Null);
        let (field_type, note) = shape.field_type();
        // Values whose own category is the chosen one match; nulls never
        // contradict a type.
        let chosen: Vec<String> = match &shape {
            Shape::Scalar(kinds) => {
                let kinds: Vec<Kind> = kinds.iter().copied().collect();
                choose(&kinds)
                    .1
                    .iter()
                    .map(|k| k.name().to_string())
                    .collect()
            }
            other => vec![other.name()],
        };
        let matching = self
            .votes
            .iter()
            .filter(|(vote, _)| *vote == "Null" || chosen.contains(vote))
            .map(|(_, n)| n)
            .sum::<usize>();
        let candidates = self.votes.into_iter().collect();
        InferredField::from_counts(name, field_type, self.present, matching, candidates, note)
    }
}

/// Sample JSON documents matching `pattern` and infer the types of their
/// top-level members (blocking; runs on the shared runtime).
pub fn infer_json_schema(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    crate::net::runtime::runtime().block_on(infer_json_schema_async(config, pattern, options))
}

/// Async form of [`infer_json_schema`].
pub async fn infer_json_schema_async(
    config: &ConnectionConfig,
    pattern: &[u8],
    options: &InferOptions,
) -> Result<InferredSchema> {
    infer_sampled::<JsonFolder>(config, pattern, options).await
}

/// Member statistics of sampled documents.
#[derive(Default)]
struct JsonFolder(BTreeMap<String, MemberStats>);

impl SampleFolder for JsonFolder {
    const REDIS_TYPE: &'static str = "ReJSON-RL";
    const WHAT: &'static str = "JSON document";
    const COMMANDS: &'static [&'static str] = &["JSON.GET"];
    const MODULE: Option<Requirement> = Some(Requirement::new(
        Module::Json,
        "infer_json_schema (which scan_json / read_json / iter_json run without a schema)",
    ));

    fn queue(out: &mut Vec<u8>, key: &[u8]) {
        write_array(out, [&b"JSON.GET"[..], key, b"$"]);
    }

    fn fold(&mut self, r: &mut ReplyReader<'_>, key: &[u8], _reply: usize) -> Result<bool> {
        let Some(document) = root_document(r, key)? else {
            return Ok(false);
        };
        for (name, value) in document {
            self.0.entry(name).or_default().add(&value);
        }
        Ok(true)
    }

    fn conclude(self) -> Vec<InferredField> {
        self.0
            .into_iter()
            .map(|(name, stats)| stats.conclude(name))
            .collect()
    }
}

/// The root object of one `JSON.GET key $` reply; `None` when the key is
/// gone or no longer a document.
fn root_document(
    r: &mut ReplyReader<'_>,
    key: &[u8],
) -> Result<Option<serde_json::Map<String, Json>>> {
    let text = match r.next()? {
        Item::Bytes(text) => text,
        Item::Error(message) => return refused("JSON.GET", key, message).map(|_| None),
        _ => return Ok(None), // nil: gone
    };
    let parsed: Json = serde_json::from_slice(text).map_err(|e| {
        Error::Protocol(format!(
            "JSON.GET on {} returned invalid JSON: {e}",
            Key::from(key)
        ))
    })?;
    match parsed {
        Json::Array(mut roots) if roots.len() == 1 => match roots.pop() {
            Some(Json::Object(members)) => Ok(Some(members)),
            _ => Err(Error::Inference(format!(
                "document {} is not a JSON object at its root; pass a schema and a path instead",
                Key::from(key)
            ))),
        },
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TimeUnit;

    fn infer(values: &[&str]) -> InferredField {
        let mut stats = MemberStats::default();
        for v in values {
            stats.add(&serde_json::from_str(v).unwrap());
        }
        stats.conclude("f".into())
    }

    #[test]
    fn nested_shapes() {
        let f = infer(&[
            r#"{"a": 1, "b": [1.5, 2]}"#,
            r#"{"a": null, "c": "2024-01-02"}"#,
        ]);
        assert_eq!(
            f.field_type,
            FieldType::Struct(vec![
                Field::new("a", FieldType::Int64),
                Field::new("b", FieldType::List(Box::new(FieldType::Float64))),
                Field::new("c", FieldType::Date),
            ])
        );
        assert_eq!(f.confidence, 1.0);
        assert!(f
            .note
            .unwrap()
            .contains("b: list element: mixed Int64, Float64"));
        let list = infer(&["[]", r#"[{"x": "2024-01-02T03:04:05Z"}]"#, "null"]);
        assert_eq!(
            list.field_type,
            FieldType::List(Box::new(FieldType::Struct(vec![Field::new(
                "x",
                FieldType::datetime(TimeUnit::Microsecond, Some("UTC")).unwrap()
            )])))
        );
        assert_eq!((list.present, list.matching), (3, 3));
    }

    #[test]
    fn mixed_values_widen_to_text() {
        let f = infer(&["1", "\"x\""]);
        assert_eq!(f.field_type, FieldType::Utf8);
        let f = infer(&["1", "{\"a\": 1}", "2"]);
        assert_eq!(f.field_type, FieldType::Utf8);
        assert_eq!((f.matching, f.present), (0, 3));
        // Digits in quotes stay text.
        assert_eq!(infer(&["\"42\""]).field_type, FieldType::Utf8);
        assert_eq!(infer(&["null"]).field_type, FieldType::Utf8);
        assert_eq!(infer(&["true", "false"]).field_type, FieldType::Boolean);
        let f = infer(&["1", "2.5", "null"]);
        assert_eq!(
            (f.field_type, f.matching, f.present),
            (FieldType::Float64, 2, 3)
        );
    }
}
