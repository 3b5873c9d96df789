//! RediSearch queries as a small tree ([`Clause`]), rendered to query text
//! in which every user value travels as a `PARAMS` parameter (dialect 2) or,
//! where the syntax has no parameter slot (prefixes, phrase words), through
//! [`escape`]. Either way a value can never change the shape of the query.
//!
//! The tree is built by the predicate translator (`translate`) and by the
//! query builder of the explicit API ([`Clause::from_builder_json`]), which
//! knows the index's attribute types: equality on a TAG attribute is a tag
//! match, on a TEXT attribute a phrase match, on a NUMERIC one a range.

use serde_json::Value as Json;

use super::index::{Attribute, AttributeKind, IndexInfo};
use crate::error::{Error, Result};

/// The query dialect every request sends (parameters need 2 or higher).
pub const DIALECT: &str = "2";

/// One end of a numeric range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NumBound {
    pub(crate) value: f64,
    pub(crate) inclusive: bool,
}

/// A query tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Clause {
    /// Every document.
    All,
    /// `@attr:[lower upper]`; a missing end is open.
    Range {
        attr: String,
        lower: Option<NumBound>,
        upper: Option<NumBound>,
    },
    /// `@attr:{v1 | v2}`: any of these tags.
    Tags { attr: String, values: Vec<String> },
    /// `@attr:{prefix*}`.
    TagPrefix { attr: String, prefix: String },
    /// `@attr:"w1 w2"`: these words, adjacent, in order.
    Phrase { attr: String, words: Vec<String> },
    /// `@attr:prefix*` (full-text prefix).
    TextPrefix { attr: String, prefix: String },
    /// `@attr:[lon lat radius unit]`.
    Geo {
        attr: String,
        lon: f64,
        lat: f64,
        radius: f64,
        unit: String,
    },
    /// `ismissing(@attr)` (needs `INDEXMISSING`).
    Missing { attr: String },
    /// User-written query text, used as is (parenthesised).
    Raw(String),
    /// All of these.
    And(Vec<Clause>),
    /// Any of these.
    Or(Vec<Clause>),
    /// Not this.
    Not(Box<Clause>),
}

/// Query text and the parameters it refers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryText {
    /// The query, e.g. `(@age:[($p0 +inf] @city:{$p1})`.
    pub text: String,
    /// `(name, value)` pairs for `PARAMS`.
    pub params: Vec<(String, String)>,
}

impl QueryText {
    /// A user-written query with its own parameters.
    pub fn raw(text: impl Into<String>, params: Vec<(String, String)>) -> Self {
        QueryText {
            text: text.into(),
            params,
        }
    }

    /// Both queries (`(a) (b)`); `*` on either side drops out.
    pub(crate) fn and(self, other: QueryText) -> Result<QueryText> {
        for (name, _) in &other.params {
            if self.params.iter().any(|(n, _)| n == name) {
                return Err(Error::InvalidArgument(format!(
                    "query parameter `{name}` is defined twice"
                )));
            }
        }
        let text = match (self.text.trim(), other.text.trim()) {
            ("*", b) => b.to_string(),
            (a, "*") => a.to_string(),
            (a, b) => format!("({a}) ({b})"),
        };
        let mut params = self.params;
        params.extend(other.params);
        Ok(QueryText { text, params })
    }

    /// The query with its parameters inlined, for humans (`explain`).
    pub fn display(&self) -> String {
        let mut out = self.text.clone();
        if !self.params.is_empty() {
            let params: Vec<String> = self
                .params
                .iter()
                .map(|(n, v)| format!("{n}={v:?}"))
                .collect();
            out.push_str(&format!("  PARAMS {{{}}}", params.join(", ")));
        }
        out.push_str(&format!("  DIALECT {DIALECT}"));
        out
    }
}

/// Backslash-escape everything but letters, digits and `_`, so `text`
/// stands for itself inside a tag, a prefix or a phrase.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if !(c.is_alphanumeric() || c == '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `@name` with the name escaped (aliases may hold `-`, `.`, `$`, ...).
fn attr_ref(name: &str) -> String {
    format!("@{}", escape(name))
}

