//! Declared text forms of temporal columns (`formats=`): how a `Date`,
//! `Datetime`, `Time` or `Duration` column is stored when it is not in the
//! default form of the type table (ISO-8601 for dates, datetimes and times).
//!
//! | form                       | stored as                                                        |
//! |----------------------------|------------------------------------------------------------------|
//! | a strftime format          | text in that format (`%d/%m/%Y`, `%Y%m%d%H%M%S`, `%s`, ...)       |
//! | `epoch_s` ... `epoch_ns`   | an integer count of that unit: since 1970-01-01T00:00:00 UTC for dates and datetimes, since midnight for times, the length of a duration |
//!
//! Reads parse by the form and writes format by it, so a frame written with
//! a form reads back identically with the same form. A write refuses a
//! value its form cannot hold exactly (a time of day under `%Y-%m-%d`, a
//! millisecond under `epoch_s`) rather than store a rounded value.

use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};
use chrono::format::{Item, Parsed};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;

use crate::error::{Error, Result};
use crate::types::parse;
use crate::types::table::{EpochUnit, FieldType, TextForm, TimeUnit};

impl TextForm {
    /// True for epoch counts, which JSON stores as numbers.
    pub(crate) fn is_count(&self) -> bool {
        matches!(self, TextForm::Epoch(_))
    }

    /// Refuse this form on `column` of `field_type` unless the type can be
    /// stored in it.
    pub(crate) fn check(&self, column: &str, field_type: &FieldType) -> Result<()> {
        self.check_temporal(column, Temporal::of(field_type), &field_type.to_string())
    }

    /// Refuse this form on `column`, of type `type_name`, unless it is
    /// `temporal` in a kind the form fits.
    pub(crate) fn check_temporal(
        &self,
        column: &str,
        temporal: Option<Temporal>,
        type_name: &str,
    ) -> Result<()> {
        let refuse = |why: &str| {
            Err(Error::InvalidArgument(format!(
                "formats: column `{column}` is {type_name}; {why}"
            )))
        };
        match (temporal, self) {
            (None, _) => refuse(
                "formats= applies to Date, Datetime, Time and Duration columns only \
                 (other columns have one text form)",
            ),
            (Some(Temporal::Duration { .. }), TextForm::Strftime(_)) => refuse(
                "a Duration is stored as an integer count: give epoch_s, epoch_ms, epoch_us or epoch_ns",
            ),
            _ => Ok(()),
        }
    }

    /// Parse one stored value of a `temporal` column into its storage value
    /// (days, units since the epoch, nanoseconds since midnight, units).
    pub(crate) fn read(&self, bytes: &[u8], temporal: &Temporal) -> Option<i64> {
        match self {
            TextForm::Epoch(unit) => read_count(parse::parse_number(bytes)?, *unit, temporal),
            TextForm::Strftime(format) => {
                let mut parsed = Parsed::new();
                chrono::format::parse(
                    &mut parsed,
                    std::str::from_utf8(bytes).ok()?,
                    format.items.iter(),
                )
                .ok()?;
                read_parsed(&parsed, temporal)
            }
        }
    }

    /// Append the stored form of `value` (a storage value of a `temporal`
    /// column), or say why this form cannot hold it exactly.
    pub(crate) fn write(
        &self,
        value: i64,
        temporal: &Temporal,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), String> {
        let start = out.len();
        match self {
            TextForm::Epoch(unit) => {
                let count = write_count(value, *unit, temporal)
                    .ok_or_else(|| format!("{value} is out of range for {}", self.spec()))?;
                out.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
            }
            TextForm::Strftime(format) => {
                let text = write_strftime(value, temporal, &format.items)
                    .ok_or_else(|| format!("{value} is out of range for dates"))?;
                out.extend_from_slice(text.as_bytes());
            }
        }
        // A value the form cannot hold exactly would read back changed.
        if self.read(&out[start..], temporal) != Some(value) {
            let text = String::from_utf8_lossy(&out[start..]).into_owned();
            out.truncate(start);
            return Err(format!(
                "the form `{}` cannot hold this value exactly (it would be stored as {text:?}, \
                 which reads back differently)",
                self.spec()
            ));
        }
        Ok(())
    }
}

/// A time zone of a datetime column.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Zone {
    Utc,
    Named(Tz),
    /// A fixed offset in seconds east of UTC (`+01:00` as an Arrow zone).
    Fixed(i32),
}

