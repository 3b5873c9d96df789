//! Per-field expiry of written hashes (hash-field expiry, Redis 7.4+): after
//! a row's `HSET`, one `HEXPIRE key seconds FIELDS n field...` (or
//! `HPEXPIREAT` for an absolute expiry) per distinct expiry of the row's
//! written fields. They are data commands of the key, so they run in the
//! key's atomic unit (the `MULTI` of a replace, the write script of the
//! other modes): no field is ever left without its expiry.

use super::commands::{Commands, When};
use super::conflict::Expiry;
use super::encode::GroupCtx;
use super::frame::{Frame, RowRef};
use super::ttl::{check_ttl_type, in_future, now_millis, row_expiries};
use crate::error::{Error, Result};
use crate::types::format::CellResult;

/// The expiry of one hash field in a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldTtl {
    /// This many seconds for the field of every row (at least 1).
    Seconds(u64),
    /// Per row from this column: integer seconds, a `Duration`, or a
    /// `Timestamp` (absolute expiry); null leaves that row's field without
    /// expiry. The column is not written as a field.
    Column(String),
}

/// Where the expiry of one field comes from, resolved against the frame.
enum Source {
    Constant(Expiry),
    /// The column and, per batch and row, its expiry.
    Column {
        column: usize,
        rows: Vec<Vec<Option<Expiry>>>,
    },
}

/// One field with an expiry.
struct FieldExpiry {
    /// The column holding the field's value.
    value_column: usize,
    name: Vec<u8>,
    source: Source,
}

impl FieldExpiry {
    fn at(&self, at: RowRef) -> Option<Expiry> {
        match &self.source {
            Source::Constant(expiry) => Some(*expiry),
            Source::Column { rows, .. } => rows[at.batch as usize][at.row as usize],
        }
    }
}

/// The field expiries of a hash write.
#[derive(Default)]
pub(crate) struct FieldExpiries {
    fields: Vec<FieldExpiry>,
}

impl FieldExpiries {
    /// Resolve `ttls` against the frame: each field is a value column (not
    /// one of `reserved`), each TTL column a TTL type, a constant at least 1.
    pub(crate) fn resolve(
        frame: &Frame,
        reserved: &[usize],
        ttls: &[(String, FieldTtl)],
    ) -> Result<Self> {
        let mut fields: Vec<FieldExpiry> = Vec::with_capacity(ttls.len());
        for (field, ttl) in ttls {
            let value_column = frame.column(field, "field_ttl field")?;
            if reserved.contains(&value_column) {
                return Err(Error::InvalidArgument(format!(
                    "field_ttl field `{field}` is the key or TTL column, not a hash field"
                )));
            }
            if fields.iter().any(|f| f.value_column == value_column) {
                return Err(Error::InvalidArgument(format!(
                    "field `{field}` is given two field TTLs"
                )));
            }
            let source = match ttl {
                FieldTtl::Seconds(0) => {
                    return Err(Error::InvalidArgument(format!(
                        "the field TTL of `{field}` must be at least 1 second, got 0 (it would \
                         delete the field at once)"
                    )))
                }
                FieldTtl::Seconds(seconds) => {
                    Source::Constant(Expiry::Seconds(i64::try_from(*seconds).unwrap_or(i64::MAX)))
                }
                FieldTtl::Column(name) => {
                    let column = frame.column(name, "field TTL")?;
                    if reserved.contains(&column) {
                        return Err(Error::InvalidArgument(format!(
                            "field TTL column `{name}` is also the key or TTL column"
                        )));
                    }
                    check_ttl_type(frame.data_type(column), name)?;
                    let rows = frame
                        .batches
                        .iter()
                        .map(|b| row_expiries(b.column(column), name))
                        .collect::<Result<_>>()?;
                    Source::Column { column, rows }
                }
            };
            fields.push(FieldExpiry {
                value_column,
                name: field.as_bytes().to_vec(),
                source,
            });
        }
        let expiries = FieldExpiries { fields };
        if let Some(clash) = expiries
            .fields
            .iter()
            .find(|f| expiries.ttl_columns().contains(&f.value_column))
        {
            return Err(Error::InvalidArgument(format!(
                "column `{}` is both a field with a field TTL and a field TTL column",
                String::from_utf8_lossy(&clash.name)
            )));
        }
        Ok(expiries)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The field TTL columns, which are not written as fields.
    pub(crate) fn ttl_columns(&self) -> Vec<usize> {
        self.fields
            .iter()
            .filter_map(|f| match f.source {
                Source::Column { column, .. } => Some(column),
                Source::Constant(_) => None,
            })
            .collect()
    }

    /// Append the expiry commands of row `at`: one per distinct expiry of
    /// its written (non-null) fields.
    pub(crate) fn push(&self, ctx: &GroupCtx<'_>, at: RowRef, cmds: &mut Commands) {
        let row = at.row as usize;
        let mut by_expiry: Vec<(Expiry, Vec<&[u8]>)> = Vec::new();
        for field in &self.fields {
            if ctx.cells.get(at, field.value_column).is_null(row) {
                continue;
            }
            let Some(expiry) = field.at(at) else { continue };
            match by_expiry.iter_mut().find(|(e, _)| *e == expiry) {
                Some((_, names)) => names.push(&field.name),
                None => by_expiry.push((expiry, vec![&field.name])),
            }
        }
        let mut number = itoa::Buffer::new();
        for (expiry, names) in by_expiry {
            let (command, value) = match expiry {
                Expiry::Seconds(seconds) => ("HEXPIRE", seconds),
                Expiry::AtMillis(ms) => ("HPEXPIREAT", ms),
                Expiry::Keep => continue,
            };
            cmds.start(command, When::Always);
            cmds.arg(number.format(value).as_bytes());
            cmds.arg(b"FIELDS");
            cmds.arg(number.format(names.len()).as_bytes());
            for name in names {
                cmds.arg(name);
            }
        }
    }

    /// Refuse a row whose field TTL would delete the field at once (not
    /// positive, or an expiry time in the past), as key TTLs are.
    pub(crate) fn check(&self, ctx: &GroupCtx<'_>, at: RowRef) -> CellResult {
        let now_ms = now_millis();
        for field in &self.fields {
            let Source::Column { column, .. } = field.source else {
                continue;
            };
            match field.at(at) {
                Some(expiry) if !in_future(expiry, now_ms) => {
                    let value = match expiry {
                        Expiry::Seconds(seconds) => format!("a field TTL of {seconds} s"),
                        _ => "an expiry time in the past".to_string(),
                    };
                    return Err(ctx.cell_error(
                        at,
                        column,
                        format!(
                            "{value} would delete field `{}` at once; a field TTL must be at \
                             least 1 second and an expiry time in the future (give such rows a \
                             null TTL)",
                            String::from_utf8_lossy(&field.name)
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
