//! Integer and temporal columns read as `i64`: TTL columns, list order
//! columns and time-series timestamps.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

/// The raw values of any 64-bit temporal column (timestamps, durations,
/// `Time64`).
pub(crate) fn timestamp_values(array: &ArrayRef) -> Vec<Option<i64>> {
    let data = array.to_data();
    let ints = arrow_array::PrimitiveArray::<Int64Type>::from(
        data.into_builder()
            .data_type(DataType::Int64)
            .build()
            .expect("timestamps are 64-bit integers"),
    );
    ints.iter().collect()
}

/// Any integer column as i64 (UInt64 above i64::MAX is an error).
pub(crate) fn integer_values(array: &ArrayRef) -> std::result::Result<Vec<Option<i64>>, String> {
    use arrow_array::types::*;
    macro_rules! widen {
        ($t:ty) => {
            array
                .as_primitive::<$t>()
                .iter()
                .map(|v| v.map(i64::from))
                .collect()
        };
    }
    Ok(match array.data_type() {
        DataType::Int8 => widen!(Int8Type),
        DataType::Int16 => widen!(Int16Type),
        DataType::Int32 => widen!(Int32Type),
        DataType::Int64 => array.as_primitive::<Int64Type>().iter().collect(),
        DataType::UInt8 => widen!(UInt8Type),
        DataType::UInt16 => widen!(UInt16Type),
        DataType::UInt32 => widen!(UInt32Type),
        DataType::UInt64 => array
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| {
                v.map(|v| i64::try_from(v).map_err(|_| format!("{v} is too large")))
                    .transpose()
            })
            .collect::<std::result::Result<_, _>>()?,
        other => return Err(format!("{other} is not an integer type")),
    })
}
