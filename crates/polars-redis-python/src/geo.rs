//! Geo sets: the core's `geo` functions with the GIL released, and
//! `GeoBatches`, the batches of a geo-set read.

use std::sync::Mutex;

use arrow_schema::SchemaRef;
use polars_redis::{
    geo_add, geo_dist, geo_dist_matrix, geo_hash, geo_pos, geo_search, GeoCenter, GeoReader,
    GeoScan, GeoSearch, GeoShape, GeoUnit, ZsetScanBuilder,
};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3_arrow::PyTable;

use crate::client::Target;
use crate::dtypes;
use crate::errors::{invalid_input, BindingResult};
use crate::scanners::{connection, ScanArgs};

/// Add members at their positions; `(added, updated)`.
#[pyfunction]
pub(crate) fn geo_add_members(
    py: Python<'_>,
    url: Target,
    key: Vec<u8>,
    members: Vec<Vec<u8>>,
    longitudes: Vec<Option<f64>>,
    latitudes: Vec<Option<f64>>,
) -> BindingResult<(usize, usize)> {
    let config = connection(&url, None, None)?;
    let report = py.detach(|| geo_add(&config, &key, &members, &longitudes, &latitudes))?;
    Ok((report.added, report.updated))
}

/// `GEOSEARCH` from a point or a member, by radius or box.
#[pyfunction]
#[pyo3(signature = (url, key, point, member, radius, box_size, unit, count, sort, with_distance))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn geo_search_table(
    py: Python<'_>,
    url: Target,
    key: Vec<u8>,
    point: Option<(f64, f64)>,
    member: Option<Vec<u8>>,
    radius: Option<f64>,
    box_size: Option<(f64, f64)>,
    unit: &str,
    count: Option<i128>,
    sort: Option<String>,
    with_distance: bool,
) -> BindingResult<PyTable> {
    let center = match (point, member) {
        (Some((longitude, latitude)), None) => GeoCenter::Point {
            longitude,
            latitude,
        },
        (None, Some(member)) => GeoCenter::Member(member),
        _ => return Err(invalid_input("a search is centred on a point or a member")),
    };
    let shape = match (radius, box_size) {
        (Some(radius), None) => GeoShape::Radius(radius),
        (None, Some((width, height))) => GeoShape::Box { width, height },
        _ => return Err(invalid_input("a search covers a radius or a box")),
    };
    let ascending = match sort.as_deref() {
        None => None,
        Some("asc") => Some(true),
        Some("desc") => Some(false),
        Some(other) => {
            return Err(invalid_input(format!(
                "sort must be 'asc', 'desc' or None, got {other:?}"
            )))
        }
    };
    let count = match count {
        Some(n) => Some(
            usize::try_from(n)
                .map_err(|_| invalid_input(format!("count must be at least 1, got {n}")))?,
        ),
        None => None,
    };
    let search = GeoSearch {
        center,
        shape,
        unit: GeoUnit::from_name(unit)?,
        count,
        ascending,
        with_distance,
    };
    let config = connection(&url, None, None)?;
    let batch = py.detach(|| geo_search(&config, &key, &search))?;
    Ok(PyTable::try_new(vec![batch.clone()], batch.schema())?)
}

/// Each member's `(longitude, latitude)`, `None` when not in the set.
#[pyfunction]
pub(crate) fn geo_positions(
    py: Python<'_>,
    url: Target,
    key: Vec<u8>,
    members: Vec<Vec<u8>>,
) -> BindingResult<Vec<Option<(f64, f64)>>> {
    let config = connection(&url, None, None)?;
    Ok(py.detach(|| geo_pos(&config, &key, &members))?)
}

/// Each member's geohash, `None` when not in the set.
#[pyfunction]
pub(crate) fn geo_hashes(
    py: Python<'_>,
    url: Target,
    key: Vec<u8>,
    members: Vec<Vec<u8>>,
) -> BindingResult<Vec<Option<String>>> {
    let config = connection(&url, None, None)?;
    Ok(py.detach(|| geo_hash(&config, &key, &members))?)
}

/// The distance of each pair, `None` when either member is not in the set.
#[pyfunction]
pub(crate) fn geo_distances(
    py: Python<'_>,
    url: Target,
    key: Vec<u8>,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    unit: &str,
) -> BindingResult<Vec<Option<f64>>> {
    let (config, unit) = (connection(&url, None, None)?, GeoUnit::from_name(unit)?);
    Ok(py.detach(|| geo_dist(&config, &key, &pairs, unit))?)
}

