//! Arrow column builders that parse Redis bytes as they append.
//!
//! Scalar columns parse text with the rules of `parse.rs`. List and struct
//! columns (JSON only) are filled by their reader through their children:
//! append to [`ColumnBuilder::list_child`] then call
//! [`ColumnBuilder::end_list`], or give each of
//! [`ColumnBuilder::struct_children`] one value then call
//! [`ColumnBuilder::end_struct`].

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::builder::{
    BinaryViewBuilder, BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder,
    Int16Builder, Int32Builder, Int64Builder, Int8Builder, StringViewBuilder, UInt16Builder,
    UInt32Builder, UInt64Builder, UInt8Builder,
};
use arrow_array::{make_array, Array, ArrayRef, FixedSizeListArray, ListArray, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, FieldRef};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::types::parse;
use crate::types::text_form::Temporal;
use crate::types::vector::VectorType;
use crate::types::{FieldType, TextForm, TimeUnit};

/// A growing column of one [`FieldType`].
pub(crate) struct ColumnBuilder {
    field_type: FieldType,
    /// The declared stored form of a temporal column, if not the default.
    form: Option<(TextForm, Temporal)>,
    storage: Storage,
    /// Values appended since the last `finish` (nulls included).
    rows: usize,
}

/// The builder of a fixed-width list column: `width` child values a row
/// (nulls for a null row).
struct ArrayStorage {
    item: FieldRef,
    width: usize,
    validity: NullBufferBuilder,
    child: ColumnBuilder,
}

/// The builder of a list column: offsets into one child column.
struct ListStorage {
    item: FieldRef,
    offsets: Vec<i32>,
    validity: NullBufferBuilder,
    child: ColumnBuilder,
}

/// The builder of a struct column: one child column per field.
struct StructStorage {
    validity: NullBufferBuilder,
    children: Vec<ColumnBuilder>,
}

