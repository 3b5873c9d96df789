//! Arrow values → the text Redis stores: the exact inverse of the parse rules
//! in `parse.rs`, so a value written here reads back identically.
//!
//! | Arrow type                      | written as                                                        |
//! |---------------------------------|-------------------------------------------------------------------|
//! | Utf8, LargeUtf8, Utf8View       | the text itself                                                   |
//! | Binary, LargeBinary, BinaryView, FixedSizeBinary | the bytes themselves                             |
//! | Boolean                         | `true` / `false`                                                  |
//! | Int*, UInt*                     | decimal integer                                                   |
//! | Float32, Float64                | shortest text that parses back to the same float (`NaN`, `inf`, `-inf`) |
//! | Date32                          | `YYYY-MM-DD` (`+YYYYY-MM-DD`, `-YYYY-MM-DD` outside years 0000-9999) |
//! | Timestamp(unit, None)           | `YYYY-MM-DDTHH:MM:SS[.f]` (naive, read back as UTC wall time)     |
//! | Timestamp(unit, zone)           | the same in that zone with its offset, `±HH:MM`, or `Z` for UTC   |
//! | Time32, Time64                  | `HH:MM:SS[.fffffffff]`                                            |
//! | Duration(unit)                  | integer count of `unit`                                           |
//! | Decimal128(p, s)                | `[-]digits[.digits]` with exactly `s` fraction digits             |
//! | Dictionary (Categorical, Enum)  | the text of the value                                             |
//! | Struct, List, LargeList, FixedSizeList | JSON (objects and arrays; see [`Cells::json`])             |
//!
//! The fraction of a datetime has as many digits as its unit (3, 6 or 9) and
//! is left out when zero. Outside years 0000-9999 the year is expanded
//! (`+10000-01-01T00:00:00`); values beyond chrono's years (±262143) have no
//! text and are refused, naming `formats=` (an epoch count holds them). A
//! column with a declared [`TextForm`](crate::types::TextForm) is formatted
//! by it instead ([`cells_in_form`]).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowDictionaryKeyType, ArrowPrimitiveType, ByteArrayType, ByteViewType, Date32Type,
    Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, FixedSizeBinaryArray, FixedSizeListArray,
    GenericByteArray, GenericByteViewArray, GenericListArray, OffsetSizeTrait, PrimitiveArray,
    StructArray,
};
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};
use chrono::{Datelike, NaiveDate, Timelike};

use crate::types::text_form::{Temporal, Zone};
use crate::types::{TextForm, VectorType};

/// Why one cell cannot be written (the caller adds row, key and column).
pub(crate) type CellResult = std::result::Result<(), String>;

/// One column of one batch, formatted cell by cell.
pub(crate) trait Cells: Send + Sync {
    /// True when the cell is null.
    fn is_null(&self, row: usize) -> bool;
    /// Append the text form of a non-null cell.
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult;
    /// Append the JSON form of a cell (`null` for null): numbers and
    /// booleans natively, text and temporal values as strings in their text
    /// form, decimals as strings (exact), nested values as arrays/objects.
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult;
    /// True for a float NaN (which sorted sets and time series reject).
    fn is_nan(&self, _row: usize) -> bool {
        false
    }
    /// The value of a non-null float cell (`None` for other cells): the
    /// elements of a vector blob.
    fn float(&self, _row: usize) -> Option<f64> {
        None
    }
    /// Append the blob of a non-null float vector cell as `element`s (see
    /// `vector.rs`); an error for a null element or another column.
    fn blob(&self, _row: usize, _element: VectorType, _out: &mut Vec<u8>) -> CellResult {
        Err("not a float vector".into())
    }
}

/// True for the Arrow types whose text form is a number Redis accepts as a
/// score or sample value.
pub(crate) fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_integer()
        || data_type.is_floating()
        || matches!(data_type, DataType::Decimal128(..))
}

/// Formatter for `array`, or an error naming the unsupported type.
pub(crate) fn cells(array: &ArrayRef) -> std::result::Result<Box<dyn Cells + '_>, String> {
    cells_of(array.as_ref())
}

