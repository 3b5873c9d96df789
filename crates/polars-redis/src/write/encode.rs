//! What a Redis type plugs into a write: its [`WriteKind`] (own options and
//! how rows are keyed), the [`Encoder`] that turns the rows of one key into
//! commands, and the helpers every type's encoder uses.

use std::fmt::Debug;

use super::commands::Commands;
use super::conflict::{Expiry, IfExists};
use super::frame::{Frame, FrameCells, RowRef};
use crate::error::{Error, Key, Result};
use crate::net::modules::Requirement;
use crate::types::format::{is_numeric, CellResult};

/// One Redis type's part of a [`WriteBuilder`](super::WriteBuilder): its own
/// options and how it turns rows into commands. Implemented by this
/// crate's types ([`HashWrite`](super::HashWrite), [`SetWrite`](super::SetWrite), ...)
/// only: the encoder it makes is internal.
pub trait WriteKind: Clone + Debug + Default + Send + Sync {
    /// Rows are grouped by key (collections) rather than one row per key.
    const GROUPED: bool;
    /// Appending twice leaves the same value (safe to retry after a drop).
    const APPEND_IDEMPOTENT: bool;
    /// The module this type lives in, checked before anything is sent.
    #[doc(hidden)]
    const MODULE: Option<Requirement> = None;

    /// What the server must have, checked before anything is sent (default:
    /// the type's module).
    #[doc(hidden)]
    fn requirement(&self) -> Option<Requirement> {
        Self::MODULE
    }

    /// The encoder for `frame`; `reserved` are the key and TTL columns,
    /// which are not values.
    #[doc(hidden)]
    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>>;
}

/// The type-specific half of a write: turns the rows of one key into
/// commands. `pub` (like [`GroupCtx`]) only because [`WriteKind`] names it;
/// the module is private.
pub trait Encoder: Send + Sync {
    /// Append the data commands for the rows of one key. Errors name the
    /// row, key and column.
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult;

    /// Check a key's rows before anything is sent (default: encode them).
    fn validate(&self, ctx: &GroupCtx<'_>, scratch: &mut Commands) -> CellResult {
        scratch.clear();
        self.encode(ctx, scratch)
    }

    /// Strings: one `SET` carries the value, the expiry and the condition.
    fn single_set(&self) -> bool {
        false
    }

    /// The Redis type (as `TYPE` names it) on which this encoder's data
    /// commands never fail: a key found absent or of this type, and
    /// watched until written, is written whole, so its expiry can follow
    /// in a plain transaction (see `watch`). `None` when a command can fail
    /// on a key of the right type (stream IDs, time series samples, JSON
    /// paths): the write script then stops the key before its expiry.
    fn checked_type(&self) -> Option<&'static str> {
        None
    }
}

/// One key being written: its rows and everything needed to encode them.
pub struct GroupCtx<'a> {
    pub(crate) frame: &'a Frame,
    pub(crate) cells: &'a FrameCells<'a>,
    pub(crate) key: &'a [u8],
    pub(crate) rows: &'a [RowRef],
    pub(crate) mode: IfExists,
    pub(crate) expiry: Expiry,
}

impl GroupCtx<'_> {
    /// An error about one cell, naming row, key and column.
    pub(crate) fn cell_error(
        &self,
        at: RowRef,
        column: usize,
        reason: impl std::fmt::Display,
    ) -> String {
        format!(
            "row {}, key {}, column `{}`: {reason}",
            self.frame.global(at),
            Key::from(self.key),
            self.frame.name(column)
        )
    }

    /// Append the text of a cell as one argument; null is an error (`role`).
    pub(crate) fn text_arg(
        &self,
        cmds: &mut Commands,
        at: RowRef,
        column: usize,
        role: &str,
    ) -> CellResult {
        let cell = self.cells.get(at, column);
        let row = at.row as usize;
        if cell.is_null(row) {
            return Err(self.cell_error(at, column, format!("the {role} is null")));
        }
        if cell.is_nan(row) && role != "element" && role != "member" && role != "value" {
            return Err(self.cell_error(at, column, format!("the {role} is NaN")));
        }
        cmds.arg_with(|out| cell.text(row, out))
            .map_err(|reason| self.cell_error(at, column, reason))
    }
}

/// A named column that is not the key or TTL column.
pub(crate) fn value_column(
    frame: &Frame,
    reserved: &[usize],
    name: &str,
    role: &str,
) -> Result<usize> {
    let column = frame.column(name, role)?;
    if reserved.contains(&column) {
        return Err(Error::InvalidArgument(format!(
            "{role} column `{name}` is also the key or TTL column"
        )));
    }
    Ok(column)
}

/// Reject a `role` column that is not numeric.
pub(crate) fn require_numeric(frame: &Frame, column: usize, role: &str) -> Result<()> {
    let data_type = frame.data_type(column);
    if is_numeric(data_type) {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "{role} column `{}` is {data_type}; expected a number",
        frame.name(column)
    )))
}
