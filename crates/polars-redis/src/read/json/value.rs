//! Reading JSON values into column builders as the schema says: each value
//! by the rules of the type table, lists and structs recursively, the
//! strict rule applied to each value on its own.

use crate::error::{Error, Key, Result};
use crate::types::columns::ColumnBuilder;
use crate::types::json_text::{JsonCursor, Kind};
use crate::types::text_form::parse_hint;
use crate::types::{Field, FieldType, TextForm};

/// One step of the way from a column to a nested value, for messages.
#[derive(Clone, Copy, Debug)]
pub(super) enum Segment<'l> {
    Name(&'l str),
    Index(usize),
}

/// Prefix the field of a parse error raised inside `segment`: the name of
/// a failing value (`address.geo.lat`, `tags[2]`) is built while the error
/// unwinds, so reading costs nothing for it.
pub(super) fn within(err: Error, segment: Segment<'_>) -> Error {
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
pub(crate) struct ValueReader<'l> {
    strict: bool,
    hint: Option<&'l str>,
    /// The key being read, for messages.
    pub(super) key: Vec<u8>,
    /// Unescaped strings.
    pub(super) scratch: Vec<u8>,
}

impl<'l> ValueReader<'l> {
    /// A reader applying the strict rule (`strict`), adding `hint` to its
    /// parse errors.
    pub(crate) fn new(strict: bool, hint: Option<&'l str>) -> Self {
        ValueReader {
            strict,
            hint,
            key: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Read one value stored as JSON text (a `List` or `Struct` hash field,
    /// as `write_hashes` stores it) of `key`'s column `column` into
    /// `builder`. Text that is not one JSON value is unparsable, like a
    /// value of the wrong kind.
    pub(crate) fn read_text(
        &mut self,
        key: &[u8],
        column: &str,
        text: &[u8],
        builder: &mut ColumnBuilder,
    ) -> Result<()> {
        self.key.clear();
        self.key.extend_from_slice(key);
        let field_type = builder.field_type().clone();
        let mut cur = JsonCursor::new(text);
        // Check the whole text first: a malformed value must not leave
        // half a list or struct in the builder.
        if cur.skip_value().and_then(|_| cur.finish()).is_err() {
            return self
                .reject(builder, text, &format!("{field_type} (as JSON text)"))
                .map_err(|e| within(e, Segment::Name(column)));
        }
        cur.seek(0);
        self.read_value(&mut cur, &field_type, builder)
            .map_err(|e| within(e, Segment::Name(column)))
    }

    /// Read a path's matches array into a column.
    pub(super) fn read_matches(
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
        field_type: &FieldType,
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
            (Kind::Array, FieldType::List(inner) | FieldType::Array(inner, _)) => {
                if let Some(width) = builder.array_width() {
                    // Count first: an array of another width is one bad value.
                    cur.begin_array()?;
                    let mut first = true;
                    let mut count = 0;
                    while cur.next_element(&mut first)? {
                        cur.skip_value()?;
                        count += 1;
                    }
                    if count != width {
                        let value = cur.text_since(start);
                        return self.reject(builder, value, &field_type.to_string());
                    }
                    cur.seek(start);
                }
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
            (Kind::Number, t) if reads_numbers(t, builder) => builder.append(cur.number()?),
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
    pub(super) fn read_members(
        &mut self,
        cur: &mut JsonCursor<'_>,
        fields: &[Field],
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
            let mut err = self.parse_error(value, dtype);
            if let Error::Parse { hint, .. } = &mut err {
                *hint = parse_hint(self.hint, builder.field_type(), builder.form());
            }
            return Err(err);
        }
        builder.append_null();
        Ok(())
    }

    /// The error for a value; its field is filled in by [`within`].
    pub(super) fn parse_error(&self, value: &[u8], dtype: &str) -> Error {
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

/// Columns that read JSON numbers (by their text rules): numeric ones,
/// durations (integer counts), and dates, datetimes and times stored as
/// epoch counts (declared with `formats=`; a bare number is not a date).
fn reads_numbers(t: &FieldType, builder: &ColumnBuilder) -> bool {
    let temporal = matches!(
        t,
        FieldType::Date | FieldType::Datetime { .. } | FieldType::Time
    );
    if temporal {
        return builder.form().is_some_and(TextForm::is_count);
    }
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
    fn excerpts_are_cut() {
        assert_eq!(json_excerpt(b"[1,2,3]", 3), "[1,...");
        assert_eq!(json_excerpt(b"\"abc\"", 80), "\"abc\"");
    }
}