/// The physical builder; temporal types are stored as integers and relabelled
/// with their Arrow type when finished.
enum Storage {
    Utf8(StringViewBuilder),
    Binary(BinaryViewBuilder),
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    UInt8(UInt8Builder),
    UInt16(UInt16Builder),
    UInt32(UInt32Builder),
    UInt64(UInt64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Date(Int32Builder),
    Datetime(Int64Builder, TimeUnit, Option<Tz>),
    Time(Int64Builder),
    Duration(Int64Builder),
    Decimal(Decimal128Builder, u8, i8),
    Enum(StringViewBuilder, Arc<HashSet<String>>),
    List(Box<ListStorage>),
    Array(Box<ArrayStorage>),
    Struct(Box<StructStorage>),
}

/// Append `parsed` if the text followed the rule; report whether it did.
macro_rules! push {
    ($builder:expr, $parsed:expr) => {
        match $parsed {
            Some(value) => {
                $builder.append_value(value);
                true
            }
            None => false,
        }
    };
}

impl ColumnBuilder {
    pub(crate) fn new(field_type: &FieldType, capacity: usize) -> Self {
        let storage = match field_type {
            FieldType::Utf8 | FieldType::Categorical => {
                Storage::Utf8(StringViewBuilder::with_capacity(capacity))
            }
            FieldType::Binary => Storage::Binary(BinaryViewBuilder::with_capacity(capacity)),
            FieldType::Boolean => Storage::Boolean(BooleanBuilder::with_capacity(capacity)),
            FieldType::Int8 => Storage::Int8(Int8Builder::with_capacity(capacity)),
            FieldType::Int16 => Storage::Int16(Int16Builder::with_capacity(capacity)),
            FieldType::Int32 => Storage::Int32(Int32Builder::with_capacity(capacity)),
            FieldType::Int64 => Storage::Int64(Int64Builder::with_capacity(capacity)),
            FieldType::UInt8 => Storage::UInt8(UInt8Builder::with_capacity(capacity)),
            FieldType::UInt16 => Storage::UInt16(UInt16Builder::with_capacity(capacity)),
            FieldType::UInt32 => Storage::UInt32(UInt32Builder::with_capacity(capacity)),
            FieldType::UInt64 => Storage::UInt64(UInt64Builder::with_capacity(capacity)),
            FieldType::Float32 => Storage::Float32(Float32Builder::with_capacity(capacity)),
            FieldType::Float64 => Storage::Float64(Float64Builder::with_capacity(capacity)),
            FieldType::Date => Storage::Date(Int32Builder::with_capacity(capacity)),
            FieldType::Datetime { unit, tz } => Storage::Datetime(
                Int64Builder::with_capacity(capacity),
                *unit,
                // Validated when the FieldType was made; UTC needs no lookups.
                tz.as_deref()
                    .and_then(|tz| tz.parse::<Tz>().ok())
                    .filter(|tz| *tz != Tz::UTC),
            ),
            FieldType::Time => Storage::Time(Int64Builder::with_capacity(capacity)),
            FieldType::Duration { .. } => Storage::Duration(Int64Builder::with_capacity(capacity)),
            FieldType::Decimal { precision, scale } => Storage::Decimal(
                Decimal128Builder::with_capacity(capacity),
                *precision,
                *scale,
            ),
            FieldType::Enum { categories } => Storage::Enum(
                StringViewBuilder::with_capacity(capacity),
                Arc::new(categories.iter().cloned().collect()),
            ),
            FieldType::List(inner) => {
                let DataType::List(item) = field_type.arrow_type() else {
                    unreachable!("a list field type has a list Arrow type")
                };
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Storage::List(Box::new(ListStorage {
                    item,
                    offsets,
                    validity: NullBufferBuilder::new(capacity),
                    child: ColumnBuilder::new(inner, capacity),
                }))
            }
            FieldType::Array(inner, width) => {
                let DataType::FixedSizeList(item, _) = field_type.arrow_type() else {
                    unreachable!("an array field type has a fixed-size list Arrow type")
                };
                Storage::Array(Box::new(ArrayStorage {
                    item,
                    width: *width,
                    validity: NullBufferBuilder::new(capacity),
                    child: ColumnBuilder::new(inner, capacity.saturating_mul(*width)),
                }))
            }
            FieldType::Struct(fields) => Storage::Struct(Box::new(StructStorage {
                validity: NullBufferBuilder::new(capacity),
                children: fields
                    .iter()
                    .map(|f| ColumnBuilder::new(&f.field_type, capacity))
                    .collect(),
            })),
        };
        ColumnBuilder {
            field_type: field_type.clone(),
            form: None,
            storage,
            rows: 0,
        }
    }

    /// The same builder reading values in `form` (`None`: the default form).
    /// A form on a column that is not temporal is ignored (forms are
    /// checked against their columns when a scan is built).
    pub(crate) fn with_form(mut self, form: Option<&TextForm>) -> Self {
        self.form = form.and_then(|form| Some((form.clone(), Temporal::of(&self.field_type)?)));
        self
    }

    pub(crate) fn field_type(&self) -> &FieldType {
        &self.field_type
    }

    /// The declared stored form, if not the default.
    pub(crate) fn form(&self) -> Option<&TextForm> {
        self.form.as_ref().map(|(form, _)| form)
    }

    /// Values appended since the last `finish`, nulls included.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The element column of a list or array column (`None` for other types).
    pub(crate) fn list_child(&mut self) -> Option<&mut ColumnBuilder> {
        match &mut self.storage {
            Storage::List(list) => Some(&mut list.child),
            Storage::Array(array) => Some(&mut array.child),
            _ => None,
        }
    }

    /// The width of an array column (`None` for other types).
    pub(crate) fn array_width(&self) -> Option<usize> {
        match &self.storage {
            Storage::Array(array) => Some(array.width),
            _ => None,
        }
    }

