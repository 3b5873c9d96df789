//! Writing sets: rows grouped by key, one member per row.

use super::builder::WriteBuilder;
use super::encode::{value_column, Encoder, WriteKind};
use super::frame::Frame;
use super::members::MemberEncoder;
use crate::error::Result;

/// Writes sets: rows are grouped by key, the member column (default
/// `member`) gives one member per row (`SADD`, in chunks).
pub type SetWriteBuilder = WriteBuilder<SetWrite>;

/// The set part of a [`SetWriteBuilder`]: the member column.
#[derive(Clone, Debug)]
pub struct SetWrite {
    member_column: String,
}

impl Default for SetWrite {
    fn default() -> Self {
        SetWrite {
            member_column: "member".into(),
        }
    }
}

impl SetWriteBuilder {
    /// The column holding the members. Default `member`.
    pub fn with_member_column(mut self, name: impl Into<String>) -> Self {
        self.kind.member_column = name.into();
        self
    }
}

impl WriteKind for SetWrite {
    const GROUPED: bool = true;
    const APPEND_IDEMPOTENT: bool = true;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let member = value_column(frame, reserved, &self.member_column, "member")?;
        Ok(Box::new(MemberEncoder {
            command: "SADD",
            redis_type: "set",
            role: "member",
            column: member,
            order: None,
        }))
    }
}