impl Zone {
    pub(crate) fn parse(name: &str) -> Option<Zone> {
        if name == "UTC" || name == "Z" || name == "Etc/UTC" {
            return Some(Zone::Utc);
        }
        if let Ok(tz) = name.parse::<Tz>() {
            return Some(Zone::Named(tz));
        }
        let (sign, rest) = match name.as_bytes().first()? {
            b'+' => (1, &name[1..]),
            b'-' => (-1, &name[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m))
            .then_some(Zone::Fixed(sign * (h * 3600 + m * 60)))
    }

    /// The instant of a wall time in this zone; `None` when the wall time
    /// does not exist or is ambiguous there.
    pub(crate) fn local_to_utc(
        &self,
        local: &chrono::NaiveDateTime,
    ) -> Option<chrono::NaiveDateTime> {
        match self {
            Zone::Utc => Some(*local),
            Zone::Named(tz) => Some(tz.from_local_datetime(local).single()?.naive_utc()),
            Zone::Fixed(seconds) => Some(*local - chrono::Duration::seconds(*seconds as i64)),
        }
    }

    /// Seconds east of UTC at the instant `utc`.
    pub(crate) fn offset_seconds(&self, utc: &chrono::NaiveDateTime) -> i32 {
        match self {
            Zone::Utc => 0,
            Zone::Named(tz) => tz.offset_from_utc_datetime(utc).fix().local_minus_utc(),
            Zone::Fixed(seconds) => *seconds,
        }
    }
}

/// A temporal column, as a form reads and writes its storage values.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Temporal {
    /// Days since 1970-01-01.
    Date,
    /// Units since the epoch, shown in `zone` (naive when `None`).
    Datetime { unit: TimeUnit, zone: Option<Zone> },
    /// Nanoseconds since midnight.
    Time,
    /// A count of `unit`.
    Duration { unit: TimeUnit },
}

impl Temporal {
    /// The temporal kind of a field type; `None` for other types.
    pub(crate) fn of(field_type: &FieldType) -> Option<Temporal> {
        Some(match field_type {
            FieldType::Date => Temporal::Date,
            FieldType::Datetime { unit, tz } => Temporal::Datetime {
                unit: *unit,
                zone: tz.as_deref().and_then(Zone::parse),
            },
            FieldType::Time => Temporal::Time,
            FieldType::Duration { unit } => Temporal::Duration { unit: *unit },
            _ => return None,
        })
    }

    /// The temporal kind of an Arrow column (`Time32`/`Time64` hold their
    /// own unit; [`arrow_time_to_nanos`] brings them to nanoseconds).
    pub(crate) fn of_arrow(data_type: &DataType) -> Option<Temporal> {
        Some(match data_type {
            DataType::Date32 => Temporal::Date,
            DataType::Timestamp(unit, tz) => Temporal::Datetime {
                unit: time_unit(*unit)?,
                zone: match tz {
                    Some(tz) => Some(Zone::parse(tz)?),
                    None => None,
                },
            },
            DataType::Time32(_) | DataType::Time64(_) => Temporal::Time,
            DataType::Duration(unit) => Temporal::Duration {
                unit: time_unit(*unit)?,
            },
            _ => return None,
        })
    }
}

fn time_unit(unit: ArrowTimeUnit) -> Option<TimeUnit> {
    match unit {
        ArrowTimeUnit::Second => None,
        ArrowTimeUnit::Millisecond => Some(TimeUnit::Millisecond),
        ArrowTimeUnit::Microsecond => Some(TimeUnit::Microsecond),
        ArrowTimeUnit::Nanosecond => Some(TimeUnit::Nanosecond),
    }
}

const SECONDS_PER_DAY: i64 = 86_400;
const NANOS_PER_DAY: i64 = SECONDS_PER_DAY * 1_000_000_000;

/// `count` of `per_second`ths of a second in `to_per_second`ths, floored.
fn rescale(count: i64, from_per_second: i64, to_per_second: i64) -> Option<i64> {
    if to_per_second >= from_per_second {
        count.checked_mul(to_per_second / from_per_second)
    } else {
        Some(count.div_euclid(from_per_second / to_per_second))
    }
}

fn read_count(count: i64, unit: EpochUnit, temporal: &Temporal) -> Option<i64> {
    let per = unit.per_second();
    match temporal {
        Temporal::Date => {
            let days = (count as i128).div_euclid(SECONDS_PER_DAY as i128 * per as i128);
            i32::try_from(days).ok().map(i64::from)
        }
        Temporal::Datetime { unit: to, .. } | Temporal::Duration { unit: to } => {
            rescale(count, per, to.per_second())
        }
        Temporal::Time => {
            rescale(count, per, 1_000_000_000).filter(|ns| (0..NANOS_PER_DAY).contains(ns))
        }
    }
}

