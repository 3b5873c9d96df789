//! Translating a Polars predicate (its JSON serialization, `is_in` lists
//! already resolved by the Python facade) into a RediSearch [`Clause`].
//!
//! The translation is *sound*: every document the predicate keeps matches
//! the pushed query; the full predicate is still applied to every row
//! client-side. Any node that is not recognised means "not pushed", never
//! an error (the format is Polars-internal and changes between versions).
//!
//! Each pushed clause is either:
//! - **two-sided**: on every document whose value parses as the column's
//!   dtype, the clause matches exactly when the predicate is true, and does
//!   not match when it is false. Numeric comparisons are two-sided when the
//!   column is Float64 (or cast to Float64: both sides are the same double)
//!   or an integer column compared with an integer below 2^53 in magnitude
//!   (NUMERIC values are float64; beyond 2^53 bounds are widened instead).
//!   Two-sidedness survives AND, OR and NOT, so NOT is pushed over it;
//! - **a superset**: TAG equality (case-folded, and a multi-tag value
//!   matches each of its tags), widened integer bounds, one side of an AND.
//!   Never negated.
//!
//! TEXT equality is never pushed: tokenizing, stemming and stopwords make a
//! phrase match miss values that are equal. Prefix matches are never pushed:
//! RediSearch caps prefix expansion and silently drops the rest.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::index::{Attribute, AttributeKind, IndexInfo};
use super::query::{Clause, NumBound};
use crate::types::FieldType;
use crate::types::IndexOn;

/// Largest magnitude below which every integer is an exact float64.
const EXACT_INT: i128 = 1 << 53;
/// `is_in` lists longer than this are not pushed.
const MAX_IN_VALUES: usize = 1024;

/// The result of translating one predicate.
#[derive(Clone, Debug, PartialEq)]
pub struct Translation {
    pub(crate) clause: Option<Clause>,
    /// The pushed clause matches exactly the rows the predicate keeps
    /// (on values that parse).
    pub two_sided: bool,
    /// What was not pushed, and why.
    pub notes: Vec<String>,
}

/// Column types and the attributes that index them.
pub(crate) struct Columns<'a> {
    index: &'a IndexInfo,
    types: HashMap<&'a str, &'a FieldType>,
    identifiers: HashMap<&'a str, &'a [String]>,
}

impl<'a> Columns<'a> {
    /// `identifiers`: per column, the attribute identifiers that hold its
    /// value (the hash field, or the column's JSONPaths).
    pub(crate) fn new(
        index: &'a IndexInfo,
        fields: &'a [crate::types::Field],
        identifiers: &'a [(String, Vec<String>)],
    ) -> Self {
        Columns {
            index,
            types: fields
                .iter()
                .map(|f| (f.name.as_str(), &f.field_type))
                .collect(),
            identifiers: identifiers
                .iter()
                .map(|(c, ids)| (c.as_str(), ids.as_slice()))
                .collect(),
        }
    }

    /// The column's dtype and the attribute indexing it, if both exist.
    fn lookup(&self, column: &str) -> Option<(&'a FieldType, &'a Attribute)> {
        let field_type = self.types.get(column)?;
        let attribute = self
            .identifiers
            .get(column)?
            .iter()
            .find_map(|id| self.index.attribute_for(id))?;
        Some((field_type, attribute))
    }
}

/// A translated sub-predicate.
struct Part {
    clause: Clause,
    two_sided: bool,
}

impl Part {
    fn exact(clause: Clause) -> Option<Part> {
        Some(Part {
            clause,
            two_sided: true,
        })
    }

    fn superset(clause: Clause) -> Option<Part> {
        Some(Part {
            clause,
            two_sided: false,
        })
    }
}

/// Translate a serialized Polars predicate against `columns`.
pub(crate) fn translate(predicate: &str, columns: &Columns<'_>) -> Translation {
    let mut notes = Vec::new();
    let part = match serde_json::from_str::<Json>(predicate) {
        Ok(tree) => Translator {
            columns,
            notes: &mut notes,
        }
        .node(&tree),
        Err(_) => {
            notes.push("the predicate could not be read".into());
            None
        }
    };
    match part {
        Some(part) => Translation {
            clause: Some(part.clause),
            two_sided: part.two_sided,
            notes,
        },
        None => Translation {
            clause: None,
            two_sided: false,
            notes,
        },
    }
}

