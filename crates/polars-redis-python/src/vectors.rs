//! Vectors for Python: `VECTOR` attributes of a new index, and KNN searches
//! (one vector or a column of them).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use polars_redis::search::{DistanceMetric, KnnSearch, Neighbour, VectorAlgorithm, VectorSpec};
use polars_redis::{FieldType, VectorType};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::{PyRecordBatchReader, PyTable};

use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{count, seconds_to_duration};
use crate::search::QueryArgs;

/// A `VECTOR` attribute as the facade passes it: the column's dtype spec
/// and the declared options (each None for its default).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct VectorArgs {
    dtype: Py<PyTuple>,
    algorithm: Option<String>,
    #[pyo3(item("type"))]
    element: Option<String>,
    dim: Option<i128>,
    metric: Option<String>,
    m: Option<i128>,
    ef_construction: Option<i128>,
    ef_runtime: Option<i128>,
}

fn param(name: &str, value: Option<i128>) -> BindingResult<Option<u32>> {
    value
        .map(|v| {
            u32::try_from(v)
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| invalid_input(format!("{name} must be 1 to {}, got {v}", u32::MAX)))
        })
        .transpose()
}

impl VectorArgs {
    /// The attribute of column `column`: type and dimension from its dtype
    /// unless declared, FLAT and COSINE unless declared.
    pub(crate) fn spec(&self, py: Python<'_>, column: &str) -> BindingResult<VectorSpec> {
        let field_type = dtypes::field_type(self.dtype.bind(py))?;
        let element = match self
            .element
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            Some("FLOAT32") => VectorType::Float32,
            Some("FLOAT64") => VectorType::Float64,
            Some(other) => {
                return Err(invalid_input(format!(
                    "column `{column}`: unknown vector type {other:?} (FLOAT32 or FLOAT64)"
                )))
            }
            None => VectorType::of(&field_type).ok_or_else(|| {
                invalid_input(format!(
                    "column `{column}`: {field_type} is not a float vector dtype; declare its \
                     \"type\" (FLOAT32 or FLOAT64) and \"dim\""
                ))
            })?,
        };
        let dim = match (self.dim, &field_type) {
            (Some(dim), _) => usize::try_from(dim)
                .ok()
                .filter(|d| *d >= 1)
                .ok_or_else(|| {
                    invalid_input(format!(
                        "column `{column}`: dim must be at least 1, got {dim}"
                    ))
                })?,
            (None, FieldType::Array(_, width)) => *width,
            (None, _) => {
                return Err(invalid_input(format!(
                    "column `{column}`: {field_type} has no fixed dimension; declare \"dim\" \
                     (or use pl.Array)"
                )))
            }
        };
        let hnsw = VectorAlgorithm::Hnsw {
            m: param("m", self.m)?,
            ef_construction: param("ef_construction", self.ef_construction)?,
            ef_runtime: param("ef_runtime", self.ef_runtime)?,
        };
        let algorithm = match self
            .algorithm
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("FLAT")
                if hnsw
                    != VectorAlgorithm::Hnsw {
                        m: None,
                        ef_construction: None,
                        ef_runtime: None,
                    } =>
            {
                return Err(invalid_input(format!(
                    "column `{column}`: m, ef_construction and ef_runtime are HNSW parameters; \
                     pass algorithm=\"HNSW\""
                )))
            }
            None | Some("FLAT") => VectorAlgorithm::Flat,
            Some("HNSW") => hnsw,
            Some(other) => {
                return Err(invalid_input(format!(
                    "column `{column}`: unknown vector algorithm {other:?} (FLAT or HNSW)"
                )))
            }
        };
        let metric = match &self.metric {
            Some(name) => DistanceMetric::from_name(name)?,
            None => DistanceMetric::Cosine,
        };
        Ok(VectorSpec {
            algorithm,
            element,
            dim,
            metric,
        })
    }
}

/// The `k` nearest neighbours of every vector of the one column of `vectors`
/// in attribute `field` of `index`: a table `(_query, _key, _distance)`,
/// nearest first within each query.
#[pyfunction]
#[pyo3(signature = (url, index, field, k, vectors, filter, ef_runtime, timeout))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn knn_search(
    py: Python<'_>,
    url: Target,
    index: &str,
    field: &str,
    k: i128,
    vectors: PyRecordBatchReader,
    filter: Option<QueryArgs>,
    ef_runtime: Option<i128>,
    timeout: f64,
) -> BindingResult<PyTable> {
    let config = url.config()?;
    let k = usize::try_from(count("k", k)?).map_err(|_| invalid_input("k is too large"))?;
    let column = one_column(vectors)?;
    let search = KnnSearch::new(index, field, k)
        .with_filter(filter.map(|f| f.query()).transpose()?)
        .with_ef_runtime(param("ef_runtime", ef_runtime)?)
        .with_timeout(seconds_to_duration("search_timeout", timeout)?);
    let neighbours = py.detach(|| search.run(&config, &column))?;
    neighbour_table(&neighbours)
}

/// The single column of a frame (the query vectors).
fn one_column(vectors: PyRecordBatchReader) -> BindingResult<ArrayRef> {
    let reader = vectors.into_reader()?;
    let mut columns = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| invalid_input(format!("cannot read the vectors: {e}")))?;
        if batch.num_columns() != 1 {
            return Err(invalid_input("the query vectors must be one column"));
        }
        columns.push(batch.column(0).clone());
    }
    match columns.len() {
        0 => Err(invalid_input("no query vectors")),
        1 => Ok(columns.remove(0)),
        _ => Err(invalid_input(
            "internal: the query vectors must arrive as one chunk (rechunk them)",
        )),
    }
}

fn neighbour_table(neighbours: &[Neighbour]) -> BindingResult<PyTable> {
    let queries = UInt32Array::from_iter_values(neighbours.iter().map(|n| n.query as u32));
    let keys = neighbours
        .iter()
        .map(|n| {
            String::from_utf8(n.key.clone()).map_err(|_| {
                invalid_input(format!(
                    "a neighbour's key is not UTF-8: {}",
                    polars_redis::error::Key(n.key.clone())
                ))
            })
        })
        .collect::<BindingResult<Vec<String>>>()?;
    let distances = Float64Array::from_iter_values(neighbours.iter().map(|n| n.distance));
    let schema = Arc::new(Schema::new(vec![
        Field::new("_query", DataType::UInt32, false),
        Field::new("_key", DataType::Utf8, false),
        Field::new("_distance", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(queries),
            Arc::new(StringArray::from(keys)),
            Arc::new(distances),
        ],
    )
    .map_err(|e| invalid_input(format!("internal: {e}")))?;
    Ok(PyTable::try_new(vec![batch], schema)?)
}

/// Add this module's functions to `_internal`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(knn_search, m)?)?;
    Ok(())
}