fn write_count(value: i64, unit: EpochUnit, temporal: &Temporal) -> Option<i64> {
    let per = unit.per_second();
    match temporal {
        Temporal::Date => value.checked_mul(SECONDS_PER_DAY)?.checked_mul(per),
        Temporal::Datetime { unit: from, .. } | Temporal::Duration { unit: from } => {
            rescale(value, from.per_second(), per)
        }
        Temporal::Time => rescale(value, 1_000_000_000, per),
    }
}

/// The storage value of what a strftime format parsed.
fn read_parsed(parsed: &Parsed, temporal: &Temporal) -> Option<i64> {
    match temporal {
        Temporal::Date => {
            let date = match parsed.timestamp() {
                Some(_) => parsed.to_naive_datetime_with_offset(0).ok()?.date(),
                None => parsed.to_naive_date().ok()?,
            };
            Some(days_since_epoch(date))
        }
        Temporal::Time => {
            let time = parsed.to_naive_time().ok()?;
            let seconds = chrono::Timelike::num_seconds_from_midnight(&time) as i64;
            Some(seconds * 1_000_000_000 + chrono::Timelike::nanosecond(&time) as i64)
        }
        Temporal::Datetime { unit, zone } => {
            let utc = match (parsed.timestamp(), parsed.offset()) {
                (Some(_), _) => parsed.to_naive_datetime_with_offset(0).ok()?,
                (None, offset) => {
                    let date = parsed.to_naive_date().ok()?;
                    let time = if parsed.hour_div_12().is_none() && parsed.hour_mod_12().is_none() {
                        NaiveTime::MIN
                    } else {
                        parsed.to_naive_time().ok()?
                    };
                    let local = NaiveDateTime::new(date, time);
                    match (offset, zone) {
                        (Some(seconds), _) => local - chrono::Duration::seconds(seconds as i64),
                        (None, Some(zone)) => zone.local_to_utc(&local)?,
                        (None, None) => local,
                    }
                }
            };
            parse::instant_in_unit(utc, Some(0), None, *unit)
        }
        Temporal::Duration { .. } => None,
    }
}

fn write_strftime(value: i64, temporal: &Temporal, items: &[Item<'static>]) -> Option<String> {
    Some(match temporal {
        Temporal::Date => {
            let date = epoch_date().checked_add_signed(chrono::Duration::days(value))?;
            date.format_with_items(items.iter()).to_string()
        }
        Temporal::Time => {
            let seconds = u32::try_from(value.div_euclid(1_000_000_000)).ok()?;
            let nanos = value.rem_euclid(1_000_000_000) as u32;
            NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos)?
                .format_with_items(items.iter())
                .to_string()
        }
        Temporal::Datetime { unit, zone } => {
            let per = unit.per_second();
            let seconds = value.div_euclid(per);
            let nanos = (value.rem_euclid(per) * (1_000_000_000 / per)) as u32;
            let utc = chrono::DateTime::from_timestamp(seconds, nanos)?.naive_utc();
            let offset = zone.map_or(0, |z| z.offset_seconds(&utc));
            FixedOffset::east_opt(offset)?
                .from_utc_datetime(&utc)
                .format_with_items(items.iter())
                .to_string()
        }
        Temporal::Duration { .. } => return None,
    })
}

fn epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")
}

fn days_since_epoch(date: NaiveDate) -> i64 {
    (date - epoch_date()).num_days()
}

/// The advice of a parse error in a column of `field_type` stored in
/// `form`: the scan's own `hint`, and for a temporal column read in its
/// default form, how to declare another stored form.
pub(crate) fn parse_hint(
    hint: Option<&str>,
    field_type: &FieldType,
    form: Option<&TextForm>,
) -> Option<String> {
    let formats = match form {
        None => formats_hint(field_type),
        Some(_) => None,
    };
    match (hint, formats) {
        (Some(hint), Some(formats)) => Some(format!("{hint}; {formats}")),
        (hint, formats) => hint.map(str::to_string).or(formats),
    }
}

