//! Writing JSON documents (RedisJSON): one per row, every other column an
//! attribute.

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::conflict::IfExists;
use super::encode::{Encoder, GroupCtx, WriteKind};
use super::fields::field_columns;
use super::frame::Frame;
use crate::error::Result;
use crate::net::modules::{Module, Requirement};
use crate::types::format::CellResult;

/// Writes one JSON document per row (`JSON.SET key $ doc`, RedisJSON):
/// an object with one attribute per column but the key (and TTL) column.
/// Numbers and booleans are JSON numbers and booleans; text, dates,
/// datetimes, times and decimals are strings in their text form (exact);
/// Struct and List columns become nested objects and arrays. A float NaN
/// or infinity, or binary data that is not UTF-8, is rejected.
pub type JsonWriteBuilder = WriteBuilder<JsonWrite>;

/// The JSON part of a [`JsonWriteBuilder`]: no options of its own.
#[derive(Clone, Debug, Default)]
pub struct JsonWrite;

impl WriteKind for JsonWrite {
    const GROUPED: bool = false;
    const APPEND_IDEMPOTENT: bool = true;
    const MODULE: Option<Requirement> = Some(Requirement::new(Module::Json, "write_json"));

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let fields = field_columns(frame, reserved, &[], "JSON attributes")?;
        let mut names = Vec::new();
        let fields = fields
            .into_iter()
            .map(|(c, name)| {
                names.clear();
                crate::types::format::push_json_string(
                    &mut names,
                    std::str::from_utf8(&name).unwrap_or_default(),
                );
                (c, names.clone())
            })
            .collect();
        Ok(Box::new(JsonEncoder { fields }))
    }
}

struct JsonEncoder {
    /// Column and its quoted JSON name.
    fields: Vec<(usize, Vec<u8>)>,
}

impl Encoder for JsonEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let at = ctx.rows[0];
        let row = at.row as usize;
        let merge = ctx.mode == IfExists::Append;
        cmds.start(if merge { "JSON.MERGE" } else { "JSON.SET" }, When::Always);
        cmds.arg(b"$");
        cmds.arg_with(|out| {
            out.push(b'{');
            let mut first = true;
            for (column, name) in &self.fields {
                let cell = ctx.cells.get(at, *column);
                if merge && cell.is_null(row) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(name);
                out.push(b':');
                cell.json(row, out)
                    .map_err(|reason| ctx.cell_error(at, *column, reason))?;
            }
            out.push(b'}');
            Ok(())
        })
    }
}
