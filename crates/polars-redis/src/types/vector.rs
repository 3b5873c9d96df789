//! Float vectors stored as binary blobs: the one place that declares which
//! columns of a hash are vectors and how their bytes look.
//!
//! A hash field of type `Array(Float32 | Float64, dim)` or `List(Float32 |
//! Float64)` holds the elements' little-endian IEEE-754 bytes back to back,
//! the form RediSearch `VECTOR` fields index (`TYPE FLOAT32` / `FLOAT64`)
//! and `numpy.asarray(v, dtype="<f4").tobytes()` produces. Other nested
//! types in hashes stay JSON text; JSON documents keep JSON arrays. A blob is
//! read by `ColumnBuilder::append_blob` (`columns.rs`).

use arrow_schema::DataType;

use crate::types::table::FieldType;

/// The element type of a float vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VectorType {
    /// 4-byte floats (`FLOAT32`).
    Float32,
    /// 8-byte floats (`FLOAT64`).
    Float64,
}

impl VectorType {
    /// The vector element type of a column stored as a blob in hashes:
    /// `Array` or `List` of `Float32` / `Float64`; `None` for any other type.
    pub fn of(field_type: &FieldType) -> Option<VectorType> {
        match field_type {
            FieldType::Array(inner, _) | FieldType::List(inner) => Self::element(inner),
            _ => None,
        }
    }

    /// The same rule for an Arrow column (`FixedSizeList`, `List` or
    /// `LargeList` of `Float32` / `Float64`), as writes see their frames.
    pub(crate) fn of_arrow(data_type: &DataType) -> Option<VectorType> {
        match data_type {
            DataType::FixedSizeList(item, _) | DataType::List(item) | DataType::LargeList(item) => {
                match item.data_type() {
                    DataType::Float32 => Some(VectorType::Float32),
                    DataType::Float64 => Some(VectorType::Float64),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn element(inner: &FieldType) -> Option<VectorType> {
        match inner {
            FieldType::Float32 => Some(VectorType::Float32),
            FieldType::Float64 => Some(VectorType::Float64),
            _ => None,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            VectorType::Float32 => 4,
            VectorType::Float64 => 8,
        }
    }

    /// The RediSearch `TYPE` name: `FLOAT32` or `FLOAT64`.
    pub fn name(self) -> &'static str {
        match self {
            VectorType::Float32 => "FLOAT32",
            VectorType::Float64 => "FLOAT64",
        }
    }

    /// Append the blob of `values` (read as this element type) to `out`.
    pub fn push_blob(self, values: impl IntoIterator<Item = f64>, out: &mut Vec<u8>) {
        for value in values {
            match self {
                VectorType::Float32 => out.extend_from_slice(&(value as f32).to_le_bytes()),
                VectorType::Float64 => out.extend_from_slice(&value.to_le_bytes()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_little_endian_and_read_back() {
        let mut blob = Vec::new();
        VectorType::Float32.push_blob([1.0, -2.5], &mut blob);
        assert_eq!(blob, [0, 0, 128, 63, 0, 0, 32, 192]);
        let field_type = FieldType::array(FieldType::Float32, 2).unwrap();
        let mut builder = crate::types::columns::ColumnBuilder::new(&field_type, 1);
        builder.append_blob(VectorType::Float32, &blob).unwrap();
        let message = builder
            .append_blob(VectorType::Float32, &blob[..4])
            .unwrap_err();
        assert!(message.contains("is 8 bytes, this one is 4"), "{message}");
        assert_eq!(builder.rows(), 1);
    }

    #[test]
    fn only_float_arrays_and_lists_are_vectors() {
        let list = |inner| FieldType::List(Box::new(inner));
        assert_eq!(
            VectorType::of(&list(FieldType::Float64)),
            Some(VectorType::Float64)
        );
        assert_eq!(VectorType::of(&list(FieldType::Int64)), None);
        assert_eq!(VectorType::of(&FieldType::Float32), None);
    }
}