/// The words RediSearch's default tokenizer makes of `text`: it splits on
/// whitespace and on these punctuation characters.
pub(crate) fn words(text: &str) -> Vec<String> {
    const SEPARATORS: &str = ",.<>{}[]\"':;!@#$%^&*()-+=~|/\\";
    text.split(|c: char| c.is_whitespace() || SEPARATORS.contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl Clause {
    /// Render with parameters named `{prefix}0`, `{prefix}1`, ...
    pub(crate) fn render(&self, prefix: &str) -> QueryText {
        let mut renderer = Renderer {
            prefix,
            params: Vec::new(),
        };
        let text = renderer.clause(self);
        QueryText {
            text,
            params: renderer.params,
        }
    }

    /// `And` that flattens nested `And`s and drops `All`.
    pub(crate) fn and(clauses: Vec<Clause>) -> Clause {
        let mut flat = Vec::new();
        for clause in clauses {
            match clause {
                Clause::All => {}
                Clause::And(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Clause::All,
            1 => flat.pop().unwrap_or(Clause::All),
            _ => Clause::And(flat),
        }
    }
}

struct Renderer<'a> {
    prefix: &'a str,
    params: Vec<(String, String)>,
}

impl Renderer<'_> {
    fn param(&mut self, value: String) -> String {
        let name = format!("{}{}", self.prefix, self.params.len());
        self.params.push((name.clone(), value));
        format!("${name}")
    }

    fn number(&mut self, bound: Option<NumBound>, open: &str) -> String {
        match bound {
            None => open.to_string(),
            Some(b) if b.value.is_infinite() => {
                let text = if b.value > 0.0 { "+inf" } else { "-inf" };
                format!("{}{text}", if b.inclusive { "" } else { "(" })
            }
            Some(b) => {
                let p = self.param(format!("{:?}", b.value));
                format!("{}{p}", if b.inclusive { "" } else { "(" })
            }
        }
    }

    fn clause(&mut self, clause: &Clause) -> String {
        match clause {
            Clause::All => "*".into(),
            Clause::Range { attr, lower, upper } => {
                let lo = self.number(*lower, "-inf");
                let hi = self.number(*upper, "+inf");
                format!("{}:[{lo} {hi}]", attr_ref(attr))
            }
            Clause::Tags { attr, values } => {
                let values: Vec<String> = values.iter().map(|v| self.param(v.clone())).collect();
                format!("{}:{{{}}}", attr_ref(attr), values.join(" | "))
            }
            Clause::TagPrefix { attr, prefix } => {
                format!("{}:{{{}*}}", attr_ref(attr), escape(prefix))
            }
            Clause::Phrase { attr, words } => {
                let words: Vec<String> = words.iter().map(|w| escape(w)).collect();
                format!("{}:\"{}\"", attr_ref(attr), words.join(" "))
            }
            Clause::TextPrefix { attr, prefix } => {
                format!("{}:{}*", attr_ref(attr), escape(prefix))
            }
            Clause::Geo {
                attr,
                lon,
                lat,
                radius,
                unit,
            } => {
                let lon = self.param(format!("{lon:?}"));
                let lat = self.param(format!("{lat:?}"));
                let radius = self.param(format!("{radius:?}"));
                format!("{}:[{lon} {lat} {radius} {unit}]", attr_ref(attr))
            }
            Clause::Missing { attr } => format!("ismissing({})", attr_ref(attr)),
            Clause::Raw(text) => format!("({text})"),
            Clause::And(clauses) => {
                let parts: Vec<String> = clauses.iter().map(|c| self.clause(c)).collect();
                format!("({})", parts.join(" "))
            }
            Clause::Or(clauses) => {
                let parts: Vec<String> = clauses.iter().map(|c| self.clause(c)).collect();
                format!("({})", parts.join(" | "))
            }
            Clause::Not(inner) => format!("-({})", self.clause(inner)),
        }
    }
}

/// A builder node's field: an attribute by query name or identifier.
fn builder_attribute<'a>(index: &'a IndexInfo, node: &Json) -> Result<&'a Attribute> {
    let field = node["field"]
        .as_str()
        .ok_or_else(|| bad_builder("a comparison without a field name"))?;
    index
        .attribute_named(field)
        .or_else(|| index.attribute_for(field))
        .ok_or_else(|| {
            let known: Vec<&str> = index.attributes.iter().map(|a| a.name.as_str()).collect();
            Error::InvalidArgument(format!(
                "index `{}` has no attribute `{field}` (it has: {})",
                index.name,
                known.join(", ")
            ))
        })
}

