//! Turning a Polars predicate on the key column into fewer keys to read.
//!
//! The Python side hands over `expr.meta.serialize(format="json")`, with
//! `is_in` lists already resolved into `{"Literal": {"Values": [...]}}`. The
//! format is Polars' internal one and may change between versions, so any
//! node not recognised here means "no constraint", never an error. The
//! translation only ever narrows to a superset of the matching keys: the
//! caller still applies the full predicate to every row.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::glob::{glob_match, literal_prefix};
use crate::keys::{escape_glob, KeySelection};

/// What a predicate says about which keys can match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFilter {
    /// Any key may match.
    Any,
    /// Only these keys can match.
    Keys(BTreeSet<String>),
    /// Only keys starting with this prefix can match.
    Prefix(String),
    /// No key can match.
    Nothing,
}

impl KeyFilter {
    /// Read the constraint on `key_column` out of a serialized Polars predicate.
    pub fn from_polars_json(json: &str, key_column: &str) -> KeyFilter {
        match serde_json::from_str::<Json>(json) {
            Ok(tree) => filter_of(&tree, key_column),
            Err(_) => KeyFilter::Any,
        }
    }

    fn and(self, other: KeyFilter) -> KeyFilter {
        use KeyFilter::*;
        match (self, other) {
            (Nothing, _) | (_, Nothing) => Nothing,
            (Any, x) | (x, Any) => x,
            (Keys(a), Keys(b)) => non_empty(a.intersection(&b).cloned().collect()),
            (Keys(keys), Prefix(p)) | (Prefix(p), Keys(keys)) => {
                non_empty(keys.into_iter().filter(|k| k.starts_with(&p)).collect())
            }
            (Prefix(a), Prefix(b)) if a.starts_with(&b) => Prefix(a),
            (Prefix(a), Prefix(b)) if b.starts_with(&a) => Prefix(b),
            (Prefix(_), Prefix(_)) => Nothing,
        }
    }

    fn or(self, other: KeyFilter) -> KeyFilter {
        use KeyFilter::*;
        match (self, other) {
            (Nothing, x) | (x, Nothing) => x,
            (Keys(mut a), Keys(b)) => {
                a.extend(b);
                Keys(a)
            }
            (Prefix(a), Prefix(b)) if a.starts_with(&b) => Prefix(b),
            (Prefix(a), Prefix(b)) if b.starts_with(&a) => Prefix(a),
            (Keys(keys), Prefix(p)) | (Prefix(p), Keys(keys))
                if keys.iter().all(|k| k.starts_with(&p)) =>
            {
                Prefix(p)
            }
            _ => Any,
        }
    }

    /// Narrow a key selection by this filter. Returns the new selection and
    /// whether it became an explicit list derived from a pattern (whose keys
    /// may then hold other types, to be skipped rather than reported).
    pub fn narrow(self, selection: KeySelection) -> (KeySelection, bool) {
        match (selection, self) {
            (selection, KeyFilter::Any) => (selection, false),
            (KeySelection::Keys(keys), filter) => {
                let keys = keys.into_iter().filter(|k| filter.admits(k)).collect();
                (KeySelection::Keys(keys), false)
            }
            (KeySelection::Pattern(_), KeyFilter::Nothing) => (KeySelection::Keys(vec![]), true),
            (KeySelection::Pattern(pattern), KeyFilter::Keys(keys)) => {
                let keys = keys
                    .into_iter()
                    .map(String::into_bytes)
                    .filter(|k| glob_match(&pattern, k))
                    .collect();
                (KeySelection::Keys(keys), true)
            }
            (KeySelection::Pattern(pattern), KeyFilter::Prefix(prefix)) => {
                let (literal, simple) = literal_prefix(&pattern);
                let prefix = prefix.into_bytes();
                if simple && prefix.starts_with(&literal) {
                    let mut narrowed = escape_glob(&prefix);
                    narrowed.push(b'*');
                    (KeySelection::Pattern(narrowed), false)
                } else if !prefix.starts_with(&literal) && !literal.starts_with(&prefix) {
                    (KeySelection::Keys(vec![]), true)
                } else {
                    (KeySelection::Pattern(pattern), false)
                }
            }
        }
    }

    fn admits(&self, key: &[u8]) -> bool {
        match self {
            KeyFilter::Any => true,
            KeyFilter::Nothing => false,
            KeyFilter::Keys(keys) => std::str::from_utf8(key).is_ok_and(|k| keys.contains(k)),
            KeyFilter::Prefix(p) => key.starts_with(p.as_bytes()),
        }
    }
}

fn non_empty(keys: BTreeSet<String>) -> KeyFilter {
    if keys.is_empty() {
        KeyFilter::Nothing
    } else {
        KeyFilter::Keys(keys)
    }
}

