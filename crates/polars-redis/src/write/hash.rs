//! Writing hashes: one per row, every other column a field.

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::encode::{Encoder, GroupCtx, WriteKind};
use super::fields::{field_columns, RowFields};
use super::frame::Frame;
use crate::error::Result;
use crate::types::format::CellResult;

/// Writes one hash per row: every column but the key (and TTL) column is
/// a field, its value formatted by the rules of the `format` module (float
/// vector columns as little-endian blobs, see [`VectorType`](crate::VectorType)).
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, HashWriteBuilder, IfExists};
/// # fn batches() -> Vec<arrow_array::RecordBatch> { vec![] }
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let result = HashWriteBuilder::new(config)
///     .with_key_column(Some("id"))
///     .with_key_prefix("user:")
///     .with_ttl(Some(std::time::Duration::from_secs(3600)))
///     .with_if_exists(IfExists::Replace)
///     .write(batches())?;
/// println!("{result}");
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type HashWriteBuilder = WriteBuilder<HashWrite>;

/// The hash part of a [`HashWriteBuilder`]: no options of its own.
#[derive(Clone, Debug, Default)]
pub struct HashWrite;

impl WriteKind for HashWrite {
    const GROUPED: bool = false;
    const APPEND_IDEMPOTENT: bool = true;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let fields = field_columns(frame, reserved, &[], "hash fields")?;
        Ok(Box::new(HashEncoder(
            RowFields::new(frame, fields).with_vector_blobs(frame),
        )))
    }
}

struct HashEncoder(RowFields);

impl Encoder for HashEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        cmds.start("HSET", When::Always);
        self.0.push(ctx, ctx.rows[0], cmds, "hash")
    }

    fn validate(&self, ctx: &GroupCtx<'_>, _scratch: &mut Commands) -> CellResult {
        self.0.check(ctx, ctx.rows[0], "hash")
    }

    fn checked_type(&self) -> Option<&'static str> {
        Some("hash")
    }
}
