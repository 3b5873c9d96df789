//! RediSearch for Python: the search options of a scan, aggregations, and
//! index management. Arguments are converted here; the core builds queries
//! and reads replies.

use polars_redis::search::{
    create_index as core_create_index, drop_index as core_drop_index,
    index_exists as core_index_exists, index_info as core_index_info, AggregateBuilder,
    AttributeKind, AttributeSpec, IndexInfo, IndexOn, QueryText, Reducer, SearchOptions,
    SearchQuery,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use pyo3_arrow::{PySchema, PyTable};

use crate::batches::BatchIterator;
use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{count, seconds_to_duration};
use crate::vectors::VectorArgs;

/// The query of a search or aggregation: raw text with parameters, or the
/// query builder's JSON.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct QueryArgs {
    query: Option<String>,
    builder: Option<String>,
    params: Vec<(String, String)>,
}

impl QueryArgs {
    pub(crate) fn query(&self) -> BindingResult<SearchQuery> {
        match (&self.query, &self.builder) {
            (_, Some(json)) => {
                let tree = serde_json::from_str(json)
                    .map_err(|e| invalid_input(format!("invalid query builder JSON: {e}")))?;
                if !self.params.is_empty() {
                    return Err(invalid_input(
                        "params apply to query strings; the query builder passes its own values",
                    ));
                }
                Ok(SearchQuery::Builder(tree))
            }
            (Some(text), None) => Ok(SearchQuery::Raw(QueryText::raw(
                text.clone(),
                self.params.clone(),
            ))),
            (None, None) => Ok(SearchQuery::Raw(QueryText::raw("*", vec![]))),
        }
    }
}

/// How a scan uses RediSearch, as the facade passes it.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct SearchArgs {
    /// `"auto"`, an index name, or `None` (off).
    index: Option<String>,
    /// Set for explicit searches.
    query: Option<QueryArgs>,
    timeout: f64,
    sort_by: Vec<(String, bool)>,
}

impl SearchArgs {
    pub(crate) fn options(&self) -> BindingResult<SearchOptions> {
        let timeout = seconds_to_duration("search_timeout", self.timeout)?;
        let options = match (&self.index, &self.query) {
            (None, None) => SearchOptions::default(),
            (None, Some(_)) => return Err(invalid_input("a search needs an index name")),
            (Some(index), Some(query)) => SearchOptions::search(index.clone(), query.query()?),
            (Some(index), None) if index == "auto" => SearchOptions::auto(),
            (Some(index), None) => SearchOptions::index(index.clone()),
        };
        Ok(options
            .with_timeout(timeout)
            .with_sort_by(self.sort_by.clone()))
    }
}

pub(crate) fn info_dict<'py>(
    py: Python<'py>,
    info: &IndexInfo,
) -> BindingResult<Bound<'py, PyDict>> {
    let attributes = PyList::empty(py);
    for a in &info.attributes {
        let entry = PyDict::new(py);
        entry.set_item("identifier", &a.identifier)?;
        entry.set_item("name", &a.name)?;
        entry.set_item("type", a.kind.name())?;
        entry.set_item("case_sensitive", a.case_sensitive)?;
        entry.set_item("separator", a.separator.map(String::from))?;
        entry.set_item("sortable", a.sortable)?;
        entry.set_item("flags", a.flags.clone())?;
        if let Some((element, dim)) = a.vector {
            entry.set_item("vector_type", element.name())?;
            entry.set_item("dim", dim)?;
        }
        attributes.append(entry)?;
    }
    let result = PyDict::new(py);
    result.set_item("name", &info.name)?;
    result.set_item("on", info.on.name().to_ascii_lowercase())?;
    let prefixes: Vec<String> = info
        .prefixes
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    result.set_item("prefixes", prefixes)?;
    result.set_item("filter", info.filter.clone())?;
    result.set_item("attributes", attributes)?;
    result.set_item("num_docs", info.num_docs)?;
    result.set_item("indexing", info.indexing)?;
    result.set_item("percent_indexed", info.percent_indexed)?;
    result.set_item("indexing_failures", info.indexing_failures)?;
    Ok(result)
}

/// What `FT.INFO` says about an index.
#[pyfunction]
pub(crate) fn index_info<'py>(
    py: Python<'py>,
    url: Target,
    name: &str,
) -> BindingResult<Bound<'py, PyDict>> {
    let config = url.config()?;
    let info = py.detach(|| core_index_info(&config, name))?;
    info_dict(py, &info)
}

/// Whether an index exists.
#[pyfunction]
pub(crate) fn index_exists(py: Python<'_>, url: Target, name: &str) -> BindingResult<bool> {
    let config = url.config()?;
    Ok(py.detach(|| core_index_exists(&config, name))?)
}

/// Drop an index (and with `delete_documents` its keys).
#[pyfunction]
#[pyo3(signature = (url, name, delete_documents=false))]
pub(crate) fn drop_index(
    py: Python<'_>,
    url: Target,
    name: &str,
    delete_documents: bool,
) -> BindingResult<()> {
    let config = url.config()?;
    Ok(py.detach(|| core_drop_index(&config, name, delete_documents))?)
}

