//! The write builders, one per Redis type, and how each turns the rows of
//! one key into commands.
//!
//! | builder                  | rows per key | value from                         | `append` means                                    |
//! |--------------------------|--------------|------------------------------------|---------------------------------------------------|
//! | [`HashWriteBuilder`]     | one          | every other column, one field each | `HSET`: fields updated, other fields kept         |
//! | [`JsonWriteBuilder`]     | one          | every other column, one attribute each | `JSON.MERGE` (RFC 7396): attributes updated, objects merged, arrays replaced |
//! | [`StringWriteBuilder`]   | one          | the value column                   | `SET ... KEEPTTL`: value replaced, TTL kept (a key of another type fails) |
//! | [`SetWriteBuilder`]      | many         | the member column                  | `SADD`: members added                             |
//! | [`ListWriteBuilder`]     | many         | the element column (ordered by the order column, else row order) | `RPUSH`: elements added at the tail |
//! | [`ZsetWriteBuilder`]     | many         | the member and score columns       | `ZADD`: members added, scores of existing ones updated |
//! | [`StreamWriteBuilder`]   | many         | every other column, one field each (id column optional) | `XADD`: entries added |
//! | [`TimeSeriesWriteBuilder`] | many       | the timestamp and value columns    | `TS.MADD`: samples added (series created with retention/labels if absent) |
//!
//! Nulls: a null hash field / stream field is not written (so it reads back
//! as null); in `append` it leaves the existing field untouched. A null JSON
//! attribute is written as JSON `null` (in `append` it is left out, so the
//! existing attribute is untouched). A row whose every value is null cannot
//! be a hash or stream entry and is rejected; a null string value, set or
//! sorted-set member, list element, score, timestamp or sample value is
//! rejected too, naming the row, key and column, before anything is sent.

use std::collections::HashSet;

use arrow_schema::DataType;

use super::{
    write_builder_methods, Commands, Encoder, Expiry, Frame, GroupCtx, IfExists, RowRef, When,
    WriteOptions, WritePlan,
};
use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::types::format::{is_numeric, CellResult};

/// Declare a write builder: the struct, `new`, the shared setters and the
/// [`WritePlan`] glue. The type's own `encoder(&self, frame, reserved)`
/// method is written next to it.
macro_rules! writer {
    (
        $(#[$doc:meta])*
        $name:ident, $redis_type:literal, grouped: $grouped:expr, append_idempotent: $idempotent:expr,
        { $($(#[$fdoc:meta])* $field:ident : $fty:ty = $default:expr),* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            config: ConnectionConfig,
            options: WriteOptions,
            $($field: $fty,)*
        }

        impl $name {
            /// A write with the default options.
            pub fn new(config: ConnectionConfig) -> Self {
                $name {
                    config,
                    options: WriteOptions::default(),
                    $($field: $default,)*
                }
            }

            write_builder_methods!();
        }

        impl WritePlan for $name {
            const GROUPED: bool = $grouped;
            const APPEND_IDEMPOTENT: bool = $idempotent;

            fn config(&self) -> &ConnectionConfig {
                &self.config
            }

            fn options(&self) -> &WriteOptions {
                &self.options
            }

            fn encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
                self.make_encoder(frame, reserved)
            }
        }
    };
}

// ---------------------------------------------------------------------------
// shared helpers
// ---------------------------------------------------------------------------

impl GroupCtx<'_> {
    /// Append the text of a cell as one argument; null is an error (`role`).
    fn text_arg(&self, cmds: &mut Commands, at: RowRef, column: usize, role: &str) -> CellResult {
        let cell = self.cells.get(at, column);
        let row = at.row as usize;
        if cell.is_null(row) {
            return Err(self.cell_error(at, column, format!("the {role} is null")));
        }
        if cell.is_nan(row) && role != "element" && role != "member" && role != "value" {
            return Err(self.cell_error(at, column, format!("the {role} is NaN")));
        }
        cmds.arg_with(|out| cell.text(row, out))
            .map_err(|reason| self.cell_error(at, column, reason))
    }
}

/// A named column that is not the key or TTL column.
fn value_column(frame: &Frame, reserved: &[usize], name: &str, role: &str) -> Result<usize> {
    let column = frame.column(name, role)?;
    if reserved.contains(&column) {
        return Err(Error::InvalidArgument(format!(
            "{role} column `{name}` is also the key or TTL column"
        )));
    }
    Ok(column)
}

/// Every column but the reserved ones and `exclude`, with its name; at least one.
fn field_columns(
    frame: &Frame,
    reserved: &[usize],
    exclude: &[usize],
    what: &str,
) -> Result<Vec<(usize, Vec<u8>)>> {
    let columns: Vec<(usize, Vec<u8>)> = (0..frame.schema.fields().len())
        .filter(|c| !reserved.contains(c) && !exclude.contains(c))
        .map(|c| (c, frame.name(c).as_bytes().to_vec()))
        .collect();
    if columns.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "the frame has no column to write as {what} (besides the key and TTL columns)"
        )));
    }
    Ok(columns)
}

