//! The columns a scan emits: optional row index, optional key, the value
//! fields, optional TTL, always in that order.

use std::sync::Arc;

use arrow_array::builder::{BinaryViewBuilder, Int64Builder, StringViewBuilder};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef};

use crate::error::{quote_bytes, Error, Key, Result};
use crate::read::json::value::ValueReader;
use crate::types::columns::ColumnBuilder;
use crate::types::text_form::parse_hint;
use crate::types::{Field, VectorType};

/// Rows a batch's builders make room for up front; beyond it they grow as
/// rows arrive, so a large `batch_size` costs memory only when rows come.
const PREALLOCATED_ROWS: usize = 4096;

/// How the key column holds the Redis key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyType {
    /// Text (`Utf8View`): a key that is not valid UTF-8 is a parse error
    /// (null when not strict). The default.
    #[default]
    Utf8,
    /// The raw bytes (`BinaryView`), whatever they are.
    Binary,
}

impl KeyType {
    fn arrow_type(self) -> DataType {
        match self {
            KeyType::Utf8 => DataType::Utf8View,
            KeyType::Binary => DataType::BinaryView,
        }
    }
}

/// Names of the optional bookkeeping columns, `None` to leave one out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraColumns {
    /// The Redis key, default `_key`.
    pub key: Option<String>,
    /// How the key column holds the key (text by default).
    pub key_type: KeyType,
    /// Seconds until expiry (`Int64`, null when the key never expires), default off.
    pub ttl: Option<String>,
    /// Position in the output (`UInt32`, from 0), default off.
    pub row_index: Option<String>,
}

impl Default for ExtraColumns {
    fn default() -> Self {
        ExtraColumns {
            key: Some("_key".into()),
            key_type: KeyType::Utf8,
            ttl: None,
            row_index: None,
        }
    }
}

/// The resolved output layout of one scan.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) extra: ExtraColumns,
    /// The value fields to emit (already projected), in schema order.
    pub(crate) fields: Vec<Field>,
    pub(crate) strict: bool,
    /// Appended to parse errors, e.g. that the dtype was inferred.
    pub(crate) parse_hint: Option<String>,
    /// What fetchers produce: everything but the row index.
    pub(crate) fetch_schema: SchemaRef,
    /// What the scan emits.
    pub(crate) output_schema: SchemaRef,
}

