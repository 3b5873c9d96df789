//! Writing lists: rows grouped by key, one element per row, pushed in row
//! order or in the order of an order column.

use super::builder::WriteBuilder;
use super::encode::{value_column, Encoder, WriteKind};
use super::frame::Frame;
use super::members::{order_keys, MemberEncoder};
use crate::error::Result;

/// Writes lists: rows are grouped by key, the element column (default
/// `element`) gives one element per row, pushed with `RPUSH` in row
/// order, or in ascending order of the order column when one is given.
pub type ListWriteBuilder = WriteBuilder<ListWrite>;

/// The list part of a [`ListWriteBuilder`]: the element and order columns.
#[derive(Clone, Debug)]
pub struct ListWrite {
    element_column: String,
    order_column: Option<String>,
}

impl Default for ListWrite {
    fn default() -> Self {
        ListWrite {
            element_column: "element".into(),
            order_column: None,
        }
    }
}

impl ListWriteBuilder {
    /// The column holding the elements. Default `element`.
    pub fn with_element_column(mut self, name: impl Into<String>) -> Self {
        self.kind.element_column = name.into();
        self
    }

    /// Push each key's elements in ascending order of this numeric or
    /// temporal column (stable: ties keep row order).
    pub fn with_order_column(mut self, name: Option<&str>) -> Self {
        self.kind.order_column = name.map(str::to_string);
        self
    }
}

impl WriteKind for ListWrite {
    const GROUPED: bool = true;
    const APPEND_IDEMPOTENT: bool = false;

    fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let element = value_column(frame, reserved, &self.element_column, "element")?;
        let order = match &self.order_column {
            None => None,
            Some(name) => Some(order_keys(
                frame,
                value_column(frame, reserved, name, "order")?,
            )?),
        };
        Ok(Box::new(MemberEncoder {
            command: "RPUSH",
            redis_type: "list",
            role: "element",
            column: element,
            order,
        }))
    }
}
