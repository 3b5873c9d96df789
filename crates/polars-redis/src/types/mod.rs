//! The Redis-string → Arrow type table.
//!
//! Redis stores every hash field, string value and stream field as bytes. A
//! [`FieldType`] says how to read those bytes; this table is the single place
//! where the mapping is declared (the parse rules live in `parse.rs`).
//!
//! | `FieldType`                 | Arrow type                   | Accepted text                                               |
//! |-----------------------------|------------------------------|-------------------------------------------------------------|
//! | `Utf8`                      | `Utf8View`                   | any valid UTF-8                                             |
//! | `Binary`                    | `BinaryView`                 | any bytes, kept as they are                                 |
//! | `Boolean`                   | `Boolean`                    | `true/false t/f yes/no y/n on/off 1/0`, any case            |
//! | `Int8` ... `Int64`          | `Int8` ... `Int64`           | decimal integer with optional sign, in range                |
//! | `UInt8` ... `UInt64`        | `UInt8` ... `UInt64`         | decimal integer, in range                                   |
//! | `Float32`, `Float64`        | `Float32`, `Float64`         | decimal or exponent notation, `inf`, `-inf`, `nan`          |
//! | `Date`                      | `Date32`                     | `YYYY-MM-DD`, or integer days since 1970-01-01              |
//! | `Datetime { unit, tz }`     | `Timestamp(unit, tz)`        | ISO-8601 (`T` or space, fraction, `Z`/`±HH:MM`), or integer `unit`s since the epoch |
//! | `Time`                      | `Time64(ns)`                 | `HH:MM[:SS[.f]]`, or integer nanoseconds since midnight     |
//! | `Duration { unit }`         | `Duration(unit)`             | integer count of `unit`                                     |
//! | `Decimal { precision, scale }` | `Decimal128(p, s)`        | `[-+]digits[.digits]`; never rounded                        |
//! | `Categorical`               | `Utf8View` (Python casts)    | any valid UTF-8                                             |
//! | `Enum { categories }`       | `Utf8View` (Python casts)    | one of the categories                                       |
//! | `List(inner)`               | `List(inner)`                | JSON only: an array, each element read as `inner`           |
//! | `Struct(fields)`            | `Struct(fields)`             | JSON only: an object, each member read as its field's type  |
//!
//! Writes format values by the inverse rules (`write/format.rs`), choosing
//! one canonical form per type: `true`/`false`, shortest round-trip floats,
//! `YYYY-MM-DD`, ISO-8601 datetimes with the column zone's offset (`Z` for
//! UTC, no offset when naive), `HH:MM:SS[.fffffffff]`, integer durations and
//! decimals with exactly `scale` fraction digits.
//!
//! Datetime values with an offset are instants; naive values are wall time in
//! the column's time zone (UTC when it has none). A naive time that does not
//! exist or is ambiguous in that zone is unparsable rather than guessed.
//!
//! ## JSON values
//!
//! RedisJSON documents carry typed values; each JSON kind is read by the
//! column types below, the text rules above applying to its text. Any other
//! pairing is unparsable (a strict-mode error naming key, field and value,
//! or a null for that one value).
//!
//! | JSON value        | read by                                                                 |
//! |-------------------|-------------------------------------------------------------------------|
//! | number            | `Int*`, `UInt*` (an integer in range: `1.5` is unparsable, never truncated), `Float*`, `Decimal` (its exact text, never rounded), `Date`, `Datetime`, `Time`, `Duration` (integer counts, as for hashes) |
//! | string            | `Utf8`, `Categorical`, `Enum`, `Binary` (its UTF-8 bytes), `Date`, `Datetime`, `Time`, `Decimal` (its text) |
//! | `true` / `false`  | `Boolean`                                                               |
//! | `null`            | null, for every type                                                    |
//! | array             | `List` (element by element; a bad element is one null in non-strict mode) |
//! | object            | `Struct` (member by member; members not in the struct are ignored, missing ones are null) |
//! | anything          | `Utf8` and `Binary` read a non-string value as its JSON text, e.g. `[1,2]` or `true` |

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field as ArrowField, TimeUnit as ArrowTimeUnit};

use crate::error::{Error, Result};

pub(crate) mod columns;
mod field;
pub(crate) mod format;
mod index_on;
pub(crate) mod json_text;
pub(crate) mod parse;

