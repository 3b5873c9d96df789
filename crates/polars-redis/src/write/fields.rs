//! Field/value pairs from columns, for the types whose every value column
//! is a field: hashes and stream entries.

use super::commands::Commands;
use super::encode::GroupCtx;
use super::frame::{Frame, RowRef};
use crate::error::{Error, Key, Result};
use crate::types::format::{CellResult, Cells};
use crate::types::VectorType;

/// Every column but the reserved ones and `exclude`, with its name; at least one.
pub(crate) fn field_columns(
    frame: &Frame,
    reserved: &[usize],
    exclude: &[usize],
    what: &str,
) -> Result<Vec<(usize, Vec<u8>)>> {
    let columns: Vec<(usize, Vec<u8>)> = (0..frame.schema.fields().len())
        .filter(|c| !reserved.contains(c) && !exclude.contains(c))
        .map(|c| (c, frame.name(c).as_bytes().to_vec()))
        .collect();
    if columns.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "the frame has no column to write as {what} (besides the key and TTL columns)"
        )));
    }
    Ok(columns)
}

/// Field/value pairs of one row from every value column; nulls left out.
pub(crate) struct RowFields {
    fields: Vec<(usize, Vec<u8>)>,
    /// Columns whose formatting can fail, checked before sending.
    checked: Vec<usize>,
    /// Float vector columns written as blobs (hashes), with their element type.
    blobs: Vec<(usize, VectorType)>,
}

impl RowFields {
    pub(crate) fn new(frame: &Frame, fields: Vec<(usize, Vec<u8>)>) -> Self {
        let checked = fields
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| frame.fallible(*c))
            .collect();
        RowFields {
            fields,
            checked,
            blobs: Vec::new(),
        }
    }

    /// The same fields, float vector columns written as little-endian
    /// blobs instead of JSON text (see `types/vector.rs`).
    pub(crate) fn with_vector_blobs(mut self, frame: &Frame) -> Self {
        self.blobs = self
            .fields
            .iter()
            .filter_map(|(c, _)| Some((*c, VectorType::of_arrow(frame.data_type(*c))?)))
            .collect();
        self
    }

    /// Append the stored form of non-null cell `row` of `column`.
    fn value(&self, cell: &dyn Cells, column: usize, row: usize, out: &mut Vec<u8>) -> CellResult {
        match self.blobs.iter().find(|(c, _)| *c == column) {
            Some((_, element)) => cell.blob(row, *element, out),
            None => cell.text(row, out),
        }
    }

    /// Append the pairs of row `at` to the current command.
    pub(crate) fn push(
        &self,
        ctx: &GroupCtx<'_>,
        at: RowRef,
        cmds: &mut Commands,
        what: &str,
    ) -> CellResult {
        let row = at.row as usize;
        let mut any = false;
        for (column, name) in &self.fields {
            let cell = ctx.cells.get(at, *column);
            if cell.is_null(row) {
                continue;
            }
            any = true;
            cmds.arg(name);
            cmds.arg_with(|out| self.value(cell, *column, row, out))
                .map_err(|reason| ctx.cell_error(at, *column, reason))?;
        }
        if any {
            Ok(())
        } else {
            Err(all_null(ctx, at, what))
        }
    }

    /// The cheap pre-send check: some value is not null, fallible columns format.
    pub(crate) fn check(&self, ctx: &GroupCtx<'_>, at: RowRef, what: &str) -> CellResult {
        let row = at.row as usize;
        let mut scratch = Vec::new();
        for column in &self.checked {
            let cell = ctx.cells.get(at, *column);
            if !cell.is_null(row) {
                scratch.clear();
                self.value(cell, *column, row, &mut scratch)
                    .map_err(|reason| ctx.cell_error(at, *column, reason))?;
            }
        }
        if self
            .fields
            .iter()
            .any(|(c, _)| !ctx.cells.get(at, *c).is_null(row))
        {
            return Ok(());
        }
        Err(all_null(ctx, at, what))
    }
}

/// The error for a row whose every value is null.
fn all_null(ctx: &GroupCtx<'_>, at: RowRef, what: &str) -> String {
    format!(
        "row {}, key {}: every value is null, and Redis cannot store an empty {what}",
        ctx.frame.global(at),
        Key::from(ctx.key)
    )
}
