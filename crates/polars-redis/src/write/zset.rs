//! Writing sorted sets: rows grouped by key, one member and score per row.

use std::collections::HashSet;

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::encode::{require_numeric, value_column, Encoder, GroupCtx, WriteKind};
use super::frame::Frame;
use crate::error::Result;
use crate::types::format::CellResult;

/// Writes sorted sets: rows are grouped by key, each row gives a member
/// (default column `member`) and its score (default `score`, numeric,
/// not NaN), added with `ZADD` in chunks. A member repeated within one
/// key is rejected (its score would be ambiguous).
pub type ZsetWriteBuilder = WriteBuilder<ZsetWrite>;

/// The sorted-set part of a [`ZsetWriteBuilder`]: the member and score
/// columns.
#[derive(Clone, Debug)]
pub struct ZsetWrite {
    member_column: String,
    score_column: String,
}

impl Default for ZsetWrite {
    fn default() -> Self {
        ZsetWrite {
            member_column: "member".into(),
            score_column: "score".into(),
        }
    }
}

impl ZsetWriteBuilder {
    /// The column holding the members. Default `member`.
    pub fn with_member_column(mut self, name: impl Into<String>) -> Self {
        self.kind.member_column = name.into();
        self
    }

    /// The column holding the scores. Default `score`.
    pub fn with_score_column(mut self, name: impl Into<String>) -> Self {
        self.kind.score_column = name.into();
        self
    }
}

impl WriteKind for ZsetWrite {
    const GROUPED: bool = true;
    const APPEND_IDEMPOTENT: bool = true;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let member = value_column(frame, reserved, &self.member_column, "member")?;
        let score = value_column(frame, reserved, &self.score_column, "score")?;
        require_numeric(frame, score, "score")?;
        Ok(Box::new(ZsetEncoder { member, score }))
    }
}

struct ZsetEncoder {
    member: usize,
    score: usize,
}

impl Encoder for ZsetEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let mut seen: HashSet<u128> = HashSet::with_capacity(ctx.rows.len());
        let mut member = Vec::new();
        for &at in ctx.rows {
            cmds.room_for("ZADD", When::Always, 2);
            ctx.text_arg(cmds, at, self.score, "score")?;
            member.clear();
            let cell = ctx.cells.get(at, self.member);
            if cell.is_null(at.row as usize) {
                return Err(ctx.cell_error(at, self.member, "the member is null"));
            }
            cell.text(at.row as usize, &mut member)
                .map_err(|reason| ctx.cell_error(at, self.member, reason))?;
            if !seen.insert(xxhash_rust::xxh3::xxh3_128(&member)) {
                return Err(ctx.cell_error(
                    at,
                    self.member,
                    "the member appears twice in this key",
                ));
            }
            cmds.arg(&member);
        }
        Ok(())
    }

    /// Scores are never NaN (refused before sending), so `ZADD` cannot fail.
    fn checked_type(&self) -> Option<&'static str> {
        Some("zset")
    }
}
