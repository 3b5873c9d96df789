//! The Redis wire protocol (RESP2, and the RESP3 types a server may send).
//!
//! Replies are decoded without copying: [`FrameScanner`] finds where a complete
//! reply ends in the read buffer, then [`ReplyReader`] walks it item by item so
//! callers can push values straight into Arrow builders. [`Value`] is the owned
//! form for the few replies that are not on a hot path (SCAN cursors, INFO, ...).

mod encode;
mod reader;
mod scanner;
mod value;

pub(crate) use encode::{count_commands, prefix_commands, push_decimal, write_array, Cmd};
pub(crate) use reader::{Item, ReplyReader};
pub(crate) use scanner::FrameScanner;
pub use value::Value;
