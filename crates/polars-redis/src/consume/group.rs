//! Consumer group bookkeeping: acknowledging entries (`XACK`), listing the
//! pending ones (`XPENDING`), creating a group, and the connection to the
//! server holding a stream (its cluster master).

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema};

use crate::error::{Error, Key, Result};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::resp::{Cmd, Item};
use crate::net::runtime::runtime;

/// Ids acknowledged per `XACK` command.
const ACK_CHUNK: usize = 10_000;

/// Entries listed per `XPENDING` page.
const PENDING_PAGE: usize = 10_000;

/// Acknowledge `ids` of `stream` in consumer group `group` (`XACK`, in
/// chunks); returns how many were pending and are acknowledged now.
pub fn ack_entries(
    config: &ConnectionConfig,
    stream: &[u8],
    group: &[u8],
    ids: &[Vec<u8>],
) -> Result<u64> {
    runtime().block_on(async {
        let mut conn = connect_to_key(config, stream).await?;
        ack_on(&mut conn, &[(stream, group, ids)]).await
    })
}

/// The entries of `stream` delivered to consumers of `group` and not yet
/// acknowledged (`XPENDING` extended form, paged), optionally only those of
/// `consumer`: columns `_id` (String), `consumer` (String), `idle_ms` and
/// `deliveries` (Int64), in id order.
pub fn pending(
    config: &ConnectionConfig,
    stream: &[u8],
    group: &[u8],
    consumer: Option<&[u8]>,
) -> Result<RecordBatch> {
    runtime().block_on(async {
        let mut conn = connect_to_key(config, stream).await?;
        let mut ids = StringBuilder::new();
        let mut consumers = StringBuilder::new();
        let mut idle = Int64Builder::new();
        let mut deliveries = Int64Builder::new();
        let mut start = b"-".to_vec();
        loop {
            let mut cmd = Cmd::new("XPENDING");
            cmd.arg(stream)
                .arg(group)
                .arg(&start)
                .arg("+")
                .arg(PENDING_PAGE.to_string());
            if let Some(consumer) = consumer {
                cmd.arg(consumer);
            }
            conn.queue(&cmd);
            conn.flush().await?;
            let last = conn
                .read_reply("XPENDING", |r| {
                    let bad = || unexpected_reply("XPENDING", stream);
                    let len = match r.next()? {
                        Item::Array(len) => len,
                        Item::Error(message) => {
                            return Err(server_error("XPENDING", Some(stream), message))
                        }
                        _ => return Err(bad()),
                    };
                    let mut last = None;
                    for _ in 0..len {
                        let (Item::Array(4), Item::Bytes(id), Item::Bytes(owner)) =
                            (r.next()?, r.next()?, r.next()?)
                        else {
                            return Err(bad());
                        };
                        let (Item::Int(idle_ms), Item::Int(count)) = (r.next()?, r.next()?) else {
                            return Err(bad());
                        };
                        ids.append_value(String::from_utf8_lossy(id));
                        consumers.append_value(String::from_utf8_lossy(owner));
                        idle.append_value(idle_ms);
                        deliveries.append_value(count);
                        last = Some(id.to_vec());
                    }
                    Ok((len == PENDING_PAGE).then_some(last).flatten())
                })
                .await?;
            match last {
                Some(last) => start = [b"(", last.as_slice()].concat(),
                None => break,
            }
        }
        let schema = Schema::new(vec![
            ArrowField::new("_id", DataType::Utf8, false),
            ArrowField::new("consumer", DataType::Utf8, false),
            ArrowField::new("idle_ms", DataType::Int64, false),
            ArrowField::new("deliveries", DataType::Int64, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids.finish()),
            Arc::new(consumers.finish()),
            Arc::new(idle.finish()),
            Arc::new(deliveries.finish()),
        ];
        RecordBatch::try_new(Arc::new(schema), columns)
            .map_err(|e| Error::Protocol(format!("internal: batch assembly failed: {e}")))
    })
}

/// A connection to the server holding `key`: the standalone server, or the
/// cluster master of its slot.
pub(crate) async fn connect_to_key(config: &ConnectionConfig, key: &[u8]) -> Result<Connection> {
    let mut seed = Connection::connect(config).await?;
    let topology = Topology::discover(&mut seed, config).await?;
    if !topology.is_cluster() {
        return Ok(seed);
    }
    let node = &topology.nodes()[topology.node_of(key)];
    let mut conn = Connection::connect(&node.config).await?;
    conn.set_cluster(true);
    Ok(conn)
}

/// Entry ids to acknowledge: `(stream, group, ids)`.
pub(crate) type Acks<'a> = (&'a [u8], &'a [u8], &'a [Vec<u8>]);

/// Acknowledge each `(stream, group, ids)` on `conn` (one pipeline);
/// returns the total `XACK` count.
pub(crate) async fn ack_on(conn: &mut Connection, acks: &[Acks<'_>]) -> Result<u64> {
    let mut streams = Vec::new();
    for &(stream, group, ids) in acks {
        for chunk in ids.chunks(ACK_CHUNK) {
            let mut cmd = Cmd::new("XACK");
            cmd.arg(stream).arg(group).args(chunk);
            conn.queue(&cmd);
            streams.push(stream);
        }
    }
    if streams.is_empty() {
        return Ok(0);
    }
    conn.flush().await?;
    let mut total = 0;
    let mut first_error = None;
    for stream in streams {
        let reply = conn
            .read_reply("XACK", |r| match r.next()? {
                Item::Int(n) => Ok(n.max(0) as u64),
                Item::Error(message) => Err(server_error("XACK", Some(stream), message)),
                _ => Err(unexpected_reply("XACK", stream)),
            })
            .await;
        match reply {
            Ok(n) => total += n,
            Err(err) if first_error.is_none() => first_error = Some(err),
            Err(_) => {}
        }
    }
    first_error.map_or(Ok(total), Err)
}

/// Create consumer group `group` on `stream` (`XGROUP CREATE ... MKSTREAM`,
/// so the stream is created empty when missing), delivering the entries
/// after `start_id` (`"0"`: all, `"$"`: new ones only). A group that already
/// exists is left as it is.
pub(crate) async fn create_group(
    conn: &mut Connection,
    stream: &[u8],
    group: &[u8],
    start_id: &str,
) -> Result<()> {
    let mut cmd = Cmd::new("XGROUP");
    cmd.arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg(start_id)
        .arg("MKSTREAM");
    match conn.query(&cmd).await {
        Ok(_) => Ok(()),
        Err(Error::Server { message, .. }) if message.starts_with("BUSYGROUP") => Ok(()),
        Err(Error::Server { message, .. }) => Err(Error::Server {
            command: "XGROUP CREATE".into(),
            key: Some(Key::from(stream)),
            message,
        }),
        Err(other) => Err(other),
    }
}
