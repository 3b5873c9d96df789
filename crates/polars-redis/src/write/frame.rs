//! The input of a write: Arrow batches, the key of every row, and rows
//! grouped by key. Everything here runs before anything is sent, so bad
//! input (a missing column, a null or duplicate key) is reported naming the
//! column and rows while Redis is still untouched.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};

use crate::error::{quote_bytes, Error, Result};
use crate::types::format::{self, Cells};
use crate::types::text_form::Temporal;
use crate::types::TextForm;

use super::options::WriteOptions;

/// The rows to write, as the caller's batches (never copied). `pub` only
/// because [`WriteKind`](super::WriteKind) names it; the module is private.
pub struct Frame {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
    /// Global index of the first row of each batch.
    starts: Vec<usize>,
    rows: usize,
    /// The stored form of each column (`None`: the type table's default).
    forms: Vec<Option<TextForm>>,
}

/// One row: its batch and its position in that batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowRef {
    pub(crate) batch: u32,
    pub(crate) row: u32,
}

impl Frame {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self> {
        let mut starts = Vec::with_capacity(batches.len());
        let mut rows = 0;
        for batch in &batches {
            if batch.schema().fields() != schema.fields() {
                return Err(Error::InvalidArgument(
                    "every record batch of a write must have the same schema".into(),
                ));
            }
            starts.push(rows);
            rows += batch.num_rows();
        }
        if u32::try_from(batches.len()).is_err()
            || batches.iter().any(|b| b.num_rows() > u32::MAX as usize)
        {
            return Err(Error::InvalidArgument("too many rows in one batch".into()));
        }
        let forms = vec![None; schema.fields().len()];
        Ok(Frame {
            schema,
            batches,
            starts,
            rows,
            forms,
        })
    }

    /// Take the stored forms of `options.formats`, refusing a column that
    /// is not in the frame or is not temporal (a column the write stores
    /// otherwise than as text refuses its form with [`Frame::refuse_form`]).
    pub(crate) fn set_forms(&mut self, options: &WriteOptions) -> Result<()> {
        for (name, form) in &options.formats {
            let column = self.column(name, "formats")?;
            let data_type = self.data_type(column);
            form.check_temporal(name, Temporal::of_arrow(data_type), &data_type.to_string())?;
            self.forms[column] = Some(form.clone());
        }
        Ok(())
    }

    /// Refuse a declared form on `column`, which the write stores as
    /// `written_as` rather than as text.
    pub(crate) fn refuse_form(&self, column: usize, written_as: &str) -> Result<()> {
        match self.forms[column] {
            Some(_) => Err(Error::InvalidArgument(format!(
                "formats: `{}` is written as {written_as}, not as text, so it has no stored \
                 form to declare",
                self.name(column)
            ))),
            None => Ok(()),
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The global (frame-wide, 0-based) index of a row.
    pub(crate) fn global(&self, at: RowRef) -> usize {
        self.starts[at.batch as usize] + at.row as usize
    }

    /// The index of column `name`, or an error listing the columns.
    pub(crate) fn column(&self, name: &str, role: &str) -> Result<usize> {
        self.schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            Error::InvalidArgument(format!(
                "{role} column `{name}` is not in the frame (columns: {})",
                names.join(", ")
            ))
        })
    }

    pub(crate) fn data_type(&self, column: usize) -> &DataType {
        self.schema.field(column).data_type()
    }

    pub(crate) fn name(&self, column: usize) -> &str {
        self.schema.field(column).name()
    }

    /// True for columns whose text form can fail: nested JSON, times of
    /// day, dictionaries, dates and datetimes (beyond the years text can
    /// show), and columns in a declared form (a value it cannot hold).
    pub(crate) fn fallible(&self, column: usize) -> bool {
        self.forms[column].is_some()
            || self.data_type(column).is_nested()
            || matches!(
                self.data_type(column),
                DataType::Time32(_)
                    | DataType::Time64(_)
                    | DataType::Dictionary(..)
                    | DataType::Date32
                    | DataType::Timestamp(..)
            )
    }

    /// Formatters for every column of every batch, `[batch][column]`.
    pub(crate) fn cells(&self) -> Result<FrameCells<'_>> {
        let mut all = Vec::with_capacity(self.batches.len());
        for batch in &self.batches {
            let mut columns = Vec::with_capacity(batch.num_columns());
            for (i, array) in batch.columns().iter().enumerate() {
                let cells = match &self.forms[i] {
                    Some(form) => format::cells_in_form(array, form),
                    None => format::cells(array),
                };
                columns.push(cells.map_err(|reason| {
                    Error::InvalidArgument(format!("column `{}`: {reason}", self.name(i)))
                })?);
            }
            all.push(columns);
        }
        Ok(FrameCells(all))
    }
}

/// Formatters for every column of every batch of a [`Frame`].
pub(crate) struct FrameCells<'a>(Vec<Vec<Box<dyn Cells + 'a>>>);

impl<'a> FrameCells<'a> {
    /// The formatter of `column` in the batch of `at`.
    pub(crate) fn get(&self, at: RowRef, column: usize) -> &(dyn Cells + 'a) {
        self.0[at.batch as usize][column].as_ref()
    }
}

/// Where the keys come from.
#[derive(Clone, Debug)]
pub(crate) enum KeySource {
    /// `prefix` + the text of this column.
    Column(usize),
    /// `prefix` + the global row index.
    RowIndex,
}

/// Rows grouped by key, groups in order of first appearance, rows in frame
/// order within a group.
pub(crate) struct Groups {
    keys: Vec<u8>,
    key_ends: Vec<usize>,
    rows: Vec<RowRef>,
    row_ends: Vec<usize>,
}

