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

use crate::net::glob::{glob_match, literal_prefix};
use crate::read::keys::{escape_glob, KeySelection};

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

    pub(crate) fn and(self, other: KeyFilter) -> KeyFilter {
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
            // The query's reply is not known yet; the caller filters the rows.
            (KeySelection::Query(query), _) => (KeySelection::Query(query), false),
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

/// One end of a [`ValueRange`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// The limit; datetimes are in milliseconds since the epoch.
    pub value: f64,
    /// Whether the limit itself is included.
    pub inclusive: bool,
}

/// What a predicate says about one numeric or datetime column: every row it
/// can keep has a value inside this range (`None` ends are open).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ValueRange {
    /// Lowest value a kept row can have.
    pub lower: Option<Bound>,
    /// Highest value a kept row can have.
    pub upper: Option<Bound>,
    /// True when no row can be kept.
    pub empty: bool,
}

impl ValueRange {
    /// Read the range of `column` out of a serialized Polars predicate.
    /// Datetime literals are converted to milliseconds, widened outward so
    /// the range stays a superset.
    pub fn from_polars_json(json: &str, column: &str) -> ValueRange {
        match serde_json::from_str::<Json>(json) {
            Ok(tree) => range_of(&tree, column),
            Err(_) => ValueRange::default(),
        }
    }

    /// The range as inclusive bounds on an integer column (milliseconds,
    /// timestamps): the lowest and highest integer a kept row can have
    /// (`None` ends are open), or `None` when no integer is in range.
    pub fn integer_bounds(&self) -> Option<(Option<i128>, Option<i128>)> {
        if self.empty {
            return None;
        }
        // Float to integer `as` conversions saturate, so huge bounds stay huge.
        let lower = self.lower.map(|b| {
            let low = b.value.ceil();
            if b.inclusive || low != b.value {
                low as i128
            } else {
                low as i128 + 1
            }
        });
        let upper = self.upper.map(|b| {
            let high = b.value.floor();
            if b.inclusive || high != b.value {
                high as i128
            } else {
                high as i128 - 1
            }
        });
        match (lower, upper) {
            (Some(l), Some(u)) if l > u => None,
            bounds => Some(bounds),
        }
    }

    fn is_any(&self) -> bool {
        !self.empty && self.lower.is_none() && self.upper.is_none()
    }

    pub(crate) fn and(self, other: ValueRange) -> ValueRange {
        let lower = tighter(self.lower, other.lower, |a, b| a > b);
        let upper = tighter(self.upper, other.upper, |a, b| a < b);
        let crossed = match (lower, upper) {
            (Some(l), Some(u)) => {
                l.value > u.value || (l.value == u.value && !(l.inclusive && u.inclusive))
            }
            _ => false,
        };
        ValueRange {
            lower,
            upper,
            empty: self.empty || other.empty || crossed,
        }
    }

    fn or(self, other: ValueRange) -> ValueRange {
        if self.empty {
            return other;
        }
        if other.empty {
            return self;
        }
        ValueRange {
            lower: looser(self.lower, other.lower, |a, b| a < b),
            upper: looser(self.upper, other.upper, |a, b| a > b),
            empty: false,
        }
    }
}

