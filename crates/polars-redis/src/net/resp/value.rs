//! Owned replies, for commands off the hot path.

/// A decoded reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A bulk, simple or verbatim string.
    Bytes(Vec<u8>),
    /// An integer reply.
    Int(i64),
    /// A RESP3 double.
    Double(f64),
    /// A RESP3 boolean.
    Bool(bool),
    /// A null reply.
    Nil,
    /// An array, set or push reply.
    Array(Vec<Value>),
    /// A RESP3 map, as ordered pairs.
    Map(Vec<(Value, Value)>),
    /// An error reply nested inside an aggregate (top-level errors become [`crate::Error`]).
    Error(String),
}

impl Value {
    /// The bytes of a string reply.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The integer of an integer reply, or of a string reply holding digits.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// The elements of an array reply.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The reply as UTF-8 text (lossy), for messages and INFO parsing.
    pub fn to_text(&self) -> String {
        match self {
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        }
    }
}
