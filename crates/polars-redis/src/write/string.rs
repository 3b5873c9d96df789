//! Writing strings: one per row, from the value column.

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::conflict::{Expiry, IfExists};
use super::encode::{value_column, Encoder, GroupCtx, WriteKind};
use super::frame::Frame;
use crate::error::Result;
use crate::types::format::CellResult;

/// Writes one string per row from the value column (default `value`),
/// with one `SET` per key carrying the TTL (`EX`/`PXAT`) and the
/// condition (`NX` for `fail`/`skip`). `append` replaces the value and
/// keeps the TTL (`KEEPTTL`) with `SET ... GET`, which the server refuses
/// (writing nothing) when the key holds another type. Other columns are
/// not written.
pub type StringWriteBuilder = WriteBuilder<StringWrite>;

/// The string part of a [`StringWriteBuilder`]: the value column.
#[derive(Clone, Debug)]
pub struct StringWrite {
    value_column: String,
}

impl Default for StringWrite {
    fn default() -> Self {
        StringWrite {
            value_column: "value".into(),
        }
    }
}

impl StringWriteBuilder {
    /// The column holding the values. Default `value`.
    pub fn with_value_column(mut self, name: impl Into<String>) -> Self {
        self.kind.value_column = name.into();
        self
    }
}

impl WriteKind for StringWrite {
    const GROUPED: bool = false;
    const APPEND_IDEMPOTENT: bool = true;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let value = value_column(frame, reserved, &self.value_column, "value")?;
        Ok(Box::new(StringEncoder { value }))
    }
}

struct StringEncoder {
    value: usize,
}

impl Encoder for StringEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        cmds.start("SET", When::Always);
        ctx.text_arg(cmds, ctx.rows[0], self.value, "value")?;
        let mut number = itoa::Buffer::new();
        match ctx.expiry {
            Expiry::Keep if ctx.mode == IfExists::Append => cmds.arg(b"KEEPTTL"),
            Expiry::Keep => {}
            Expiry::Seconds(s) => {
                cmds.arg(b"EX");
                cmds.arg(number.format(s).as_bytes());
            }
            Expiry::AtMillis(ms) => {
                cmds.arg(b"PXAT");
                cmds.arg(number.format(ms).as_bytes());
            }
        }
        if ctx.mode.guarded() {
            cmds.arg(b"NX");
        }
        if ctx.mode == IfExists::Append {
            // WRONGTYPE for a key of another type: SET never replaces it.
            cmds.arg(b"GET");
        }
        Ok(())
    }

    fn single_set(&self) -> bool {
        true
    }
}