/// Create an index. `attributes` are `(identifier, alias, type, sortable,
/// case_sensitive)`; `wait` is how many seconds to wait for the initial scan.
#[pyfunction]
#[pyo3(signature = (url, name, on, prefixes, attributes, wait=None))]
#[allow(clippy::type_complexity)]
pub(crate) fn create_index<'py>(
    py: Python<'py>,
    url: Target,
    name: &str,
    on: &str,
    prefixes: Vec<Vec<u8>>,
    attributes: Vec<(
        String,
        Option<String>,
        String,
        bool,
        bool,
        Option<VectorArgs>,
    )>,
    wait: Option<f64>,
) -> BindingResult<Bound<'py, PyDict>> {
    let config = url.config()?;
    let on = IndexOn::from_name(on)?;
    let wait = wait.map(|s| seconds_to_duration("wait", s)).transpose()?;
    let specs = attributes
        .into_iter()
        .map(|(identifier, alias, kind, sortable, case_sensitive, vector)| {
            let kind = match (kind.to_ascii_uppercase().as_str(), vector) {
                ("TEXT", _) => AttributeKind::Text,
                ("TAG", _) => AttributeKind::Tag,
                ("NUMERIC", _) => AttributeKind::Numeric,
                ("GEO", _) => AttributeKind::Geo,
                ("VECTOR", Some(vector)) => AttributeKind::Vector(vector.spec(py, &identifier)?),
                (other, _) => {
                    return Err(invalid_input(format!(
                    "attribute `{identifier}`: unknown type {other:?} (TEXT, TAG, NUMERIC, GEO or VECTOR)"
                )))
                }
            };
            Ok(AttributeSpec {
                identifier,
                alias,
                kind,
                sortable,
                case_sensitive,
            })
        })
        .collect::<BindingResult<Vec<_>>>()?;
    let info = py.detach(|| core_create_index(&config, name, on, &prefixes, &specs, wait))?;
    info_dict(py, &info)
}

/// The attribute type a column of this dtype spec gets by default, if any.
#[pyfunction]
pub(crate) fn default_attribute_type(spec: Bound<'_, PyTuple>) -> BindingResult<Option<String>> {
    let field_type = dtypes::field_type(&spec)?;
    Ok(AttributeSpec::default_kind(&field_type).map(|k| k.name().to_string()))
}

/// An aggregation ready to run; `batches()` runs it.
#[pyclass(module = "polars_redis._internal", frozen)]
pub(crate) struct SearchAggregation {
    builder: AggregateBuilder,
}

#[pymethods]
impl SearchAggregation {
    /// The Arrow schema of the result.
    fn schema(&self, py: Python<'_>) -> BindingResult<PySchema> {
        let schema = py.detach(|| self.builder.output_schema())?;
        Ok(PySchema::new(schema))
    }

    /// An empty table with the result schema.
    fn empty(&self, py: Python<'_>) -> BindingResult<PyTable> {
        let schema = py.detach(|| self.builder.output_schema())?;
        Ok(PyTable::try_new(vec![], schema)?)
    }

    /// Run the aggregation (all columns; `limit` caps the rows).
    #[pyo3(signature = (projection=None, limit=None, predicate=None))]
    fn batches(
        &self,
        py: Python<'_>,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> BindingResult<BatchIterator> {
        // The facade applies projection and predicate to the (small) result.
        let _ = (projection, predicate);
        let iter = py.detach(|| self.builder.build(limit))?;
        Ok(BatchIterator::new(iter))
    }
}

/// An aggregation over `index`. `reduce` items are `(function, args, name)`,
/// `apply` items `(expression, name)`, `dtypes` `(column, dtype spec)`,
/// `formats` `(column, form spec)`.
#[pyfunction]
#[pyo3(signature = (url, index, query, group_by, reduce, apply, sort_by, limit, dtypes, formats, timeout, on=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn aggregation(
    url: Target,
    index: &str,
    query: QueryArgs,
    group_by: Vec<String>,
    reduce: Vec<(String, Vec<String>, String)>,
    apply: Vec<(String, String)>,
    sort_by: Vec<(String, bool)>,
    limit: Option<i128>,
    dtypes: Vec<(String, Bound<'_, PyTuple>)>,
    formats: Vec<(String, String)>,
    timeout: f64,
    on: Option<&str>,
) -> BindingResult<SearchAggregation> {
    let on = on.map(IndexOn::from_name).transpose()?;
    // No result has more rows than `usize` counts: a larger limit is no limit.
    let limit = limit
        .map(|n| count("limit", n).map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
        .transpose()?;
    let reducers = reduce
        .into_iter()
        .map(|(function, args, name)| Reducer {
            function,
            args,
            name,
        })
        .collect();
    let dtypes = dtypes::fields(dtypes)?
        .into_iter()
        .map(|f| (f.name, f.field_type))
        .collect();
    let builder = AggregateBuilder::new(url.config()?, index, query.query()?)
        .with_group_by(group_by)
        .with_reducers(reducers)
        .with_apply(apply)
        .with_sort_by(sort_by)
        .with_limit(limit)
        .with_dtypes(dtypes)
        .with_formats(dtypes::forms(&formats)?)
        .with_on(on)
        .with_timeout(seconds_to_duration("timeout", timeout)?);
    Ok(SearchAggregation { builder })
}
