//! Text parse rules: how a Redis string becomes a typed value.
//!
//! Each function takes the raw bytes of one value and returns `None` when the
//! text does not follow the rule; the caller turns that into a strict-mode
//! error or a null. The rules are listed in [`crate::types`].

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::types::table::TimeUnit;

/// Booleans: `true/false`, `t/f`, `yes/no`, `y/n`, `on/off`, `1/0`, any case.
pub(crate) fn parse_bool(bytes: &[u8]) -> Option<bool> {
    const TRUE: [&[u8]; 5] = [b"true", b"t", b"yes", b"y", b"on"];
    const FALSE: [&[u8]; 5] = [b"false", b"f", b"no", b"n", b"off"];
    match bytes {
        b"1" => Some(true),
        b"0" => Some(false),
        _ if TRUE.iter().any(|t| t.eq_ignore_ascii_case(bytes)) => Some(true),
        _ if FALSE.iter().any(|f| f.eq_ignore_ascii_case(bytes)) => Some(false),
        _ => None,
    }
}

/// Integers and floats: Rust's `FromStr` (decimal integers with optional sign;
/// floats also accept exponents, `inf`, `-inf` and `nan` as Redis writes them).
pub(crate) fn parse_number<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Dates: ISO-8601 `YYYY-MM-DD` (extended), `YYYYMMDD` (basic) or
/// `±YYYYY-MM-DD` (expanded years). Bare integers are not dates: an epoch
/// count is read only when the column declares it ([`crate::types::TextForm`]).
pub(crate) fn parse_date(bytes: &[u8]) -> Option<i32> {
    let mut cursor = Cursor(bytes);
    let date = cursor.date()?;
    cursor.is_empty().then(|| days_since_epoch(date))
}

/// Times of day: ISO-8601 `HH:MM[:SS[.fffffffff]]` (extended) or
/// `HHMM[SS[.fffffffff]]` (basic). Bare integers are not times.
pub(crate) fn parse_time(bytes: &[u8]) -> Option<i64> {
    let mut cursor = Cursor(bytes);
    let time = cursor.time()?;
    cursor.is_empty().then(|| nanos_of_day(time))
}

/// Datetimes: ISO-8601 `date[(T| )time][Z|±HH[:MM]]`, the date and the time
/// each in the extended or basic form of [`parse_date`] and [`parse_time`]
/// (`2024-01-31T10:15:00.5+01:00`, `20240131T101500Z`).
///
/// A value with an offset is an instant; a naive value is wall time in
/// `zone` when the column has one, else taken as UTC. Returns the count of
/// `unit`s since the epoch. Bare integers are not datetimes.
pub(crate) fn parse_datetime(bytes: &[u8], unit: TimeUnit, zone: Option<&Tz>) -> Option<i64> {
    let (local, offset_seconds) = parse_iso_datetime(bytes)?;
    instant_in_unit(local, offset_seconds, zone, unit)
}

/// The count of `unit`s since the epoch of a wall time: an instant when it
/// has an offset (in seconds), else wall time in `zone` (UTC without one).
/// `None` for a wall time that does not exist or is ambiguous in `zone`,
/// and for one out of range.
pub(crate) fn instant_in_unit(
    local: NaiveDateTime,
    offset_seconds: Option<i32>,
    zone: Option<&Tz>,
    unit: TimeUnit,
) -> Option<i64> {
    let utc = match (offset_seconds, zone) {
        (Some(offset), _) => local - chrono::Duration::seconds(offset as i64),
        (None, Some(zone)) => zone.from_local_datetime(&local).single()?.naive_utc(),
        (None, None) => local,
    };
    // Floor to the unit, like Polars' own parser: seconds are floored and the
    // sub-second nanoseconds are never negative.
    let utc = utc.and_utc();
    let (per_second, nanos_per_step) = match unit {
        TimeUnit::Millisecond => (1_000, 1_000_000),
        TimeUnit::Microsecond => (1_000_000, 1_000),
        TimeUnit::Nanosecond => (1_000_000_000, 1),
    };
    utc.timestamp()
        .checked_mul(per_second)?
        .checked_add((utc.timestamp_subsec_nanos() / nanos_per_step) as i64)
}

/// An ISO-8601 date or datetime: the wall time and its UTC offset in
/// seconds, if it has one.
pub(crate) fn parse_iso_datetime(bytes: &[u8]) -> Option<(NaiveDateTime, Option<i32>)> {
    let mut cursor = Cursor(bytes);
    let date = cursor.date()?;
    let time = if cursor.is_empty() {
        NaiveTime::MIN
    } else {
        match cursor.take_byte()? {
            b'T' | b't' | b' ' => cursor.time()?,
            _ => return None,
        }
    };
    let offset = cursor.offset()?;
    cursor
        .is_empty()
        .then_some((NaiveDateTime::new(date, time), offset))
}

