//! Reading RedisJSON documents: one row per document, `JSON.GET` per key,
//! pipelined, the reply text read straight into the column builders.
//!
//! Columns come from the document root (`$` unless told otherwise): a schema
//! field `name` reads member `name` of the root object. A column can instead
//! read its own JSONPath (`with_column_path`). Two ways to fetch:
//!
//! * document: `JSON.GET key <root>`, the whole root object, whose members
//!   are matched to the columns while it is read;
//! * paths: `JSON.GET key <root>.a <root>.b ...`, only the needed values.
//!
//! With one path the reply is the array of its matches (`[...]`), with
//! several an object keyed by path (`{"$.a":[...],"$.b":[...]}`, in no fixed
//! order). No match (`[]`) is null. A path column whose dtype is a `List`
//! and whose path can match several values (wildcards, filters, slices,
//! recursive descent) gets all matches as its list; any other column takes
//! its single match, and several matches are a parse error.
//!
//! `JSON.GET` per key (never `JSON.MGET`, which answers nil for a key of
//! another type) tells a missing key (nil: no row) from a key of another
//! type (an error reply).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Key, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, unexpected_reply, Connection};
use crate::net::resp::{write_array, Item, ReplyReader};
use crate::read::engine::{ChunkSink, Fetcher};
use crate::read::fetch::{queue_per_key, read_rows, Outcome};
use crate::read::layout::{Layout, RowBuilders};
use crate::read::scan::{FetchContext, Plan, ScanBuilder};
use crate::types::columns::ColumnBuilder;
use crate::types::json_text::{JsonCursor, Kind};
use crate::types::{Field, FieldType, IndexOn};

/// The Redis type name of JSON documents (`TYPE`, `SCAN ... TYPE`).
const REDIS_TYPE: &str = "ReJSON-RL";

/// Builds a scan of RedisJSON documents, one row per document.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, Field, FieldType, JsonScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let schema = vec![
///     Field::new("name", FieldType::Utf8),
///     Field::new("tags", FieldType::List(Box::new(FieldType::Utf8))),
///     Field::new("city", FieldType::Utf8),
/// ];
/// let reader = JsonScanBuilder::new(config, schema)
///     .with_pattern("user:*")
///     .with_column_path("city", "$.address.city")
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type JsonScanBuilder = ScanBuilder<JsonKind>;

/// The settings of a [`JsonScanBuilder`].
#[derive(Clone, Debug)]
pub struct JsonKind {
    schema: Vec<Field>,
    root: String,
    column_paths: Vec<(String, String)>,
    fetch: JsonFetch,
}

/// How the values are fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonFetch {
    /// The whole root object when at least half of the root-relative schema
    /// fields are needed, else one JSONPath per needed field.
    Auto,
    /// Always the whole root object (one path for the server to evaluate).
    Document,
    /// Always one JSONPath per needed field (only they cross the wire).
    Paths,
}

impl JsonScanBuilder {
    /// A scan of every JSON document (pattern `*`) with these value fields,
    /// read from the members of the document root `$`.
    pub fn new(config: ConnectionConfig, schema: Vec<Field>) -> Self {
        let kind = JsonKind {
            schema,
            root: "$".into(),
            column_paths: Vec::new(),
            fetch: JsonFetch::Auto,
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// The JSONPath of the object whose members the schema fields are
    /// (default `$`). It must select at most one value per document.
    pub fn with_root_path(mut self, path: impl Into<String>) -> Self {
        self.kind.root = path.into();
        self
    }

    /// Read schema field `column` from its own JSONPath (from the document,
    /// not the root path), e.g. `("city", "$.address.city")`.
    pub fn with_column_path(mut self, column: impl Into<String>, path: impl Into<String>) -> Self {
        let column = column.into();
        let paths = &mut self.kind.column_paths;
        paths.retain(|(c, _)| *c != column);
        paths.push((column, path.into()));
        self
    }

    /// Choose how values are fetched. Default [`JsonFetch::Auto`].
    pub fn with_fetch(mut self, fetch: JsonFetch) -> Self {
        self.kind.fetch = fetch;
        self
    }
}

impl JsonKind {
    fn column_path(&self, column: &str) -> Option<&str> {
        self.column_paths
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, p)| p.as_str())
    }
}