    /// Close one list value: the elements appended to the child since the
    /// previous value belong to it (exactly the width of an array column).
    pub(crate) fn end_list(&mut self) -> Result<()> {
        if let Storage::Array(array) = &mut self.storage {
            if array.child.rows != (self.rows + 1) * array.width {
                return Err(Error::Protocol(
                    "internal: an array value of the wrong width".into(),
                ));
            }
            array.validity.append_non_null();
            self.rows += 1;
            return Ok(());
        }
        let Storage::List(list) = &mut self.storage else {
            return Err(Error::Protocol("internal: end_list on a non-list".into()));
        };
        let end = i32::try_from(list.child.rows).map_err(|_| {
            Error::InvalidArgument(
                "a list column holds more than 2^31 elements in one batch: lower batch_size".into(),
            )
        })?;
        list.offsets.push(end);
        list.validity.append_non_null();
        self.rows += 1;
        Ok(())
    }

    /// The field columns of a struct column (`None` for other types).
    pub(crate) fn struct_children(&mut self) -> Option<&mut [ColumnBuilder]> {
        match &mut self.storage {
            Storage::Struct(s) => Some(&mut s.children),
            _ => None,
        }
    }

    /// Close one struct value; every child must have had exactly one value
    /// appended since the previous one.
    pub(crate) fn end_struct(&mut self) {
        if let Storage::Struct(s) = &mut self.storage {
            s.validity.append_non_null();
            self.rows += 1;
        }
    }

    /// Parse and append one value. Returns `false`, appending nothing, when
    /// the bytes do not follow the type's rule (always for lists and structs).
    pub(crate) fn append(&mut self, bytes: &[u8]) -> bool {
        let appended = self.append_scalar(bytes);
        self.rows += appended as usize;
        appended
    }

    fn append_scalar(&mut self, bytes: &[u8]) -> bool {
        if let Some((form, temporal)) = &self.form {
            let value = form.read(bytes, temporal);
            return match &mut self.storage {
                Storage::Date(b) => push!(b, value.and_then(|v| i32::try_from(v).ok())),
                Storage::Datetime(b, ..) | Storage::Time(b) | Storage::Duration(b) => {
                    push!(b, value)
                }
                _ => false,
            };
        }
        match &mut self.storage {
            Storage::Utf8(b) => push!(b, std::str::from_utf8(bytes).ok()),
            Storage::Binary(b) => {
                b.append_value(bytes);
                true
            }
            Storage::Boolean(b) => push!(b, parse::parse_bool(bytes)),
            Storage::Int8(b) => push!(b, parse::parse_number(bytes)),
            Storage::Int16(b) => push!(b, parse::parse_number(bytes)),
            Storage::Int32(b) => push!(b, parse::parse_number(bytes)),
            Storage::Int64(b) => push!(b, parse::parse_number(bytes)),
            Storage::UInt8(b) => push!(b, parse::parse_number(bytes)),
            Storage::UInt16(b) => push!(b, parse::parse_number(bytes)),
            Storage::UInt32(b) => push!(b, parse::parse_number(bytes)),
            Storage::UInt64(b) => push!(b, parse::parse_number(bytes)),
            Storage::Float32(b) => push!(b, parse::parse_number(bytes)),
            Storage::Float64(b) => push!(b, parse::parse_number(bytes)),
            Storage::Date(b) => push!(b, parse::parse_date(bytes)),
            Storage::Datetime(b, unit, tz) => {
                push!(b, parse::parse_datetime(bytes, *unit, tz.as_ref()))
            }
            Storage::Time(b) => push!(b, parse::parse_time(bytes)),
            Storage::Duration(b) => push!(b, parse::parse_number::<i64>(bytes)),
            Storage::Decimal(b, precision, scale) => {
                push!(b, parse::parse_decimal(bytes, *precision, *scale))
            }
            Storage::Enum(b, categories) => push!(
                b,
                std::str::from_utf8(bytes)
                    .ok()
                    .filter(|s| categories.contains(*s))
            ),
            Storage::List(_) | Storage::Array(_) | Storage::Struct(_) => false,
        }
    }

