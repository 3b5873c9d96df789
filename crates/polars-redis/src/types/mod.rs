//! The Redis-string → Arrow type table.
//!
//! Redis stores every hash field, string value and stream field as bytes. A
//! [`FieldType`] says how to read those bytes; this table is the single place
//! where the mapping is declared (the parse rules live in `parse.rs`).
//!
//! | `FieldType`                 | Arrow type                   | Accepted text                                               |
//! |-----------------------------|------------------------------|-------------------------------------------------------------|
//! | `Utf8`                      | `Utf8View`                   | any valid UTF-8                                             |
//! | `Binary`                    | `BinaryView`                 | any bytes, kept as they are                                 |
//! | `Boolean`                   | `Boolean`                    | `true/false t/f yes/no y/n on/off 1/0`, any case            |
//! | `Int8` ... `Int64`          | `Int8` ... `Int64`           | decimal integer with optional sign, in range                |
//! | `UInt8` ... `UInt64`        | `UInt8` ... `UInt64`         | decimal integer, in range                                   |
//! | `Float32`, `Float64`        | `Float32`, `Float64`         | decimal or exponent notation, `inf`, `-inf`, `nan`          |
//! | `Date`                      | `Date32`                     | ISO-8601 `YYYY-MM-DD`, `YYYYMMDD`, `±YYYYY-MM-DD`            |
//! | `Datetime { unit, tz }`     | `Timestamp(unit, tz)`        | ISO-8601, extended or basic (`T` or space, fraction, `Z`/`±HH[:MM]`): `2024-01-31T10:15:00.5+01:00`, `20240131T101500Z` |
//! | `Time`                      | `Time64(ns)`                 | `HH:MM[:SS[.f]]` or `HHMM[SS[.f]]`                           |
//! | `Duration { unit }`         | `Duration(unit)`             | integer count of `unit`                                     |
//! | `Decimal { precision, scale }` | `Decimal128(p, s)`        | `[-+]digits[.digits]`; never rounded                        |
//! | `Categorical`               | `Utf8View` (Python casts)    | any valid UTF-8                                             |
//! | `Enum { categories }`       | `Utf8View` (Python casts)    | one of the categories                                       |
//! | `List(inner)`               | `List(inner)`                | a JSON array (or its JSON text), each element read as `inner` |
//! | `Array(inner, width)`       | `FixedSizeList(inner, width)`| a JSON array of exactly `width` elements (or its JSON text) |
//! | `Struct(fields)`            | `Struct(fields)`             | a JSON object (or its JSON text), each member read as its field's type |
//!
//! In hashes, `Array(Float32 | Float64, dim)` and `List(Float32 | Float64)`
//! are float vectors stored as little-endian binary blobs (the form
//! RediSearch `VECTOR` fields index), not JSON text; a blob of the wrong
//! length is unparsable. [`VectorType`] declares this form (`vector.rs`).
//!
//! A bare integer is never a date, datetime or time: `20240131` is the basic
//! form of 2024-01-31, and `1706659200` is unparsable. A column stored in
//! another form (a strftime format, or an epoch count) declares it with a
//! [`TextForm`] (`formats=` in Python); reads parse by it and writes format
//! by it (`text_form.rs`). Set, list and sorted-set members are flat text:
//! nested types are refused there.
//!
//! Writes format values by the inverse rules (`format.rs`), choosing
//! one canonical form per type: `true`/`false`, shortest round-trip floats,
//! `YYYY-MM-DD` (an expanded `±YYYYY` year outside 0000-9999), ISO-8601 datetimes with the column zone's offset (`Z` for
//! UTC, no offset when naive), `HH:MM:SS[.fffffffff]`, integer durations and
//! decimals with exactly `scale` fraction digits.
//!
//! Datetime values with an offset are instants; naive values are wall time in
//! the column's time zone (UTC when it has none). A naive time that does not
//! exist or is ambiguous in that zone is unparsable rather than guessed.
//!
//! ## JSON values
//!
//! RedisJSON documents carry typed values; each JSON kind is read by the
//! column types below, the text rules above applying to its text. Any other
//! pairing is unparsable (a strict-mode error naming key, field and value,
//! or a null for that one value).
//!
//! | JSON value        | read by                                                                 |
//! |-------------------|-------------------------------------------------------------------------|
//! | number            | `Int*`, `UInt*` (an integer in range: `1.5` is unparsable, never truncated), `Float*`, `Decimal` (its exact text, never rounded), `Duration` (an integer count), and `Date`, `Datetime`, `Time` only when declared as epoch counts |
//! | string            | `Utf8`, `Categorical`, `Enum`, `Binary` (its UTF-8 bytes), `Date`, `Datetime`, `Time`, `Decimal` (its text) |
//! | `true` / `false`  | `Boolean`                                                               |
//! | `null`            | null, for every type                                                    |
//! | array             | `List`, `Array` (element by element; a bad element is one null in non-strict mode; an `Array` of another width is one bad value) |
//! | object            | `Struct` (member by member; members not in the struct are ignored, missing ones are null) |
//! | anything          | `Utf8` and `Binary` read a non-string value as its JSON text, e.g. `[1,2]` or `true` |

pub(crate) mod columns;
pub(crate) mod format;
mod index_on;
pub(crate) mod json_text;
pub(crate) mod parse;
mod table;
pub(crate) mod text_form;
pub(crate) mod vector;

pub use index_on::IndexOn;
pub(crate) use table::{apply_forms, check_flat};
pub use table::{EpochUnit, Field, FieldType, Strftime, TextForm, TimeUnit, SIMPLE_TYPES};
pub use vector::VectorType;
