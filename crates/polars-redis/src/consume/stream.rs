//! Reading streams as they grow: as a consumer of a group (`XREADGROUP`,
//! with `XAUTOCLAIM` of other consumers' idle entries and `XACK`), or
//! tailing them without a group (`XREAD`).
//!
//! One [`StreamReader::next_batch`] gathers entries until it has
//! `batch_size` of them or `block_ms` has passed (without `block_ms`: until
//! no more are there), so a call never waits longer than `block_ms` plus
//! one round trip: a caller can be interrupted between calls.
//!
//! Several streams are read with one command per hash slot (a cluster
//! allows a multi-key command only within one slot): every slot's command
//! is sent first, then the replies are read, so the servers block together.

use std::collections::BTreeMap;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tokio::time::Instant;

use crate::consume::group::{ack_on, create_group, Acks};
use crate::error::{Error, Key, Result};
use crate::net::cluster::{key_slot, Topology};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::resp::{Cmd, Item, ReplyReader};
use crate::net::runtime::runtime;
use crate::read::layout::{ExtraColumns, KeyType, Layout, RowBuilders};
use crate::read::paged::RowSink;
use crate::read::stream::{entry_fields, EntryDecoder};
use crate::types::{apply_forms, Field, TextForm};

/// Builds a [`StreamReader`].
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, Field, FieldType, StreamReadBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let schema = vec![Field::new("amount", FieldType::Float64)];
/// let mut reader = StreamReadBuilder::new(config, vec![b"events".to_vec()], schema)
///     .with_group("billing", "worker-1")
///     .with_block_ms(Some(1000))
///     .with_ack(true)
///     .build()?;
/// let batch = reader.next_batch()?; // the entries of the previous batch are acknowledged first
/// println!("{} entries", batch.num_rows());
/// reader.close()?; // acknowledges the last batch
/// # Ok::<(), polars_redis::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StreamReadBuilder {
    config: ConnectionConfig,
    streams: Vec<Vec<u8>>,
    schema: Vec<Field>,
    formats: Vec<(String, TextForm)>,
    group: Option<GroupSettings>,
    start_id: Option<String>,
    batch_size: usize,
    block_ms: Option<u64>,
    ack: bool,
    id_column: Option<String>,
    timestamp_column: Option<String>,
    sequence_column: Option<String>,
    stream_column: Option<String>,
    strict: bool,
}

/// How a reader takes part in a consumer group.
#[derive(Clone, Debug)]
struct GroupSettings {
    group: Vec<u8>,
    consumer: Vec<u8>,
    /// Create the group when missing, delivering the entries after this id.
    create_from: Option<String>,
    claim_min_idle_ms: Option<u64>,
}

impl StreamReadBuilder {
    /// A reader of `streams` (at least one) decoding these entry fields.
    /// By default it tails the streams without a group, from new entries
    /// on, in batches of 1000 entries without blocking.
    pub fn new(config: ConnectionConfig, streams: Vec<Vec<u8>>, schema: Vec<Field>) -> Self {
        StreamReadBuilder {
            config,
            streams,
            schema,
            formats: Vec::new(),
            group: None,
            start_id: None,
            batch_size: 1000,
            block_ms: None,
            ack: false,
            id_column: Some("_id".into()),
            timestamp_column: Some("_ts".into()),
            sequence_column: None,
            stream_column: None,
            strict: true,
        }
    }

    /// How temporal entry fields are stored, when not in the default
    /// ISO-8601 form: a field name and its [`TextForm`] (an epoch unit or a
    /// strftime format), as `formats=` of the stream scans. Checked by
    /// [`StreamReadBuilder::build`]: the field must be in the schema, of a
    /// type the form can hold.
    pub fn with_formats(mut self, formats: Vec<(String, TextForm)>) -> Self {
        self.formats = formats;
        self
    }

    /// Read as `consumer` of consumer group `group` (`XREADGROUP`).
    pub fn with_group(mut self, group: impl Into<Vec<u8>>, consumer: impl Into<Vec<u8>>) -> Self {
        self.group = Some(GroupSettings {
            group: group.into(),
            consumer: consumer.into(),
            create_from: None,
            claim_min_idle_ms: None,
        });
        self
    }