fn filter_of(node: &Json, key_column: &str) -> KeyFilter {
    if let Some(binary) = node.get("BinaryExpr") {
        let (left, right) = (&binary["left"], &binary["right"]);
        return match binary["op"].as_str() {
            Some("And") | Some("LogicalAnd") => {
                filter_of(left, key_column).and(filter_of(right, key_column))
            }
            Some("Or") | Some("LogicalOr") => {
                filter_of(left, key_column).or(filter_of(right, key_column))
            }
            Some("Eq") => match (is_column(left, key_column), is_column(right, key_column)) {
                (true, false) => string_literal(right).map_or(KeyFilter::Any, single),
                (false, true) => string_literal(left).map_or(KeyFilter::Any, single),
                _ => KeyFilter::Any,
            },
            _ => KeyFilter::Any,
        };
    }
    if let Some(function) = node.get("Function") {
        let inputs = function["input"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let [column, argument] = inputs else {
            return KeyFilter::Any;
        };
        if !is_column(column, key_column) {
            return KeyFilter::Any;
        }
        let kind = &function["function"];
        if kind["StringExpr"].as_str() == Some("StartsWith") {
            return string_literal(argument).map_or(KeyFilter::Any, KeyFilter::Prefix);
        }
        if kind["Boolean"].get("IsIn").is_some() {
            let values = argument["Literal"]["Values"].as_array();
            let strings: Option<BTreeSet<String>> = values.and_then(|values| {
                values
                    .iter()
                    .filter(|v| !v.is_null()) // null never equals a key
                    .map(|v| v.as_str().map(str::to_string))
                    .collect()
            });
            return strings.map_or(KeyFilter::Any, non_empty);
        }
    }
    KeyFilter::Any
}

fn single(key: String) -> KeyFilter {
    KeyFilter::Keys(BTreeSet::from([key]))
}

fn is_column(node: &Json, name: &str) -> bool {
    node["Column"].as_str() == Some(name)
}

fn string_literal(node: &Json) -> Option<String> {
    let literal = &node["Literal"];
    literal["Scalar"]["String"]
        .as_str()
        .or_else(|| literal["Dyn"]["Str"].as_str())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(value: &str) -> String {
        format!(
            r#"{{"BinaryExpr":{{"left":{{"Column":"_key"}},"op":"Eq","right":{{"Literal":{{"Scalar":{{"String":"{value}"}}}}}}}}}}"#
        )
    }

    fn starts(value: &str) -> String {
        format!(
            r#"{{"Function":{{"input":[{{"Column":"_key"}},{{"Literal":{{"Scalar":{{"String":"{value}"}}}}}}],"function":{{"StringExpr":"StartsWith"}}}}}}"#
        )
    }

    fn op(left: &str, op: &str, right: &str) -> String {
        format!(r#"{{"BinaryExpr":{{"left":{left},"op":"{op}","right":{right}}}}}"#)
    }

    fn keys(items: &[&str]) -> KeyFilter {
        KeyFilter::Keys(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn reads_key_constraints() {
        let f = |json: &str| KeyFilter::from_polars_json(json, "_key");
        assert_eq!(f(&eq("a")), keys(&["a"]));
        assert_eq!(f(&op(&eq("a"), "Or", &eq("b"))), keys(&["a", "b"]));
        assert_eq!(f(&op(&eq("a"), "And", &eq("b"))), KeyFilter::Nothing);
        assert_eq!(f(&starts("u:")), KeyFilter::Prefix("u:".into()));
        assert_eq!(f(&op(&starts("u:"), "And", &eq("u:1"))), keys(&["u:1"]));
        let other = r#"{"BinaryExpr":{"left":{"Column":"age"},"op":"Gt","right":{"Literal":{"Dyn":{"Int":3}}}}}"#;
        assert_eq!(f(&op(&eq("a"), "And", other)), keys(&["a"]));
        assert_eq!(f(&op(&eq("a"), "Or", other)), KeyFilter::Any);
        let is_in = r#"{"Function":{"input":[{"Column":"_key"},{"Literal":{"Values":["x",null,"y"]}}],"function":{"Boolean":{"IsIn":{"nulls_equal":false}}}}}"#;
        assert_eq!(f(is_in), keys(&["x", "y"]));
        assert_eq!(f("not json"), KeyFilter::Any);
        assert_eq!(f(r#"{"Unknown":1}"#), KeyFilter::Any);
    }

    #[test]
    fn narrows_selections_soundly() {
        let pattern = |p: &str| KeySelection::Pattern(p.as_bytes().to_vec());
        let (sel, derived) = keys(&["user:1", "order:1"]).narrow(pattern("user:*"));
        assert_eq!(
            (sel, derived),
            (KeySelection::Keys(vec![b"user:1".to_vec()]), true)
        );
        let (sel, _) = KeyFilter::Prefix("user:1".into()).narrow(pattern("user:*"));
        assert_eq!(sel, pattern("user:1*"));
        let (sel, _) = KeyFilter::Prefix("us".into()).narrow(pattern("user:*"));
        assert_eq!(sel, pattern("user:*"));
        let (sel, _) = KeyFilter::Prefix("order".into()).narrow(pattern("user:*"));
        assert_eq!(sel, KeySelection::Keys(vec![]));
        let (sel, _) = KeyFilter::Prefix("a*".into()).narrow(pattern("*"));
        assert_eq!(sel, pattern("a\\**"));
    }
}
