//! Writing hashes from long form: rows grouped by key, one field per row
//! (the field-name and value columns), sent as `HSET` in chunks.

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::encode::{value_column, Encoder, GroupCtx, WriteKind};
use super::frame::Frame;
use crate::error::{Error, Result};
use crate::types::format::CellResult;

/// Writes hashes from long form (what
/// [`HashFieldsScanBuilder`](crate::HashFieldsScanBuilder) reads): rows are
/// grouped by key, each row one field, its name from the field column
/// (default `field`) and its value from the value column (default `value`).
pub type HashFieldsWriteBuilder = WriteBuilder<HashFieldsWrite>;

/// The long-form hash part of a [`HashFieldsWriteBuilder`]: its columns.
#[derive(Clone, Debug)]
pub struct HashFieldsWrite {
    field_column: String,
    value_column: String,
}

impl Default for HashFieldsWrite {
    fn default() -> Self {
        HashFieldsWrite {
            field_column: "field".into(),
            value_column: "value".into(),
        }
    }
}

impl HashFieldsWriteBuilder {
    /// The column holding the field names. Default `field`.
    pub fn with_field_column(mut self, name: impl Into<String>) -> Self {
        self.kind.field_column = name.into();
        self
    }

    /// The column holding the values. Default `value`.
    pub fn with_value_column(mut self, name: impl Into<String>) -> Self {
        self.kind.value_column = name.into();
        self
    }
}

impl WriteKind for HashFieldsWrite {
    const GROUPED: bool = true;
    const APPEND_IDEMPOTENT: bool = true;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let field = value_column(frame, reserved, &self.field_column, "field")?;
        let value = value_column(frame, reserved, &self.value_column, "value")?;
        if field == value {
            return Err(Error::InvalidArgument(format!(
                "the field and value columns are both `{}`",
                self.field_column
            )));
        }
        let unused: Vec<&str> = (0..frame.schema.fields().len())
            .filter(|c| ![field, value].contains(c) && !reserved.contains(c))
            .map(|c| frame.name(c))
            .collect();
        if !unused.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "column(s) `{}` are neither the key, TTL, field nor value column; drop them \
                 (a long-form row is one field)",
                unused.join("`, `")
            )));
        }
        Ok(Box::new(HashFieldsEncoder { field, value }))
    }
}

struct HashFieldsEncoder {
    field: usize,
    value: usize,
}

impl Encoder for HashFieldsEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        for &at in ctx.rows {
            cmds.room_for("HSET", When::Always, 2);
            ctx.text_arg(cmds, at, self.field, "field")?;
            ctx.text_arg(cmds, at, self.value, "value")?;
        }
        Ok(())
    }
}
