//! Writing hashes: one per row, every other column a field.

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::encode::{Encoder, GroupCtx, WriteKind};
use super::field_ttl::{FieldExpiries, FieldTtl};
use super::fields::{field_columns, RowFields};
use super::frame::Frame;
use crate::error::Result;
use crate::net::modules::{Module, Requirement};
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

/// The hash part of a [`HashWriteBuilder`]: the per-field expiries.
#[derive(Clone, Debug, Default)]
pub struct HashWrite {
    field_ttls: Vec<(String, FieldTtl)>,
}

impl HashWriteBuilder {
    /// Give field `field` an expiry (hash-field expiry, Redis 7.4+: an older
    /// server is an [`Error::Unsupported`](crate::Error::Unsupported) naming
    /// its version, before anything is written). It is set with `HEXPIRE`
    /// (`HPEXPIREAT` for a `Timestamp` column) in the same atomic unit as the
    /// value, for the rows where the field is written (not null).
    pub fn with_field_ttl(mut self, field: impl Into<String>, ttl: FieldTtl) -> Self {
        self.kind.field_ttls.push((field.into(), ttl));
        self
    }
}

impl WriteKind for HashWrite {
    const GROUPED: bool = false;
    const APPEND_IDEMPOTENT: bool = true;

    fn requirement(&self) -> Option<Requirement> {
        let needed_by = "field_ttl / field_ttl_column of write_hashes";
        (!self.field_ttls.is_empty()).then(|| Requirement::new(Module::HashFieldExpiry, needed_by))
    }

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let expiries = FieldExpiries::resolve(frame, reserved, &self.field_ttls)?;
        let fields = field_columns(frame, reserved, &expiries.ttl_columns(), "hash fields")?;
        Ok(Box::new(HashEncoder {
            fields: RowFields::new(frame, fields).with_vector_blobs(frame),
            expiries,
        }))
    }
}

struct HashEncoder {
    fields: RowFields,
    expiries: FieldExpiries,
}

impl Encoder for HashEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let row = ctx.rows[0];
        cmds.start("HSET", When::Always);
        self.fields.push(ctx, row, cmds, "hash")?;
        self.expiries.push(ctx, row, cmds);
        Ok(())
    }

    fn validate(&self, ctx: &GroupCtx<'_>, _scratch: &mut Commands) -> CellResult {
        self.fields.check(ctx, ctx.rows[0], "hash")?;
        match self.expiries.is_empty() {
            true => Ok(()),
            false => self.expiries.check(ctx, ctx.rows[0]),
        }
    }

    fn checked_type(&self) -> Option<&'static str> {
        Some("hash")
    }
}