/// Decimals: `[-+]digits[.digits]` or exponent-free scientific forms are not
/// accepted; more fractional digits than `scale` is an error, never rounded.
pub(crate) fn parse_decimal(bytes: &[u8], precision: u8, scale: i8) -> Option<i128> {
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (int_part, frac_part) = match memchr::memchr(b'.', digits) {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &b""[..]),
    };
    let scale = scale.max(0) as usize;
    let significant_frac = frac_part
        .iter()
        .rposition(|d| *d != b'0')
        .map_or(0, |p| p + 1);
    if (int_part.is_empty() && frac_part.is_empty()) || significant_frac > scale {
        return None;
    }
    let mut value: i128 = 0;
    let mut count = 0usize;
    for (i, d) in int_part
        .iter()
        .chain(frac_part.iter().take(scale))
        .enumerate()
    {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add((d - b'0') as i128)?;
        if value != 0 || i >= int_part.len() {
            count += 1;
        }
    }
    if frac_part.iter().any(|d| !d.is_ascii_digit()) {
        return None;
    }
    for _ in frac_part.len().min(scale)..scale {
        value = value.checked_mul(10)?;
        count += 1;
    }
    if count > precision as usize {
        return None;
    }
    Some(if negative { -value } else { value })
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

fn nanos_of_day(time: NaiveTime) -> i64 {
    use chrono::Timelike;
    time.num_seconds_from_midnight() as i64 * 1_000_000_000 + time.nanosecond() as i64
}

