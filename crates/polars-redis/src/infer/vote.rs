//! How values vote: each value names the narrowest type it fits
//! ([`Kind`]), and a field's kinds settle on the widest sound type
//! ([`choose`]), with a note when they had to widen.

use std::collections::BTreeMap;

use crate::infer::report::InferredField;
use crate::types::parse;
use crate::types::{FieldType, TimeUnit};

/// The narrowest type a single text value fits, in preference order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Boolean,
    Int,
    Float,
    Date,
    Datetime,
    DatetimeWithOffset,
    Text,
}

impl Kind {
    pub(crate) fn of(bytes: &[u8]) -> Kind {
        if bytes.eq_ignore_ascii_case(b"true") || bytes.eq_ignore_ascii_case(b"false") {
            Kind::Boolean
        } else if parse::parse_number::<i64>(bytes).is_some() {
            Kind::Int
        } else if parse::parse_number::<f64>(bytes).is_some() {
            Kind::Float
        } else {
            // Integers were taken above: a bare integer is never a date.
            match parse::parse_iso_datetime(bytes) {
                Some(_) if parse::parse_date(bytes).is_some() => Kind::Date,
                Some((_, None)) => Kind::Datetime,
                Some((_, Some(_))) => Kind::DatetimeWithOffset,
                None => Kind::Text,
            }
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Boolean => "Boolean",
            Kind::Int => "Int64",
            Kind::Float => "Float64",
            Kind::Date => "Date",
            Kind::Datetime => "Datetime",
            Kind::DatetimeWithOffset => "Datetime (with offset)",
            Kind::Text => "String",
        }
    }
}

/// Per-field counts of narrowest kinds.
#[derive(Default)]
pub(crate) struct FieldStats {
    present: usize,
    kinds: BTreeMap<Kind, usize>,
}

impl FieldStats {
    pub(crate) fn add(&mut self, value: &[u8]) {
        self.present += 1;
        *self.kinds.entry(Kind::of(value)).or_default() += 1;
    }

    pub(crate) fn conclude(self, name: String) -> InferredField {
        let kinds: Vec<Kind> = self.kinds.keys().copied().collect();
        let (field_type, chosen, note) = choose(&kinds);
        let matching = chosen
            .iter()
            .map(|k| self.kinds.get(k).copied().unwrap_or(0))
            .sum::<usize>();
        let candidates = self
            .kinds
            .iter()
            .map(|(k, n)| (k.name().to_string(), *n))
            .collect();
        InferredField::from_counts(name, field_type, self.present, matching, candidates, note)
    }
}

/// The widest sound type for a set of kinds, the kinds that point at it
/// exactly, and a note when it had to widen.
pub(crate) fn choose(kinds: &[Kind]) -> (FieldType, Vec<Kind>, Option<String>) {
    use Kind::*;
    let datetime_us = |tz: Option<&str>| {
        FieldType::datetime(TimeUnit::Microsecond, tz).expect("UTC is a valid zone")
    };
    let widen = |to: &str| {
        let seen: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        Some(format!("mixed {} -> {to}", seen.join(", ")))
    };
    match kinds {
        [Boolean] => (FieldType::Boolean, vec![Boolean], None),
        [Int] => (FieldType::Int64, vec![Int], None),
        [Float] => (FieldType::Float64, vec![Float], None),
        [Int, Float] => (FieldType::Float64, vec![Float], widen("Float64")),
        [Date] => (FieldType::Date, vec![Date], None),
        [Datetime] => (datetime_us(None), vec![Datetime], None),
        [Date, Datetime] => (datetime_us(None), vec![Datetime], widen("Datetime")),
        [DatetimeWithOffset] => (datetime_us(Some("UTC")), vec![DatetimeWithOffset], None),
        [Text] => (FieldType::Utf8, vec![Text], None),
        _ => (FieldType::Utf8, vec![Text], widen("String")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[&str]) -> InferredField {
        let mut stats = FieldStats::default();
        for v in values {
            stats.add(v.as_bytes());
        }
        stats.conclude("f".into())
    }

    #[test]
    fn picks_the_narrowest_sound_type() {
        assert_eq!(infer(&["1", "-2"]).field_type, FieldType::Int64);
        assert_eq!(infer(&["true", "False"]).field_type, FieldType::Boolean);
        assert_eq!(infer(&["2024-01-02"]).field_type, FieldType::Date);
        let naive = infer(&["2024-01-02T03:04:05", "2024-01-02 03:04"]);
        assert_eq!(
            naive.field_type,
            FieldType::datetime(TimeUnit::Microsecond, None).unwrap()
        );
        let aware = infer(&["2024-01-02T03:04:05Z", "2024-01-02T03:04:05+02:00"]);
        assert_eq!(
            aware.field_type,
            FieldType::datetime(TimeUnit::Microsecond, Some("UTC")).unwrap()
        );
        // Bare integers are integers, never epoch datetimes, nor basic-form
        // dates (20240131 is an integer).
        assert_eq!(infer(&["1700000000000"]).field_type, FieldType::Int64);
        assert_eq!(infer(&["20240131"]).field_type, FieldType::Int64);
        // Basic forms with a time, and expanded years, are datetimes and dates.
        assert_eq!(
            infer(&["20240131T101500Z", "2024-01-31T10:15:00+01:00"]).field_type,
            FieldType::datetime(TimeUnit::Microsecond, Some("UTC")).unwrap()
        );
        assert_eq!(infer(&["+10000-01-01"]).field_type, FieldType::Date);
    }

    #[test]
    fn widens_mixed_fields_and_says_so() {
        let f = infer(&["1", "2", "3", "2.5"]);
        assert_eq!(f.field_type, FieldType::Float64);
        assert_eq!((f.present, f.matching), (4, 1));
        assert_eq!(f.confidence, 0.25);
        assert!(f.note.unwrap().contains("Float64"));
        let s = infer(&["1", "x"]);
        assert_eq!(s.field_type, FieldType::Utf8);
        assert!(s.note.unwrap().contains("mixed Int64, String"));
        assert_eq!(infer(&["true", "1"]).field_type, FieldType::Utf8);
    }
}
