//! The `JSON.GET` fetcher: which paths each request asks for, and the
//! reply read into the columns each path feeds (through a
//! [`ValueReader`]).

use std::collections::HashMap;
use std::sync::Arc;

use super::value::{within, Segment, ValueReader};
use crate::error::{Error, Key, Result};
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::engine::{ChunkSink, Fetcher};
use crate::read::fetch::{queue_per_key, read_rows, Outcome};
use crate::read::layout::{Layout, RowBuilders};
use crate::types::json_text::{JsonCursor, Kind};

/// The Redis type name of JSON documents (`TYPE`, `SCAN ... TYPE`).
pub(super) const REDIS_TYPE: &str = "ReJSON-RL";

/// The distinct JSONPaths one `JSON.GET` asks for.
#[derive(Default)]
pub(super) struct RequestPlan {
    paths: Vec<String>,
}

impl RequestPlan {
    /// The index of `path`, adding it if new.
    pub(super) fn request(&mut self, path: &str) -> usize {
        match self.paths.iter().position(|p| p == path) {
            Some(index) => index,
            None => {
                self.paths.push(path.to_string());
                self.paths.len() - 1
            }
        }
    }
}

/// Where a column's value comes from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Source {
    /// A member of the root object (whole-document fetch).
    Member,
    /// The matches of one requested path.
    Path { request: usize, definite: bool },
}

pub(crate) struct JsonFetcher {
    layout: Arc<Layout>,
    /// The paths sent with each `JSON.GET` (none: `TYPE` only).
    paths: Vec<Vec<u8>>,
    /// Request index by path, for multi-path replies.
    by_path: HashMap<Vec<u8>, usize>,
    /// The root request and its path, when the whole document is fetched.
    root: Option<(usize, String)>,
    /// Columns fed by each request (besides the root's members).
    consumers: Vec<Vec<usize>>,
    /// Per column: true for members of the root object.
    is_member: Vec<bool>,
    sources: Vec<Source>,
    wrong_type_is_error: bool,
}

impl JsonFetcher {
    pub(super) fn new(
        layout: Arc<Layout>,
        plan: RequestPlan,
        root: Option<(usize, String)>,
        sources: Vec<Source>,
        wrong_type_is_error: bool,
    ) -> Self {
        let paths: Vec<Vec<u8>> = plan.paths.into_iter().map(String::into_bytes).collect();
        let mut consumers = vec![Vec::new(); paths.len()];
        for (column, source) in sources.iter().enumerate() {
            if let Source::Path { request, .. } = source {
                consumers[*request].push(column);
            }
        }
        JsonFetcher {
            by_path: paths.iter().cloned().zip(0..).collect(),
            is_member: sources
                .iter()
                .map(|s| matches!(s, Source::Member))
                .collect(),
            layout,
            paths,
            root,
            consumers,
            sources,
            wrong_type_is_error,
        }
    }

