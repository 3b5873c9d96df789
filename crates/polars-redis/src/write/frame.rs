//! The input of a write: Arrow batches, the key of every row, and rows
//! grouped by key. Everything here runs before anything is sent, so bad
//! input (a missing column, a null or duplicate key) is reported naming the
//! column and rows while Redis is still untouched.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};

use super::format::{self, Cells};
use crate::error::{quote_bytes, Error, Result};

/// The rows to write, as the caller's batches (never copied).
pub(crate) struct Frame {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
    /// Global index of the first row of each batch.
    starts: Vec<usize>,
    rows: usize,
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
        Ok(Frame {
            schema,
            batches,
            starts,
            rows,
        })
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

    /// Formatters for every column of every batch, `[batch][column]`.
    pub(crate) fn cells(&self) -> Result<FrameCells<'_>> {
        let mut all = Vec::with_capacity(self.batches.len());
        for batch in &self.batches {
            let mut columns = Vec::with_capacity(batch.num_columns());
            for (i, array) in batch.columns().iter().enumerate() {
                columns.push(format::cells(array).map_err(|reason| {
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
        let mut key_ends = Vec::new();
        let mut group_of_row: Vec<u32> = Vec::with_capacity(frame.rows());
        let mut index: HashMap<u128, u32> = HashMap::with_capacity(frame.rows());
        let mut null_rows = Vec::new();
        let mut duplicates = Vec::new();
        let mut scratch = Vec::new();
        for (b, batch) in frame.batches.iter().enumerate() {
            for row in 0..batch.num_rows() {
                let at = RowRef {
                    batch: b as u32,
                    row: row as u32,
                };
                scratch.clear();
                scratch.extend_from_slice(prefix);
                match source {
                    KeySource::RowIndex => format::push_int(&mut scratch, frame.global(at)),
                    KeySource::Column(column) => {
                        let column_cells = cells.get(at, *column);
                        if column_cells.is_null(row) {
                            null_rows.push(frame.global(at));
                            group_of_row.push(u32::MAX);
                            continue;
                        }
                        column_cells.text(row, &mut scratch).map_err(|reason| {
                            Error::InvalidArgument(format!(
                                "row {}, key column `{key_name}`: {reason}",
                                frame.global(at)
                            ))
                        })?;
                    }
                }
                let digest = xxhash_rust::xxh3::xxh3_128(&scratch);
                let next = key_ends.len() as u32;
                let group = *index.entry(digest).or_insert(next);
                if group == next {
                    keys.extend_from_slice(&scratch);
                    key_ends.push(keys.len());
                } else if !grouped {
                    duplicates.push((group, frame.global(at)));
                }
                group_of_row.push(group);
            }
        }
        if !null_rows.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "key column `{key_name}` is null in {}; every row needs a key (nothing was written)",
                name_rows(&null_rows)
            )));
        }
        let mut groups = Groups {
            keys,
            key_ends,
            rows: Vec::new(),
            row_ends: Vec::new(),
        };
        if !duplicates.is_empty() {
            let (group, row) = duplicates[0];
            let first = group_of_row.iter().position(|g| *g == group).unwrap_or(0);
            return Err(Error::InvalidArgument(format!(
                "duplicate keys: {} is in rows {first} and {row}{}; each key may appear once \
                 per frame (nothing was written)",
                quote_bytes(groups.key(group as usize), 200),
                match duplicates.len() {
                    1 => String::new(),
                    n => format!(" ({} more duplicate rows)", n - 1),
                }
            )));
        }
        // Counting sort of the rows by group, stable in frame order.
        let mut counts = vec![0usize; groups.key_ends.len()];
        for g in &group_of_row {
            counts[*g as usize] += 1;
        }
        let mut next = Vec::with_capacity(counts.len());
        let mut end = 0;
        for count in &counts {
            next.push(end);
            end += count;
            groups.row_ends.push(end);
        }
        groups.rows = vec![RowRef { batch: 0, row: 0 }; end];
        let mut i = 0;
        for (b, batch) in frame.batches.iter().enumerate() {
            for row in 0..batch.num_rows() {
                let g = group_of_row[i] as usize;
                groups.rows[next[g]] = RowRef {
                    batch: b as u32,
                    row: row as u32,
                };
                next[g] += 1;
                i += 1;
            }
        }
        Ok(groups)
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
