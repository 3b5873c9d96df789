//! Pub/sub: subscribe to channels or patterns and gather the messages into
//! Arrow batches (`channel`, `pattern`, `_received_at`, then the payload as
//! text or, for JSON payloads, a struct read by the JSON value reader).
//!
//! On a cluster, channels are subscribed with `SSUBSCRIBE` (sharded
//! pub/sub) on the master of each channel's slot, one connection per slot;
//! patterns with `PSUBSCRIBE` on one node (pattern messages are broadcast to
//! every node). Each connection is read by a task that forwards messages to
//! the reader, so messages of every node arrive as they come.
//!
//! Pub/sub is fire-and-forget: a message published while nobody is
//! subscribed is never seen.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{Error, Key, Result};
use crate::net::cluster::{key_slot, Topology};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, Connection};
use crate::net::resp::{Cmd, Item};
use crate::net::runtime::runtime;
use crate::read::layout::{ExtraColumns, KeyType, Layout};
use crate::read::paged::RowSink;
use crate::types::{EpochUnit, Field, FieldType, TextForm, TimeUnit};

/// Messages waiting in the reader, per subscription connection, before the
/// connection's task waits for the reader to take them.
const QUEUE: usize = 10_000;

/// How a message's payload becomes columns.
#[derive(Clone, Debug)]
pub enum Payload {
    /// One `payload` column: the message as text (String), or its raw
    /// bytes (Binary).
    Raw(FieldType),
    /// The payload is a JSON object; these fields of it, read by the JSON
    /// value rules into one struct column named `payload`.
    Json(Vec<Field>),
}

/// Builds a [`PubSubReader`].
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, FieldType, Payload, PubSubBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let mut reader = PubSubBuilder::new(config, vec![b"news".to_vec()])
///     .with_payload(Payload::Raw(FieldType::Utf8))
///     .build()?;
/// let batch = reader.next_batch(100, Some(std::time::Duration::from_secs(1)))?;
/// println!("{} messages", batch.num_rows());
/// # Ok::<(), polars_redis::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PubSubBuilder {
    config: ConnectionConfig,
    channels: Vec<Vec<u8>>,
    patterns: bool,
    payload: Payload,
    strict: bool,
}

impl PubSubBuilder {
    /// Subscribe to these channels (at least one).
    pub fn new(config: ConnectionConfig, channels: Vec<Vec<u8>>) -> Self {
        PubSubBuilder {
            config,
            channels,
            patterns: false,
            payload: Payload::Raw(FieldType::Utf8),
            strict: true,
        }
    }

    /// Treat the channels as glob patterns (`PSUBSCRIBE`). Default off.
    pub fn with_patterns(mut self, patterns: bool) -> Self {
        self.patterns = patterns;
        self
    }

    /// How payloads become columns. Default: text.
    pub fn with_payload(mut self, payload: Payload) -> Self {
        self.payload = payload;
        self
    }

    /// A payload that does not parse is an error (`true`, the default) or null.
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Connect and subscribe; returns once every subscription is confirmed,
    /// so messages published afterwards are seen.
    pub fn build(self) -> Result<PubSubReader> {
        if self.channels.is_empty() {
            return Err(Error::InvalidArgument(
                "no channel to subscribe to: pass at least one channel".into(),
            ));
        }
        let layout = self.layout()?;
        let schema = layout.fetch_schema.clone();
        let rt = runtime();
        let (sender, messages) = mpsc::channel(QUEUE);
        let tasks = rt.block_on(self.subscribe(sender))?;
        Ok(PubSubReader {
            layout,
            schema,
            messages,
            tasks,
        })
    }

    fn layout(&self) -> Result<Layout> {
        let received = FieldType::datetime(TimeUnit::Microsecond, Some("UTC"))?;
        let payload = match &self.payload {
            Payload::Raw(field_type @ (FieldType::Utf8 | FieldType::Binary)) => field_type.clone(),
            Payload::Raw(other) => {
                return Err(Error::InvalidArgument(format!(
                    "a raw payload is read as String or Binary, not {other}"
                )))
            }
            Payload::Json(fields) => FieldType::Struct(fields.clone()),
        };
        let fields = vec![
            Field::new("pattern", FieldType::Utf8),
            Field::new("_received_at", received).with_form(TextForm::Epoch(EpochUnit::Microsecond)),
            Field::new("payload", payload),
        ];
        let extra = ExtraColumns {
            key: Some("channel".into()),
            key_type: KeyType::Utf8,
            ttl: None,
            row_index: None,
        };
        Layout::new(extra, fields, self.strict)
    }