    fn command_name(&self) -> &'static str {
        if self.paths.is_empty() {
            "TYPE"
        } else {
            "JSON.GET"
        }
    }

    fn queue(&self, conn: &mut Connection, keys: &[Vec<u8>]) {
        queue_per_key(conn, &self.layout, keys, |out, key| {
            if self.paths.is_empty() {
                write_array(out, [&b"TYPE"[..], key]);
            } else {
                let paths = self.paths.iter().map(Vec::as_slice);
                let args = [&b"JSON.GET"[..], key].into_iter().chain(paths);
                write_array(out, args);
            }
        });
    }

    /// Decode one key's reply into `rows`.
    fn decode<'l>(
        &'l self,
        r: &mut ReplyReader<'_>,
        rows: &mut RowBuilders,
        reader: &mut ValueReader<'l>,
        key: &[u8],
    ) -> Result<Outcome> {
        let text = match r.next()? {
            Item::Error(msg) if is_wrong_type(msg) => return Ok(Outcome::WrongType),
            Item::Error(msg) => return Err(server_error(self.command_name(), Some(key), msg)),
            Item::Nil => return Ok(Outcome::Missing),
            Item::Bytes(b"none") if self.paths.is_empty() => return Ok(Outcome::Missing),
            Item::Bytes(t) if self.paths.is_empty() => {
                return Ok(if t == REDIS_TYPE.as_bytes() {
                    Outcome::Row
                } else {
                    Outcome::WrongType
                })
            }
            Item::Bytes(text) => text,
            _ => return Err(unexpected_reply(self.command_name(), key)),
        };
        reader.key.clear();
        reader.key.extend_from_slice(key);
        let row = rows.values[0].rows();
        self.read_reply(&mut JsonCursor::new(text), rows, reader, row)
            .map_err(|err| match err {
                Error::Protocol(msg) => Error::Protocol(format!(
                    "{msg} (in the JSON.GET reply for key {})",
                    Key::from(key)
                )),
                other => other,
            })?;
        for column in &mut rows.values {
            if column.rows() == row {
                column.append_null();
            }
        }
        Ok(Outcome::Row)
    }

    fn read_reply<'l>(
        &'l self,
        cur: &mut JsonCursor<'_>,
        rows: &mut RowBuilders,
        reader: &mut ValueReader<'l>,
        row: usize,
    ) -> Result<()> {
        if self.paths.len() == 1 {
            self.read_request(0, cur, rows, reader, row)?;
        } else {
            cur.begin_object()?;
            let mut first = true;
            while let Some(name) = cur.next_member(&mut first)? {
                let request = self.by_path.get(name.decode(&mut reader.scratch)?).copied();
                match request {
                    Some(request) => self.read_request(request, cur, rows, reader, row)?,
                    None => {
                        cur.skip_value()?;
                    }
                }
            }
        }
        cur.finish()
    }

    /// Read the matches array of one request into every column it feeds.
    fn read_request<'l>(
        &'l self,
        request: usize,
        cur: &mut JsonCursor<'_>,
        rows: &mut RowBuilders,
        reader: &mut ValueReader<'l>,
        row: usize,
    ) -> Result<()> {
        let start = cur.value_start();
        let mut end = None;
        if let Some((root, root_path)) = &self.root {
            if *root == request {
                self.read_root(cur, rows, reader, row, root_path)?;
                end = Some(cur.pos());
            }
        }
        for &column in &self.consumers[request] {
            cur.seek(start);
            let Source::Path { definite, .. } = self.sources[column] else {
                continue;
            };
            let field = &self.layout.fields[column];
            let builder = &mut rows.values[column];
            reader
                .read_matches(cur, &field.field_type, builder, definite)
                .map_err(|e| within(e, Segment::Name(&field.name)))?;
            end = Some(cur.pos());
        }
        match end {
            Some(end) => cur.seek(end),
            None => {
                cur.skip_value()?;
            }
        }
        Ok(())
    }

    /// Read the root request's matches: one object whose members are columns.
    fn read_root<'l>(
        &'l self,
        cur: &mut JsonCursor<'_>,
        rows: &mut RowBuilders,
        reader: &mut ValueReader<'l>,
        row: usize,
        root_path: &'l str,
    ) -> Result<()> {
        cur.begin_array()?;
        let mut first = true;
        if !cur.next_element(&mut first)? {
            return Ok(()); // No root object: every member column is null.
        }
        let fields = &self.layout.fields;
        if cur.peek()? == Kind::Object {
            reader.read_members(cur, fields, &mut rows.values, Some(&self.is_member), row)?;
        } else {
            let value = cur.skip_value()?;
            if self.layout.strict {
                let err = reader.parse_error(value, "Object (the root path)");
                return Err(within(err, Segment::Name(root_path)));
            }
        }
        if cur.next_element(&mut first)? {
            return Err(Error::Protocol(format!(
                "the root path `{root_path}` matched several values"
            )));
        }
        Ok(())
    }
}

/// RedisJSON answers a key of another type with this error (older
/// versions and core commands say `WRONGTYPE ...`).
fn is_wrong_type(message: &[u8]) -> bool {
    message.starts_with(b"WRONGTYPE")
        || memchr::memmem::find(message, b"wrong Redis type").is_some()
}

