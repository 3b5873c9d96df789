//! The expiry of every key from the TTL option: none, one for all, or per
//! row from a TTL column (integer seconds, a `Duration`, or a `Timestamp`
//! for an absolute expiry), one per key.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};

use super::conflict::Expiry;
use super::frame::{name_rows, Frame, Groups};
use super::numbers::{integer_values, timestamp_values};
use super::options::Ttl;
use crate::error::{Error, Key, Result};
use crate::types::format::push_datetime;

/// Reject a TTL column of a type that is no TTL.
pub(crate) fn check_ttl_type(data_type: &DataType, name: &str) -> Result<()> {
    match data_type {
        t if t.is_integer() => Ok(()),
        DataType::Duration(_) | DataType::Timestamp(..) | DataType::Null => Ok(()),
        other => Err(Error::InvalidArgument(format!(
            "TTL column `{name}` is {other}; expected integer seconds, a Duration or a Datetime"
        ))),
    }
}

/// The expiry of every group, from the TTL setting.
pub(crate) fn expiries(
    frame: &Frame,
    groups: &Groups,
    ttl: &Ttl,
    column: Option<usize>,
) -> Result<Vec<Expiry>> {
    let constant = match ttl {
        Ttl::None => Some(Expiry::Keep),
        Ttl::Seconds(s) => Some(Expiry::Seconds(*s as i64)),
        Ttl::Column(_) => None,
    };
    if let Some(expiry) = constant {
        return Ok(vec![expiry; groups.len()]);
    }
    let column = column.expect("TTL column resolved");
    let name = frame.name(column);
    let per_batch: Vec<Vec<Option<Expiry>>> = frame
        .batches
        .iter()
        .map(|b| row_expiries(b.column(column), name))
        .collect::<Result<_>>()?;
    let now_ms = now_millis();
    let mut out = Vec::with_capacity(groups.len());
    let mut expired: Vec<(usize, usize, Expiry)> = Vec::new();
    for g in 0..groups.len() {
        let mut expiry: Option<(Expiry, usize)> = None;
        for at in groups.rows(g) {
            let Some(this) = per_batch[at.batch as usize][at.row as usize] else {
                continue;
            };
            let row = frame.global(*at);
            if !in_future(this, now_ms) {
                expired.push((row, g, this));
                continue;
            }
            match expiry {
                Some((seen, first)) if seen != this => {
                    return Err(Error::InvalidArgument(format!(
                        "key {}: TTL column `{name}` differs between {} (one key has one TTL; \
                         nothing was written)",
                        Key::from(groups.key(g)),
                        name_rows(&[first, row])
                    )))
                }
                Some(_) => {}
                None => expiry = Some((this, row)),
            }
        }
        out.push(expiry.map_or(Expiry::Keep, |(e, _)| e));
    }
    if !expired.is_empty() {
        return Err(expired_error(name, groups, expired));
    }
    Ok(out)
}

/// Whether a key given this expiry still exists once written: a TTL of at
/// least one second, or an expiry time after `now_ms`. Redis deletes a key
/// whose TTL is not positive or whose expiry time has passed at once, so
/// such a row would be reported written while nothing is stored.
pub(super) fn in_future(expiry: Expiry, now_ms: i64) -> bool {
    match expiry {
        Expiry::Keep => true,
        Expiry::Seconds(seconds) => seconds > 0,
        Expiry::AtMillis(ms) => ms > now_ms,
    }
}

pub(super) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The error for rows that would expire their key at once: `(row, group,
/// expiry)` of each, in any order.
fn expired_error(name: &str, groups: &Groups, mut expired: Vec<(usize, usize, Expiry)>) -> Error {
    expired.sort_unstable_by_key(|(row, ..)| *row);
    let rows: Vec<usize> = expired.iter().map(|(row, ..)| *row).collect();
    let (row, g, first) = expired[0];
    let value = match first {
        Expiry::Seconds(seconds) => format!("a TTL of {seconds} s"),
        Expiry::AtMillis(ms) => {
            let mut text = Vec::new();
            match push_datetime(&mut text, ms, ArrowTimeUnit::Millisecond, None) {
                Ok(_) => format!(
                    "expiry time {} UTC (in the past)",
                    String::from_utf8_lossy(&text)
                ),
                Err(_) => format!("expiry time {ms} ms since the epoch (in the past)"),
            }
        }
        Expiry::Keep => unreachable!("a row without TTL never expires"),
    };
    Error::InvalidArgument(format!(
        "row {row}, key {}, TTL column `{name}`: {value} would delete the key at once (all \
         such: {}); a TTL must be at least 1 second and an expiry time in the future, so drop \
         those rows or give them a null TTL (nothing was written)",
        Key::from(groups.key(g)),
        name_rows(&rows),
    ))
}

/// The expiry of each row of one TTL column chunk.
pub(super) fn row_expiries(array: &ArrayRef, name: &str) -> Result<Vec<Option<Expiry>>> {
    let millis = |values: Vec<Option<i64>>, per_ms: i64, ceil: bool| -> Vec<Option<i64>> {
        values
            .into_iter()
            .map(|v| {
                v.map(|v| {
                    if ceil {
                        v.div_euclid(per_ms) + i64::from(v.rem_euclid(per_ms) != 0)
                    } else {
                        v.div_euclid(per_ms)
                    }
                })
            })
            .collect()
    };
    Ok(match array.data_type() {
        DataType::Null => vec![None; array.len()],
        t if t.is_integer() => {
            let cast = integer_values(array).map_err(|reason| {
                Error::InvalidArgument(format!("TTL column `{name}`: {reason}"))
            })?;
            cast.into_iter().map(|v| v.map(Expiry::Seconds)).collect()
        }
        DataType::Duration(unit) => {
            let (values, per_second) = match unit {
                ArrowTimeUnit::Second => (opt(array.as_primitive::<DurationSecondType>()), 1),
                ArrowTimeUnit::Millisecond => {
                    (opt(array.as_primitive::<DurationMillisecondType>()), 1_000)
                }
                ArrowTimeUnit::Microsecond => (
                    opt(array.as_primitive::<DurationMicrosecondType>()),
                    1_000_000,
                ),
                ArrowTimeUnit::Nanosecond => (
                    opt(array.as_primitive::<DurationNanosecondType>()),
                    1_000_000_000,
                ),
            };
            // Whole seconds, rounded up, so a key never expires early.
            millis(values, per_second, true)
                .into_iter()
                .map(|v| v.map(Expiry::Seconds))
                .collect()
        }
        DataType::Timestamp(unit, _) => {
            let per_ms = match unit {
                ArrowTimeUnit::Second => 0,
                ArrowTimeUnit::Millisecond => 1,
                ArrowTimeUnit::Microsecond => 1_000,
                ArrowTimeUnit::Nanosecond => 1_000_000,
            };
            let raw = timestamp_values(array);
            let ms: Vec<Option<i64>> = if per_ms == 0 {
                raw.into_iter().map(|v| v.map(|s| s * 1000)).collect()
            } else {
                millis(raw, per_ms, true)
            };
            ms.into_iter().map(|v| v.map(Expiry::AtMillis)).collect()
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "TTL column `{name}` is {other}; expected integer seconds, a Duration or a Datetime"
            )))
        }
    })
}

fn opt<T: arrow_array::ArrowPrimitiveType<Native = i64>>(
    array: &arrow_array::PrimitiveArray<T>,
) -> Vec<Option<i64>> {
    array.iter().collect()
}
