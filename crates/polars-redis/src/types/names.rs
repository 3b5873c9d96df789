//! The names of the field types that take no parameters, spelled as Polars
//! spells its dtypes. This table is the one place they are declared: the
//! Python binding reads dtype specs by it and exports the names, from which
//! the Python package builds its Polars dtype mapping. A new simple type is
//! one line here.

use super::FieldType;

/// Every field type without parameters, with its Polars dtype name.
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