/// Most rows named in one error message.
const NAMED_ROWS: usize = 10;

impl Groups {
    /// Key every row; reject null keys, and duplicate keys unless `grouped`.
    pub(crate) fn build(
        frame: &Frame,
        cells: &FrameCells<'_>,
        source: &KeySource,
        prefix: &[u8],
        grouped: bool,
        key_name: &str,
    ) -> Result<Groups> {
        let mut keys = Vec::new();
        let mut key_ends = Vec::with_capacity(frame.rows());
        let mut rows = Vec::with_capacity(frame.rows());
        let mut digests = Vec::with_capacity(frame.rows());
        let mut null_rows = Vec::new();
        for (b, batch) in frame.batches.iter().enumerate() {
            for row in 0..batch.num_rows() {
                let at = RowRef {
                    batch: b as u32,
                    row: row as u32,
                };
                let start = keys.len();
                keys.extend_from_slice(prefix);
                match source {
                    KeySource::RowIndex => format::push_int(&mut keys, frame.global(at)),
                    KeySource::Column(column) => {
                        let column_cells = cells.get(at, *column);
                        if column_cells.is_null(row) {
                            null_rows.push(frame.global(at));
                            keys.truncate(start);
                            continue;
                        }
                        column_cells.text(row, &mut keys).map_err(|reason| {
                            Error::InvalidArgument(format!(
                                "row {}, key column `{key_name}`: {reason}",
                                frame.global(at)
                            ))
                        })?;
                    }
                }
                digests.push(xxhash_rust::xxh3::xxh3_128(&keys[start..]));
                key_ends.push(keys.len());
                rows.push(at);
            }
        }
        if !null_rows.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "key column `{key_name}` is null in {}; every row needs a key (nothing was written)",
                name_rows(&null_rows)
            )));
        }
        let per_row = Groups {
            keys,
            row_ends: (1..=rows.len()).collect(),
            key_ends,
            rows,
        };
        if grouped {
            Ok(per_row.grouped(&digests))
        } else {
            per_row.check_unique(frame, digests)?;
            Ok(per_row)
        }
    }

    /// Reject a key that appears on two rows (one-row-per-key types). Sorting
    /// the digests is far more cache-friendly than a hash set of a million.
    fn check_unique(&self, frame: &Frame, digests: Vec<u128>) -> Result<()> {
        let mut order: Vec<(u128, u32)> = digests.into_iter().zip(0..).collect();
        order.sort_unstable();
        let mut pairs: Vec<(usize, usize)> = order
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| (w[0].1 as usize, w[1].1 as usize))
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        pairs.sort_unstable_by_key(|(_, second)| *second);
        let (first, second) = pairs[0];
        let global = |i: usize| frame.global(self.rows[i]);
        Err(Error::InvalidArgument(format!(
            "duplicate keys: {} is in rows {} and {}{}; each key may appear once per frame \
             (nothing was written)",
            quote_bytes(self.key(first), 200),
            global(first.min(second)),
            global(first.max(second)),
            match pairs.len() {
                1 => String::new(),
                n => format!(" ({} more duplicate rows)", n - 1),
            }
        )))
    }

    /// Merge the one-row groups of equal keys, groups in order of first
    /// appearance and rows in frame order.
    fn grouped(self, digests: &[u128]) -> Groups {
        let mut index: HashMap<u128, u32, BuildHasherDefault<DigestHasher>> =
            HashMap::with_capacity_and_hasher(digests.len(), Default::default());
        let mut keys = Vec::new();
        let mut key_ends = Vec::new();
        let group_of_row: Vec<u32> = digests
            .iter()
            .enumerate()
            .map(|(row, digest)| {
                let next = key_ends.len() as u32;
                let group = *index.entry(*digest).or_insert(next);
                if group == next {
                    keys.extend_from_slice(self.key(row));
                    key_ends.push(keys.len());
                }
                group
            })
            .collect();
        // Counting sort of the rows by group, stable in frame order.
        let mut next = vec![0usize; key_ends.len()];
        for g in &group_of_row {
            next[*g as usize] += 1;
        }
        let mut row_ends = Vec::with_capacity(next.len());
        let mut end = 0;
        for slot in next.iter_mut() {
            let count = *slot;
            *slot = end;
            end += count;
            row_ends.push(end);
        }
        let mut rows = vec![RowRef { batch: 0, row: 0 }; end];
        for (row, g) in self.rows.iter().zip(&group_of_row) {
            rows[next[*g as usize]] = *row;
            next[*g as usize] += 1;
        }
        Groups {
            keys,
            key_ends,
            rows,
            row_ends,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.key_ends.len()
    }

    pub(crate) fn key(&self, group: usize) -> &[u8] {
        let start = if group == 0 {
            0
        } else {
            self.key_ends[group - 1]
        };
        &self.keys[start..self.key_ends[group]]
    }

    pub(crate) fn rows(&self, group: usize) -> &[RowRef] {
        let start = if group == 0 {
            0
        } else {
            self.row_ends[group - 1]
        };
        &self.rows[start..self.row_ends[group]]
    }
}

/// Hashes an XXH3 digest by taking its low bits (it is already uniform).
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

/// "row 3" / "rows 3, 7, 9 and 12 more".
pub(crate) fn name_rows(rows: &[usize]) -> String {
    let shown: Vec<String> = rows
        .iter()
        .take(NAMED_ROWS)
        .map(|r| r.to_string())
        .collect();
    let more = rows.len().saturating_sub(NAMED_ROWS);
    let noun = if rows.len() == 1 { "row" } else { "rows" };
    match more {
        0 => format!("{noun} {}", shown.join(", ")),
        n => format!("{noun} {} and {n} more", shown.join(", ")),
    }
}