    /// Create the group when it does not exist (`XGROUP CREATE ... MKSTREAM`),
    /// delivering the entries after `from` (`"0"`: every entry, `"$"`: new
    /// ones only). `None` (the default): a missing group is an error.
    pub fn with_group_creation(mut self, from: Option<&str>) -> Self {
        if let Some(group) = &mut self.group {
            group.create_from = from.map(str::to_string);
        }
        self
    }

    /// Before reading new entries, claim the group's entries pending (with
    /// any consumer, this one included) for at least this long
    /// (`XAUTOCLAIM`), so a crashed consumer's entries are processed.
    pub fn with_claim_min_idle_ms(mut self, min_idle_ms: Option<u64>) -> Self {
        if let Some(group) = &mut self.group {
            group.claim_min_idle_ms = min_idle_ms;
        }
        self
    }

    /// Where reading starts. Without a group: after this id (`"0"`: every
    /// entry, `"$"`, the default: entries added from now on). In a group:
    /// `">"` reads only entries never delivered to the group; an id (default
    /// `"0"`) first re-reads this consumer's own pending entries after it
    /// (those it received and never acknowledged, e.g. before a crash), then
    /// continues with `">"`.
    pub fn with_start_id(mut self, start_id: Option<&str>) -> Self {
        self.start_id = start_id.map(str::to_string);
        self
    }

    /// Most entries per batch (from each stream). Default 1000.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Wait up to this long for `batch_size` entries (`BLOCK`); `None`
    /// (the default) returns what is there at once.
    pub fn with_block_ms(mut self, block_ms: Option<u64>) -> Self {
        self.block_ms = block_ms;
        self
    }

    /// Acknowledge each batch's group entries when the next batch is asked
    /// for or the reader is closed ([`StreamReader::close`]); never when it
    /// is dropped or abandoned. Default off.
    pub fn with_ack(mut self, ack: bool) -> Self {
        self.ack = ack;
        self
    }

    /// Name of the entry id column, or `None`. Default `_id`.
    pub fn with_id_column(mut self, name: Option<&str>) -> Self {
        self.id_column = name.map(str::to_string);
        self
    }

    /// Name of the entry timestamp column (`Datetime(ms)`), or `None`. Default `_ts`.
    pub fn with_timestamp_column(mut self, name: Option<&str>) -> Self {
        self.timestamp_column = name.map(str::to_string);
        self
    }

    /// Name of the entry sequence column (UInt64), or `None` (the default).
    pub fn with_sequence_column(mut self, name: Option<&str>) -> Self {
        self.sequence_column = name.map(str::to_string);
        self
    }

    /// Name of a first column holding each entry's stream name, or `None`
    /// (the default).
    pub fn with_stream_column(mut self, name: Option<&str>) -> Self {
        self.stream_column = name.map(str::to_string);
        self
    }