/// True for types whose text form can fail (nested JSON, times of day).
fn fallible(data_type: &DataType) -> bool {
    data_type.is_nested()
        || matches!(
            data_type,
            DataType::Time32(_) | DataType::Time64(_) | DataType::Dictionary(..)
        )
}

fn require_numeric(frame: &Frame, column: usize, role: &str) -> Result<()> {
    let data_type = frame.data_type(column);
    if is_numeric(data_type) {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "{role} column `{}` is {data_type}; expected a number",
        frame.name(column)
    )))
}

// ---------------------------------------------------------------------------
// fields from columns: hashes and stream entries
// ---------------------------------------------------------------------------

/// Field/value pairs of one row from every value column; nulls left out.
struct RowFields {
    fields: Vec<(usize, Vec<u8>)>,
    /// Columns whose formatting can fail, checked before sending.
    checked: Vec<usize>,
}

impl RowFields {
    fn new(frame: &Frame, fields: Vec<(usize, Vec<u8>)>) -> Self {
        let checked = fields
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| fallible(frame.data_type(*c)))
            .collect();
        RowFields { fields, checked }
    }

    /// Append the pairs of row `at` to the current command.
    fn push(&self, ctx: &GroupCtx<'_>, at: RowRef, cmds: &mut Commands, what: &str) -> CellResult {
        let row = at.row as usize;
        let mut any = false;
        for (column, name) in &self.fields {
            let cell = ctx.cells.get(at, *column);
            if cell.is_null(row) {
                continue;
            }
            any = true;
            cmds.arg(name);
            cmds.arg_with(|out| cell.text(row, out))
                .map_err(|reason| ctx.cell_error(at, *column, reason))?;
        }
        if any {
            Ok(())
        } else {
            Err(format!(
                "row {}, key {}: every value is null, and Redis cannot store an empty {what}",
                ctx.frame.global(at),
                crate::error::Key::from(ctx.key)
            ))
        }
    }

    /// The cheap pre-send check: some value is not null, fallible columns format.
    fn check(&self, ctx: &GroupCtx<'_>, at: RowRef, what: &str) -> CellResult {
        let row = at.row as usize;
        let mut scratch = Vec::new();
        for column in &self.checked {
            let cell = ctx.cells.get(at, *column);
            if !cell.is_null(row) {
                scratch.clear();
                cell.text(row, &mut scratch)
                    .map_err(|reason| ctx.cell_error(at, *column, reason))?;
            }
        }
        if self
            .fields
            .iter()
            .any(|(c, _)| !ctx.cells.get(at, *c).is_null(row))
        {
            return Ok(());
        }
        Err(format!(
            "row {}, key {}: every value is null, and Redis cannot store an empty {what}",
            ctx.frame.global(at),
            crate::error::Key::from(ctx.key)
        ))
    }
}

writer! {
    /// Writes one hash per row: every column but the key (and TTL) column is
    /// a field, its value formatted by the rules of the `format` module.
    ///
    /// ```no_run
    /// use polars_redis::{ConnectionConfig, HashWriteBuilder, IfExists};
    /// # fn batches() -> Vec<arrow_array::RecordBatch> { vec![] }
    /// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
    /// let result = HashWriteBuilder::new(config)
    ///     .with_key_column(Some("id"))
    ///     .with_key_prefix("user:")
    ///     .with_ttl(Some(std::time::Duration::from_secs(3600)))
    ///     .with_if_exists(IfExists::Replace)
    ///     .write(batches())?;
    /// println!("{result}");
    /// # Ok::<(), polars_redis::Error>(())
    /// ```
    HashWriteBuilder, "hash", grouped: false, append_idempotent: true, {}
}