fn cells_of(array: &dyn Array) -> std::result::Result<Box<dyn Cells + '_>, String> {
    use DataType as D;
    Ok(match array.data_type() {
        D::Null => Box::new(NullCells),
        D::Utf8 => Box::new(ByteCells(array.as_string::<i32>())),
        D::LargeUtf8 => Box::new(ByteCells(array.as_string::<i64>())),
        D::Utf8View => Box::new(ByteCells(array.as_string_view())),
        D::Binary => Box::new(ByteCells(array.as_binary::<i32>())),
        D::LargeBinary => Box::new(ByteCells(array.as_binary::<i64>())),
        D::BinaryView => Box::new(ByteCells(array.as_binary_view())),
        D::FixedSizeBinary(_) => Box::new(ByteCells(array.as_fixed_size_binary())),
        D::Boolean => Box::new(BoolCells(array.as_boolean())),
        D::Int8 => integers(array.as_primitive::<Int8Type>()),
        D::Int16 => integers(array.as_primitive::<Int16Type>()),
        D::Int32 => integers(array.as_primitive::<Int32Type>()),
        D::Int64 => integers(array.as_primitive::<Int64Type>()),
        D::UInt8 => integers(array.as_primitive::<UInt8Type>()),
        D::UInt16 => integers(array.as_primitive::<UInt16Type>()),
        D::UInt32 => integers(array.as_primitive::<UInt32Type>()),
        D::UInt64 => integers(array.as_primitive::<UInt64Type>()),
        D::Float32 => floats(array.as_primitive::<Float32Type>()),
        D::Float64 => floats(array.as_primitive::<Float64Type>()),
        D::Date32 => scalars(
            array.as_primitive::<Date32Type>().clone(),
            JsonForm::Quoted,
            |days, out| push_date(out, days),
        ),
        D::Timestamp(unit, tz) => {
            let zone = match tz {
                None => None,
                Some(tz) => {
                    Some(Zone::parse(tz).ok_or_else(|| format!("unknown time zone `{tz}`"))?)
                }
            };
            let unit = *unit;
            scalars(as_i64(array), JsonForm::Quoted, move |value, out| {
                push_datetime(out, value, unit, zone)
            })
        }
        D::Time32(_) | D::Time64(_) => {
            scalars(time_nanos(array)?, JsonForm::Quoted, |nanos, out| {
                push_time(out, nanos)
            })
        }
        D::Duration(_) => integers(&as_i64(array)),
        D::Decimal128(_, scale) => {
            let scale = *scale;
            scalars(
                array.as_primitive::<Decimal128Type>().clone(),
                JsonForm::Quoted,
                move |v, out| {
                    push_decimal(out, v, scale);
                    Ok(())
                },
            )
        }
        D::Dictionary(key, _) => match key.as_ref() {
            D::Int8 => dictionary(array.as_dictionary::<Int8Type>())?,
            D::Int16 => dictionary(array.as_dictionary::<Int16Type>())?,
            D::Int32 => dictionary(array.as_dictionary::<Int32Type>())?,
            D::Int64 => dictionary(array.as_dictionary::<Int64Type>())?,
            D::UInt8 => dictionary(array.as_dictionary::<UInt8Type>())?,
            D::UInt16 => dictionary(array.as_dictionary::<UInt16Type>())?,
            D::UInt32 => dictionary(array.as_dictionary::<UInt32Type>())?,
            D::UInt64 => dictionary(array.as_dictionary::<UInt64Type>())?,
            other => return Err(format!("unsupported dictionary key type {other}")),
        },
        D::Struct(_) => {
            let array = array.as_struct();
            let children = array
                .columns()
                .iter()
                .map(|c| cells_of(c.as_ref()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Box::new(StructCells { array, children })
        }
        D::List(_) => list(array.as_list::<i32>())?,
        D::LargeList(_) => list(array.as_list::<i64>())?,
        D::FixedSizeList(..) => {
            let array = array.as_fixed_size_list();
            Box::new(ListCells {
                array,
                values: cells_of(array.values().as_ref())?,
            })
        }
        other => return Err(format!("the Arrow type {other} cannot be written to Redis")),
    })
}

/// Formatter for a temporal `array` stored in `form` (see `text_form.rs`),
/// or an error for a column the form does not fit.
pub(crate) fn cells_in_form<'a>(
    array: &'a ArrayRef,
    form: &TextForm,
) -> std::result::Result<Box<dyn Cells + 'a>, String> {
    let data_type = array.data_type();
    let temporal = Temporal::of_arrow(data_type)
        .ok_or_else(|| format!("{data_type} has no stored form to choose"))?;
    let values = match data_type {
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .unary::<_, Int64Type>(i64::from),
        DataType::Time32(_) | DataType::Time64(_) => time_nanos(array.as_ref())?,
        _ => as_i64(array.as_ref()),
    };
    Ok(Box::new(FormCells {
        values,
        temporal,
        form: form.clone(),
    }))
}