/// A tiny cursor for fixed-layout ISO-8601 text.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take_byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.take_byte()? == byte).then_some(())
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(n)?;
        let mut value = 0u32;
        for d in head {
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + (d - b'0') as u32;
        }
        self.0 = rest;
        Some(value)
    }

    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// `YYYY-MM-DD`, `YYYYMMDD`, or an expanded year (a sign and at least
    /// four digits) in the extended form, `+10000-01-01`.
    fn date(&mut self) -> Option<NaiveDate> {
        let (year, extended) = match self.peek()? {
            sign @ (b'+' | b'-') => {
                self.take_byte();
                let count = self.0.iter().take_while(|d| d.is_ascii_digit()).count();
                if !(4..=6).contains(&count) {
                    return None;
                }
                let year = self.digits(count)? as i32;
                (if sign == b'-' { -year } else { year }, true)
            }
            _ => {
                let year = self.digits(4)? as i32;
                (year, self.peek() == Some(b'-'))
            }
        };
        if extended {
            self.expect(b'-')?;
        }
        let month = self.digits(2)?;
        if extended {
            self.expect(b'-')?;
        }
        let day = self.digits(2)?;
        NaiveDate::from_ymd_opt(year, month, day)
    }

    /// `HH:MM[:SS[.f]]` (extended) or `HHMM[SS[.f]]` (basic); the fraction
    /// has 1 to 9 digits after `.` or `,`.
    fn time(&mut self) -> Option<NaiveTime> {
        let hour = self.digits(2)?;
        let extended = self.peek() == Some(b':');
        if extended {
            self.take_byte();
        }
        let minute = self.digits(2)?;
        let mut second = 0;
        let mut nanos = 0;
        let has_seconds = if extended {
            self.peek() == Some(b':') && self.take_byte().is_some()
        } else {
            self.peek().is_some_and(|d| d.is_ascii_digit())
        };
        if has_seconds {
            second = self.digits(2)?;
            if matches!(self.peek(), Some(b'.') | Some(b',')) {
                self.take_byte();
                let count = self.0.iter().take_while(|d| d.is_ascii_digit()).count();
                if count == 0 || count > 9 {
                    return None;
                }
                nanos = self.digits(count)? * 10u32.pow(9 - count as u32);
            }
        }
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
    }

    /// `Z`, `±HH`, `±HHMM` or `±HH:MM`; `Some(None)` when there is no offset.
    fn offset(&mut self) -> Option<Option<i32>> {
        let sign = match self.0.first() {
            None => return Some(None),
            Some(b'Z') | Some(b'z') => {
                self.take_byte();
                return Some(Some(0));
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return None,
        };
        self.take_byte();
        let hours = self.digits(2)? as i32;
        if self.0.first() == Some(&b':') {
            self.take_byte();
        }
        let minutes = if self.is_empty() {
            0
        } else {
            self.digits(2)? as i32
        };
        Some(Some(sign * (hours * 3600 + minutes * 60)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "t", "Yes", "y", "on", "1"] {
            assert_eq!(parse_bool(t.as_bytes()), Some(true), "{t}");
        }
        for f in ["false", "F", "no", "N", "OFF", "0"] {
            assert_eq!(parse_bool(f.as_bytes()), Some(false), "{f}");
        }
        for bad in ["", "2", "yess", "tru"] {
            assert_eq!(parse_bool(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number::<i8>(b"-128"), Some(-128));
        assert_eq!(parse_number::<i8>(b"128"), None);
        assert_eq!(parse_number::<i64>(b"1.0"), None);
        assert_eq!(parse_number::<f64>(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_number::<f64>(b"1e3"), Some(1000.0));
        assert_eq!(parse_number::<u32>(b"-1"), None);
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_date(b"1970-01-02"), Some(1));
        assert_eq!(parse_date(b"1969-12-31"), Some(-1));
        assert_eq!(parse_date(b"2024-02-30"), None);
        assert_eq!(parse_date(b"20240131"), Some(19_753));
        assert_eq!(parse_date(b"2024-01-31"), Some(19_753));
        // Bare integers are not dates (20240131 is not day 20,240,131).
        assert_eq!(parse_date(b"19"), None);
        assert_eq!(parse_date(b"2024013"), None);
        assert_eq!(parse_date(b"202401-31"), None);
        assert_eq!(parse_date(b"+10000-01-01"), Some(2_932_897));
        assert_eq!(parse_date(b"-0001-12-31"), Some(-719_529));
        assert_eq!(parse_date(b"+999-01-01"), None);
        assert_eq!(parse_time(b"101500"), Some(36_900_000_000_000));
        assert_eq!(parse_time(b"1015"), Some(36_900_000_000_000));
        assert_eq!(parse_time(b"101500.25"), Some(36_900_250_000_000));
        assert_eq!(parse_time(b"3600000000000"), None);
        assert_eq!(parse_time(b"10:1500"), None);
        assert_eq!(parse_time(b"01:00:00.5"), Some(3_600_500_000_000));
        assert_eq!(parse_time(b"23:59"), Some(86_340_000_000_000));
        assert_eq!(parse_time(b"24:00:00"), None);
    }

    #[test]
    fn datetimes() {
        let ms = TimeUnit::Millisecond;
        assert_eq!(
            parse_datetime(b"1970-01-01T00:00:01.5", ms, None),
            Some(1500)
        );
        assert_eq!(
            parse_datetime(b"1970-01-01 01:00:00+01:00", ms, None),
            Some(0)
        );
        assert_eq!(parse_datetime(b"1970-01-01T00:00:00Z", ms, None), Some(0));
        assert_eq!(parse_datetime(b"1970-01-02", ms, None), Some(86_400_000));
        // Bare integers are not datetimes (20240131 is not 05:37 on 1970-01-01).
        assert_eq!(parse_datetime(b"1234", ms, None), None);
        assert_eq!(
            parse_datetime(b"20240131", ms, None),
            Some(1_706_659_200_000)
        );
        assert_eq!(
            parse_datetime(b"20240131T101500Z", ms, None),
            Some(1_706_696_100_000)
        );
        assert_eq!(
            parse_datetime(b"20240131T111500.5+0100", ms, None),
            Some(1_706_696_100_500)
        );
        assert_eq!(
            parse_datetime(b"2024-01-31T10:15:00,25-02:00", ms, None),
            Some(1_706_703_300_250)
        );
        // Extra fraction digits floor to the unit, before the epoch too.
        assert_eq!(
            parse_datetime(b"1969-12-31T23:59:59.9995", ms, None),
            Some(-1)
        );
        assert_eq!(
            parse_datetime(b"1970-01-01T00:00:00.0005", ms, None),
            Some(0)
        );
        let ns = TimeUnit::Nanosecond;
        assert_eq!(
            parse_datetime(b"1970-01-01T00:00:00.000000001", ns, None),
            Some(1)
        );
        let amsterdam: Tz = "Europe/Amsterdam".parse().unwrap();
        assert_eq!(
            parse_datetime(b"2024-01-01T01:00:00", ms, Some(&amsterdam)),
            Some(1_704_067_200_000)
        );
        // 02:30 does not exist in Amsterdam on 2024-03-31 (DST gap).
        assert_eq!(
            parse_datetime(b"2024-03-31T02:30:00", ms, Some(&amsterdam)),
            None
        );
        assert_eq!(parse_datetime(b"2024-01-01X", ms, None), None);
        assert_eq!(parse_datetime(b"2024-01-01T00:00:00+0x", ms, None), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal(b"12.34", 10, 2), Some(1234));
        assert_eq!(parse_decimal(b"-0.5", 10, 2), Some(-50));
        assert_eq!(parse_decimal(b"7", 10, 2), Some(700));
        assert_eq!(parse_decimal(b"1.230", 10, 2), Some(123));
        assert_eq!(parse_decimal(b"1.234", 10, 2), None);
        assert_eq!(parse_decimal(b"123456", 5, 0), None);
        assert_eq!(parse_decimal(b"1e5", 10, 2), None);
        assert_eq!(parse_decimal(b".", 10, 2), None);
    }
}