impl Plan for JsonKind {
    type Fetcher = JsonFetcher;
    const REDIS_TYPE: &'static str = REDIS_TYPE;

    fn index_on(&self) -> Option<IndexOn> {
        Some(IndexOn::Json)
    }

    /// The column's own path, or its member of the root object, in the
    /// spellings `FT.CREATE ... ON JSON` identifiers commonly take.
    fn index_identifiers(&self, column: &str) -> Vec<String> {
        if let Some((_, path)) = self.column_paths.iter().find(|(c, _)| c == column) {
            return vec![path.clone()];
        }
        let root = self.root.trim_end_matches('.');
        vec![
            format!("{root}.{column}"),
            format!("{root}[\"{column}\"]"),
            format!("{root}['{column}']"),
        ]
    }

    fn fields(&self) -> Result<Vec<Field>> {
        check_path("path", &self.root)?;
        if !is_definite(&self.root) {
            return Err(Error::InvalidArgument(format!(
                "path `{}` can select several values per document; the root path must \
                 select one object (use a column path with a List dtype to collect matches)",
                self.root
            )));
        }
        for (column, path) in &self.column_paths {
            if !self.schema.iter().any(|f| &f.name == column) {
                return Err(Error::InvalidArgument(format!(
                    "paths: column `{column}` is not in the schema (give its dtype there)"
                )));
            }
            check_path(&format!("paths[`{column}`]"), path)?;
        }
        Ok(self.schema.clone())
    }

    fn fetcher(&self, context: FetchContext) -> Result<JsonFetcher> {
        let FetchContext {
            layout,
            wrong_type_is_error,
            ..
        } = context;
        let root_fields = self
            .schema
            .iter()
            .filter(|f| self.column_path(&f.name).is_none())
            .count();
        let needed_root = layout
            .fields
            .iter()
            .filter(|f| self.column_path(&f.name).is_none())
            .count();
        let whole_document = needed_root > 0
            && match self.fetch {
                JsonFetch::Document => true,
                JsonFetch::Paths => false,
                JsonFetch::Auto => needed_root * 2 >= root_fields,
            };
        let mut plan = RequestPlan::default();
        let root = whole_document.then(|| plan.request(&self.root));
        let mut sources = Vec::with_capacity(layout.fields.len());
        for field in &layout.fields {
            sources.push(match self.column_path(&field.name) {
                Some(path) => Source::Path {
                    request: plan.request(path),
                    definite: is_definite(path),
                },
                None if whole_document => Source::Member,
                None => Source::Path {
                    request: plan.request(&member_path(&self.root, &field.name)),
                    definite: true,
                },
            });
        }
        Ok(JsonFetcher::new(
            layout,
            plan,
            root.map(|r| (r, self.root.clone())),
            sources,
            wrong_type_is_error,
        ))
    }
}

fn check_path(what: &str, path: &str) -> Result<()> {
    if path.starts_with('$') {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what}: `{path}` is not a JSONPath (it must start with `$`)"
        )))
    }
}

/// The path of member `name` of the object at `root`.
fn member_path(root: &str, name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{root}.{name}")
    } else {
        let quoted = serde_json::Value::String(name.to_string()).to_string();
        format!("{root}[{quoted}]")
    }
}

/// True when a JSONPath selects at most one value: no wildcard, filter,
/// recursive descent, slice or union.
fn is_definite(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut in_brackets = false;
    let mut quote = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' if in_brackets => quote = Some(b),
                b'[' => in_brackets = true,
                b']' => in_brackets = false,
                b'*' | b'?' | b'@' => return false,
                b'.' if bytes.get(i + 1) == Some(&b'.') => return false,
                b':' | b',' if in_brackets => return false,
                _ => {}
            },
        }
        i += 1;
    }
    true
}

/// The distinct JSONPaths one `JSON.GET` asks for.
#[derive(Default)]
struct RequestPlan {
    paths: Vec<String>,
}

