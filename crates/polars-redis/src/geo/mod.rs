//! Geo sets (sorted sets written by `GEOADD`): commands on one set
//! ([`commands`]: add, search, positions, geohashes, distances), reading
//! sets as frames ([`read`]) and the geohash decoding that makes a read
//! equal `GEOPOS` ([`geohash`]).

pub(crate) mod commands;
pub(crate) mod geohash;
pub(crate) mod read;

pub use commands::{
    geo_add, geo_dist, geo_dist_matrix, geo_hash, geo_pos, geo_search, GeoAddReport, GeoCenter,
    GeoSearch, GeoShape, GeoUnit,
};
pub use geohash::{decode as decode_geohash, LATITUDE_RANGE, LONGITUDE_RANGE};
pub use read::{GeoReader, GeoScan};