fn formats_hint(field_type: &FieldType) -> Option<String> {
    let example = match field_type {
        FieldType::Date => "\"%d/%m/%Y\" or \"epoch_s\"",
        FieldType::Datetime { .. } => "\"%d/%m/%Y %H:%M\" or \"epoch_ms\"",
        FieldType::Time => "\"%H.%M\" or \"epoch_s\" (since midnight)",
        _ => return None,
    };
    Some(format!(
        "{field_type} values are read as ISO-8601 (2024-01-31, 20240131, \
         2024-01-31T10:15:00Z, ...), and a bare integer is not a date: if the values \
         are stored in another form, declare it with formats={{column: form}}, e.g. {example}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(form: &str, field_type: FieldType, values: &[i64]) {
        let form = TextForm::from_spec(form).unwrap();
        let temporal = Temporal::of(&field_type).unwrap();
        for &value in values {
            let mut out = Vec::new();
            form.write(value, &temporal, &mut out).unwrap();
            assert_eq!(
                form.read(&out, &temporal),
                Some(value),
                "{} {}",
                form.spec(),
                String::from_utf8_lossy(&out)
            );
        }
    }

    #[test]
    fn specs_are_validated() {
        assert_eq!(
            TextForm::from_spec("epoch_ms").unwrap(),
            TextForm::Epoch(EpochUnit::Millisecond)
        );
        assert_eq!(TextForm::from_spec("%d/%m/%Y").unwrap().spec(), "%d/%m/%Y");
        for bad in ["epoch_h", "epoch", "%Q", "%", "plain text", ""] {
            assert!(TextForm::from_spec(bad).is_err(), "{bad}");
        }
        let ms = TextForm::from_spec("epoch_ms").unwrap();
        assert!(ms.check("n", &FieldType::Int64).is_err());
        assert!(ms
            .check(
                "d",
                &FieldType::Duration {
                    unit: TimeUnit::Millisecond
                }
            )
            .is_ok());
        let strftime = TextForm::from_spec("%H").unwrap();
        let err = strftime
            .check(
                "d",
                &FieldType::Duration {
                    unit: TimeUnit::Millisecond,
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("`d`"), "{err}");
    }

    #[test]
    fn epoch_counts_read_and_write() {
        let date = Temporal::Date;
        let s = TextForm::Epoch(EpochUnit::Second);
        assert_eq!(s.read(b"1706659200", &date), Some(19_753));
        // Within the day: the UTC date of the instant.
        assert_eq!(s.read(b"1706700000", &date), Some(19_753));
        assert_eq!(s.read(b"-1", &date), Some(-1));
        assert_eq!(s.read(b"2024-01-31", &date), None);
        let ms = Temporal::Datetime {
            unit: TimeUnit::Millisecond,
            zone: None,
        };
        assert_eq!(s.read(b"2", &ms), Some(2_000));
        let ns = TextForm::Epoch(EpochUnit::Nanosecond);
        assert_eq!(ns.read(b"1999999", &ms), Some(1));
        assert_eq!(ns.read(b"-1", &ms), Some(-1));
        let mut out = Vec::new();
        // A millisecond does not fit in epoch_s.
        assert!(s.write(1_500, &ms, &mut out).is_err());
        assert!(out.is_empty());
        round_trip("epoch_s", FieldType::Date, &[-800_000, -1, 0, 19_753]);
        round_trip("epoch_ms", FieldType::Time, &[0, 36_900_000_000_000]);
        round_trip(
            "epoch_us",
            FieldType::datetime(TimeUnit::Microsecond, Some("Europe/Amsterdam")).unwrap(),
            &[-1, 0, 1_706_696_100_123_456],
        );
        round_trip(
            "epoch_s",
            FieldType::Duration {
                unit: TimeUnit::Millisecond,
            },
            &[-5_000, 0, 86_400_000],
        );
    }

    #[test]
    fn strftime_forms_read_and_write() {
        let form = TextForm::from_spec("%d/%m/%Y").unwrap();
        assert_eq!(form.read(b"31/01/2024", &Temporal::Date), Some(19_753));
        assert_eq!(form.read(b"2024-01-31", &Temporal::Date), None);
        // A date form on a datetime column: midnight.
        let ms = Temporal::Datetime {
            unit: TimeUnit::Millisecond,
            zone: None,
        };
        assert_eq!(form.read(b"31/01/2024", &ms), Some(1_706_659_200_000));
        let mut out = Vec::new();
        assert!(form.write(1_706_659_200_001, &ms, &mut out).is_err());
        round_trip("%d/%m/%Y", FieldType::Date, &[-800_000, 0, 19_753]);
        round_trip("%H.%M.%S%.9f", FieldType::Time, &[0, 1, 86_399_999_999_999]);
        round_trip(
            "%Y%m%d %H%M%S%.3f %z",
            FieldType::datetime(TimeUnit::Millisecond, Some("America/St_Johns")).unwrap(),
            &[-1, 0, 1_706_696_100_123],
        );
        round_trip(
            "%d.%m.%Y %H:%M",
            FieldType::datetime(TimeUnit::Millisecond, Some("Europe/Amsterdam")).unwrap(),
            &[0, 1_706_696_100_000],
        );
        round_trip(
            "%s",
            FieldType::datetime(TimeUnit::Nanosecond, None).unwrap(),
            &[0, 1_706_696_100_000_000_000],
        );
    }
}