impl RequestPlan {
    /// The index of `path`, adding it if new.
    fn request(&mut self, path: &str) -> usize {
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
enum Source {
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
    fn new(
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
        let mut reader = ValueReader::new(&self.layout);
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

/// One step of the way from a column to a nested value, for messages.
#[derive(Clone, Copy, Debug)]
enum Segment<'l> {
    Name(&'l str),
    Index(usize),
}

/// Prefix the field of a parse error raised inside `segment`: the name of
/// a failing value (`address.geo.lat`, `tags[2]`) is built while the error
/// unwinds, so reading costs nothing for it.
fn within(err: Error, segment: Segment<'_>) -> Error {
    let Error::Parse {
        key,
        field,
        value,
        dtype,
        hint,
    } = err
    else {
        return err;
    };
    let mut prefixed = match segment {
        Segment::Name(name) => name.to_string(),
        Segment::Index(i) => format!("[{i}]"),
    };
    if !field.is_empty() && !field.starts_with('[') {
        prefixed.push('.');
    }
    prefixed.push_str(&field);
    Error::Parse {
        key,
        field: prefixed,
        value,
        dtype,
        hint,
    }
}

/// Reads JSON values into column builders by the rules of the type table,
/// applying the strict rule to each value on its own.
struct ValueReader<'l> {
    strict: bool,
    hint: Option<&'l str>,
    /// The key being read, for messages.
    key: Vec<u8>,
    /// Unescaped strings.
    scratch: Vec<u8>,
}

impl<'l> ValueReader<'l> {
    fn new(layout: &'l Layout) -> Self {
        ValueReader {
            strict: layout.strict,
            hint: layout.parse_hint.as_deref(),
            key: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Read a path's matches array into a column.
    fn read_matches(
        &mut self,
        cur: &mut JsonCursor<'_>,
        field_type: &'l FieldType,
        builder: &mut ColumnBuilder,
        definite: bool,
    ) -> Result<()> {
        if !definite && matches!(field_type, FieldType::List(_)) {
            return self.read_value(cur, field_type, builder);
        }
        let start = cur.value_start();
        cur.begin_array()?;
        let mut first = true;
        if !cur.next_element(&mut first)? {
            builder.append_null();
            return Ok(());
        }
        let value_at = cur.value_start();
        if !definite {
            cur.skip_value()?;
            if cur.next_element(&mut first)? {
                cur.seek(start);
                let all = cur.skip_value()?;
                return self.reject(builder, all, "one value (the path matched several)");
            }
            cur.seek(value_at);
        }
        self.read_value(cur, field_type, builder)?;
        if cur.next_element(&mut first)? {
            return Err(Error::Protocol(
                "a definite path matched several values".into(),
            ));
        }
        Ok(())
    }

    /// Read the value at the cursor into `builder` (one value, always).
    fn read_value(
        &mut self,
        cur: &mut JsonCursor<'_>,
        field_type: &'l FieldType,
        builder: &mut ColumnBuilder,
    ) -> Result<()> {
        let start = cur.value_start();
        let kind = cur.peek()?;
        let accepted = match (kind, field_type) {
            (Kind::Null, _) => {
                cur.literal()?;
                builder.append_null();
                return Ok(());
            }
            (Kind::Array, FieldType::List(inner)) => {
                let child = builder.list_child().ok_or_else(internal)?;
                cur.begin_array()?;
                let mut first = true;
                let mut index = 0;
                while cur.next_element(&mut first)? {
                    self.read_value(cur, inner, child)
                        .map_err(|e| within(e, Segment::Index(index)))?;
                    index += 1;
                }
                return builder.end_list();
            }
            (Kind::Object, FieldType::Struct(fields)) => {
                let row = builder.rows();
                let children = builder.struct_children().ok_or_else(internal)?;
                self.read_members(cur, fields, children, None, row)?;
                builder.end_struct();
                return Ok(());
            }
            (Kind::String, t) if reads_strings(t) => {
                let text = cur.string()?;
                builder.append(text.decode(&mut self.scratch)?)
            }
            (Kind::Number, t) if reads_numbers(t) => builder.append(cur.number()?),
            (Kind::Bool, FieldType::Boolean) => builder.append(cur.literal()?),
            (_, FieldType::Utf8 | FieldType::Binary) => builder.append(cur.skip_value()?),
            _ => {
                cur.skip_value()?;
                false
            }
        };
        if accepted {
            return Ok(());
        }
        let value = cur.text_since(start);
        self.reject(builder, value, &field_type.to_string())
    }

    /// Read an object's members into the columns named like them; columns
    /// without a member get a null. `active` limits the columns to match.
    fn read_members(
        &mut self,
        cur: &mut JsonCursor<'_>,
        fields: &'l [Field],
        builders: &mut [ColumnBuilder],
        active: Option<&[bool]>,
        row: usize,
    ) -> Result<()> {
        let is_active = |i: usize| active.is_none_or(|a| a[i]);
        cur.begin_object()?;
        let mut first = true;
        // Documents usually list members in schema order: look there first.
        let mut next = 0;
        let n = fields.len();
        while let Some(name) = cur.next_member(&mut first)? {
            let name = name.decode(&mut self.scratch)?;
            let matches = |i: usize| fields[i].name.as_bytes() == name && is_active(i);
            let found = (next..n).chain(0..next.min(n)).find(|&i| matches(i));
            match found {
                // A repeated member keeps its first value.
                Some(i) if builders[i].rows() == row => {
                    next = i + 1;
                    let field = &fields[i];
                    self.read_value(cur, &field.field_type, &mut builders[i])
                        .map_err(|e| within(e, Segment::Name(&field.name)))?;
                }
                _ => {
                    cur.skip_value()?;
                }
            }
        }
        for (i, builder) in builders.iter_mut().enumerate() {
            if is_active(i) && builder.rows() == row {
                builder.append_null();
            }
        }
        Ok(())
    }

    /// A value the column cannot read: an error in strict mode, else null.
    fn reject(&self, builder: &mut ColumnBuilder, value: &[u8], dtype: &str) -> Result<()> {
        if self.strict {
            return Err(self.parse_error(value, dtype));
        }
        builder.append_null();
        Ok(())
    }

    /// The error for a value; its field is filled in by [`within`].
    fn parse_error(&self, value: &[u8], dtype: &str) -> Error {
        Error::Parse {
            key: Key::from(self.key.as_slice()),
            field: String::new(),
            value: json_excerpt(value, 80),
            dtype: dtype.to_string(),
            hint: self.hint.map(str::to_string),
        }
    }
}

fn internal() -> Error {
    Error::Protocol("internal: nested builder does not match its type".into())
}

/// Column types that read JSON strings (by their text rules).
fn reads_strings(t: &FieldType) -> bool {
    matches!(
        t,
        FieldType::Utf8
            | FieldType::Binary
            | FieldType::Categorical
            | FieldType::Enum { .. }
            | FieldType::Date
            | FieldType::Datetime { .. }
            | FieldType::Time
            | FieldType::Decimal { .. }
    )
}

/// Column types that read JSON numbers (by their text rules).
fn reads_numbers(t: &FieldType) -> bool {
    matches!(
        t,
        FieldType::Int8
            | FieldType::Int16
            | FieldType::Int32
            | FieldType::Int64
            | FieldType::UInt8
            | FieldType::UInt16
            | FieldType::UInt32
            | FieldType::UInt64
            | FieldType::Float32
            | FieldType::Float64
            | FieldType::Decimal { .. }
            | FieldType::Date
            | FieldType::Datetime { .. }
            | FieldType::Time
            | FieldType::Duration { .. }
    )
}

/// JSON text for a message, cut after `max_chars` characters.
fn json_excerpt(value: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(value);
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_paths() {
        for path in [
            "$",
            "$.a.b",
            "$['a b'][0]",
            "$[\"x*y\"]",
            "$.a[-1]",
            "$['a.b']",
        ] {
            assert!(is_definite(path), "{path}");
        }
        for path in [
            "$..a",
            "$.a[*]",
            "$.*",
            "$.a[?(@.b>1)]",
            "$.a[0:2]",
            "$.a[0,1]",
        ] {
            assert!(!is_definite(path), "{path}");
        }
    }

    #[test]
    fn member_paths_quote_odd_names() {
        assert_eq!(member_path("$", "name_1"), "$.name_1");
        assert_eq!(member_path("$.user", "na me"), "$.user[\"na me\"]");
        assert_eq!(member_path("$", "q\"t"), "$[\"q\\\"t\"]");
        assert_eq!(member_path("$", "1st"), "$[\"1st\"]");
    }

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
            let mut reader = ValueReader::new(&layout);
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

    #[test]
    fn excerpts_are_cut() {
        assert_eq!(json_excerpt(b"[1,2,3]", 3), "[1,...");
        assert_eq!(json_excerpt(b"\"abc\"", 80), "\"abc\"");
    }
}
