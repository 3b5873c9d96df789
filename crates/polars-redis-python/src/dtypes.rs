//! Reading the dtype specs that the Python facade derives from Polars dtypes.
//!
//! A spec is a tuple whose first item names the type: `("Int64",)`,
//! `("Datetime", "ms", "UTC")`, `("Duration", "us")`, `("Decimal", 10, 2)`,
//! `("Enum", ["a", "b"])`, `("List", inner_spec)`, `("Array", inner_spec, width)`,
//! `("Struct", [(name, spec), ...])`. `polars_redis._dtypes` builds them.
//! The names of the types without parameters come from the core's
//! [`SIMPLE_TYPES`] table ([`simple_dtype_names`] hands them to Python).

use polars_redis::types::SIMPLE_TYPES;
use polars_redis::{Field, FieldType, TextForm, TimeUnit};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::errors::{invalid_input, invalid_input_err, BindingResult};

/// The Polars dtype names of the types without parameters, in table order.
#[pyfunction]
pub(crate) fn simple_dtype_names() -> Vec<&'static str> {
    SIMPLE_TYPES.iter().map(|(name, _)| *name).collect()
}

pub(crate) fn field_type(spec: &Bound<'_, PyTuple>) -> BindingResult<FieldType> {
    let name: String = spec.get_item(0)?.extract()?;
    if let Some(simple) = FieldType::from_name(&name) {
        return Ok(simple);
    }
    let arg = |i: usize| spec.get_item(i);
    let unit = |i: usize| -> BindingResult<TimeUnit> {
        Ok(TimeUnit::from_name(&arg(i)?.extract::<String>()?)?)
    };
    Ok(match name.as_str() {
        "Datetime" => {
            let tz: Option<String> = arg(2)?.extract()?;
            FieldType::datetime(unit(1)?, tz.as_deref())?
        }
        "Duration" => FieldType::Duration { unit: unit(1)? },
        "Decimal" => FieldType::decimal(arg(1)?.extract()?, arg(2)?.extract()?)?,
        "Enum" => FieldType::Enum {
            categories: arg(1)?.extract::<Vec<String>>()?.into(),
        },
        "List" => FieldType::List(Box::new(field_type(arg(1)?.cast().map_err(PyErr::from)?)?)),
        "Array" => FieldType::array(
            field_type(arg(1)?.cast().map_err(PyErr::from)?)?,
            arg(2)?.extract()?,
        )?,
        "Struct" => {
            let specs: Vec<(String, Bound<'_, PyTuple>)> = arg(1)?.extract()?;
            let fields = specs
                .into_iter()
                .map(|(name, spec)| Ok(Field::new(name, field_type(&spec)?)))
                .collect::<BindingResult<Vec<_>>>()?;
            FieldType::structure(fields)?
        }
        other => return Err(invalid_input(format!("unsupported dtype spec `{other}`"))),
    })
}

pub(crate) fn fields(specs: Vec<(String, Bound<'_, PyTuple>)>) -> BindingResult<Vec<Field>> {
    specs
        .into_iter()
        .map(|(name, spec)| match field_type(&spec) {
            Ok(t) => Ok(Field::new(name, t)),
            Err(e) => {
                let cause = PyErr::from(e);
                let cause = cause.value(spec.py());
                Err(invalid_input(format!("field `{name}`: {cause}")))
            }
        })
        .collect()
}

/// The stored forms of `formats=`, `(column, spec)` pairs as the facade
/// passes them: each spec an epoch unit or a strftime format, validated now.
pub(crate) fn forms(formats: &[(String, String)]) -> BindingResult<Vec<(String, TextForm)>> {
    formats
        .iter()
        .map(|(column, spec)| match TextForm::from_spec(spec) {
            Ok(form) => Ok((column.clone(), form)),
            Err(polars_redis::Error::InvalidArgument(why)) => {
                Err(invalid_input(format!("formats: column `{column}`: {why}")))
            }
            Err(e) => Err(e.into()),
        })
        .collect()
}

/// The spec tuple of a field type (the inverse of [`field_type`]).
pub(crate) fn spec<'py>(py: Python<'py>, field_type: &FieldType) -> PyResult<Bound<'py, PyTuple>> {
    if let Some(name) = field_type.name() {
        return PyTuple::new(py, [name]);
    }
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
        FieldType::Array(inner, width) => ("Array", spec(py, inner)?, *width).into_pyobject(py),
        FieldType::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|f| Ok((f.name.as_str(), spec(py, &f.field_type)?)))
                .collect::<PyResult<Vec<_>>>()?;
            ("Struct", PyList::new(py, fields)?).into_pyobject(py)
        }
        other => Err(invalid_input_err(format!("no dtype spec for {other}"))),
    }
}