    /// Append one float vector blob (see `vector.rs`) to a vector column (a
    /// type [`VectorType::of`] accepts), as `element`s. A blob whose length
    /// is not the array's width (or, for a list, not a whole number of
    /// elements) appends nothing and returns what the length should be, for
    /// the caller's message.
    pub(crate) fn append_blob(
        &mut self,
        element: VectorType,
        blob: &[u8],
    ) -> std::result::Result<(), String> {
        let size = element.size();
        let name = element.name();
        match self.array_width() {
            Some(width) if blob.len() != width * size => {
                return Err(format!(
                    "hashes store float vectors as little-endian {name} blobs: one of dimension \
                     {width} is {} bytes, this one is {}",
                    width * size,
                    blob.len()
                ))
            }
            None if blob.len() % size != 0 => {
                return Err(format!(
                    "hashes store float vectors as little-endian {name} blobs: a whole number of \
                     {size}-byte elements, and this one is {} bytes",
                    blob.len()
                ))
            }
            _ => {}
        }
        let child = match &mut self.storage {
            Storage::List(list) => &mut list.child,
            Storage::Array(array) => &mut array.child,
            _ => return Err("internal: a vector blob for a column that is not a list".into()),
        };
        match &mut child.storage {
            Storage::Float32(b) => {
                for chunk in blob.chunks_exact(4) {
                    b.append_value(f32::from_le_bytes(chunk.try_into().expect("4 bytes")));
                }
            }
            Storage::Float64(b) => {
                for chunk in blob.chunks_exact(8) {
                    b.append_value(f64::from_le_bytes(chunk.try_into().expect("8 bytes")));
                }
            }
            _ => return Err("internal: a vector blob for a list that is not of floats".into()),
        }
        child.rows += blob.len() / size;
        self.end_list().map_err(|e| e.to_string())
    }

    pub(crate) fn append_null(&mut self) {
        self.rows += 1;
        match &mut self.storage {
            Storage::Utf8(b) | Storage::Enum(b, _) => b.append_null(),
            Storage::Binary(b) => b.append_null(),
            Storage::Boolean(b) => b.append_null(),
            Storage::Int8(b) => b.append_null(),
            Storage::Int16(b) => b.append_null(),
            Storage::Int32(b) | Storage::Date(b) => b.append_null(),
            Storage::Int64(b)
            | Storage::Datetime(b, ..)
            | Storage::Time(b)
            | Storage::Duration(b) => b.append_null(),
            Storage::UInt8(b) => b.append_null(),
            Storage::UInt16(b) => b.append_null(),
            Storage::UInt32(b) => b.append_null(),
            Storage::UInt64(b) => b.append_null(),
            Storage::Float32(b) => b.append_null(),
            Storage::Float64(b) => b.append_null(),
            Storage::Decimal(b, ..) => b.append_null(),
            Storage::List(list) => {
                let end = *list.offsets.last().expect("offsets start with 0");
                list.offsets.push(end);
                list.validity.append_null();
            }
            Storage::Array(array) => {
                for _ in 0..array.width {
                    array.child.append_null();
                }
                array.validity.append_null();
            }
            Storage::Struct(s) => {
                s.children.iter_mut().for_each(ColumnBuilder::append_null);
                s.validity.append_null();
            }
        }
    }