    /// A value that does not parse as its dtype is an error (`true`, the
    /// default) or null.
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    fn check(&self) -> Result<()> {
        let invalid = |message: &str| Err(Error::InvalidArgument(message.into()));
        if self.streams.is_empty() {
            return invalid("no stream to read: pass at least one stream name");
        }
        let mut names: Vec<&Vec<u8>> = self.streams.iter().collect();
        names.sort();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::InvalidArgument(format!(
                "stream {} is listed twice",
                Key::from(pair[0].as_slice())
            )));
        }
        if self.batch_size == 0 {
            return invalid("batch_size must be at least 1");
        }
        if self.block_ms == Some(0) {
            return invalid("block_ms must be at least 1 (or None not to wait)");
        }
        if self.ack && self.group.is_none() {
            return invalid("ack needs a consumer group: pass group= and consumer=");
        }
        if let Some(group) = &self.group {
            if group.group.is_empty() || group.consumer.is_empty() {
                return invalid("group and consumer must not be empty");
            }
        }
        if let Some(start) = &self.start_id {
            let valid = match self.group {
                Some(_) => start == ">" || is_stream_id(start),
                None => start == "$" || is_stream_id(start),
            };
            if !valid {
                return Err(Error::InvalidArgument(format!(
                    "start_id {start:?} is not a stream id (expected `ms` or `ms-seq`, or {})",
                    if self.group.is_some() { "`>`" } else { "`$`" }
                )));
            }
        }
        Ok(())
    }

    /// Connect, create the group if asked, and return the reader.
    pub fn build(mut self) -> Result<StreamReader> {
        self.check()?;
        let formats = std::mem::take(&mut self.formats);
        self.schema = apply_forms(std::mem::take(&mut self.schema), &formats, "stream read")?;
        runtime().block_on(self.connect())
    }

    async fn connect(self) -> Result<StreamReader> {
        let fields = entry_fields(
            self.id_column.as_deref(),
            self.timestamp_column.as_deref(),
            self.sequence_column.as_deref(),
            &self.schema,
        );
        let decoder = EntryDecoder::new(
            &fields,
            self.id_column.as_deref(),
            self.timestamp_column.as_deref(),
            self.sequence_column.as_deref(),
        );
        let extra = ExtraColumns {
            key: self.stream_column.clone(),
            key_type: KeyType::Utf8,
            ttl: None,
            row_index: None,
        };
        let layout = Layout::new(extra, fields, self.strict)?;

        // A blocked read may take `block_ms` on top of the usual reply time.
        let block = Duration::from_millis(self.block_ms.unwrap_or(0));
        let config = self
            .config
            .clone()
            .with_command_timeout(self.config.command_timeout.map(|t| t + block));
        let mut seed = Connection::connect(&config).await?;
        let topology = Topology::discover(&mut seed, &config).await?;
        let mut by_slot: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for (index, name) in self.streams.iter().enumerate() {
            let slot = if topology.is_cluster() {
                key_slot(name)
            } else {
                0
            };
            by_slot.entry(slot).or_default().push(index);
        }
        let mut routes = Vec::with_capacity(by_slot.len());
        let mut seed = Some(seed).filter(|_| !topology.is_cluster());
        for streams in by_slot.into_values() {
            let conn = match seed.take() {
                Some(conn) => conn,
                None => {
                    let node = &topology.nodes()[topology.node_of(&self.streams[streams[0]])];
                    let mut conn = Connection::connect(&node.config).await?;
                    conn.set_cluster(true);
                    conn
                }
            };
            routes.push(Route { conn, streams });
        }

        let start = self.start_id.clone();
        let mut states: Vec<StreamState> = self
            .streams
            .iter()
            .map(|name| StreamState {
                name: name.clone(),
                cursor: None,
                claim_cursor: b"0-0".to_vec(),
                exists: false,
                delivered: Vec::new(),
            })
            .collect();
        match &self.group {
            Some(group) => {
                let cursor = match start.as_deref() {
                    Some(">") => None,
                    Some(id) => Some(id.as_bytes().to_vec()),
                    None => Some(b"0".to_vec()),
                };
                for route in &mut routes {
                    for &index in &route.streams {
                        let state = &mut states[index];
                        state.cursor = cursor.clone();
                        if let Some(from) = &group.create_from {
                            create_group(&mut route.conn, &state.name, &group.group, from).await?;
                        }
                    }
                }
            }
            None => {
                for route in &mut routes {
                    for &index in &route.streams {
                        let state = &mut states[index];
                        state.exists = exists(&mut route.conn, &state.name).await?;
                        state.cursor = Some(match start.as_deref() {
                            None | Some("$") => last_id(&mut route.conn, &state.name).await?,
                            Some(id) => id.as_bytes().to_vec(),
                        });
                    }
                }
            }
        }
        Ok(StreamReader {
            schema: layout.fetch_schema.clone(),
            layout,
            decoder,
            routes,
            states,
            group: self.group,
            batch_size: self.batch_size,
            block_ms: self.block_ms,
            ack: self.ack,
        })
    }
}

/// `ms` or `ms-seq`.
fn is_stream_id(text: &str) -> bool {
    let number = |digits: &str| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match text.split_once('-') {
        Some((ms, seq)) => number(ms) && number(seq),
        None => number(text),
    }
}