fn bad_builder(what: &str) -> Error {
    Error::InvalidArgument(format!("invalid search query: {what}"))
}

fn json_number(value: &Json, what: &str) -> Result<f64> {
    value
        .as_f64()
        .filter(|v| !v.is_nan())
        .ok_or_else(|| bad_builder(&format!("{what} must be a number, got {value}")))
}

fn json_text(value: &Json, what: &str) -> Result<String> {
    match value {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        other => Err(bad_builder(&format!("{what} must be text, got {other}"))),
    }
}

impl Clause {
    /// Build a clause from the query builder's JSON (see `polars_redis.Q`):
    /// `{"and": [..]}`, `{"or": [..]}`, `{"not": q}`, `{"raw": "text"}`,
    /// `{"all": true}`, or `{"field": f, "op": op, "value": v, ...}` with
    /// `op` one of `eq ne gt ge lt le between in prefix missing geo`.
    pub(crate) fn from_builder_json(index: &IndexInfo, node: &Json) -> Result<Clause> {
        if let Some(items) = node.get("and").or_else(|| node.get("or")) {
            let clauses = items
                .as_array()
                .ok_or_else(|| bad_builder("and/or take a list"))?
                .iter()
                .map(|item| Clause::from_builder_json(index, item))
                .collect::<Result<Vec<_>>>()?;
            return Ok(if node.get("and").is_some() {
                Clause::and(clauses)
            } else if clauses.is_empty() {
                return Err(bad_builder("an empty `or` matches nothing"));
            } else {
                Clause::Or(clauses)
            });
        }
        if let Some(inner) = node.get("not") {
            return Ok(Clause::Not(Box::new(Clause::from_builder_json(
                index, inner,
            )?)));
        }
        if let Some(text) = node.get("raw") {
            return Ok(Clause::Raw(json_text(text, "raw")?));
        }
        if node.get("all").is_some() {
            return Ok(Clause::All);
        }
        let attribute = builder_attribute(index, node)?;
        let attr = attribute.name.clone();
        let op = node["op"].as_str().unwrap_or("");
        let value = &node["value"];
        let kind = &attribute.kind;
        let wrong = || {
            Error::InvalidArgument(format!(
                "`{op}` does not apply to {} attribute `{attr}`",
                kind.name()
            ))
        };
        let bound = |v: &Json, inclusive| -> Result<Option<NumBound>> {
            Ok(Some(NumBound {
                value: json_number(v, op)?,
                inclusive,
            }))
        };
        Ok(match (op, kind) {
            ("eq", _) => equality(attribute, value)?,
            ("ne", _) => Clause::Not(Box::new(equality(attribute, value)?)),
            ("in", _) => {
                let values = value
                    .as_array()
                    .ok_or_else(|| bad_builder("`in` takes a list"))?;
                if values.is_empty() {
                    return Err(bad_builder("`in` with an empty list matches nothing"));
                }
                match kind {
                    AttributeKind::Tag => Clause::Tags {
                        attr,
                        values: values
                            .iter()
                            .map(|v| json_text(v, "a tag"))
                            .collect::<Result<_>>()?,
                    },
                    _ => Clause::Or(
                        values
                            .iter()
                            .map(|v| equality(attribute, v))
                            .collect::<Result<_>>()?,
                    ),
                }
            }
            ("gt" | "ge" | "lt" | "le" | "between", AttributeKind::Numeric) => {
                let (lower, upper) = match op {
                    "gt" => (bound(value, false)?, None),
                    "ge" => (bound(value, true)?, None),
                    "lt" => (None, bound(value, false)?),
                    "le" => (None, bound(value, true)?),
                    _ => {
                        let closed = node["closed"].as_str().unwrap_or("both");
                        let low_in = matches!(closed, "both" | "left");
                        let high_in = matches!(closed, "both" | "right");
                        (bound(&node["low"], low_in)?, bound(&node["high"], high_in)?)
                    }
                };
                Clause::Range { attr, lower, upper }
            }
            ("prefix", AttributeKind::Tag) => Clause::TagPrefix {
                attr,
                prefix: json_text(value, "a prefix")?,
            },
            ("prefix", AttributeKind::Text) => Clause::TextPrefix {
                attr,
                prefix: json_text(value, "a prefix")?,
            },
            ("missing", _) => Clause::Missing { attr },
            ("geo", AttributeKind::Geo) => Clause::Geo {
                attr,
                lon: json_number(&node["lon"], "lon")?,
                lat: json_number(&node["lat"], "lat")?,
                radius: json_number(&node["radius"], "radius")?,
                unit: match node["unit"].as_str().unwrap_or("km") {
                    unit @ ("m" | "km" | "mi" | "ft") => unit.to_string(),
                    other => return Err(bad_builder(&format!("unknown geo unit {other:?}"))),
                },
            },
            _ => return Err(wrong()),
        })
    }
}