    /// Finish the column as an Arrow array of `field_type.arrow_type()`, and
    /// leave the builder empty for the next batch.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef> {
        self.rows = 0;
        let array: ArrayRef = match &mut self.storage {
            Storage::Utf8(b) | Storage::Enum(b, _) => Arc::new(b.finish()),
            Storage::Binary(b) => Arc::new(b.finish()),
            Storage::Boolean(b) => Arc::new(b.finish()),
            Storage::Int8(b) => Arc::new(b.finish()),
            Storage::Int16(b) => Arc::new(b.finish()),
            Storage::Int32(b) | Storage::Date(b) => Arc::new(b.finish()),
            Storage::Int64(b)
            | Storage::Datetime(b, ..)
            | Storage::Time(b)
            | Storage::Duration(b) => Arc::new(b.finish()),
            Storage::UInt8(b) => Arc::new(b.finish()),
            Storage::UInt16(b) => Arc::new(b.finish()),
            Storage::UInt32(b) => Arc::new(b.finish()),
            Storage::UInt64(b) => Arc::new(b.finish()),
            Storage::Float32(b) => Arc::new(b.finish()),
            Storage::Float64(b) => Arc::new(b.finish()),
            Storage::Decimal(b, ..) => Arc::new(b.finish()),
            Storage::List(list) => {
                let offsets = std::mem::replace(&mut list.offsets, vec![0]);
                let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
                let values = list.child.finish()?;
                let nulls = list.validity.finish();
                return ListArray::try_new(list.item.clone(), offsets, values, nulls)
                    .map(|a| Arc::new(a) as ArrayRef)
                    .map_err(assembly_failed);
            }
            Storage::Array(array) => {
                let values = array.child.finish()?;
                let nulls = array.validity.finish();
                return FixedSizeListArray::try_new(
                    array.item.clone(),
                    array.width as i32,
                    values,
                    nulls,
                )
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(assembly_failed);
            }
            Storage::Struct(s) => {
                let DataType::Struct(fields) = self.field_type.arrow_type() else {
                    unreachable!("a struct field type has a struct Arrow type")
                };
                let children = s
                    .children
                    .iter_mut()
                    .map(ColumnBuilder::finish)
                    .collect::<Result<Vec<_>>>()?;
                return StructArray::try_new(fields, children, s.validity.finish())
                    .map(|a| Arc::new(a) as ArrayRef)
                    .map_err(assembly_failed);
            }
        };
        Ok(relabel(array, &self.field_type.arrow_type()))
    }
}

fn assembly_failed(err: arrow_schema::ArrowError) -> Error {
    Error::Protocol(format!("internal: column assembly failed: {err}"))
}

/// Give an integer array its logical type (Date32, Timestamp, Decimal precision...).
fn relabel(array: ArrayRef, data_type: &arrow_schema::DataType) -> ArrayRef {
    if array.data_type() == data_type {
        return array;
    }
    let data = array
        .into_data()
        .into_builder()
        .data_type(data_type.clone())
        .build()
        .expect("integer storage matches the layout of its logical type");
    make_array(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMillisecondType};

    #[test]
    fn builds_typed_columns_and_rejects_bad_text() {
        let mut ints = ColumnBuilder::new(&FieldType::Int64, 4);
        assert!(ints.append(b"42"));
        assert!(!ints.append(b"forty"));
        ints.append_null();
        let array = ints.finish().unwrap();
        let ints = array.as_primitive::<Int64Type>();
        assert_eq!((ints.len(), ints.value(0), ints.is_null(1)), (2, 42, true));

        let ts = FieldType::datetime(TimeUnit::Millisecond, Some("UTC")).unwrap();
        let mut col = ColumnBuilder::new(&ts, 1);
        assert!(col.append(b"1970-01-01T00:00:01Z"));
        let array = col.finish().unwrap();
        assert_eq!(array.data_type(), &ts.arrow_type());
        assert_eq!(
            array.as_primitive::<TimestampMillisecondType>().value(0),
            1000
        );

        let dec = FieldType::decimal(5, 2).unwrap();
        let mut col = ColumnBuilder::new(&dec, 1);
        assert!(col.append(b"1.5"));
        assert_eq!(col.finish().unwrap().data_type(), &dec.arrow_type());

        let e = FieldType::Enum {
            categories: vec!["a".to_string()].into(),
        };
        let mut col = ColumnBuilder::new(&e, 1);
        assert!(col.append(b"a") && !col.append(b"b"));
    }
}