impl HashWriteBuilder {
    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let fields = field_columns(frame, reserved, &[], "hash fields")?;
        Ok(Box::new(HashEncoder(RowFields::new(frame, fields))))
    }
}

struct HashEncoder(RowFields);

impl Encoder for HashEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        cmds.start("HSET", When::Always);
        self.0.push(ctx, ctx.rows[0], cmds, "hash")
    }

    fn validate(&self, ctx: &GroupCtx<'_>, _scratch: &mut Commands) -> CellResult {
        self.0.check(ctx, ctx.rows[0], "hash")
    }
}

writer! {
    /// Appends one stream entry per row, in row order; every column but the
    /// key, TTL and id columns is an entry field. Entries get `*` ids unless
    /// an id column is given; `with_maxlen` trims with `MAXLEN`.
    StreamWriteBuilder, "stream", grouped: true, append_idempotent: false, {
        id_column: Option<String> = None,
        maxlen: Option<(u64, bool)> = None,
    }
}

impl StreamWriteBuilder {
    /// Take entry ids (`<ms>-<seq>`, `<ms>-*`) from this column.
    pub fn with_id_column(mut self, name: Option<&str>) -> Self {
        self.id_column = name.map(str::to_string);
        self
    }

    /// Trim each stream to about (`approximate`, `MAXLEN ~`) or exactly this
    /// many entries as entries are added.
    pub fn with_maxlen(mut self, maxlen: Option<u64>, approximate: bool) -> Self {
        self.maxlen = maxlen.map(|n| (n, approximate));
        self
    }

    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
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

// ---------------------------------------------------------------------------
// JSON documents
// ---------------------------------------------------------------------------

writer! {
    /// Writes one JSON document per row (`JSON.SET key $ doc`, RedisJSON):
    /// an object with one attribute per column but the key (and TTL) column.
    /// Numbers and booleans are JSON numbers and booleans; text, dates,
    /// datetimes, times and decimals are strings in their text form (exact);
    /// Struct and List columns become nested objects and arrays. A float NaN
    /// or infinity, or binary data that is not UTF-8, is rejected.
    JsonWriteBuilder, "ReJSON-RL", grouped: false, append_idempotent: true, {}
}

impl JsonWriteBuilder {
    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let fields = field_columns(frame, reserved, &[], "JSON attributes")?;
        let mut names = Vec::new();
        let fields = fields
            .into_iter()
            .map(|(c, name)| {
                names.clear();
                crate::types::format::push_json_string(
                    &mut names,
                    std::str::from_utf8(&name).unwrap_or_default(),
                );
                (c, names.clone())
            })
            .collect();
        Ok(Box::new(JsonEncoder { fields }))
    }
}

struct JsonEncoder {
    /// Column and its quoted JSON name.
    fields: Vec<(usize, Vec<u8>)>,
}