/// Equality as the attribute type understands it.
fn equality(attribute: &Attribute, value: &Json) -> Result<Clause> {
    let attr = attribute.name.clone();
    Ok(match attribute.kind {
        AttributeKind::Numeric => {
            let v = json_number(value, "a NUMERIC value")?;
            let b = Some(NumBound {
                value: v,
                inclusive: true,
            });
            Clause::Range {
                attr,
                lower: b,
                upper: b,
            }
        }
        AttributeKind::Tag => Clause::Tags {
            attr,
            values: vec![json_text(value, "a tag")?],
        },
        AttributeKind::Text => {
            let text = json_text(value, "a phrase")?;
            let words = words(&text);
            if words.is_empty() {
                return Err(bad_builder(&format!(
                    "the phrase {text:?} has no words to match"
                )));
            }
            Clause::Phrase { attr, words }
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "equality does not apply to {} attribute `{attr}`",
                attribute.kind.name()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_parameters() {
        let clause = Clause::And(vec![
            Clause::Range {
                attr: "age".into(),
                lower: Some(NumBound {
                    value: 30.0,
                    inclusive: false,
                }),
                upper: None,
            },
            Clause::Not(Box::new(Clause::Tags {
                attr: "my-city".into(),
                values: vec!["nobody | user*".into()],
            })),
        ]);
        let q = clause.render("p");
        assert_eq!(q.text, "(@age:[($p0 +inf] -(@my\\-city:{$p1}))");
        assert_eq!(
            q.params,
            vec![
                ("p0".to_string(), "30.0".to_string()),
                ("p1".to_string(), "nobody | user*".to_string())
            ]
        );
    }

    #[test]
    fn escapes_and_tokenizes() {
        assert_eq!(escape("a b|c*"), "a\\ b\\|c\\*");
        assert_eq!(escape("日本_x"), "日本_x");
        assert_eq!(words("Hello, big-world!"), vec!["Hello", "big", "world"]);
        let q = Clause::TagPrefix {
            attr: "t".into(),
            prefix: "user*".into(),
        }
        .render("p");
        assert_eq!(q.text, "@t:{user\\**}");
    }

    #[test]
    fn and_flattens() {
        let a = Clause::Missing { attr: "a".into() };
        assert_eq!(Clause::and(vec![Clause::All, a.clone()]), a);
        assert_eq!(Clause::and(vec![]), Clause::All);
        let q = QueryText::raw("*", vec![])
            .and(QueryText::raw("@a:{x}", vec![]))
            .unwrap();
        assert_eq!(q.text, "@a:{x}");
    }
}