/// The stricter of two bounds (`better(a, b)`: a is stricter than b).
fn tighter(a: Option<Bound>, b: Option<Bound>, better: fn(f64, f64) -> bool) -> Option<Bound> {
    match (a, b) {
        (Some(a), Some(b)) if a.value == b.value => Some(Bound {
            value: a.value,
            inclusive: a.inclusive && b.inclusive,
        }),
        (Some(a), Some(b)) => Some(if better(a.value, b.value) { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The looser of two bounds; an open end stays open.
fn looser(a: Option<Bound>, b: Option<Bound>, wider: fn(f64, f64) -> bool) -> Option<Bound> {
    match (a, b) {
        (Some(a), Some(b)) if a.value == b.value => Some(Bound {
            value: a.value,
            inclusive: a.inclusive || b.inclusive,
        }),
        (Some(a), Some(b)) => Some(if wider(a.value, b.value) { a } else { b }),
        _ => None,
    }
}

fn range_of(node: &Json, column: &str) -> ValueRange {
    let any = ValueRange::default();
    if let Some(binary) = node.get("BinaryExpr") {
        let (left, right) = (&binary["left"], &binary["right"]);
        let op = binary["op"].as_str().unwrap_or("");
        match op {
            "And" | "LogicalAnd" => return range_of(left, column).and(range_of(right, column)),
            "Or" | "LogicalOr" => {
                let (l, r) = (range_of(left, column), range_of(right, column));
                return if l.is_any() || r.is_any() {
                    any
                } else {
                    l.or(r)
                };
            }
            _ => {}
        }
        // Normalise to `column OP literal`.
        let (op, literal) = if is_column(left, column) {
            (op, right)
        } else if is_column(right, column) {
            let flipped = match op {
                "Gt" => "Lt",
                "GtEq" => "LtEq",
                "Lt" => "Gt",
                "LtEq" => "GtEq",
                other => other,
            };
            (flipped, left)
        } else {
            return any;
        };
        let Some((low, high)) = number_literal(literal) else {
            return any;
        };
        let bound = |value, inclusive| Some(Bound { value, inclusive });
        return match op {
            "Eq" => ValueRange {
                lower: bound(low, true),
                upper: bound(high, true),
                empty: false,
            },
            "Gt" => ValueRange {
                lower: bound(low, low != high),
                ..any
            },
            "GtEq" => ValueRange {
                lower: bound(low, true),
                ..any
            },
            "Lt" => ValueRange {
                upper: bound(high, low != high),
                ..any
            },
            "LtEq" => ValueRange {
                upper: bound(high, true),
                ..any
            },
            _ => any,
        };
    }
    if let Some(function) = node.get("Function") {
        let inputs = function["input"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let closed = function["function"]["Boolean"]["IsBetween"]["closed"].as_str();
        if let ([col, lo, hi], Some(closed)) = (inputs, closed) {
            if !is_column(col, column) {
                return any;
            }
            let (Some((lo, _)), Some((_, hi))) = (number_literal(lo), number_literal(hi)) else {
                return any;
            };
            let (lo_in, hi_in) = match closed {
                "Both" => (true, true),
                "Left" => (true, false),
                "Right" => (false, true),
                _ => (false, false),
            };
            return ValueRange {
                lower: Some(Bound {
                    value: lo,
                    inclusive: lo_in,
                }),
                upper: Some(Bound {
                    value: hi,
                    inclusive: hi_in,
                }),
                empty: false,
            }
            .and(ValueRange::default());
        }
    }
    any
}

/// A numeric or datetime literal as `(low, high)`: equal for exact numbers;
/// for datetimes the milliseconds just below and above (equal when exact).
fn number_literal(node: &Json) -> Option<(f64, f64)> {
    let node = node.get("Alias").and_then(|a| a.get(0)).unwrap_or(node);
    let literal = node.get("Literal")?;
    let scalar = literal.get("Dyn").or_else(|| literal.get("Scalar"))?;
    if let Some(value) = scalar.get("Int").or_else(|| scalar.get("Int64")) {
        let v = value.as_f64()?;
        return Some((v, v));
    }
    if let Some(value) = scalar.get("Float").or_else(|| scalar.get("Float64")) {
        let v = value.as_f64().filter(|v| !v.is_nan())?;
        return Some((v, v));
    }
    let datetime = scalar.get("Datetime")?.as_array()?;
    let value = datetime.first()?.as_i64()?;
    let per_ms = match datetime.get(1)?.as_str()? {
        "Milliseconds" => 1,
        "Microseconds" => 1_000,
        "Nanoseconds" => 1_000_000,
        _ => return None,
    };
    let low = value.div_euclid(per_ms) as f64;
    let high = if value.rem_euclid(per_ms) == 0 {
        low
    } else {
        low + 1.0
    };
    Some((low, high))
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
    fn reads_value_ranges() {
        let cmp = |col: &str, op: &str, lit: &str| {
            format!(r#"{{"BinaryExpr":{{"left":{{"Column":"{col}"}},"op":"{op}","right":{lit}}}}}"#)
        };
        let int = |v: i64| format!(r#"{{"Literal":{{"Dyn":{{"Int":{v}}}}}}}"#);
        let r = |json: &str| ValueRange::from_polars_json(json, "score");
        let b = |value: f64, inclusive: bool| Some(Bound { value, inclusive });

        let gt3 = cmp("score", "Gt", &int(3));
        assert_eq!(r(&gt3).lower, b(3.0, false));
        let both = op(&gt3, "And", &cmp("score", "LtEq", &int(9)));
        assert_eq!(
            (r(&both).lower, r(&both).upper),
            (b(3.0, false), b(9.0, true))
        );
        let crossed = op(&gt3, "And", &cmp("score", "Lt", &int(2)));
        assert!(r(&crossed).empty);
        let either = op(
            &cmp("score", "Lt", &int(1)),
            "Or",
            &cmp("score", "Gt", &int(5)),
        );
        assert_eq!(r(&either), ValueRange::default());
        let other = cmp("age", "Gt", &int(1));
        assert_eq!(r(&op(&gt3, "And", &other)).lower, b(3.0, false));
        assert_eq!(r(&op(&gt3, "Or", &other)), ValueRange::default());

        // 1.5 ms as microseconds: widened to [1, 2] ms.
        let ts = cmp(
            "_ts",
            "Gt",
            r#"{"Literal":{"Scalar":{"Datetime":[1500,"Microseconds",null]}}}"#,
        );
        let range = ValueRange::from_polars_json(&ts, "_ts");
        assert_eq!(range.lower, b(1.0, true));
    }

    #[test]
    fn integer_bounds_round_inward() {
        let range = |lower, upper| ValueRange {
            lower,
            upper,
            empty: false,
        };
        let b = |value: f64, inclusive: bool| Some(Bound { value, inclusive });
        assert_eq!(range(None, None).integer_bounds(), Some((None, None)));
        assert_eq!(
            range(b(3.0, false), b(9.0, false)).integer_bounds(),
            Some((Some(4), Some(8)))
        );
        assert_eq!(
            range(b(3.0, true), b(9.0, true)).integer_bounds(),
            Some((Some(3), Some(9)))
        );
        assert_eq!(
            range(b(2.5, false), b(-0.5, true)).integer_bounds(),
            None,
            "3 > -1: no integer"
        );
        assert_eq!(
            range(b(-2.5, true), b(7.5, false)).integer_bounds(),
            Some((Some(-2), Some(7)))
        );
        assert_eq!(range(b(5.0, false), b(5.5, true)).integer_bounds(), None);
        assert_eq!(
            range(b(1e300, true), None).integer_bounds(),
            Some((Some(i128::MAX), None)),
            "saturates"
        );
        let empty = ValueRange {
            empty: true,
            ..ValueRange::default()
        };
        assert_eq!(empty.integer_bounds(), None);
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