struct Translator<'a, 'b> {
    columns: &'a Columns<'a>,
    notes: &'b mut Vec<String>,
}

/// A comparison operator, normalised so the column is on the left.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Eq,
    NotEq,
    Gt,
    GtEq,
    Lt,
    LtEq,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "Eq" => Op::Eq,
            "NotEq" => Op::NotEq,
            "Gt" => Op::Gt,
            "GtEq" => Op::GtEq,
            "Lt" => Op::Lt,
            "LtEq" => Op::LtEq,
            _ => return None,
        })
    }

    fn flipped(self) -> Op {
        match self {
            Op::Gt => Op::Lt,
            Op::GtEq => Op::LtEq,
            Op::Lt => Op::Gt,
            Op::LtEq => Op::GtEq,
            other => other,
        }
    }
}

/// A literal the translator understands.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Int(i128),
    Float(f64),
    Str(String),
}

/// An indexed column as a comparison reads it.
struct Operand<'a> {
    column: ColumnRef<'a>,
    field_type: &'a FieldType,
    attribute: &'a Attribute,
}

/// The column a comparison reads: its name, and whether Polars casts it to
/// Float64 first.
struct ColumnRef<'j> {
    name: &'j str,
    as_float: bool,
}

fn column_ref(node: &Json) -> Option<ColumnRef<'_>> {
    if let Some(name) = node["Column"].as_str() {
        return Some(ColumnRef {
            name,
            as_float: false,
        });
    }
    let cast = node.get("Cast")?;
    let name = cast["expr"]["Column"].as_str()?;
    (cast["dtype"]["Literal"].as_str() == Some("Float64")).then_some(ColumnRef {
        name,
        as_float: true,
    })
}

fn literal(node: &Json) -> Option<Lit> {
    let literal = node.get("Literal")?;
    let scalar = literal.get("Scalar").or_else(|| literal.get("Dyn"))?;
    let object = scalar.as_object()?;
    let (kind, value) = object.iter().next()?;
    scalar_literal(kind, value)
}

fn scalar_literal(kind: &str, value: &Json) -> Option<Lit> {
    match kind {
        "Int" | "Int8" | "Int16" | "Int32" | "Int64" => value.as_i64().map(|v| Lit::Int(v.into())),
        "UInt8" | "UInt16" | "UInt32" | "UInt64" => value.as_u64().map(|v| Lit::Int(v.into())),
        "Float" | "Float64" => value.as_f64().filter(|v| !v.is_nan()).map(Lit::Float),
        "String" | "Str" => value.as_str().map(|s| Lit::Str(s.to_string())),
        _ => None,
    }
}

/// A value of an `is_in` list (resolved by the facade into plain JSON).
fn list_value(value: &Json) -> Option<Lit> {
    match value {
        Json::String(s) => Some(Lit::Str(s.clone())),
        Json::Number(n) => n
            .as_i64()
            .map(|v| Lit::Int(v.into()))
            .or_else(|| n.as_u64().map(|v| Lit::Int(v.into())))
            .or_else(|| n.as_f64().map(Lit::Float)),
        _ => None,
    }
}

fn is_integer(t: &FieldType) -> bool {
    use FieldType::*;
    matches!(
        t,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64
    )
}

fn is_text(t: &FieldType) -> bool {
    matches!(
        t,
        FieldType::Utf8 | FieldType::Categorical | FieldType::Enum { .. }
    )
}

/// A value that, stored on its own, is exactly one tag equal to itself. In
/// a JSON document a String column also shows other values as their JSON
/// text (`5`, `true`, `["a"]`): a value that could be such text is not
/// pushed, since the index holds the value, not its text.
fn tag_safe(value: &str, attribute: &Attribute, on: IndexOn) -> bool {
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    let json_text = on == IndexOn::Json
        && (matches!(value, "true" | "false" | "null")
            || value.starts_with(['[', '{', '"'])
            || serde_json::from_str::<f64>(value).is_ok());
    !value.is_empty()
        && trimmed.len() == value.len()
        && !json_text
        && attribute.separator.is_none_or(|sep| !value.contains(sep))
}

fn bound(value: f64, inclusive: bool) -> Option<NumBound> {
    Some(NumBound { value, inclusive })
}