pub(crate) use field::check_flat;
pub use field::Field;
pub use index_on::IndexOn;

/// Time resolution of datetimes and durations (the units Polars supports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
    /// Nanoseconds.
    Nanosecond,
}

impl TimeUnit {
    /// Parse `ms`, `us` or `ns`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "ms" => Ok(TimeUnit::Millisecond),
            "us" => Ok(TimeUnit::Microsecond),
            "ns" => Ok(TimeUnit::Nanosecond),
            other => Err(Error::InvalidArgument(format!(
                "unknown time unit `{other}` (expected ms, us or ns)"
            ))),
        }
    }

    /// `ms`, `us` or `ns`.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        }
    }

    fn to_arrow(self) -> ArrowTimeUnit {
        match self {
            TimeUnit::Millisecond => ArrowTimeUnit::Millisecond,
            TimeUnit::Microsecond => ArrowTimeUnit::Microsecond,
            TimeUnit::Nanosecond => ArrowTimeUnit::Nanosecond,
        }
    }
}

/// How the bytes of one field are read; see the module docs for the table.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    /// UTF-8 text.
    Utf8,
    /// Raw bytes.
    Binary,
    /// A boolean.
    Boolean,
    /// 8-bit signed integer.
    Int8,
    /// 16-bit signed integer.
    Int16,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 8-bit unsigned integer.
    UInt8,
    /// 16-bit unsigned integer.
    UInt16,
    /// 32-bit unsigned integer.
    UInt32,
    /// 64-bit unsigned integer.
    UInt64,
    /// 32-bit float.
    Float32,
    /// 64-bit float.
    Float64,
    /// A calendar date.
    Date,
    /// An instant, with a resolution and an optional IANA time zone.
    Datetime {
        /// Resolution.
        unit: TimeUnit,
        /// IANA zone name, e.g. `UTC` or `Europe/Amsterdam`.
        tz: Option<Arc<str>>,
    },
    /// A time of day (nanosecond resolution).
    Time,
    /// A signed duration.
    Duration {
        /// Resolution.
        unit: TimeUnit,
    },
    /// A fixed-point decimal.
    Decimal {
        /// Total number of digits (1 to 38).
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// UTF-8 text that Python casts to `pl.Categorical`.
    Categorical,
    /// UTF-8 text restricted to fixed categories; Python casts to `pl.Enum`.
    Enum {
        /// The allowed values.
        categories: Arc<[String]>,
    },
    /// A variable-length list of values of one type (JSON arrays only).
    List(Box<FieldType>),
    /// Named fields, each of its own type (JSON objects only).
    Struct(Vec<Field>),
}

impl FieldType {
    /// A datetime type, validating the time zone name.
    pub fn datetime(unit: TimeUnit, tz: Option<&str>) -> Result<Self> {
        if let Some(tz) = tz {
            tz.parse::<chrono_tz::Tz>()
                .map_err(|_| Error::InvalidArgument(format!("unknown time zone `{tz}`")))?;
        }
        Ok(FieldType::Datetime {
            unit,
            tz: tz.map(Arc::from),
        })
    }

    /// A decimal type, validating precision and scale.
    pub fn decimal(precision: u8, scale: i8) -> Result<Self> {
        if !(1..=38).contains(&precision) || scale < 0 || scale as u8 > precision {
            return Err(Error::InvalidArgument(format!(
                "invalid Decimal({precision}, {scale}): precision must be 1..=38 and 0 <= scale <= precision"
            )));
        }
        Ok(FieldType::Decimal { precision, scale })
    }

