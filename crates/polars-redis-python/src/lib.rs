//! Python bindings for polars-redis, built by maturin into
//! `polars_redis._internal`. Everything here converts arguments and results;
//! the work happens in the `polars-redis` crate.

use pyo3::prelude::*;

mod batches;
mod cache;
mod client;
mod consume;
mod defaults;
mod describe;
mod dtypes;
mod errors;
mod geo;
mod hash_fields;
mod inference;
mod keyspace;
mod listing;
mod logging;
mod partitions;
mod pubsub;
mod scanners;
mod search;
mod vectors;
mod writers;

#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::register(m)?;
    errors::register(m)?;
    defaults::register(m)?;
    m.add_function(wrap_pyfunction!(dtypes::simple_dtype_names, m)?)?;
    m.add_function(wrap_pyfunction!(describe::redact_url, m)?)?;
    m.add_class::<batches::BatchIterator>()?;
    m.add_class::<scanners::Scanner>()?;
    m.add_function(wrap_pyfunction!(scanners::hash_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::string_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::set_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::list_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::zset_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::json_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::stream_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::timeseries_scanner, m)?)?;
    m.add_function(wrap_pyfunction!(scanners::key_filter_preview, m)?)?;
    m.add_function(wrap_pyfunction!(inference::infer_schema, m)?)?;
    m.add_function(wrap_pyfunction!(partitions::plan_partitions, m)?)?;
    m.add_function(wrap_pyfunction!(partitions::key_slots, m)?)?;
    m.add_class::<search::SearchAggregation>()?;
    m.add_function(wrap_pyfunction!(search::aggregation, m)?)?;
    m.add_function(wrap_pyfunction!(search::index_info, m)?)?;
    m.add_function(wrap_pyfunction!(search::index_exists, m)?)?;
    m.add_function(wrap_pyfunction!(search::drop_index, m)?)?;
    m.add_function(wrap_pyfunction!(search::create_index, m)?)?;
    m.add_function(wrap_pyfunction!(search::default_attribute_type, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_json, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_strings, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_sets, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_lists, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_zsets, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_streams, m)?)?;
    m.add_function(wrap_pyfunction!(writers::write_timeseries, m)?)?;
    keyspace::register(m)?;
    geo::register(m)?;
    hash_fields::register(m)?;
    cache::register(m)?;
    client::register(m)?;
    listing::register(m)?;
    vectors::register(m)?;
    consume::register(m)?;
    pubsub::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