/// Reads batches of stream entries; made by [`StreamReadBuilder`].
pub struct StreamReader {
    layout: Layout,
    schema: SchemaRef,
    decoder: EntryDecoder,
    routes: Vec<Route>,
    states: Vec<StreamState>,
    group: Option<GroupSettings>,
    batch_size: usize,
    block_ms: Option<u64>,
    ack: bool,
}

impl std::fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("streams", &self.states.len())
            .field("group", &self.group.is_some())
            .finish()
    }
}

/// The streams of one hash slot, read with one command on one connection.
struct Route {
    conn: Connection,
    /// Indexes into the reader's streams.
    streams: Vec<usize>,
}

/// Where reading one stream stands.
struct StreamState {
    name: Vec<u8>,
    /// Without a group: the last id read (`XREAD` reads after it). In a
    /// group: where re-reading this consumer's pending entries stands, `None`
    /// once they are read (then `>`).
    cursor: Option<Vec<u8>>,
    /// The `XAUTOCLAIM` cursor.
    claim_cursor: Vec<u8>,
    /// Without a group: the stream existed when last looked at.
    exists: bool,
    /// Group entries delivered since the last acknowledgement.
    delivered: Vec<Vec<u8>>,
}

/// What one read round gave.
#[derive(Default)]
struct Round {
    /// Entries read (deleted ones included).
    entries: usize,
}

impl StreamReader {
    /// The schema of every batch: the stream column (if named), the id
    /// columns, then the schema fields.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next batch: up to `batch_size` entries (from each stream),
    /// gathered within `block_ms`; empty when none came. With `ack`, the
    /// previous batch is acknowledged first. In a group with
    /// `claim_min_idle_ms`, entries claimed from idle consumers come first,
    /// in a batch of their own.
    pub fn next_batch(&mut self) -> Result<RecordBatch> {
        runtime().block_on(self.next_batch_async())
    }

    /// Acknowledge the entries delivered since the last acknowledgement;
    /// returns how many were acknowledged.
    pub fn ack_delivered(&mut self) -> Result<u64> {
        runtime().block_on(self.ack_delivered_async())
    }