impl Encoder for JsonEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let at = ctx.rows[0];
        let row = at.row as usize;
        let merge = ctx.mode == IfExists::Append;
        cmds.start(if merge { "JSON.MERGE" } else { "JSON.SET" }, When::Always);
        cmds.arg(b"$");
        cmds.arg_with(|out| {
            out.push(b'{');
            let mut first = true;
            for (column, name) in &self.fields {
                let cell = ctx.cells.get(at, *column);
                if merge && cell.is_null(row) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(name);
                out.push(b':');
                cell.json(row, out)
                    .map_err(|reason| ctx.cell_error(at, *column, reason))?;
            }
            out.push(b'}');
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// strings
// ---------------------------------------------------------------------------

writer! {
    /// Writes one string per row from the value column (default `value`),
    /// with one `SET` per key carrying the TTL (`EX`/`PXAT`) and the
    /// condition (`NX` for `fail`/`skip`). `append` replaces the value and
    /// keeps the TTL (`KEEPTTL`), after checking that the key, if it exists,
    /// is a string. Other columns are not written.
    StringWriteBuilder, "string", grouped: false, append_idempotent: true, {
        value_column: String = "value".into(),
    }
}

impl StringWriteBuilder {
    /// The column holding the values. Default `value`.
    pub fn with_value_column(mut self, name: impl Into<String>) -> Self {
        self.value_column = name.into();
        self
    }

    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let value = value_column(frame, reserved, &self.value_column, "value")?;
        Ok(Box::new(StringEncoder { value }))
    }
}

struct StringEncoder {
    value: usize,
}

impl Encoder for StringEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        if ctx.mode == IfExists::Append {
            // WRONGTYPE for a key of another type, before SET could replace it.
            cmds.start("STRLEN", When::Always);
        }
        cmds.start("SET", When::Always);
        ctx.text_arg(cmds, ctx.rows[0], self.value, "value")?;
        let mut number = itoa::Buffer::new();
        match ctx.expiry {
            Expiry::Keep if ctx.mode == IfExists::Append => cmds.arg(b"KEEPTTL"),
            Expiry::Keep => {}
            Expiry::Seconds(s) => {
                cmds.arg(b"EX");
                cmds.arg(number.format(s).as_bytes());
            }
            Expiry::AtMillis(ms) => {
                cmds.arg(b"PXAT");
                cmds.arg(number.format(ms).as_bytes());
            }
        }
        if ctx.mode.guarded() {
            cmds.arg(b"NX");
        }
        Ok(())
    }

    fn single_set(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------
// sets, lists, sorted sets
// ---------------------------------------------------------------------------

writer! {
    /// Writes sets: rows are grouped by key, the member column (default
    /// `member`) gives one member per row (`SADD`, in chunks).
    SetWriteBuilder, "set", grouped: true, append_idempotent: true, {
        member_column: String = "member".into(),
    }
}

impl SetWriteBuilder {
    /// The column holding the members. Default `member`.
    pub fn with_member_column(mut self, name: impl Into<String>) -> Self {
        self.member_column = name.into();
        self
    }

    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let member = value_column(frame, reserved, &self.member_column, "member")?;
        Ok(Box::new(MemberEncoder {
            command: "SADD",
            role: "member",
            column: member,
            order: None,
        }))
    }
}

/// One argument per row (`SADD` members, `RPUSH` elements), optionally
/// ordered by precomputed sort keys.
struct MemberEncoder {
    command: &'static str,
    role: &'static str,
    column: usize,
    /// Sort key of every row, `[batch][row]` (lists with an order column).
    order: Option<Vec<Vec<OrderKey>>>,
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
}

/// A sortable value of an order column.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OrderKey {
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

writer! {
    /// Writes lists: rows are grouped by key, the element column (default
    /// `element`) gives one element per row, pushed with `RPUSH` in row
    /// order, or in ascending order of the order column when one is given.
    ListWriteBuilder, "list", grouped: true, append_idempotent: false, {
        element_column: String = "element".into(),
        order_column: Option<String> = None,
    }
}

impl ListWriteBuilder {
    /// The column holding the elements. Default `element`.
    pub fn with_element_column(mut self, name: impl Into<String>) -> Self {
        self.element_column = name.into();
        self
    }

    /// Push each key's elements in ascending order of this numeric or
    /// temporal column (stable: ties keep row order).
    pub fn with_order_column(mut self, name: Option<&str>) -> Self {
        self.order_column = name.map(str::to_string);
        self
    }

    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
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
            role: "element",
            column: element,
            order,
        }))
    }
}

