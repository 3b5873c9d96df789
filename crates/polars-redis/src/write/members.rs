//! One argument per row, for the types whose rows are members of their key:
//! set members (`SADD`) and list elements (`RPUSH`, optionally in the order
//! of an order column).

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::Array;
use arrow_schema::DataType;

use super::commands::{Commands, When};
use super::encode::{Encoder, GroupCtx};
use super::frame::Frame;
use super::numbers::{integer_values, timestamp_values};
use crate::error::{Error, Result};
use crate::types::format::CellResult;

/// One argument per row (`SADD` members, `RPUSH` elements), optionally
/// ordered by precomputed sort keys.
pub(crate) struct MemberEncoder {
    pub(crate) command: &'static str,
    /// The type `command` writes (as `TYPE` names it).
    pub(crate) redis_type: &'static str,
    pub(crate) role: &'static str,
    pub(crate) column: usize,
    /// Sort key of every row, `[batch][row]` (lists with an order column).
    pub(crate) order: Option<Vec<Vec<OrderKey>>>,
}

impl Encoder for MemberEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let sorted;
        let rows = match &self.order {
            None => ctx.rows,
            Some(keys) => {
                let mut owned = ctx.rows.to_vec();
                owned.sort_by(|a, b| {
                    keys[a.batch as usize][a.row as usize]
                        .cmp(&keys[b.batch as usize][b.row as usize])
                });
                sorted = owned;
                &sorted
            }
        };
        for &at in rows {
            cmds.room_for(self.command, When::Always, 1);
            ctx.text_arg(cmds, at, self.column, self.role)?;
        }
        Ok(())
    }

    fn checked_type(&self) -> Option<&'static str> {
        Some(self.redis_type)
    }
}

/// A sortable value of an order column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum OrderKey {
    Int(i64),
    Float(f64),
}

impl Eq for OrderKey {}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (OrderKey::Int(a), OrderKey::Int(b)) => a.cmp(b),
            (OrderKey::Float(a), OrderKey::Float(b)) => a.total_cmp(b),
            (OrderKey::Int(a), OrderKey::Float(b)) => (*a as f64).total_cmp(b),
            (OrderKey::Float(a), OrderKey::Int(b)) => a.total_cmp(&(*b as f64)),
        }
    }
}

/// The sort keys of an order column; nulls are rejected naming the row.
pub(crate) fn order_keys(frame: &Frame, column: usize) -> Result<Vec<Vec<OrderKey>>> {
    let name = frame.name(column);
    let mut out = Vec::with_capacity(frame.batches.len());
    let mut offset = 0;
    for batch in &frame.batches {
        let array = batch.column(column);
        let values: Vec<Option<OrderKey>> = match array.data_type() {
            DataType::Float32 => array.as_primitive::<Float32Type>().iter().map(|v| v.map(|v| OrderKey::Float(v as f64))).collect(),
            DataType::Float64 => array.as_primitive::<Float64Type>().iter().map(|v| v.map(OrderKey::Float)).collect(),
            t if t.is_integer() => integer_values(array)
                .map_err(|r| Error::InvalidArgument(format!("order column `{name}`: {r}")))?
                .into_iter()
                .map(|v| v.map(OrderKey::Int))
                .collect(),
            DataType::Timestamp(..) | DataType::Duration(_) | DataType::Time64(_) => {
                timestamp_values(array).into_iter().map(|v| v.map(OrderKey::Int)).collect()
            }
            DataType::Date32 | DataType::Time32(_) => {
                let data = array.to_data().into_builder().data_type(DataType::Int32).build()
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                arrow_array::Int32Array::from(data).iter().map(|v| v.map(|v| OrderKey::Int(v as i64))).collect()
            }
            other => {
                return Err(Error::InvalidArgument(format!(
                    "order column `{name}` is {other}; expected a number, date, datetime, time or duration"
                )))
            }
        };
        let mut keys = Vec::with_capacity(values.len());
        for (row, value) in values.into_iter().enumerate() {
            keys.push(value.ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "row {}, order column `{name}`: the order value is null (nothing was written)",
                    offset + row
                ))
            })?);
        }
        offset += batch.num_rows();
        out.push(keys);
    }
    Ok(out)
}