impl<'a> Translator<'a, '_> {
    fn operand<'j>(&self, column: ColumnRef<'j>) -> Option<Operand<'j>>
    where
        'a: 'j,
    {
        let (field_type, attribute) = self.columns.lookup(column.name)?;
        Some(Operand {
            column,
            field_type,
            attribute,
        })
    }

    fn not_pushed(&mut self, node: &Json, why: &str) -> Option<Part> {
        let mut text = node.to_string();
        if text.len() > 120 {
            let mut cut = 117;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("...");
        }
        self.notes.push(format!("not pushed: {text}: {why}"));
        None
    }

    fn node(&mut self, node: &Json) -> Option<Part> {
        if let Some(binary) = node.get("BinaryExpr") {
            let (left, right) = (&binary["left"], &binary["right"]);
            return match binary["op"].as_str().unwrap_or("") {
                "And" | "LogicalAnd" => {
                    let (l, r) = (self.node(left), self.node(right));
                    match (l, r) {
                        (Some(l), Some(r)) => Some(Part {
                            clause: Clause::and(vec![l.clause, r.clause]),
                            two_sided: l.two_sided && r.two_sided,
                        }),
                        (Some(one), None) | (None, Some(one)) => Part::superset(one.clause),
                        (None, None) => None,
                    }
                }
                "Or" | "LogicalOr" => {
                    let (l, r) = (self.node(left), self.node(right));
                    match (l, r) {
                        (Some(l), Some(r)) => {
                            let mut parts = Vec::new();
                            for clause in [l.clause, r.clause] {
                                match clause {
                                    Clause::Or(inner) => parts.extend(inner),
                                    other => parts.push(other),
                                }
                            }
                            Some(Part {
                                clause: Clause::Or(parts),
                                two_sided: l.two_sided && r.two_sided,
                            })
                        }
                        _ => self.not_pushed(node, "one side of an OR cannot be pushed"),
                    }
                }
                op => match Op::parse(op) {
                    Some(op) => self.comparison(node, left, op, right),
                    None => self.not_pushed(node, "operator not supported"),
                },
            };
        }
        if let Some(function) = node.get("Function") {
            let inputs = function["input"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let kind = &function["function"]["Boolean"];
            if kind.as_str() == Some("Not") {
                let [inner] = inputs else { return None };
                return match self.node(inner) {
                    Some(part) if part.two_sided => Part::exact(Clause::Not(Box::new(part.clause))),
                    Some(_) => self.not_pushed(node, "NOT over a clause that is only a superset"),
                    None => None,
                };
            }
            if kind.get("IsIn").is_some() {
                return self.is_in(node, inputs);
            }
            if let Some(closed) = kind["IsBetween"]["closed"].as_str() {
                return self.between(node, inputs, closed);
            }
            if kind.as_str() == Some("IsNotNull") {
                return self.not_null(node, inputs);
            }
            return self.not_pushed(node, "function not supported");
        }
        self.not_pushed(node, "expression not supported")
    }

    fn comparison(&mut self, node: &Json, left: &Json, op: Op, right: &Json) -> Option<Part> {
        let (column, op, lit) = match (column_ref(left), column_ref(right)) {
            (Some(c), None) => (c, op, literal(right)),
            (None, Some(c)) => (c, op.flipped(), literal(left)),
            _ => return self.not_pushed(node, "not a column compared with a literal"),
        };
        let Some(lit) = lit else {
            return self.not_pushed(node, "literal type not supported");
        };
        let Some(operand) = self.operand(column) else {
            return self.not_pushed(node, "the column is not indexed");
        };
        match &operand.attribute.kind {
            AttributeKind::Numeric => self.numeric(node, &operand, op, &lit),
            AttributeKind::Tag => self.tag(node, &operand, op, &[lit]),
            AttributeKind::Text => self.not_pushed(
                node,
                "TEXT equality can miss equal values (tokenizing, stopwords)",
            ),
            other => self.not_pushed(
                node,
                &format!("{} attributes are not used for pushdown", other.name()),
            ),
        }
    }

    /// A numeric comparison, if the column's dtype and the literal allow a
    /// sound one.
    fn numeric(&mut self, node: &Json, operand: &Operand<'_>, op: Op, lit: &Lit) -> Option<Part> {
        let Operand {
            column,
            field_type,
            attribute,
        } = operand;
        let attr = attribute.name.clone();
        let float_domain = match field_type {
            FieldType::Float64 => true,
            t if is_integer(t) => column.as_float,
            _ => {
                return self.not_pushed(
                    node,
                    &format!("a {field_type} column is not compared like a NUMERIC attribute"),
                )
            }
        };
        let range = |lower, upper| Clause::Range {
            attr: attr.clone(),
            lower,
            upper,
        };
        if float_domain {
            let value = match lit {
                Lit::Float(v) => *v,
                Lit::Int(v) if v.abs() <= EXACT_INT => *v as f64,
                _ => return self.not_pushed(node, "literal is not an exact float64"),
            };
            return Part::exact(match op {
                Op::Eq => range(bound(value, true), bound(value, true)),
                Op::NotEq => Clause::Not(Box::new(range(bound(value, true), bound(value, true)))),
                Op::Gt => range(bound(value, false), None),
                Op::GtEq => range(bound(value, true), None),
                Op::Lt => range(None, bound(value, false)),
                Op::LtEq => range(None, bound(value, true)),
            });
        }
        let Lit::Int(value) = *lit else {
            return self.not_pushed(node, "an integer column compared with a non-integer");
        };
        // Every integer this small is exact, and so is every double near it.
        let small = value.abs() < EXACT_INT;
        let at = value as f64;
        let part = match (op, small) {
            (Op::Eq, _) => Part {
                clause: range(bound(at, true), bound(at, true)),
                two_sided: small,
            },
            (Op::NotEq, true) => Part {
                clause: Clause::Not(Box::new(range(bound(at, true), bound(at, true)))),
                two_sided: true,
            },
            (Op::NotEq, false) => {
                return self.not_pushed(node, "!= beyond 2^53 cannot be exact on float64")
            }
            // Rounding to float64 is monotone: v > L implies f(v) >= f(L).
            (Op::Gt | Op::GtEq, _) => Part {
                clause: range(bound(at, op == Op::GtEq || !small), None),
                two_sided: small,
            },
            (Op::Lt | Op::LtEq, _) => Part {
                clause: range(None, bound(at, op == Op::LtEq || !small)),
                two_sided: small,
            },
        };
        Some(part)
    }

    /// TAG equality with one or more values: a superset.
    fn tag(&mut self, node: &Json, operand: &Operand<'_>, op: Op, values: &[Lit]) -> Option<Part> {
        let Operand {
            column,
            field_type,
            attribute,
        } = operand;
        if column.as_float || !is_text(field_type) {
            return self.not_pushed(
                node,
                &format!("a {field_type} column does not compare like a TAG"),
            );
        }
        if op != Op::Eq {
            return self.not_pushed(node, "only equality is pushed on TAG attributes");
        }
        let mut tags = Vec::with_capacity(values.len());
        for value in values {
            match value {
                Lit::Str(s) if tag_safe(s, attribute, self.columns.index.on) => {
                    tags.push(s.clone())
                }
                _ => {
                    return self.not_pushed(
                        node,
                        "a value is empty, padded, not text, or holds the tag separator",
                    )
                }
            }
        }
        Part::superset(Clause::Tags {
            attr: attribute.name.clone(),
            values: tags,
        })
    }

    fn is_in(&mut self, node: &Json, inputs: &[Json]) -> Option<Part> {
        let [column, list] = inputs else {
            return self.not_pushed(node, "unexpected is_in shape");
        };
        let Some(column) = column_ref(column) else {
            return self.not_pushed(node, "is_in on an expression");
        };
        let Some(values) = list["Literal"]["Values"].as_array() else {
            return self.not_pushed(node, "is_in list could not be read");
        };
        // A null in the list never equals a value (nulls_equal is false in
        // filters); its rows are dropped client-side either way.
        let values: Option<Vec<Lit>> = values
            .iter()
            .filter(|v| !v.is_null())
            .map(list_value)
            .collect();
        let Some(values) = values.filter(|v| !v.is_empty() && v.len() <= MAX_IN_VALUES) else {
            return self.not_pushed(node, "is_in list empty, too long or of unsupported values");
        };
        let Some(operand) = self.operand(column) else {
            return self.not_pushed(node, "the column is not indexed");
        };
        match operand.attribute.kind {
            AttributeKind::Tag => self.tag(node, &operand, Op::Eq, &values),
            AttributeKind::Numeric => {
                let mut clauses = Vec::with_capacity(values.len());
                let mut two_sided = true;
                for value in &values {
                    let part = self.numeric(node, &operand, Op::Eq, value)?;
                    two_sided &= part.two_sided;
                    clauses.push(part.clause);
                }
                Some(Part {
                    clause: Clause::Or(clauses),
                    two_sided,
                })
            }
            _ => self.not_pushed(node, "is_in is pushed on TAG and NUMERIC attributes only"),
        }
    }

    fn between(&mut self, node: &Json, inputs: &[Json], closed: &str) -> Option<Part> {
        let [column, low, high] = inputs else {
            return self.not_pushed(node, "unexpected is_between shape");
        };
        let (Some(column), Some(low), Some(high)) =
            (column_ref(column), literal(low), literal(high))
        else {
            return self.not_pushed(node, "is_between needs a column and two literals");
        };
        let Some(operand) = self.operand(column) else {
            return self.not_pushed(node, "the column is not indexed");
        };
        if operand.attribute.kind != AttributeKind::Numeric {
            return self.not_pushed(node, "is_between is pushed on NUMERIC attributes only");
        }
        let low_op = if matches!(closed, "Both" | "Left") {
            Op::GtEq
        } else {
            Op::Gt
        };
        let high_op = if matches!(closed, "Both" | "Right") {
            Op::LtEq
        } else {
            Op::Lt
        };
        let l = self.numeric(node, &operand, low_op, &low)?;
        let h = self.numeric(node, &operand, high_op, &high)?;
        Some(Part {
            clause: Clause::and(vec![l.clause, h.clause]),
            two_sided: l.two_sided && h.two_sided,
        })
    }

    /// `is_not_null` over an attribute that indexes missing values: a value
    /// that is not null is present, so `-ismissing(@a)` is a superset.
    fn not_null(&mut self, node: &Json, inputs: &[Json]) -> Option<Part> {
        let [column] = inputs else { return None };
        let Some(column) = column_ref(column) else {
            return self.not_pushed(node, "is_not_null on an expression");
        };
        let Some(Operand { attribute, .. }) = self.operand(column) else {
            return self.not_pushed(node, "the column is not indexed");
        };
        if !attribute.flags.iter().any(|f| f == "INDEXMISSING") {
            return self.not_pushed(node, "the attribute does not index missing values");
        }
        Part::superset(Clause::Not(Box::new(Clause::Missing {
            attr: attribute.name.clone(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::index::parse_info;
    use crate::types::Field;
    use crate::Value;

    fn index() -> IndexInfo {
        let b = |s: &str| Value::Bytes(s.as_bytes().to_vec());
        let attr = |id: &str, name: &str, kind: &str| {
            Value::Array(vec![
                b("identifier"),
                b(id),
                b("attribute"),
                b(name),
                b("type"),
                b(kind),
            ])
        };
        parse_info(
            "idx",
            &Value::Array(vec![
                b("index_definition"),
                Value::Array(vec![b("key_type"), b("HASH")]),
                b("attributes"),
                Value::Array(vec![
                    attr("age", "age", "NUMERIC"),
                    attr("f", "f", "NUMERIC"),
                    attr("city", "town", "TAG"),
                    attr("name", "name", "TEXT"),
                ]),
            ]),
        )
        .unwrap()
    }

    fn fields() -> Vec<Field> {
        vec![
            Field::new("age", FieldType::Int64),
            Field::new("f", FieldType::Float64),
            Field::new("city", FieldType::Utf8),
            Field::new("name", FieldType::Utf8),
        ]
    }

    fn run(json: &str) -> (Option<String>, bool) {
        let index = index();
        let fields = fields();
        let ids: Vec<(String, Vec<String>)> = fields
            .iter()
            .map(|f| (f.name.clone(), vec![f.name.clone()]))
            .collect();
        let t = translate(json, &Columns::new(&index, &fields, &ids));
        let text = t.clause.map(|c| {
            let q = c.render("p");
            let mut text = q.text;
            for (name, value) in q.params.iter().rev() {
                text = text.replace(&format!("${name}"), value);
            }
            text
        });
        (text, t.two_sided)
    }

    fn cmp(column: &str, op: &str, lit: &str) -> String {
        format!(
            r#"{{"BinaryExpr":{{"left":{{"Column":"{column}"}},"op":"{op}","right":{{"Literal":{{"Scalar":{lit}}}}}}}}}"#
        )
    }

    #[test]
    fn numeric_comparisons() {
        assert_eq!(
            run(&cmp("age", "Gt", r#"{"Int64":30}"#)),
            (Some("@age:[(30.0 +inf]".into()), true)
        );
        assert_eq!(
            run(&cmp("f", "LtEq", r#"{"Float64":2.5}"#)),
            (Some("@f:[-inf 2.5]".into()), true)
        );
        // Beyond 2^53: widened, inclusive, and only a superset.
        assert_eq!(
            run(&cmp("age", "Gt", r#"{"Int64":9007199254740993}"#)),
            (Some("@age:[9007199254740992.0 +inf]".into()), false)
        );
        assert_eq!(
            run(&cmp("age", "NotEq", r#"{"Int64":9007199254740993}"#)).0,
            None
        );
        assert_eq!(
            run(&cmp("age", "NotEq", r#"{"Int64":3}"#)),
            (Some("-(@age:[3.0 3.0])".into()), true)
        );
    }

    #[test]
    fn tags_are_supersets_and_text_is_never_pushed() {
        assert_eq!(
            run(&cmp("city", "Eq", r#"{"String":"nobody | user*"}"#)),
            (Some("@town:{nobody | user*}".into()), false)
        );
        assert_eq!(run(&cmp("city", "Eq", r#"{"String":"a,b"}"#)).0, None);
        assert_eq!(run(&cmp("city", "Eq", r#"{"String":" a"}"#)).0, None);
        assert_eq!(run(&cmp("city", "NotEq", r#"{"String":"a"}"#)).0, None);
        assert_eq!(run(&cmp("name", "Eq", r#"{"String":"a"}"#)).0, None);
    }

    #[test]
    fn and_or_not() {
        let a = cmp("age", "Gt", r#"{"Int64":1}"#);
        let t = cmp("city", "Eq", r#"{"String":"x"}"#);
        let n = cmp("name", "Eq", r#"{"String":"x"}"#);
        let and = format!(r#"{{"BinaryExpr":{{"left":{a},"op":"And","right":{n}}}}}"#);
        assert_eq!(run(&and), (Some("@age:[(1.0 +inf]".into()), false));
        let or = format!(r#"{{"BinaryExpr":{{"left":{a},"op":"Or","right":{n}}}}}"#);
        assert_eq!(run(&or).0, None);
        let or = format!(r#"{{"BinaryExpr":{{"left":{a},"op":"Or","right":{t}}}}}"#);
        assert_eq!(
            run(&or),
            (Some("(@age:[(1.0 +inf] | @town:{x})".into()), false)
        );
        let not =
            |x: &str| format!(r#"{{"Function":{{"input":[{x}],"function":{{"Boolean":"Not"}}}}}}"#);
        assert_eq!(run(&not(&a)), (Some("-(@age:[(1.0 +inf])".into()), true));
        assert_eq!(run(&not(&t)).0, None);
        assert_eq!(run("{\"Unknown\": 1}").0, None);
        assert_eq!(run("not json").0, None);
    }

    #[test]
    fn is_in_and_between() {
        let is_in = |col: &str, values: &str| {
            format!(
                r#"{{"Function":{{"input":[{{"Column":"{col}"}},{{"Literal":{{"Values":{values}}}}}],"function":{{"Boolean":{{"IsIn":{{"nulls_equal":false}}}}}}}}}}"#
            )
        };
        assert_eq!(
            run(&is_in("city", r#"["a", null, "b"]"#)).0,
            Some("@town:{a | b}".into())
        );
        assert_eq!(
            run(&is_in("age", "[1, 2]")),
            (Some("(@age:[1.0 1.0] | @age:[2.0 2.0])".into()), true)
        );
        assert_eq!(run(&is_in("age", "[]")).0, None);
        let between = r#"{"Function":{"input":[{"Cast":{"expr":{"Column":"age"},"dtype":{"Literal":"Float64"},"options":"Strict"}},{"Literal":{"Scalar":{"Float64":1.5}}},{"Literal":{"Scalar":{"Float64":5.0}}}],"function":{"Boolean":{"IsBetween":{"closed":"Left"}}}}}"#;
        assert_eq!(
            run(between),
            (Some("(@age:[1.5 +inf] @age:[-inf (5.0])".into()), true)
        );
    }
}