/// A `Time32`/`Time64` column as nanoseconds since midnight.
fn time_nanos(array: &dyn Array) -> std::result::Result<PrimitiveArray<Int64Type>, String> {
    let (unit, seconds_wide) = match array.data_type() {
        DataType::Time32(unit) => (*unit, true),
        DataType::Time64(unit) => (*unit, false),
        other => return Err(format!("{other} is not a time of day")),
    };
    let per_ns = 1_000_000_000 / units_per_second(unit).0;
    let values = if seconds_wide {
        let data = array.to_data().into_builder().data_type(DataType::Int32);
        let narrow = arrow_array::Int32Array::from(data.build().map_err(|e| e.to_string())?);
        narrow.unary::<_, Int64Type>(|v| v as i64)
    } else {
        as_i64(array)
    };
    Ok(values.unary(|v| v * per_ns))
}

/// A 64-bit temporal column (timestamp, duration, time64) as plain Int64.
fn as_i64(array: &dyn Array) -> PrimitiveArray<Int64Type> {
    let data = array.to_data().into_builder().data_type(DataType::Int64);
    PrimitiveArray::<Int64Type>::from(data.build().expect("64-bit temporal values are i64"))
}

fn dictionary<K: ArrowDictionaryKeyType>(
    array: &DictionaryArray<K>,
) -> std::result::Result<Box<dyn Cells + '_>, String> {
    Ok(Box::new(DictCells {
        array,
        values: cells_of(array.values().as_ref())?,
    }))
}

fn list<O: OffsetSizeTrait>(
    array: &GenericListArray<O>,
) -> std::result::Result<Box<dyn Cells + '_>, String> {
    Ok(Box::new(ListCells {
        array,
        values: cells_of(array.values().as_ref())?,
    }))
}

// ---------------------------------------------------------------------------
// text forms of scalars (each the inverse of a rule in parse.rs)
// ---------------------------------------------------------------------------

