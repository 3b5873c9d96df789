//! The type table's declarations: [`TimeUnit`], [`FieldType`] (with the
//! simple dtypes by name) and [`Field`], a named `FieldType`. They are one
//! file because `FieldType::Struct` holds `Field`s.

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field as ArrowField, TimeUnit as ArrowTimeUnit};

use crate::error::{Error, Result};
use chrono::format::{Item, StrftimeItems};

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

    /// Units in one second.
    pub(crate) fn per_second(self) -> i64 {
        match self {
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
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
    /// A variable-length list of values of one type (JSON arrays, and the
    /// JSON text of a hash, stream or string value).
    List(Box<FieldType>),
    /// A list of exactly `width` values of one type (`pl.Array`), read like
    /// `List`; an array of another length is unparsable.
    Array(Box<FieldType>, usize),
    /// Named fields, each of its own type (JSON objects, and the JSON text
    /// of a hash, stream or string value).
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
            FieldType::Array(inner, width) => DataType::FixedSizeList(
                Arc::new(ArrowField::new_list_field(inner.arrow_type(), true)),
                // `FieldType::array` keeps the width within i32.
                *width as i32,
            ),
            FieldType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| ArrowField::new(&f.name, f.field_type.arrow_type(), true))
                    .collect(),
            ),
        }
    }

    /// True for `List`, `Array` and `Struct`, whose values are JSON arrays
    /// and objects (or their JSON text).
    pub fn is_nested(&self) -> bool {
        matches!(
            self,
            FieldType::List(_) | FieldType::Array(..) | FieldType::Struct(_)
        )
    }

    /// A fixed-width array type, validating the width (1 to 2^31 - 1).
    pub fn array(inner: FieldType, width: usize) -> Result<Self> {
        if width == 0 || i32::try_from(width).is_err() {
            return Err(Error::InvalidArgument(format!(
                "invalid Array width {width}: it must be 1 to 2147483647"
            )));
        }
        Ok(FieldType::Array(Box::new(inner), width))
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
            FieldType::Array(inner, width) => write!(f, "Array({inner}, {width})"),
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

/// How the values of one temporal column are stored as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextForm {
    /// Text in a strftime format.
    Strftime(Strftime),
    /// An integer count of a unit (see the module docs for its origin).
    Epoch(EpochUnit),
}

/// A validated strftime format.
#[derive(Clone)]
pub struct Strftime {
    text: Arc<str>,
    pub(crate) items: Arc<[Item<'static>]>,
}

impl PartialEq for Strftime {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Strftime {}

impl fmt::Debug for Strftime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Strftime({:?})", self.text)
    }
}

/// The unit of an epoch count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochUnit {
    /// Seconds (`epoch_s`).
    Second,
    /// Milliseconds (`epoch_ms`).
    Millisecond,
    /// Microseconds (`epoch_us`).
    Microsecond,
    /// Nanoseconds (`epoch_ns`).
    Nanosecond,
}

const EPOCH_UNITS: [(&str, EpochUnit); 4] = [
    ("epoch_s", EpochUnit::Second),
    ("epoch_ms", EpochUnit::Millisecond),
    ("epoch_us", EpochUnit::Microsecond),
    ("epoch_ns", EpochUnit::Nanosecond),
];

impl EpochUnit {
    pub(crate) fn per_second(self) -> i64 {
        match self {
            EpochUnit::Second => 1,
            EpochUnit::Millisecond => 1_000,
            EpochUnit::Microsecond => 1_000_000,
            EpochUnit::Nanosecond => 1_000_000_000,
        }
    }
}

impl TextForm {
    /// A form from its spec: `epoch_s`, `epoch_ms`, `epoch_us`, `epoch_ns`,
    /// or a strftime format (validated here).
    pub fn from_spec(spec: &str) -> Result<Self> {
        if let Some((_, unit)) = EPOCH_UNITS.iter().find(|(name, _)| *name == spec) {
            return Ok(TextForm::Epoch(*unit));
        }
        if spec.starts_with("epoch") {
            return Err(Error::InvalidArgument(format!(
                "unknown epoch unit `{spec}` (expected epoch_s, epoch_ms, epoch_us or epoch_ns)"
            )));
        }
        let items = StrftimeItems::new(spec).parse_to_owned().map_err(|_| {
            Error::InvalidArgument(format!("`{spec}` is not a valid strftime format"))
        })?;
        if !items
            .iter()
            .any(|item| matches!(item, Item::Numeric(..) | Item::Fixed(_)))
        {
            return Err(Error::InvalidArgument(format!(
                "`{spec}` is neither an epoch unit (epoch_s, epoch_ms, epoch_us, epoch_ns) \
                 nor a strftime format (it has no % field)"
            )));
        }
        Ok(TextForm::Strftime(Strftime {
            text: Arc::from(spec),
            items: items.into(),
        }))
    }

    /// The spec this form was made from.
    pub fn spec(&self) -> &str {
        match self {
            TextForm::Strftime(format) => &format.text,
            TextForm::Epoch(unit) => EPOCH_UNITS
                .iter()
                .find(|(_, u)| u == unit)
                .map_or("epoch", |(name, _)| name),
        }
    }
}

/// A named, typed value column of a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Column name; also the hash field / JSON attribute / stream field read.
    pub name: String,
    /// How the stored bytes are read.
    pub field_type: FieldType,
    /// The declared stored form of a temporal field (`None`: the type
    /// table's default form); set by `ScanOptions::with_formats`.
    pub(crate) form: Option<TextForm>,
}

impl Field {
    /// A field named `name` read as `field_type`.
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Self {
        Field {
            name: name.into(),
            field_type,
            form: None,
        }
    }

    /// The same field stored in `form` (a temporal field; checked by the caller).
    pub(crate) fn with_form(mut self, form: TextForm) -> Self {
        self.form = Some(form);
        self
    }
}

/// `fields` with their declared stored forms (`formats`: column name and
/// form); an error naming a column that is not a value column of the `what`
/// (`scan`, `aggregation`), is not read from stored text, or whose type the
/// form does not fit.
pub(crate) fn apply_forms(
    mut fields: Vec<Field>,
    formats: &[(String, TextForm)],
    what: &str,
) -> Result<Vec<Field>> {
    for (column, form) in formats {
        let Some(field) = fields.iter_mut().find(|f| &f.name == column) else {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return Err(Error::InvalidArgument(format!(
                "formats: `{column}` is not a value column of this {what} (its value columns: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        if field.form.is_some() {
            return Err(Error::InvalidArgument(format!(
                "formats: column `{column}` is not read from stored text, so it has no stored form to declare"
            )));
        }
        form.check(column, &field.field_type)?;
        field.form = Some(form.clone());
    }
    Ok(fields)
}

/// Reject List and Struct fields for a type whose values are flat strings
/// (`values`, e.g. `hash values`), naming the first such field.
pub(crate) fn check_flat(fields: &[Field], values: &str) -> Result<()> {
    match fields.iter().find(|f| f.field_type.is_nested()) {
        Some(field) => Err(Error::InvalidArgument(format!(
            "field `{}`: {} is not supported for {values} (they are flat strings; \
             List and Struct columns are read from JSON documents, and from JSON \
             text in hashes, streams and strings)",
            field.name, field.field_type
        ))),
        None => Ok(()),
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