/// The sort keys of an order column; nulls are rejected naming the row.
fn order_keys(frame: &Frame, column: usize) -> Result<Vec<Vec<OrderKey>>> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type};
    let name = frame.name(column);
    let mut out = Vec::with_capacity(frame.batches.len());
    let mut offset = 0;
    for batch in &frame.batches {
        let array = batch.column(column);
        let values: Vec<Option<OrderKey>> = match array.data_type() {
            DataType::Float32 => array.as_primitive::<Float32Type>().iter().map(|v| v.map(|v| OrderKey::Float(v as f64))).collect(),
            DataType::Float64 => array.as_primitive::<Float64Type>().iter().map(|v| v.map(OrderKey::Float)).collect(),
            t if t.is_integer() => super::engine::integer_values(array)
                .map_err(|r| Error::InvalidArgument(format!("order column `{name}`: {r}")))?
                .into_iter()
                .map(|v| v.map(OrderKey::Int))
                .collect(),
            DataType::Timestamp(..) | DataType::Duration(_) | DataType::Time64(_) => {
                super::engine::timestamp_values(array).into_iter().map(|v| v.map(OrderKey::Int)).collect()
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

writer! {
    /// Writes sorted sets: rows are grouped by key, each row gives a member
    /// (default column `member`) and its score (default `score`, numeric,
    /// not NaN), added with `ZADD` in chunks. A member repeated within one
    /// key is rejected (its score would be ambiguous).
    ZsetWriteBuilder, "zset", grouped: true, append_idempotent: true, {
        member_column: String = "member".into(),
        score_column: String = "score".into(),
    }
}

impl ZsetWriteBuilder {
    /// The column holding the members. Default `member`.
    pub fn with_member_column(mut self, name: impl Into<String>) -> Self {
        self.member_column = name.into();
        self
    }

    /// The column holding the scores. Default `score`.
    pub fn with_score_column(mut self, name: impl Into<String>) -> Self {
        self.score_column = name.into();
        self
    }

    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let member = value_column(frame, reserved, &self.member_column, "member")?;
        let score = value_column(frame, reserved, &self.score_column, "score")?;
        require_numeric(frame, score, "score")?;
        Ok(Box::new(ZsetEncoder { member, score }))
    }
}

struct ZsetEncoder {
    member: usize,
    score: usize,
}

impl Encoder for ZsetEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let mut seen: HashSet<u128> = HashSet::with_capacity(ctx.rows.len());
        let mut member = Vec::new();
        for &at in ctx.rows {
            cmds.room_for("ZADD", When::Always, 2);
            ctx.text_arg(cmds, at, self.score, "score")?;
            member.clear();
            let cell = ctx.cells.get(at, self.member);
            if cell.is_null(at.row as usize) {
                return Err(ctx.cell_error(at, self.member, "the member is null"));
            }
            cell.text(at.row as usize, &mut member)
                .map_err(|reason| ctx.cell_error(at, self.member, reason))?;
            if !seen.insert(xxhash_rust::xxh3::xxh3_128(&member)) {
                return Err(ctx.cell_error(
                    at,
                    self.member,
                    "the member appears twice in this key",
                ));
            }
            cmds.arg(&member);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// time series
// ---------------------------------------------------------------------------

writer! {
    /// Writes RedisTimeSeries samples with `TS.MADD`: rows are grouped by
    /// key, each row gives a timestamp (default column `_ts`: integer
    /// milliseconds or a Datetime) and a value (default `value`, numeric).
    /// A series that does not exist is created with `TS.CREATE` and the
    /// retention and labels given here (`replace` always recreates it). A
    /// timestamp repeated within one key is rejected.
    TimeSeriesWriteBuilder, "TSDB-TYPE", grouped: true, append_idempotent: false, {
        timestamp_column: String = "_ts".into(),
        value_column: String = "value".into(),
        retention_ms: Option<u64> = None,
        labels: Vec<(String, String)> = Vec::new(),
    }
}

impl TimeSeriesWriteBuilder {
    /// The column holding the sample timestamps. Default `_ts`.
    pub fn with_timestamp_column(mut self, name: impl Into<String>) -> Self {
        self.timestamp_column = name.into();
        self
    }

    /// The column holding the sample values. Default `value`.
    pub fn with_value_column(mut self, name: impl Into<String>) -> Self {
        self.value_column = name.into();
        self
    }

    /// `RETENTION` of created series, in milliseconds.
    pub fn with_retention(mut self, retention_ms: Option<u64>) -> Self {
        self.retention_ms = retention_ms;
        self
    }

    /// `LABELS` of created series.
    pub fn with_labels(mut self, labels: Vec<(String, String)>) -> Self {
        self.labels = labels;
        self
    }

    fn make_encoder(&self, frame: &Frame, reserved: &[usize]) -> Result<Box<dyn Encoder>> {
        let timestamp = value_column(frame, reserved, &self.timestamp_column, "timestamp")?;
        let value = value_column(frame, reserved, &self.value_column, "value")?;
        require_numeric(frame, value, "value")?;
        let millis = timestamp_millis(frame, timestamp)?;
        let mut create = Vec::new();
        if let Some(ms) = self.retention_ms {
            create.push(b"RETENTION".to_vec());
            create.push(ms.to_string().into_bytes());
        }
        if !self.labels.is_empty() {
            create.push(b"LABELS".to_vec());
            for (name, value) in &self.labels {
                create.push(name.clone().into_bytes());
                create.push(value.clone().into_bytes());
            }
        }
        Ok(Box::new(TimeSeriesEncoder {
            timestamp,
            millis,
            value,
            create,
        }))
    }
}

/// Sample timestamps in milliseconds, `[batch][row]` (null: `Err` reason).
fn timestamp_millis(
    frame: &Frame,
    column: usize,
) -> Result<Vec<Vec<std::result::Result<i64, String>>>> {
    let name = frame.name(column);
    let per_ms = match frame.data_type(column) {
        t if t.is_integer() => None,
        DataType::Timestamp(unit, _) => Some(match unit {
            arrow_schema::TimeUnit::Second => -1000,
            arrow_schema::TimeUnit::Millisecond => 1,
            arrow_schema::TimeUnit::Microsecond => 1_000,
            arrow_schema::TimeUnit::Nanosecond => 1_000_000,
        }),
        other => {
            return Err(Error::InvalidArgument(format!(
                "timestamp column `{name}` is {other}; expected integer milliseconds or a Datetime"
            )))
        }
    };
    let mut out = Vec::new();
    for batch in &frame.batches {
        let array = batch.column(column);
        let raw = match per_ms {
            None => super::engine::integer_values(array)
                .map_err(|r| Error::InvalidArgument(format!("timestamp column `{name}`: {r}")))?,
            Some(_) => super::engine::timestamp_values(array),
        };
        out.push(
            raw.into_iter()
                .map(|v| {
                    let v = v.ok_or_else(|| "the timestamp is null".to_string())?;
                    let ms = match per_ms {
                        None | Some(1) => v,
                        Some(-1000) => v.checked_mul(1000).ok_or("timestamp out of range")?,
                        Some(per) if v % per == 0 => v / per,
                        Some(_) => return Err("the timestamp has sub-millisecond digits, which a time series cannot store".into()),
                    };
                    if ms < 0 {
                        return Err(format!("{ms} ms is before 1970, which a time series cannot store"));
                    }
                    Ok(ms)
                })
                .collect(),
        );
    }
    Ok(out)
}

struct TimeSeriesEncoder {
    timestamp: usize,
    millis: Vec<Vec<std::result::Result<i64, String>>>,
    value: usize,
    /// `TS.CREATE` options.
    create: Vec<Vec<u8>>,
}

/// Samples per `TS.MADD` (each sample is three arguments).
const SAMPLES_PER_MADD: usize = 300;

impl Encoder for TimeSeriesEncoder {
    fn encode(&self, ctx: &GroupCtx<'_>, cmds: &mut Commands) -> CellResult {
        let when = if ctx.mode == IfExists::Append {
            When::IfAbsent
        } else {
            When::Always
        };
        cmds.start("TS.CREATE", when);
        for arg in &self.create {
            cmds.arg(arg);
        }
        let mut seen = HashSet::with_capacity(ctx.rows.len());
        let mut number = itoa::Buffer::new();
        for (i, &at) in ctx.rows.iter().enumerate() {
            let ms = self.millis[at.batch as usize][at.row as usize]
                .clone()
                .map_err(|reason| ctx.cell_error(at, self.timestamp, reason))?;
            if !seen.insert(ms) {
                return Err(ctx.cell_error(
                    at,
                    self.timestamp,
                    "the timestamp appears twice in this key",
                ));
            }
            if i % SAMPLES_PER_MADD == 0 {
                cmds.start_with("TS.MADD", When::Always, false);
            }
            cmds.arg(ctx.key);
            cmds.arg(number.format(ms).as_bytes());
            ctx.text_arg(cmds, at, self.value, "sample value")?;
        }
        Ok(())
    }
}
