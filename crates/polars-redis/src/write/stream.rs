//! Writing streams: one entry per row, appended in row order.

use super::builder::WriteBuilder;
use super::commands::{Commands, When};
use super::encode::{value_column, Encoder, GroupCtx, WriteKind};
use super::fields::{field_columns, RowFields};
use super::frame::Frame;
use crate::error::Result;
use crate::types::format::CellResult;

/// Appends one stream entry per row, in row order; every column but the
/// key, TTL and id columns is an entry field. Entries get `*` ids unless
/// an id column is given; `with_maxlen` trims with `MAXLEN`.
pub type StreamWriteBuilder = WriteBuilder<StreamWrite>;

/// The stream part of a [`StreamWriteBuilder`]: the id column and trimming.
#[derive(Clone, Debug, Default)]
pub struct StreamWrite {
    id_column: Option<String>,
    maxlen: Option<(u64, bool)>,
}

impl StreamWriteBuilder {
    /// Take entry ids (`<ms>-<seq>`, `<ms>-*`) from this column.
    pub fn with_id_column(mut self, name: Option<&str>) -> Self {
        self.kind.id_column = name.map(str::to_string);
        self
    }

    /// Trim each stream to about (`approximate`, `MAXLEN ~`) or exactly this
    /// many entries as entries are added.
    pub fn with_maxlen(mut self, maxlen: Option<u64>, approximate: bool) -> Self {
        self.kind.maxlen = maxlen.map(|n| (n, approximate));
        self
    }
}

impl WriteKind for StreamWrite {
    const GROUPED: bool = true;
    const APPEND_IDEMPOTENT: bool = false;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let id = self
            .id_column
            .as_deref()
            .map(|name| value_column(frame, reserved, name, "stream id"))
            .transpose()?;
        let exclude: Vec<usize> = id.into_iter().collect();
        let fields = field_columns(frame, reserved, &exclude, "stream entry fields")?;
        let trim = self.maxlen.map(|(n, approximate)| {
            let mut args = vec![b"MAXLEN".to_vec()];
            if approximate {
                args.push(b"~".to_vec());
            }
            args.push(n.to_string().into_bytes());
            args
        });
        Ok(Box::new(StreamEncoder {
            fields: RowFields::new(frame, fields),
            id,
            trim: trim.unwrap_or_default(),
        }))
    }
}

struct StreamEncoder {
    fields: RowFields,
    id: Option<usize>,
    trim: Vec<Vec<u8>>,
}

impl Encoder for StreamEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        for &at in ctx.rows {
            cmds.start("XADD", When::Always);
            for arg in &self.trim {
                cmds.arg(arg);
            }
            match self.id {
                Some(column) => ctx.text_arg(cmds, at, column, "stream id")?,
                None => cmds.arg(b"*"),
            }
            self.fields.push(ctx, at, cmds, "stream entry")?;
        }
        Ok(())
    }
}