    /// The ids of each stream's entries delivered since the last
    /// acknowledgement (group reads only), by stream name.
    pub fn delivered(&self) -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
        self.states
            .iter()
            .filter(|state| !state.delivered.is_empty())
            .map(|state| (state.name.clone(), state.delivered.clone()))
            .collect()
    }

    /// Acknowledge the entries delivered since the last acknowledgement and
    /// set `fields` of hash `key` (a checkpoint) in one transaction
    /// (`MULTI`, `XACK`..., `HSET`, `EXEC`): after a crash either both
    /// happened or neither. Group reads of streams in one hash slot only;
    /// on a cluster, `key` must be in that slot too (a hash tag:
    /// `{events}:checkpoint` for stream `{events}`). Returns the entries
    /// acknowledged.
    pub fn commit(&mut self, key: &[u8], fields: &[(Vec<u8>, Vec<u8>)]) -> Result<u64> {
        runtime().block_on(self.commit_async(key, fields))
    }

    async fn commit_async(&mut self, key: &[u8], fields: &[(Vec<u8>, Vec<u8>)]) -> Result<u64> {
        let Some(group) = &self.group else {
            return Err(Error::InvalidArgument(
                "a checkpoint commit needs a consumer group".into(),
            ));
        };
        let [route] = self.routes.as_mut_slice() else {
            return Err(Error::InvalidArgument(
                "a checkpoint commit needs every stream in one hash slot (use a hash tag)".into(),
            ));
        };
        let stream = &self.states[route.streams[0]].name;
        if route.conn.in_cluster() && key_slot(key) != key_slot(stream) {
            return Err(Error::InvalidArgument(format!(
                "checkpoint key {} is in another hash slot than stream {}: give both the same \
                 hash tag (e.g. {{name}}:checkpoint)",
                Key::from(key),
                Key::from(stream.as_slice())
            )));
        }
        if fields.is_empty() {
            return Err(Error::InvalidArgument(
                "a checkpoint needs at least one field".into(),
            ));
        }
        let mut queued = 0;
        route.conn.queue(&Cmd::new("MULTI"));
        for &i in &route.streams {
            let state = &self.states[i];
            if !state.delivered.is_empty() {
                let mut cmd = Cmd::new("XACK");
                cmd.arg(&state.name)
                    .arg(&group.group)
                    .args(&state.delivered);
                route.conn.queue(&cmd);
                queued += 1;
            }
        }
        let mut hset = Cmd::new("HSET");
        hset.arg(key);
        for (field, value) in fields {
            hset.arg(field).arg(value);
        }
        route.conn.queue(&hset);
        route.conn.queue(&Cmd::new("EXEC"));
        route.conn.flush().await?;
        // `+OK` to MULTI, `+QUEUED` (or an error) to each command.
        let mut refused = None;
        for command in std::iter::once("MULTI")
            .chain(std::iter::repeat_n("XACK", queued))
            .chain(std::iter::once("HSET"))
        {
            let reply = route
                .conn
                .read_reply(command, |r| match r.next()? {
                    Item::Error(message) => Err(server_error(command, Some(key), message)),
                    _ => Ok(()),
                })
                .await;
            if let Err(err) = reply {
                refused.get_or_insert(err);
            }
        }
        let acked = route
            .conn
            .read_reply("EXEC", |r| {
                let len = match r.next()? {
                    Item::Array(len) => len,
                    Item::Error(message) => return Err(server_error("EXEC", Some(key), message)),
                    _ => return Err(unexpected_reply("EXEC", key)),
                };
                let mut acked = 0;
                for n in 0..len {
                    match r.next()? {
                        Item::Int(count) if n < queued => acked += count.max(0) as u64,
                        Item::Error(message) => {
                            return Err(server_error("EXEC", Some(key), message))
                        }
                        _ => {}
                    }
                }
                Ok(acked)
            })
            .await;
        if let Some(err) = refused {
            return Err(err);
        }
        let acked = acked?;
        for &i in &route.streams {
            self.states[i].delivered.clear();
        }
        Ok(acked)
    }

    /// Close normally: with `ack`, acknowledge the last batch.
    pub fn close(mut self) -> Result<()> {
        if self.ack {
            self.ack_delivered()?;
        }
        Ok(())
    }

    async fn ack_delivered_async(&mut self) -> Result<u64> {
        let Some(group) = &self.group else {
            return Ok(0);
        };
        let mut total = 0;
        for route in &mut self.routes {
            let acks: Vec<Acks<'_>> = route
                .streams
                .iter()
                .map(|&i| {
                    let state = &self.states[i];
                    (
                        state.name.as_slice(),
                        group.group.as_slice(),
                        state.delivered.as_slice(),
                    )
                })
                .collect();
            total += ack_on(&mut route.conn, &acks).await?;
            for &i in &route.streams {
                self.states[i].delivered.clear();
            }
        }
        Ok(total)
    }

    async fn next_batch_async(&mut self) -> Result<RecordBatch> {
        if self.ack {
            self.ack_delivered_async().await?;
        } else {
            for state in &mut self.states {
                state.delivered.clear();
            }
        }
        let mut rows = self.layout.builders(self.batch_size);
        let claims = self
            .group
            .as_ref()
            .and_then(|group| group.claim_min_idle_ms);
        if let Some(min_idle) = claims {
            if self.claim(min_idle, &mut rows).await?.entries > 0 {
                return self.layout.finish(&mut rows);
            }
        }
        let deadline = self
            .block_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        let mut gathered = 0;
        while gathered < self.batch_size {
            let block = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    Some((left.as_millis() as u64).max(1))
                }
                None => None,
            };
            // A round re-reading pending entries never blocks, and an empty
            // one only means they are all read: new entries come next.
            let history = self.group.is_some() && self.states.iter().any(|s| s.cursor.is_some());
            let round = self
                .read_round(self.batch_size - gathered, block, &mut rows)
                .await?;
            gathered += round.entries;
            if round.entries == 0 && !history {
                if self.group.is_none() {
                    self.check_not_deleted().await?;
                }
                if block.is_none() {
                    break;
                }
            }
        }
        self.layout.finish(&mut rows)
    }

    /// Reclaim idle pending entries of every stream (one `XAUTOCLAIM` each).
    async fn claim(&mut self, min_idle_ms: u64, rows: &mut RowBuilders) -> Result<Round> {
        let group = self.group.as_ref().expect("claims are made in a group");
        let count = self.batch_size.to_string();
        let min_idle = min_idle_ms.to_string();
        let mut round = Round::default();
        for route in &mut self.routes {
            for &i in &route.streams {
                let state = &self.states[i];
                let mut cmd = Cmd::new("XAUTOCLAIM");
                cmd.arg(&state.name)
                    .arg(&group.group)
                    .arg(&group.consumer)
                    .arg(&min_idle)
                    .arg(&state.claim_cursor)
                    .arg("COUNT")
                    .arg(&count);
                route.conn.queue(&cmd);
            }
            route.conn.flush().await?;
            for &i in &route.streams {
                let state = &mut self.states[i];
                let (layout, decoder) = (&self.layout, &self.decoder);
                let entries = route
                    .conn
                    .read_reply("XAUTOCLAIM", |r| {
                        let name = state.name.as_slice();
                        let bad = || unexpected_reply("XAUTOCLAIM", name);
                        let parts = match r.next()? {
                            Item::Array(n @ (2 | 3)) => n,
                            Item::Error(message) => {
                                return Err(group_error("XAUTOCLAIM", name, message))
                            }
                            _ => return Err(bad()),
                        };
                        let (Item::Bytes(next), Item::Array(len)) = (r.next()?, r.next()?) else {
                            return Err(bad());
                        };
                        state.claim_cursor = next.to_vec();
                        let mut sink = RowSink::new(layout, rows, name, None);
                        decoder.read_entries(
                            "XAUTOCLAIM",
                            r,
                            len,
                            &mut sink,
                            Some(&mut state.delivered),
                        )?;
                        if parts == 3 {
                            // The ids of deleted entries, which Redis 7 drops
                            // from the pending list itself.
                            let Item::Array(deleted) = r.next()? else {
                                return Err(bad());
                            };
                            for _ in 0..deleted {
                                r.next()?;
                            }
                        }
                        Ok(len)
                    })
                    .await?;
                round.entries += entries;
            }
        }
        Ok(round)
    }

    /// One `XREAD`/`XREADGROUP` per route, all sent before any reply is read.
    async fn read_round(
        &mut self,
        count: usize,
        block_ms: Option<u64>,
        rows: &mut RowBuilders,
    ) -> Result<Round> {
        let count = count.to_string();
        for route in &mut self.routes {
            let states: Vec<&StreamState> =
                route.streams.iter().map(|&i| &self.states[i]).collect();
            // Pending entries are re-read without blocking (Redis ignores
            // `BLOCK` for them).
            let history = states.iter().any(|s| s.cursor.is_some());
            let mut cmd = match &self.group {
                Some(group) => {
                    let mut cmd = Cmd::new("XREADGROUP");
                    cmd.arg("GROUP").arg(&group.group).arg(&group.consumer);
                    cmd
                }
                None => Cmd::new("XREAD"),
            };
            cmd.arg("COUNT").arg(&count);
            if let (Some(ms), false) = (block_ms, history && self.group.is_some()) {
                cmd.arg("BLOCK").arg(ms.to_string());
            }
            cmd.arg("STREAMS");
            cmd.args(states.iter().map(|s| s.name.as_slice()));
            cmd.args(states.iter().map(|s| s.cursor.as_deref().unwrap_or(b">")));
            route.conn.queue(&cmd);
            route.conn.flush().await?;
        }
        let command = match self.group {
            Some(_) => "XREADGROUP",
            None => "XREAD",
        };
        let asked: u64 = count.parse().unwrap_or(0);
        let mut round = Round::default();
        for route in &mut self.routes {
            let (layout, decoder, group) = (&self.layout, &self.decoder, self.group.is_some());
            let states = &mut self.states;
            let streams = &route.streams;
            let first = &states[streams[0]].name.clone();
            let replied: Vec<(usize, usize)> = route
                .conn
                .read_reply(command, |r| {
                    let bad = || unexpected_reply(command, first);
                    let len = match r.next()? {
                        Item::Nil => return Ok(Vec::new()),
                        Item::Array(len) => len,
                        Item::Map(len) => len,
                        Item::Error(message) => return Err(group_error(command, first, message)),
                        _ => return Err(bad()),
                    };
                    let mut replied = Vec::with_capacity(len);
                    for _ in 0..len {
                        let name = match r.next()? {
                            Item::Array(2) => match r.next()? {
                                Item::Bytes(name) => name,
                                _ => return Err(bad()),
                            },
                            Item::Bytes(name) => name,
                            _ => return Err(bad()),
                        };
                        let index = *streams
                            .iter()
                            .find(|&&i| states[i].name == name)
                            .ok_or_else(bad)?;
                        let entries = match r.next()? {
                            Item::Array(n) => n,
                            Item::Nil => 0,
                            _ => return Err(bad()),
                        };
                        let state = &mut states[index];
                        let mut sink = RowSink::new(layout, rows, &state.name, None);
                        let ids = group.then_some(&mut state.delivered);
                        let last = decoder.read_entries(command, r, entries, &mut sink, ids)?;
                        if group {
                            let history_done = entries as u64 != asked;
                            if state.cursor.is_some() {
                                state.cursor = (!history_done).then(|| last.to_vec());
                            }
                        } else if entries > 0 {
                            state.cursor = Some(last.to_vec());
                            state.exists = true;
                        }
                        replied.push((index, entries));
                    }
                    Ok(replied)
                })
                .await?;
            // A stream left out of a reply to a pending re-read has none left.
            if group {
                for &i in streams {
                    if states[i].cursor.is_some() && !replied.iter().any(|&(j, _)| j == i) {
                        states[i].cursor = None;
                    }
                }
            }
            round.entries += replied.iter().map(|&(_, n)| n).sum::<usize>();
        }
        Ok(round)
    }

    /// Without a group: fail when a stream that existed is gone (`XREAD`
    /// would otherwise wait for it forever).
    async fn check_not_deleted(&mut self) -> Result<()> {
        for route in &mut self.routes {
            for &i in &route.streams {
                let state = &mut self.states[i];
                if !state.exists {
                    state.exists = exists(&mut route.conn, &state.name).await?;
                    continue;
                }
                if !exists(&mut route.conn, &state.name).await? {
                    return Err(Error::Server {
                        command: "XREAD".into(),
                        key: Some(Key::from(state.name.as_slice())),
                        message: "the stream was deleted while it was being tailed".into(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A group command's error reply, with what to do about a missing group.
fn group_error(command: &str, stream: &[u8], message: &[u8]) -> Error {
    let mut err = server_error(command, Some(stream), message);
    if let Error::Server { message, .. } = &mut err {
        if message.starts_with("NOGROUP") {
            message.push_str(" (pass create_group=True to create the group)");
        }
    }
    err
}

/// Whether `key` exists.
async fn exists(conn: &mut Connection, key: &[u8]) -> Result<bool> {
    match conn.query(Cmd::new("EXISTS").arg(key)).await?.as_int() {
        Some(n) => Ok(n > 0),
        None => Err(unexpected_reply("EXISTS", key)),
    }
}

/// The id of the last entry of `stream` (`XREVRANGE + - COUNT 1`), `0-0`
/// when it is empty or missing: reading after it reads only new entries.
async fn last_id(conn: &mut Connection, stream: &[u8]) -> Result<Vec<u8>> {
    let mut cmd = Cmd::new("XREVRANGE");
    cmd.arg(stream).arg("+").arg("-").arg("COUNT").arg("1");
    conn.queue(&cmd);
    conn.flush().await?;
    conn.read_reply("XREVRANGE", |r: &mut ReplyReader<'_>| match r.next()? {
        Item::Array(0) => Ok(b"0-0".to_vec()),
        Item::Array(1) => match (r.next()?, r.next()?) {
            (Item::Array(2), Item::Bytes(id)) => Ok(id.to_vec()),
            _ => Err(unexpected_reply("XREVRANGE", stream)),
        },
        Item::Error(message) => Err(server_error("XREVRANGE", Some(stream), message)),
        _ => Err(unexpected_reply("XREVRANGE", stream)),
    })
    .await
}