impl Fetcher for JsonFetcher {
    async fn fetch(
        &self,
        conn: &mut Connection,
        keys: Vec<Vec<u8>>,
        sink: &ChunkSink,
    ) -> Result<()> {
        self.queue(conn, &keys);
        conn.flush().await?;
        let mut reader = ValueReader::new(self.layout.strict, self.layout.parse_hint.as_deref());
        let rows = read_rows(
            conn,
            &self.layout,
            &keys,
            self.command_name(),
            REDIS_TYPE,
            self.wrong_type_is_error,
            |r, rows, key| self.decode(r, rows, &mut reader, key),
        )
        .await?;
        sink.emit(rows.batch).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::config::ConnectionConfig;
    use crate::read::json::JsonScanBuilder;
    use crate::read::scan::{FetchContext, Plan};
    use crate::types::{Field, FieldType};

    /// The documents of `bench/bench_json.py` and of the parser comparison
    /// in the final report (same text as the throwaway arrow-json / simd-json
    /// / serde_json measurement).
    fn bench_document(i: usize) -> String {
        format!(
            r#"{{"id":{i},"name":"user {i}","score":{},"active":{},"address":{{"city":"city{}","zip":"{}","geo":{{"lat":{},"lon":{}}}}},"tags":["a","b","t{}"],"created":"2024-01-02T03:04:05Z"}}"#,
            i as f64 * 1.5,
            i % 2 == 0,
            i % 100,
            10000 + i,
            (i % 90) as f64 + 0.25,
            (i % 180) as f64 - 0.5,
            i % 7
        )
    }

    #[test]
    #[ignore = "measurement: cargo test --release -p polars-redis --lib decode_speed -- --ignored --nocapture"]
    fn decode_speed() {
        use crate::read::layout::ExtraColumns;
        let geo = FieldType::Struct(vec![
            Field::new("lat", FieldType::Float64),
            Field::new("lon", FieldType::Float64),
        ]);
        let schema = vec![
            Field::new("id", FieldType::Int64),
            Field::new("name", FieldType::Utf8),
            Field::new("score", FieldType::Float64),
            Field::new("active", FieldType::Boolean),
            Field::new(
                "address",
                FieldType::Struct(vec![
                    Field::new("city", FieldType::Utf8),
                    Field::new("zip", FieldType::Utf8),
                    Field::new("geo", geo),
                ]),
            ),
            Field::new("tags", FieldType::List(Box::new(FieldType::Utf8))),
            Field::new("created", FieldType::Utf8),
        ];
        let config = ConnectionConfig::from_url("redis://localhost").unwrap();
        let builder = JsonScanBuilder::new(config, schema.clone());
        let extra = ExtraColumns {
            key: None,
            ..ExtraColumns::default()
        };
        let layout = Arc::new(Layout::new(extra, schema, true).unwrap());
        let context = FetchContext {
            layout: layout.clone(),
            wrong_type_is_error: false,
            batch_size: 1000,
            limit: None,
            predicate_json: None,
        };
        let fetcher = builder.kind.fetcher(context).unwrap();
        let n = 100_000;
        let replies: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let text = format!("[{}]", bench_document(i));
                format!("${}\r\n{text}\r\n", text.len()).into_bytes()
            })
            .collect();
        let bytes: usize = replies.iter().map(Vec::len).sum();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let mut reader = ValueReader::new(layout.strict, layout.parse_hint.as_deref());
            let mut rows_read = 0;
            for chunk in replies.chunks(1000) {
                let mut rows = layout.builders(chunk.len());
                for reply in chunk {
                    let mut r = ReplyReader::new(reply);
                    fetcher
                        .decode(&mut r, &mut rows, &mut reader, b"k")
                        .unwrap();
                }
                rows_read += layout.finish(&mut rows).unwrap().num_rows();
            }
            assert_eq!(rows_read, n);
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "polars-redis JSON reader -> RecordBatch: {:.0} docs/s, {:.1} MB/s",
            n as f64 / best,
            bytes as f64 / best / 1e6
        );
    }
}
