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
//! | `Date`                      | `Date32`                     | `YYYY-MM-DD`, or integer days since 1970-01-01              |
//! | `Datetime { unit, tz }`     | `Timestamp(unit, tz)`        | ISO-8601 (`T` or space, fraction, `Z`/`±HH:MM`), or integer `unit`s since the epoch |
//! | `Time`                      | `Time64(ns)`                 | `HH:MM[:SS[.f]]`, or integer nanoseconds since midnight     |
//! | `Duration { unit }`         | `Duration(unit)`             | integer count of `unit`                                     |
//! | `Decimal { precision, scale }` | `Decimal128(p, s)`        | `[-+]digits[.digits]`; never rounded                        |
//! | `Categorical`               | `Utf8View` (Python casts)    | any valid UTF-8                                             |
//! | `Enum { categories }`       | `Utf8View` (Python casts)    | one of the categories                                       |
//! | `List(inner)`               | `List(inner)`                | JSON only: an array, each element read as `inner`           |
//! | `Struct(fields)`            | `Struct(fields)`             | JSON only: an object, each member read as its field's type  |
//!
//! Writes format values by the inverse rules (`format.rs`), choosing
//! one canonical form per type: `true`/`false`, shortest round-trip floats,
//! `YYYY-MM-DD`, ISO-8601 datetimes with the column zone's offset (`Z` for
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
//! | number            | `Int*`, `UInt*` (an integer in range: `1.5` is unparsable, never truncated), `Float*`, `Decimal` (its exact text, never rounded), `Date`, `Datetime`, `Time`, `Duration` (integer counts, as for hashes) |
//! | string            | `Utf8`, `Categorical`, `Enum`, `Binary` (its UTF-8 bytes), `Date`, `Datetime`, `Time`, `Decimal` (its text) |
//! | `true` / `false`  | `Boolean`                                                               |
//! | `null`            | null, for every type                                                    |
//! | array             | `List` (element by element; a bad element is one null in non-strict mode) |
//! | object            | `Struct` (member by member; members not in the struct are ignored, missing ones are null) |
//! | anything          | `Utf8` and `Binary` read a non-string value as its JSON text, e.g. `[1,2]` or `true` |

pub(crate) mod columns;
pub(crate) mod format;
mod index_on;
pub(crate) mod json_text;
pub(crate) mod parse;
mod table;
mod text_form;

pub use index_on::IndexOn;
pub(crate) use table::check_flat;
pub use table::{Field, FieldType, TimeUnit, SIMPLE_TYPES};
pub(crate) use text_form::{parse_hint, Temporal};
pub use text_form::{EpochUnit, Strftime, TextForm};
