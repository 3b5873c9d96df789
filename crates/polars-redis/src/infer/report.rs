//! What inference reports: per field, the chosen type, how many sampled
//! values point at it, and why it widened.

use crate::error::{Error, Result};
use crate::types::{Field, FieldType};

/// What inference concluded about one field.
#[derive(Clone, Debug, PartialEq)]
pub struct InferredField {
    /// Field name.
    pub name: String,
    /// The chosen type.
    pub field_type: FieldType,
    /// Sampled keys that have this field.
    pub present: usize,
    /// Values whose narrowest type is the chosen one.
    pub matching: usize,
    /// Every narrowest type seen, with how many values had it.
    pub candidates: Vec<(String, usize)>,
    /// `matching / present`: 1.0 when every value pointed at the chosen type.
    pub confidence: f64,
    /// Why a wider type was chosen, when it was.
    pub note: Option<String>,
}

impl InferredField {
    /// A conclusion from its counts; the confidence is `matching / present`.
    pub(crate) fn from_counts(
        name: String,
        field_type: FieldType,
        present: usize,
        matching: usize,
        candidates: Vec<(String, usize)>,
        note: Option<String>,
    ) -> Self {
        InferredField {
            name,
            field_type,
            present,
            matching,
            candidates,
            confidence: matching as f64 / present.max(1) as f64,
            note,
        }
    }
}

/// The result of schema inference.
#[derive(Clone, Debug, PartialEq)]
pub struct InferredSchema {
    /// One entry per field seen, sorted by name.
    pub fields: Vec<InferredField>,
    /// Keys actually sampled (and found when fetched).
    pub sample_count: usize,
    /// Distinct matching keys seen while walking the keyspace.
    pub keys_seen: usize,
    /// False when the time budget ended the walk before the keyspace did.
    pub complete_scan: bool,
}

impl InferredSchema {
    /// The inferred fields as a scan schema.
    pub fn schema(&self) -> Vec<Field> {
        self.fields
            .iter()
            .map(|f| Field::new(f.name.clone(), f.field_type.clone()))
            .collect()
    }

    /// Fields whose confidence is below `threshold`.
    pub fn low_confidence(&self, threshold: f64) -> Vec<&InferredField> {
        self.fields
            .iter()
            .filter(|f| f.confidence < threshold)
            .collect()
    }

    /// Replace the type of one field (a user correction); no re-sampling.
    pub fn with_override(mut self, name: &str, field_type: FieldType) -> Result<Self> {
        let field = self
            .fields
            .iter_mut()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                Error::InvalidArgument(format!("cannot override `{name}`: no such inferred field"))
            })?;
        field.field_type = field_type;
        field.note = Some("type set by the user".into());
        Ok(self)
    }
}