    /// The Arrow type of the column this field type produces.
    pub fn arrow_type(&self) -> DataType {
        match self {
            FieldType::Utf8 | FieldType::Categorical | FieldType::Enum { .. } => DataType::Utf8View,
            FieldType::Binary => DataType::BinaryView,
            FieldType::Boolean => DataType::Boolean,
            FieldType::Int8 => DataType::Int8,
            FieldType::Int16 => DataType::Int16,
            FieldType::Int32 => DataType::Int32,
            FieldType::Int64 => DataType::Int64,
            FieldType::UInt8 => DataType::UInt8,
            FieldType::UInt16 => DataType::UInt16,
            FieldType::UInt32 => DataType::UInt32,
            FieldType::UInt64 => DataType::UInt64,
            FieldType::Float32 => DataType::Float32,
            FieldType::Float64 => DataType::Float64,
            FieldType::Date => DataType::Date32,
            FieldType::Datetime { unit, tz } => DataType::Timestamp(unit.to_arrow(), tz.clone()),
            FieldType::Time => DataType::Time64(ArrowTimeUnit::Nanosecond),
            FieldType::Duration { unit } => DataType::Duration(unit.to_arrow()),
            FieldType::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            FieldType::List(inner) => DataType::List(Arc::new(ArrowField::new_list_field(
                inner.arrow_type(),
                true,
            ))),
            FieldType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| ArrowField::new(&f.name, f.field_type.arrow_type(), true))
                    .collect(),
            ),
        }
    }

    /// True for `List` and `Struct`, which only JSON documents can fill.
    pub fn is_nested(&self) -> bool {
        matches!(self, FieldType::List(_) | FieldType::Struct(_))
    }

    /// A struct type, rejecting an empty or duplicate field list.
    pub fn structure(fields: Vec<Field>) -> Result<Self> {
        if fields.is_empty() {
            return Err(Error::InvalidArgument(
                "a struct needs at least one field".into(),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for field in &fields {
            if !names.insert(field.name.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "struct field `{}` appears twice",
                    field.name
                )));
            }
        }
        Ok(FieldType::Struct(fields))
    }
}

/// The field types without parameters by their names, spelled as Polars
/// spells its dtypes: the one place they are declared. The Python binding
/// reads dtype specs by it and exports the names, from which the Python
/// package builds its Polars dtype mapping; a new simple type is one line here.
pub const SIMPLE_TYPES: [(&str, FieldType); 16] = [
    ("String", FieldType::Utf8),
    ("Binary", FieldType::Binary),
    ("Boolean", FieldType::Boolean),
    ("Int8", FieldType::Int8),
    ("Int16", FieldType::Int16),
    ("Int32", FieldType::Int32),
    ("Int64", FieldType::Int64),
    ("UInt8", FieldType::UInt8),
    ("UInt16", FieldType::UInt16),
    ("UInt32", FieldType::UInt32),
    ("UInt64", FieldType::UInt64),
    ("Float32", FieldType::Float32),
    ("Float64", FieldType::Float64),
    ("Date", FieldType::Date),
    ("Time", FieldType::Time),
    ("Categorical", FieldType::Categorical),
];

impl FieldType {
    /// The field type without parameters of this Polars dtype name (`"Int64"`,
    /// `"String"`, ...); `None` for other names, including the parametric
    /// `Datetime`, `Duration`, `Decimal`, `Enum`, `List` and `Struct`.
    pub fn from_name(name: &str) -> Option<FieldType> {
        SIMPLE_TYPES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
    }

    /// The Polars dtype name of a field type without parameters; `None` for
    /// the parametric ones.
    pub fn name(&self) -> Option<&'static str> {
        SIMPLE_TYPES
            .iter()
            .find(|(_, t)| t == self)
            .map(|(n, _)| *n)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            return f.write_str(name);
        }
        match self {
            FieldType::Datetime { unit, tz: None } => write!(f, "Datetime({})", unit.name()),
            FieldType::Datetime { unit, tz: Some(tz) } => {
                write!(f, "Datetime({}, {tz})", unit.name())
            }
            FieldType::Duration { unit } => write!(f, "Duration({})", unit.name()),
            FieldType::Decimal { precision, scale } => write!(f, "Decimal({precision}, {scale})"),
            FieldType::Enum { categories } => write!(f, "Enum({} categories)", categories.len()),
            FieldType::List(inner) => write!(f, "List({inner})"),
            FieldType::Struct(fields) => {
                f.write_str("Struct(")?;
                for (i, field) in fields.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}: {}", field.name, field.field_type)?;
                }
                f.write_str(")")
            }
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_simple_name_reads_back() {
        for (name, field_type) in &SIMPLE_TYPES {
            assert_eq!(FieldType::from_name(name).as_ref(), Some(field_type));
            assert_eq!(field_type.name(), Some(*name));
            assert_eq!(field_type.to_string(), *name);
        }
        assert_eq!(FieldType::from_name("Datetime"), None);
        assert_eq!(
            FieldType::Duration {
                unit: crate::TimeUnit::Millisecond
            }
            .name(),
            None
        );
    }
}