    /// One connection per subscription target, each read by its own task.
    async fn subscribe(
        &self,
        sender: mpsc::Sender<Result<Message>>,
    ) -> Result<Vec<JoinHandle<()>>> {
        // No reply timeout: a subscription waits for messages indefinitely.
        let config = self.config.clone().with_command_timeout(None);
        let mut seed = Connection::connect(&config).await?;
        let topology = Topology::discover(&mut seed, &config).await?;
        let sharded = topology.is_cluster() && !self.patterns;
        let command = match (self.patterns, sharded) {
            (true, _) => "PSUBSCRIBE",
            (false, true) => "SSUBSCRIBE",
            (false, false) => "SUBSCRIBE",
        };
        let mut groups: BTreeMap<u16, Vec<Vec<u8>>> = BTreeMap::new();
        for channel in &self.channels {
            let slot = if sharded { key_slot(channel) } else { 0 };
            groups.entry(slot).or_default().push(channel.clone());
        }
        let mut seed = Some(seed).filter(|_| !sharded);
        let mut tasks = Vec::with_capacity(groups.len());
        for channels in groups.into_values() {
            let mut conn = match seed.take() {
                Some(conn) => conn,
                None => {
                    let node = &topology.nodes()[topology.node_of(&channels[0])];
                    let mut conn =
                        Connection::connect(&node.config.clone().with_command_timeout(None))
                            .await?;
                    conn.set_cluster(true);
                    conn
                }
            };
            let mut cmd = Cmd::new(command);
            cmd.args(&channels);
            conn.queue(&cmd);
            conn.flush().await?;
            for channel in &channels {
                conn.read_reply(command, |r| match r.next()? {
                    Item::Array(3) => {
                        r.next()?;
                        r.next()?;
                        r.next()?;
                        Ok(())
                    }
                    Item::Error(message) => Err(server_error(command, Some(channel), message)),
                    _ => Err(Error::Protocol(format!(
                        "unexpected reply to {command} {}",
                        Key::from(channel.as_slice())
                    ))),
                })
                .await?;
            }
            let sender = sender.clone();
            tasks.push(runtime().spawn(forward(conn, sender)));
        }
        Ok(tasks)
    }
}

/// One message as received.
#[derive(Debug)]
struct Message {
    channel: Vec<u8>,
    pattern: Option<Vec<u8>>,
    payload: Vec<u8>,
    received_us: i64,
}

/// Read messages from `conn` and send them on until the reader is gone.
async fn forward(mut conn: Connection, sender: mpsc::Sender<Result<Message>>) {
    loop {
        let message = conn
            .read_reply("a message", |r| {
                let len = match r.next()? {
                    Item::Array(len) => len,
                    Item::Error(message) => return Err(server_error("SUBSCRIBE", None, message)),
                    _ => return Ok(None),
                };
                let mut parts = Vec::with_capacity(len);
                for _ in 0..len {
                    match r.next()? {
                        Item::Bytes(bytes) => parts.push(bytes),
                        Item::Int(_) => parts.push(b""),
                        _ => return Ok(None),
                    }
                }
                let received_us = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as i64);
                Ok(match parts.as_slice() {
                    [kind, channel, payload] if *kind == b"message" || *kind == b"smessage" => {
                        Some(Message {
                            channel: channel.to_vec(),
                            pattern: None,
                            payload: payload.to_vec(),
                            received_us,
                        })
                    }
                    [kind, pattern, channel, payload] if *kind == b"pmessage" => Some(Message {
                        channel: channel.to_vec(),
                        pattern: Some(pattern.to_vec()),
                        payload: payload.to_vec(),
                        received_us,
                    }),
                    // Subscription confirmations and the like.
                    _ => None,
                })
            })
            .await;
        let stop = message.is_err();
        let sent = match message {
            Ok(None) => continue,
            Ok(Some(message)) => sender.send(Ok(message)).await,
            Err(err) => sender.send(Err(err)).await,
        };
        if stop || sent.is_err() {
            return;
        }
    }
}

/// Gathers published messages into batches; made by [`PubSubBuilder`].
/// Dropping it unsubscribes (its connections close).
pub struct PubSubReader {
    layout: Layout,
    schema: SchemaRef,
    messages: mpsc::Receiver<Result<Message>>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for PubSubReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubReader")
            .field("connections", &self.tasks.len())
            .finish()
    }
}

impl Drop for PubSubReader {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl PubSubReader {
    /// The schema of every batch: `channel`, `pattern`, `_received_at`
    /// (`Datetime(us, UTC)`), `payload`.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The messages received until `max` of them came or `timeout` passed
    /// (`None`: wait for `max`); maybe none.
    pub fn next_batch(&mut self, max: usize, timeout: Option<Duration>) -> Result<RecordBatch> {
        runtime().block_on(self.next_batch_async(max.max(1), timeout))
    }

    async fn next_batch_async(
        &mut self,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<RecordBatch> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut rows = self.layout.builders(max);
        let mut count = 0;
        while count < max {
            let message = match deadline {
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                        Ok(message) => message,
                        Err(_) => break,
                    }
                }
                None => self.messages.recv().await,
            };
            let Some(message) = message else {
                return Err(Error::Protocol(
                    "the subscription connections are gone".into(),
                ));
            };
            let message = message?;
            let received = message.received_us.to_string();
            let mut sink = RowSink::new(&self.layout, &mut rows, &message.channel, None);
            sink.value(0, message.pattern.as_deref())?;
            sink.value(1, Some(received.as_bytes()))?;
            sink.value(2, Some(&message.payload))?;
            sink.end_row()?;
            count += 1;
        }
        self.layout.finish(&mut rows)
    }
}