/// `true` / `false` (parse_bool).
pub(crate) fn push_bool(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

/// Decimal integer (parse_number).
pub(crate) fn push_int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Shortest text that parses back to the same float; `NaN`, `inf`, `-inf`.
pub(crate) fn push_float(out: &mut Vec<u8>, value: impl ryu::Float + Into<f64> + Copy) {
    let wide: f64 = value.into();
    if wide.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if wide.is_infinite() {
        out.extend_from_slice(if wide > 0.0 { b"inf" } else { b"-inf" });
    } else {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    }
}

/// `YYYY-MM-DD`, with an expanded year outside years 0000-9999
/// (`+10000-01-01`, `-0001-12-31`) (parse_date).
pub(crate) fn push_date(out: &mut Vec<u8>, days: i32) -> CellResult {
    let date = epoch_date()
        .checked_add_signed(chrono::Duration::days(days as i64))
        .ok_or_else(|| out_of_text_range(&format!("day {days} since 1970-01-01"), "epoch_s"))?;
    push_ymd(out, date);
    Ok(())
}

/// Why a value has no ISO-8601 text, and the form that can store it.
fn out_of_text_range(what: &str, form: &str) -> String {
    format!(
        "{what} is outside the years ISO-8601 text can show (-262143 to 262142): \
         store the column as a count with formats={{column: \"{form}\"}}"
    )
}

/// `HH:MM:SS[.fffffffff]` from nanoseconds since midnight (parse_time).
pub(crate) fn push_time(out: &mut Vec<u8>, nanos: i64) -> CellResult {
    if !(0..86_400_000_000_000).contains(&nanos) {
        return Err(format!("{nanos} ns is not a time of day"));
    }
    let seconds = nanos / 1_000_000_000;
    push_hms(
        out,
        (seconds / 3600) as u32,
        (seconds / 60 % 60) as u32,
        (seconds % 60) as u32,
    );
    push_fraction(out, (nanos % 1_000_000_000) as u32, 9);
    Ok(())
}

fn units_per_second(unit: ArrowTimeUnit) -> (i64, usize) {
    match unit {
        ArrowTimeUnit::Second => (1, 0),
        ArrowTimeUnit::Millisecond => (1_000, 3),
        ArrowTimeUnit::Microsecond => (1_000_000, 6),
        ArrowTimeUnit::Nanosecond => (1_000_000_000, 9),
    }
}

/// ISO-8601 for a datetime of `value` units since the epoch (parse_datetime):
/// naive when the column has no zone, else local time in the zone with its
/// offset (`Z` for UTC). Outside years 0000-9999 the year is expanded
/// (`+10000-...`); zones whose offset is not whole minutes are written in UTC.
pub(crate) fn push_datetime(
    out: &mut Vec<u8>,
    value: i64,
    unit: ArrowTimeUnit,
    zone: Option<Zone>,
) -> CellResult {
    let (per_second, digits) = units_per_second(unit);
    let seconds = value.div_euclid(per_second);
    let fraction = value.rem_euclid(per_second) as u32;
    let out_of_range = || {
        let name = match unit {
            ArrowTimeUnit::Second => "epoch_s",
            ArrowTimeUnit::Millisecond => "epoch_ms",
            ArrowTimeUnit::Microsecond => "epoch_us",
            ArrowTimeUnit::Nanosecond => "epoch_ns",
        };
        out_of_text_range(&format!("{value} {name} since 1970-01-01"), name)
    };
    let utc = chrono::DateTime::from_timestamp(seconds, 0)
        .ok_or_else(out_of_range)?
        .naive_utc();
    let mut offset = zone.map_or(0, |z| z.offset_seconds(&utc));
    if offset % 60 != 0 {
        offset = 0;
    }
    let local = utc
        .checked_add_signed(chrono::Duration::seconds(offset as i64))
        .ok_or_else(out_of_range)?;
    push_ymd(out, local.date());
    out.push(b'T');
    push_hms(out, local.hour(), local.minute(), local.second());
    if digits > 0 {
        let nanos_scale = 10u32.pow(9 - digits as u32);
        push_fraction(out, fraction * nanos_scale, digits);
    }
    match zone {
        None => {}
        Some(_) if offset == 0 => out.push(b'Z'),
        Some(_) => {
            out.push(if offset < 0 { b'-' } else { b'+' });
            let minutes = offset.unsigned_abs() / 60;
            push_two(out, minutes / 60);
            out.push(b':');
            push_two(out, minutes % 60);
        }
    }
    Ok(())
}

/// `[-]digits[.digits]` with exactly `scale` fraction digits (parse_decimal).
pub(crate) fn push_decimal(out: &mut Vec<u8>, value: i128, scale: i8) {
    if value < 0 {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value.unsigned_abs());
    if scale <= 0 {
        out.extend_from_slice(digits.as_bytes());
        if value != 0 {
            out.extend(std::iter::repeat_n(b'0', scale.unsigned_abs() as usize));
        }
        return;
    }
    let scale = scale as usize;
    if digits.len() <= scale {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        out.extend_from_slice(digits.as_bytes());
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.extend_from_slice(int.as_bytes());
        out.push(b'.');
        out.extend_from_slice(frac.as_bytes());
    }
}

/// A JSON string literal for UTF-8 text.
pub(crate) fn push_json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Text that is already in its text form, as a JSON string.
fn push_text_as_json(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> CellResult,
) -> CellResult {
    let mut text = Vec::new();
    write(&mut text)?;
    // Text forms of temporal and decimal values are ASCII.
    push_json_string(out, std::str::from_utf8(&text).map_err(|e| e.to_string())?);
    Ok(())
}

fn epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

/// `YYYY-MM-DD`; outside years 0000-9999 the year has a sign and at
/// least four digits (ISO-8601 expanded years).
fn push_ymd(out: &mut Vec<u8>, date: NaiveDate) {
    let year = date.year();
    if (0..=9999).contains(&year) {
        let year = year as u32;
        push_two(out, year / 100);
        push_two(out, year % 100);
    } else {
        out.push(if year < 0 { b'-' } else { b'+' });
        let digits = year.unsigned_abs().to_string();
        out.extend(std::iter::repeat_n(
            b'0',
            4usize.saturating_sub(digits.len()),
        ));
        out.extend_from_slice(digits.as_bytes());
    }
    out.push(b'-');
    push_two(out, date.month());
    out.push(b'-');
    push_two(out, date.day());
}

fn push_hms(out: &mut Vec<u8>, h: u32, m: u32, s: u32) {
    push_two(out, h);
    out.push(b':');
    push_two(out, m);
    out.push(b':');
    push_two(out, s);
}

/// `.` and the first `digits` digits of `nanos` (of 9), nothing when zero.
fn push_fraction(out: &mut Vec<u8>, nanos: u32, digits: usize) {
    if nanos == 0 {
        return;
    }
    out.push(b'.');
    let mut text = [b'0'; 9];
    let mut rest = nanos;
    for slot in text.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&text[..digits]);
}