/// The distances between every pair of members, row by row.
#[pyfunction]
pub(crate) fn geo_distance_matrix(
    py: Python<'_>,
    url: Target,
    key: Vec<u8>,
    members: Vec<Vec<u8>>,
    unit: &str,
) -> BindingResult<Vec<Vec<Option<f64>>>> {
    let (config, unit) = (connection(&url, None, None)?, GeoUnit::from_name(unit)?);
    Ok(py.detach(|| geo_dist_matrix(&config, &key, &members, unit))?)
}

/// A read of geo sets, from the shared scan arguments, the member column's
/// name and its dtype spec.
#[pyfunction]
pub(crate) fn geo_scanner(
    args: ScanArgs,
    member_column: String,
    member_type: Bound<'_, PyTuple>,
) -> BindingResult<GeoScanner> {
    let builder = ZsetScanBuilder::new(args.connection()?)
        .with_options(args.options()?)
        .with_member(member_column, dtypes::field_type(&member_type)?);
    Ok(GeoScanner {
        scan: GeoScan::new(builder)?,
    })
}

/// A validated geo-set read; each `batches()` starts a fresh one.
#[pyclass(module = "polars_redis._internal")]
pub(crate) struct GeoScanner {
    scan: GeoScan,
}

#[pymethods]
impl GeoScanner {
    /// An empty table of the read's schema.
    fn empty(&self) -> BindingResult<PyTable> {
        Ok(PyTable::try_new(Vec::new(), self.scan.schema()?)?)
    }

    /// Start reading. The projection, limit and predicate are the facade's
    /// to apply (accepted for the scan plumbing, not pushed down).
    #[pyo3(signature = (projection=None, limit=None, predicate=None))]
    fn batches(
        &self,
        projection: Option<Vec<String>>,
        limit: Option<usize>,
        predicate: Option<&str>,
    ) -> BindingResult<GeoBatches> {
        let _ = (projection, limit, predicate);
        let reader = self.scan.read()?;
        Ok(GeoBatches {
            schema: reader.schema(),
            inner: Mutex::new(Some(reader)),
        })
    }
}

/// Yields one Arrow table per batch of a geo-set read (GIL released while
/// waiting for Redis).
#[pyclass(module = "polars_redis._internal")]
pub(crate) struct GeoBatches {
    inner: Mutex<Option<GeoReader>>,
    schema: SchemaRef,
}

#[pymethods]
impl GeoBatches {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> BindingResult<PyTable> {
        let mut guard = self.inner.lock().expect("geo reader lock poisoned");
        let next = match guard.as_mut() {
            Some(reader) => py.detach(|| reader.next()),
            None => None,
        };
        match next {
            Some(Ok(batch)) => Ok(PyTable::try_new(vec![batch], self.schema.clone())?),
            Some(Err(err)) => {
                *guard = None;
                Err(err.into())
            }
            None => {
                *guard = None;
                Err(PyStopIteration::new_err(()).into())
            }
        }
    }

    /// Read every remaining batch into one table.
    fn read_all(&self, py: Python<'_>) -> BindingResult<PyTable> {
        let mut guard = self.inner.lock().expect("geo reader lock poisoned");
        let batches = match guard.take() {
            Some(reader) => py.detach(|| reader.collect::<Result<Vec<_>, _>>())?,
            None => Vec::new(),
        };
        Ok(PyTable::try_new(batches, self.schema.clone())?)
    }

    /// Stop the read and release its connections.
    fn close(&self) {
        *self.inner.lock().expect("geo reader lock poisoned") = None;
    }
}

/// Add the geo functions and `GeoBatches` to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GeoBatches>()?;
    m.add_function(wrap_pyfunction!(geo_add_members, m)?)?;
    m.add_function(wrap_pyfunction!(geo_search_table, m)?)?;
    m.add_function(wrap_pyfunction!(geo_positions, m)?)?;
    m.add_function(wrap_pyfunction!(geo_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(geo_distances, m)?)?;
    m.add_function(wrap_pyfunction!(geo_distance_matrix, m)?)?;
    m.add_class::<GeoScanner>()?;
    m.add_function(wrap_pyfunction!(geo_scanner, m)?)?;
    Ok(())
}