impl Layout {
    pub(crate) fn new(extra: ExtraColumns, fields: Vec<Field>, strict: bool) -> Result<Self> {
        let mut columns = Vec::new();
        if let Some(key) = &extra.key {
            columns.push(ArrowField::new(key, extra.key_type.arrow_type(), true));
        }
        for field in &fields {
            columns.push(ArrowField::new(
                &field.name,
                field.field_type.arrow_type(),
                true,
            ));
        }
        if let Some(ttl) = &extra.ttl {
            columns.push(ArrowField::new(ttl, DataType::Int64, true));
        }
        let fetch_schema = Arc::new(Schema::new(columns.clone()));
        if let Some(index) = &extra.row_index {
            columns.insert(0, ArrowField::new(index, DataType::UInt32, false));
        }
        let mut names = std::collections::HashSet::new();
        for column in &columns {
            if !names.insert(column.name().as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "column name `{}` is used twice (check the key, TTL and row index column names)",
                    column.name()
                )));
            }
        }
        Ok(Layout {
            extra,
            fields,
            strict,
            parse_hint: None,
            fetch_schema,
            output_schema: Arc::new(Schema::new(columns)),
        })
    }

    /// Fresh builders for one batch of about `capacity` rows (room for at
    /// most [`PREALLOCATED_ROWS`] is made up front).
    pub(crate) fn builders(&self, capacity: usize) -> RowBuilders {
        let capacity = capacity.min(PREALLOCATED_ROWS);
        RowBuilders {
            len: 0,
            keys: self.extra.key.as_ref().map(|_| match self.extra.key_type {
                KeyType::Utf8 => KeyBuilder::Utf8(StringViewBuilder::with_capacity(capacity)),
                KeyType::Binary => KeyBuilder::Binary(BinaryViewBuilder::with_capacity(capacity)),
            }),
            values: self
                .fields
                .iter()
                .map(|f| ColumnBuilder::new(&f.field_type, capacity).with_form(f.form.as_ref()))
                .collect(),
            ttls: self
                .extra
                .ttl
                .as_ref()
                .map(|_| Int64Builder::with_capacity(capacity)),
        }
    }

    /// Append `value` to value column `column`, applying the strict rule.
    pub(crate) fn append_value(
        &self,
        rows: &mut RowBuilders,
        column: usize,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<()> {
        let builder = &mut rows.values[column];
        match value {
            None => builder.append_null(),
            // Lists and structs are stored as JSON text (see `write_hashes`).
            Some(text) if builder.field_type().is_nested() => {
                ValueReader::new(self.strict, self.parse_hint.as_deref()).read_text(
                    key,
                    &self.fields[column].name,
                    text,
                    builder,
                )?;
            }
            Some(bytes) => {
                if !builder.append(bytes) {
                    let hint = parse_hint(
                        self.parse_hint.as_deref(),
                        builder.field_type(),
                        builder.form(),
                    );
                    return self.unparsable(rows, column, key, quote_bytes(bytes, 80), hint);
                }
            }
        }
        Ok(())
    }

    /// A value of column `column` that does not follow its type's rule: a
    /// parse error when strict, else one null.
    fn unparsable(
        &self,
        rows: &mut RowBuilders,
        column: usize,
        key: &[u8],
        value: String,
        hint: Option<String>,
    ) -> Result<()> {
        let builder = &mut rows.values[column];
        if self.strict {
            return Err(Error::Parse {
                key: Key::from(key),
                field: self.fields[column].name.clone(),
                value,
                dtype: builder.field_type().to_string(),
                hint,
            });
        }
        builder.append_null();
        Ok(())
    }

    /// Append the value of a hash field to value column `column`: a float
    /// vector column reads its blob (see `types/vector.rs`), any other
    /// column as [`Layout::append_value`] does.
    pub(crate) fn append_hash_value(
        &self,
        rows: &mut RowBuilders,
        column: usize,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<()> {
        let builder = &mut rows.values[column];
        let (Some(blob), Some(element)) = (value, VectorType::of(builder.field_type())) else {
            return self.append_value(rows, column, key, value);
        };
        match builder.append_blob(element, blob) {
            Ok(()) => Ok(()),
            Err(expected) => {
                let value = format!("a {}-byte value", blob.len());
                self.unparsable(rows, column, key, value, Some(expected))
            }
        }
    }

    /// Append the key and TTL of a row, which completes it (call once per
    /// row, after its values).
    pub(crate) fn append_key_and_ttl(
        &self,
        rows: &mut RowBuilders,
        key: &[u8],
        ttl_seconds: Option<i64>,
    ) -> Result<()> {
        match &mut rows.keys {
            None => {}
            Some(KeyBuilder::Binary(keys)) => keys.append_value(key),
            Some(KeyBuilder::Utf8(keys)) => match std::str::from_utf8(key) {
                Ok(text) => keys.append_value(text),
                Err(_) if !self.strict => keys.append_null(),
                Err(_) => {
                    return Err(Error::Parse {
                        key: Key::from(key),
                        field: self.extra.key.clone().unwrap_or_default(),
                        value: quote_bytes(key, 80),
                        dtype: "String (the key is not valid UTF-8)".into(),
                        hint: Some(
                            "pass key_dtype=pl.Binary (KeyType::Binary) to read keys as \
                             their raw bytes, or strict=False to read this one as null"
                                .into(),
                        ),
                    })
                }
            },
        }
        if let Some(ttls) = &mut rows.ttls {
            ttls.append_option(ttl_seconds);
        }
        rows.len += 1;
        Ok(())
    }

    /// Assemble a batch in fetch-schema order.
    pub(crate) fn finish(&self, rows: &mut RowBuilders) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.fetch_schema.fields().len());
        match &mut rows.keys {
            Some(KeyBuilder::Utf8(keys)) => columns.push(Arc::new(keys.finish())),
            Some(KeyBuilder::Binary(keys)) => columns.push(Arc::new(keys.finish())),
            None => {}
        }
        for values in &mut rows.values {
            columns.push(values.finish()?);
        }
        if let Some(ttls) = &mut rows.ttls {
            columns.push(Arc::new(ttls.finish()));
        }
        // The row count matters when no column is projected (e.g. only the
        // row index, or a bare row count).
        let options = RecordBatchOptions::new().with_row_count(Some(std::mem::take(&mut rows.len)));
        RecordBatch::try_new_with_options(self.fetch_schema.clone(), columns, &options)
            .map_err(|e| Error::Protocol(format!("internal: batch assembly failed: {e}")))
    }

    /// Add the row index column (numbered from `first_index`) to a fetched batch.
    pub(crate) fn with_row_index(
        &self,
        batch: RecordBatch,
        first_index: u32,
    ) -> Result<RecordBatch> {
        if self.extra.row_index.is_none() {
            return Ok(batch);
        }
        let rows = batch.num_rows() as u32;
        let index: ArrayRef = Arc::new(UInt32Array::from_iter_values(
            first_index..first_index + rows,
        ));
        let mut columns = vec![index];
        columns.extend(batch.columns().iter().cloned());
        RecordBatch::try_new(self.output_schema.clone(), columns)
            .map_err(|e| Error::Protocol(format!("internal: batch assembly failed: {e}")))
    }
}

/// The builders of one batch under construction.
pub(crate) struct RowBuilders {
    /// Completed rows.
    len: usize,
    keys: Option<KeyBuilder>,
    /// The value columns, in layout order.
    pub(crate) values: Vec<ColumnBuilder>,
    ttls: Option<Int64Builder>,
}

/// The key column of one batch under construction.
enum KeyBuilder {
    Utf8(StringViewBuilder),
    Binary(BinaryViewBuilder),
}