fn push_two(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

// ---------------------------------------------------------------------------
// column formatters
// ---------------------------------------------------------------------------

struct NullCells;

impl Cells for NullCells {
    fn is_null(&self, _row: usize) -> bool {
        true
    }
    fn text(&self, _row: usize, _out: &mut Vec<u8>) -> CellResult {
        Err("null".into())
    }
    fn json(&self, _row: usize, out: &mut Vec<u8>) -> CellResult {
        out.extend_from_slice(b"null");
        Ok(())
    }
}

/// Arrays whose cells are byte strings (text or binary, any layout).
trait ByteColumn: Array {
    fn bytes(&self, row: usize) -> &[u8];
}

impl<T: ByteArrayType> ByteColumn for GenericByteArray<T> {
    fn bytes(&self, row: usize) -> &[u8] {
        self.value(row).as_ref()
    }
}

impl<T: ByteViewType + ?Sized> ByteColumn for GenericByteViewArray<T> {
    fn bytes(&self, row: usize) -> &[u8] {
        self.value(row).as_ref()
    }
}

impl ByteColumn for FixedSizeBinaryArray {
    fn bytes(&self, row: usize) -> &[u8] {
        self.value(row)
    }
}

/// Text and binary cells: the bytes as they are; in JSON a string (binary
/// that is not UTF-8 has no JSON form).
struct ByteCells<'a, A: ?Sized>(&'a A);

impl<A: ByteColumn + ?Sized> Cells for ByteCells<'_, A> {
    fn is_null(&self, row: usize) -> bool {
        self.0.is_null(row)
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        out.extend_from_slice(self.0.bytes(row));
        Ok(())
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        if self.is_null(row) {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        let text = std::str::from_utf8(self.0.bytes(row)).map_err(|_| {
            "binary value is not valid UTF-8 and JSON has no bytes type".to_string()
        })?;
        push_json_string(out, text);
        Ok(())
    }
}

/// Write `null` for a null cell, else the JSON of a non-null cell.
macro_rules! json_or_null {
    ($self:ident, $row:ident, $out:ident, $body:expr) => {{
        if $self.is_null($row) {
            $out.extend_from_slice(b"null");
            Ok(())
        } else {
            $body
        }
    }};
}

struct BoolCells<'a>(&'a BooleanArray);

