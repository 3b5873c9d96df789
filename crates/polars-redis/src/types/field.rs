//! A named, typed value column: the unit every reader, writer and index
//! attribute is described in.

use crate::error::{Error, Result};
use crate::types::FieldType;

/// A named, typed value column of a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Column name; also the hash field / JSON attribute / stream field read.
    pub name: String,
    /// How the stored bytes are read.
    pub field_type: FieldType,
}

impl Field {
    /// A field named `name` read as `field_type`.
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Self {
        Field {
            name: name.into(),
            field_type,
        }
    }
}

/// Reject List and Struct fields for a type whose values are flat strings
/// (`values`, e.g. `hash values`), naming the first such field.
pub(crate) fn check_flat(fields: &[Field], values: &str) -> Result<()> {
    match fields.iter().find(|f| f.field_type.is_nested()) {
        Some(field) => Err(Error::InvalidArgument(format!(
            "field `{}`: {} is not supported for {values} (they are flat strings; \
             List and Struct dtypes are for JSON documents)",
            field.name, field.field_type
        ))),
        None => Ok(()),
    }
}
