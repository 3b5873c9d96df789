//! Reading data in motion: stream consumer groups (`XREADGROUP`, with
//! acknowledgements and reclaiming), stream tailing (`XREAD BLOCK`) and
//! pub/sub messages.
//! Entries are decoded into Arrow by the stream scan's entry decoder
//! (`read::stream`), so a consumed entry reads exactly as a scanned one.

pub(crate) mod group;
pub(crate) mod pubsub;
pub(crate) mod stream;

pub use group::{ack_entries, pending};
pub use pubsub::{Payload, PubSubBuilder, PubSubReader};
pub use stream::{StreamReadBuilder, StreamReader};