impl Cells for BoolCells<'_> {
    fn is_null(&self, row: usize) -> bool {
        self.0.is_null(row)
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        push_bool(out, self.0.value(row));
        Ok(())
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        json_or_null!(self, row, out, self.text(row, out))
    }
}

/// How a scalar appears in JSON.
#[derive(Clone, Copy)]
enum JsonForm {
    /// As its text (integers, durations).
    Bare,
    /// As its text, and only when finite (floats).
    Finite,
    /// As a JSON string of its text (dates, datetimes, times, decimals).
    Quoted,
}

/// A primitive column formatted by `text`.
struct Scalars<T: ArrowPrimitiveType, F> {
    array: PrimitiveArray<T>,
    text: F,
    json: JsonForm,
}

fn scalars<'a, T, F>(array: PrimitiveArray<T>, json: JsonForm, text: F) -> Box<dyn Cells + 'a>
where
    T: ArrowPrimitiveType,
    T::Native: AsF64,
    F: Fn(T::Native, &mut Vec<u8>) -> CellResult + Send + Sync + 'a,
{
    Box::new(Scalars { array, text, json })
}

/// The value as a float, for the finiteness and NaN checks of floats.
trait AsF64: Copy {
    fn as_f64(self) -> Option<f64> {
        None
    }
}

macro_rules! not_float {
    ($($t:ty),*) => { $(impl AsF64 for $t {})* };
}
not_float!(i8, i16, i32, i64, u8, u16, u32, u64, i128);

impl AsF64 for f32 {
    fn as_f64(self) -> Option<f64> {
        Some(self.into())
    }
}

impl AsF64 for f64 {
    fn as_f64(self) -> Option<f64> {
        Some(self)
    }
}

impl<T, F> Cells for Scalars<T, F>
where
    T: ArrowPrimitiveType,
    T::Native: AsF64,
    F: Fn(T::Native, &mut Vec<u8>) -> CellResult + Send + Sync,
{
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        (self.text)(self.array.value(row), out)
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        json_or_null!(self, row, out, {
            match (self.json, self.array.value(row).as_f64()) {
                (JsonForm::Quoted, _) => push_text_as_json(out, |t| self.text(row, t)),
                (JsonForm::Finite, Some(v)) if !v.is_finite() => Err(format!(
                    "{v} is not a finite number and JSON has no form for it"
                )),
                _ => self.text(row, out),
            }
        })
    }
    fn is_nan(&self, row: usize) -> bool {
        self.array.value(row).as_f64().is_some_and(f64::is_nan)
    }
    fn float(&self, row: usize) -> Option<f64> {
        if self.array.is_null(row) {
            return None;
        }
        self.array.value(row).as_f64()
    }
}

/// Integers and durations: decimal text, bare in JSON.
fn integers<'a, T>(array: &PrimitiveArray<T>) -> Box<dyn Cells + 'a>
where
    T: ArrowPrimitiveType,
    T::Native: itoa::Integer + AsF64,
{
    scalars(array.clone(), JsonForm::Bare, |v, out| {
        push_int(out, v);
        Ok(())
    })
}

fn floats<'a, T>(array: &PrimitiveArray<T>) -> Box<dyn Cells + 'a>
where
    T: ArrowPrimitiveType,
    T::Native: ryu::Float + Into<f64> + AsF64,
{
    scalars(array.clone(), JsonForm::Finite, |v, out| {
        push_float(out, v);
        Ok(())
    })
}

/// A temporal column in a declared stored form: epoch counts are bare
/// numbers in JSON, strftime text is a JSON string.
struct FormCells {
    values: PrimitiveArray<Int64Type>,
    temporal: Temporal,
    form: TextForm,
}

impl Cells for FormCells {
    fn is_null(&self, row: usize) -> bool {
        self.values.is_null(row)
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        self.form.write(self.values.value(row), &self.temporal, out)
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        json_or_null!(self, row, out, {
            if self.form.is_count() {
                self.text(row, out)
            } else {
                push_text_as_json(out, |t| self.text(row, t))
            }
        })
    }
}

struct DictCells<'a, K: ArrowDictionaryKeyType> {
    array: &'a DictionaryArray<K>,
    values: Box<dyn Cells + 'a>,
}

