//! Reading the dtype specs that the Python facade derives from Polars dtypes.
//!
//! A spec is a tuple whose first item names the type: `("Int64",)`,
//! `("Datetime", "ms", "UTC")`, `("Duration", "us")`, `("Decimal", 10, 2)`,
//! `("Enum", ["a", "b"])`, `("List", inner_spec)`,
//! `("Struct", [(name, spec), ...])`. `polars_redis._dtypes` builds them.

use polars_redis::{Field, FieldType, TimeUnit};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::errors::{to_py, InvalidInputError};

/// Spec names of the types that take no parameters.
const SIMPLE: [(&str, FieldType); 16] = [
    ("String", FieldType::Utf8),
    ("Binary", FieldType::Binary),
    ("Boolean", FieldType::Boolean),
    ("Int8", FieldType::Int8),
    ("Int16", FieldType::Int16),
    ("Int32", FieldType::Int32),
    ("Int64", FieldType::Int64),
    ("UInt8", FieldType::UInt8),
    ("UInt16", FieldType::UInt16),
    ("UInt32", FieldType::UInt32),
    ("UInt64", FieldType::UInt64),
    ("Float32", FieldType::Float32),
    ("Float64", FieldType::Float64),
    ("Date", FieldType::Date),
    ("Time", FieldType::Time),
    ("Categorical", FieldType::Categorical),
];

pub(crate) fn field_type(spec: &Bound<'_, PyTuple>) -> PyResult<FieldType> {
    let name: String = spec.get_item(0)?.extract()?;
    let arg = |i: usize| spec.get_item(i);
    let unit = |i: usize| -> PyResult<TimeUnit> {
        TimeUnit::from_name(&arg(i)?.extract::<String>()?).map_err(to_py)
    };
    if let Some((_, simple)) = SIMPLE.iter().find(|(n, _)| *n == name) {
        return Ok(simple.clone());
    }
    Ok(match name.as_str() {
        "Datetime" => {
            let tz: Option<String> = arg(2)?.extract()?;
            FieldType::datetime(unit(1)?, tz.as_deref()).map_err(to_py)?
        }
        "Duration" => FieldType::Duration { unit: unit(1)? },
        "Decimal" => FieldType::decimal(arg(1)?.extract()?, arg(2)?.extract()?).map_err(to_py)?,
        "Enum" => FieldType::Enum {
            categories: arg(1)?.extract::<Vec<String>>()?.into(),
        },
        "List" => FieldType::List(Box::new(field_type(arg(1)?.cast()?)?)),
        "Struct" => {
            let specs: Vec<(String, Bound<'_, PyTuple>)> = arg(1)?.extract()?;
            let fields = specs
                .into_iter()
                .map(|(name, spec)| Ok(Field::new(name, field_type(&spec)?)))
                .collect::<PyResult<Vec<_>>>()?;
            FieldType::structure(fields).map_err(to_py)?
        }
        other => {
            return Err(InvalidInputError::new_err(format!(
                "unsupported dtype spec `{other}`"
            )))
        }
    })
}

pub(crate) fn fields(specs: Vec<(String, Bound<'_, PyTuple>)>) -> PyResult<Vec<Field>> {
    specs
        .into_iter()
        .map(|(name, spec)| {
            field_type(&spec)
                .map(|t| Field::new(name.clone(), t))
                .map_err(|e| {
                    let py = spec.py();
                    InvalidInputError::new_err(format!("field `{name}`: {}", e.value(py)))
                })
        })
        .collect()
}

/// The spec tuple of a field type (the inverse of [`field_type`]).
pub(crate) fn spec<'py>(py: Python<'py>, field_type: &FieldType) -> PyResult<Bound<'py, PyTuple>> {
    let name = |n: &str| PyTuple::new(py, [n]);
    match field_type {
        FieldType::Datetime { unit, tz } => {
            ("Datetime", unit.name(), tz.as_deref()).into_pyobject(py)
        }
        FieldType::Duration { unit } => ("Duration", unit.name()).into_pyobject(py),
        FieldType::Decimal { precision, scale } => {
            ("Decimal", *precision, *scale).into_pyobject(py)
        }
        FieldType::Enum { categories } => {
            ("Enum", PyList::new(py, categories.iter())?).into_pyobject(py)
        }
        FieldType::List(inner) => ("List", spec(py, inner)?).into_pyobject(py),
        FieldType::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|f| Ok((f.name.as_str(), spec(py, &f.field_type)?)))
                .collect::<PyResult<Vec<_>>>()?;
            ("Struct", PyList::new(py, fields)?).into_pyobject(py)
        }
        other => match SIMPLE.iter().find(|(_, t)| t == other) {
            Some((n, _)) => name(n),
            None => Err(InvalidInputError::new_err(format!(
                "no dtype spec for {other}"
            ))),
        },
    }
}