impl<K: ArrowDictionaryKeyType> DictCells<'_, K> {
    fn index(&self, row: usize) -> usize {
        arrow_buffer::ArrowNativeType::as_usize(self.array.keys().value(row))
    }
}

impl<K: ArrowDictionaryKeyType> Cells for DictCells<'_, K> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row) || self.values.is_null(self.index(row))
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        self.values.text(self.index(row), out)
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        json_or_null!(self, row, out, self.values.json(self.index(row), out))
    }
}

struct StructCells<'a> {
    array: &'a StructArray,
    children: Vec<Box<dyn Cells + 'a>>,
}

impl Cells for StructCells<'_> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        self.json(row, out)
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        json_or_null!(self, row, out, {
            out.push(b'{');
            for (i, (field, child)) in self.array.fields().iter().zip(&self.children).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_json_string(out, field.name());
                out.push(b':');
                child.json(row, out)?;
            }
            out.push(b'}');
            Ok(())
        })
    }
}

/// List arrays of any layout: where each row's values are.
trait ListColumn: Array {
    fn range(&self, row: usize) -> std::ops::Range<usize>;
}

impl<O: OffsetSizeTrait> ListColumn for GenericListArray<O> {
    fn range(&self, row: usize) -> std::ops::Range<usize> {
        let offsets = self.value_offsets();
        offsets[row].as_usize()..offsets[row + 1].as_usize()
    }
}

impl ListColumn for FixedSizeListArray {
    fn range(&self, row: usize) -> std::ops::Range<usize> {
        let start = self.value_offset(row) as usize;
        start..start + self.value_length() as usize
    }
}

/// Lists: JSON arrays (also as text).
struct ListCells<'a, A: ?Sized> {
    array: &'a A,
    values: Box<dyn Cells + 'a>,
}

impl<A: ListColumn + ?Sized> Cells for ListCells<'_, A> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn text(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        self.json(row, out)
    }
    fn json(&self, row: usize, out: &mut Vec<u8>) -> CellResult {
        json_or_null!(self, row, out, {
            out.push(b'[');
            for (i, value) in self.array.range(row).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                self.values.json(value, out)?;
            }
            out.push(b']');
            Ok(())
        })
    }
    fn blob(&self, row: usize, element: VectorType, out: &mut Vec<u8>) -> CellResult {
        for (i, value) in self.array.range(row).enumerate() {
            let value = self.values.float(value).ok_or_else(|| {
                format!("element {i} is null, and a vector blob cannot hold a null")
            })?;
            element.push_blob([value], out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse;
    use crate::types::TimeUnit;
    use chrono_tz::Tz;

    fn text<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn floats_round_trip_through_the_parser() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            1e20,
            1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        for _ in 0..10_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = f64::from_bits(state);
            if v.is_finite() {
                values.push(v);
            }
        }
        for v in values {
            let t = text(|o| push_float(o, v));
            let back: f64 = parse::parse_number(&t).unwrap();
            assert_eq!(
                back.to_bits(),
                v.to_bits(),
                "{}",
                String::from_utf8_lossy(&t)
            );
        }
        for v in [f32::MAX, 0.1f32, -3.5f32, f32::MIN_POSITIVE] {
            let back: f32 = parse::parse_number(&text(|o| push_float(o, v))).unwrap();
            assert_eq!(back.to_bits(), v.to_bits());
        }
        assert_eq!(text(|o| push_float(o, f64::NAN)), b"NaN");
        assert!(parse::parse_number::<f64>(b"NaN").unwrap().is_nan());
        assert_eq!(
            parse::parse_number::<f64>(&text(|o| push_float(o, f64::NEG_INFINITY))),
            Some(f64::NEG_INFINITY)
        );
    }

    #[test]
    fn dates_times_and_decimals_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 2_932_896, 2_932_897, 3_000_000] {
            let t = text(|o| push_date(o, days).unwrap());
            assert_eq!(
                parse::parse_date(&t),
                Some(days),
                "{}",
                String::from_utf8_lossy(&t)
            );
        }
        assert_eq!(text(|o| push_date(o, 0)), b"1970-01-01");
        assert_eq!(text(|o| push_date(o, 3_000_000).unwrap()), b"+10183-09-21");
        assert_eq!(text(|o| push_date(o, -800_000).unwrap()), b"-0221-09-04");
        // Beyond chrono's years there is no text: the error names formats=.
        let err = push_date(&mut Vec::new(), i32::MAX).unwrap_err();
        assert!(err.contains("formats="), "{err}");
        for nanos in [0, 1, 999_999_999, 3_600_500_000_000, 86_399_999_999_999] {
            let mut t = Vec::new();
            push_time(&mut t, nanos).unwrap();
            assert_eq!(parse::parse_time(&t), Some(nanos));
        }
        for (value, scale) in [
            (0i128, 2i8),
            (5, 2),
            (-5, 2),
            (12345, 2),
            (-100, 0),
            (i128::MAX / 10, 20),
            (7, 38),
        ] {
            let t = text(|o| push_decimal(o, value, scale));
            assert_eq!(
                parse::parse_decimal(&t, 38, scale),
                Some(value),
                "{}",
                String::from_utf8_lossy(&t)
            );
        }
        assert_eq!(text(|o| push_decimal(o, -5, 3)), b"-0.005");
    }

    #[test]
    fn datetimes_round_trip_in_every_zone_and_unit() {
        let zones = [
            None,
            Some("UTC"),
            Some("Europe/Amsterdam"),
            Some("America/St_Johns"),
            Some("Asia/Kolkata"),
            Some("Africa/Monrovia"),
        ];
        let units = [
            (ArrowTimeUnit::Millisecond, TimeUnit::Millisecond, 1_000i64),
            (ArrowTimeUnit::Microsecond, TimeUnit::Microsecond, 1_000_000),
            (
                ArrowTimeUnit::Nanosecond,
                TimeUnit::Nanosecond,
                1_000_000_000,
            ),
        ];
        let seconds = [
            -5_000_000_000i64,
            -1,
            0,
            1,
            1_711_846_800,
            1_729_990_800,
            1_900_000_000,
            200_000_000_000,
        ];
        for zone_name in zones {
            let zone = zone_name.map(|z| Zone::parse(z).unwrap());
            let tz: Option<Tz> = zone_name.map(|z| z.parse().unwrap());
            for (arrow_unit, unit, per) in units {
                for s in seconds {
                    for frac in [0, 1, per / 3] {
                        let Some(value) = s.checked_mul(per).and_then(|v| v.checked_add(frac))
                        else {
                            continue;
                        };
                        let t = text(|o| push_datetime(o, value, arrow_unit, zone).unwrap());
                        let back =
                            parse::parse_datetime(&t, unit, tz.as_ref().filter(|z| *z != &Tz::UTC));
                        assert_eq!(
                            back,
                            Some(value),
                            "{zone_name:?} {}",
                            String::from_utf8_lossy(&t)
                        );
                    }
                }
            }
        }
        let ams = Zone::parse("Europe/Amsterdam");
        assert_eq!(
            text(|o| push_datetime(o, 0, ArrowTimeUnit::Millisecond, ams)),
            b"1970-01-01T01:00:00+01:00"
        );
        assert_eq!(
            text(|o| push_datetime(o, 1500, ArrowTimeUnit::Millisecond, Some(Zone::Utc))),
            b"1970-01-01T00:00:01.500Z"
        );
        assert_eq!(
            text(|o| push_datetime(o, -1, ArrowTimeUnit::Microsecond, None)),
            b"1969-12-31T23:59:59.999999"
        );
    }

    #[test]
    fn json_strings_escape_controls() {
        assert_eq!(
            text(|o| push_json_string(o, "a\"b\\c\n\u{1}é")),
            "\"a\\\"b\\\\c\\n\\u0001é\"".as_bytes()
        );
        let parsed: String =
            serde_json::from_slice(&text(|o| push_json_string(o, "x\u{7f}\u{1f}\t"))).unwrap();
        assert_eq!(parsed, "x\u{7f}\u{1f}\t");
    }
}
