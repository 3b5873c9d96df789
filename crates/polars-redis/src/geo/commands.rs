//! Geo commands on one sorted set: add members from columns (`GEOADD`),
//! search with the radius or box and the count pushed to the server
//! (`GEOSEARCH`), and per-member positions, geohashes and distances, each
//! pipelined to the master of the key's slot.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringViewBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField};

use crate::error::{Error, Key, Result};
use crate::keyspace::manage::{batch, string_field, unexpected};
use crate::keyspace::session::Session;
use crate::net::config::ConnectionConfig;
use crate::net::resp::{write_array, Value};
use crate::net::runtime::runtime;

use super::geohash::{LATITUDE_RANGE, LONGITUDE_RANGE};

/// Members per `GEOADD` command.
const MEMBERS_PER_GEOADD: usize = 500;

/// The unit of a distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeoUnit {
    /// Meters.
    Meters,
    /// Kilometers.
    Kilometers,
    /// Miles.
    Miles,
    /// Feet.
    Feet,
}

impl GeoUnit {
    /// Parse `m`, `km`, `mi` or `ft`.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "m" => GeoUnit::Meters,
            "km" => GeoUnit::Kilometers,
            "mi" => GeoUnit::Miles,
            "ft" => GeoUnit::Feet,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unit must be 'm', 'km', 'mi' or 'ft', got {other:?}"
                )))
            }
        })
    }

    fn as_arg(self) -> &'static [u8] {
        match self {
            GeoUnit::Meters => b"m",
            GeoUnit::Kilometers => b"km",
            GeoUnit::Miles => b"mi",
            GeoUnit::Feet => b"ft",
        }
    }
}

/// Where a search is centred.
#[derive(Clone, Debug, PartialEq)]
pub enum GeoCenter {
    /// A point (`FROMLONLAT`).
    Point {
        /// Longitude, -180 to 180.
        longitude: f64,
        /// Latitude, -85.05112878 to 85.05112878.
        latitude: f64,
    },
    /// A member of the set (`FROMMEMBER`).
    Member(Vec<u8>),
}

/// The area a search covers, in its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GeoShape {
    /// A circle of this radius (`BYRADIUS`).
    Radius(f64),
    /// A box of this width and height (`BYBOX`).
    Box {
        /// East-west extent.
        width: f64,
        /// North-south extent.
        height: f64,
    },
}

/// A `GEOSEARCH`.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoSearch {
    /// Where it is centred.
    pub center: GeoCenter,
    /// What it covers.
    pub shape: GeoShape,
    /// The unit of the shape and of the distances.
    pub unit: GeoUnit,
    /// At most this many members, the nearest (`COUNT`).
    pub count: Option<usize>,
    /// `Some(true)` nearest first (`ASC`), `Some(false)` farthest first (`DESC`).
    pub ascending: Option<bool>,
    /// Add the `distance` column (`WITHDIST`).
    pub with_distance: bool,
}

/// What [`geo_add`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeoAddReport {
    /// Members added to the set.
    pub added: usize,
    /// Rows whose member was already in the set (its position rewritten).
    pub updated: usize,
}

/// Check a coordinate pair, naming `what` in the error.
fn check_point(longitude: f64, latitude: f64, what: &dyn Fn() -> String) -> Result<()> {
    let inside = |value: f64, (min, max): (f64, f64)| (min..=max).contains(&value);
    if inside(longitude, LONGITUDE_RANGE) && inside(latitude, LATITUDE_RANGE) {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "{}: longitude {longitude}, latitude {latitude} is not a valid position (longitude \
         -180 to 180, latitude -85.05112878 to 85.05112878)",
        what()
    )))
}

/// Run single-key `jobs` (each the arguments of one command) against `key`'s
/// node; their replies.
fn on_key(config: &ConnectionConfig, key: &[u8], jobs: Vec<Vec<Vec<u8>>>) -> Result<Vec<Value>> {
    runtime().block_on(async {
        let session = Session::open(config).await?;
        let routing = vec![key; jobs.len()];
        let jobs = Arc::new(jobs);
        let write = Arc::new(move |job: usize, out: &mut Vec<u8>| {
            write_array(out, jobs[job].iter().map(Vec::as_slice))
        });
        session.run(&routing, 1, write).await
    })
}

/// A reply that must not be an error.
fn ok(reply: Value, command: &str, key: &[u8]) -> Result<Value> {
    match reply {
        Value::Error(message) => Err(Error::Server {
            command: command.to_string(),
            key: Some(Key::from(key)),
            message,
        }),
        other => Ok(other),
    }
}

/// Add `members` at their positions to the sorted set `key` (`GEOADD`, in
/// commands of a few hundred members). Every position is checked first: a
/// missing or out-of-range one fails the call, naming the row, before
/// anything is written.
pub fn geo_add(
    config: &ConnectionConfig,
    key: &[u8],
    members: &[Vec<u8>],
    longitudes: &[Option<f64>],
    latitudes: &[Option<f64>],
) -> Result<GeoAddReport> {
    if longitudes.len() != members.len() || latitudes.len() != members.len() {
        return Err(Error::InvalidArgument(
            "the member, longitude and latitude columns differ in length".into(),
        ));
    }
    let mut jobs = Vec::new();
    for (start, chunk) in (0..members.len())
        .step_by(MEMBERS_PER_GEOADD)
        .zip(members.chunks(MEMBERS_PER_GEOADD))
    {
        let mut args = vec![b"GEOADD".to_vec(), key.to_vec()];
        for (offset, member) in chunk.iter().enumerate() {
            let row = start + offset;
            let what = || format!("row {row} (member {})", Key::from(member.as_slice()));
            let (Some(longitude), Some(latitude)) = (longitudes[row], latitudes[row]) else {
                return Err(Error::InvalidArgument(format!(
                    "{}: the longitude or latitude is null",
                    what()
                )));
            };
            check_point(longitude, latitude, &what)?;
            args.push(format_number(longitude));
            args.push(format_number(latitude));
            args.push(member.clone());
        }
        jobs.push(args);
    }
    let mut added = 0;
    for reply in on_key(config, key, jobs)? {
        match ok(reply, "GEOADD", key)? {
            Value::Int(n) => added += n as usize,
            other => return Err(unexpected("GEOADD", key, &other)),
        }
    }
    Ok(GeoAddReport {
        added,
        updated: members.len() - added,
    })
}

/// The members `search` finds in `key`, with their `longitude` and
/// `latitude` and, if asked, `distance` from the centre; an empty frame
/// when the set does not exist.
pub fn geo_search(
    config: &ConnectionConfig,
    key: &[u8],
    search: &GeoSearch,
) -> Result<RecordBatch> {
    let mut args = vec![b"GEOSEARCH".to_vec(), key.to_vec()];
    match &search.center {
        GeoCenter::Point {
            longitude,
            latitude,
        } => {
            check_point(*longitude, *latitude, &|| "the centre".to_string())?;
            args.extend([
                b"FROMLONLAT".to_vec(),
                format_number(*longitude),
                format_number(*latitude),
            ]);
        }
        GeoCenter::Member(member) => args.extend([b"FROMMEMBER".to_vec(), member.clone()]),
    }
    let unit = search.unit.as_arg().to_vec();
    match search.shape {
        GeoShape::Radius(radius) => {
            check_extent("radius", radius)?;
            args.extend([b"BYRADIUS".to_vec(), format_number(radius), unit]);
        }
        GeoShape::Box { width, height } => {
            check_extent("width", width)?;
            check_extent("height", height)?;
            args.extend([
                b"BYBOX".to_vec(),
                format_number(width),
                format_number(height),
                unit,
            ]);
        }
    }
    match search.ascending {
        Some(true) => args.push(b"ASC".to_vec()),
        Some(false) => args.push(b"DESC".to_vec()),
        None => {}
    }
    if let Some(count) = search.count {
        if count == 0 {
            return Err(Error::InvalidArgument("count must be at least 1".into()));
        }
        args.extend([b"COUNT".to_vec(), count.to_string().into_bytes()]);
    }
    if search.with_distance {
        args.push(b"WITHDIST".to_vec());
    }
    args.push(b"WITHCOORD".to_vec());
    let reply = on_key(config, key, vec![args])?.pop().unwrap_or(Value::Nil);
    let reply = match ok(reply, "GEOSEARCH", key) {
        Err(Error::Server { message, .. })
            if message.contains("could not decode requested zset member") =>
        {
            let GeoCenter::Member(member) = &search.center else {
                unreachable!("only FROMMEMBER names a member")
            };
            return Err(Error::InvalidArgument(format!(
                "member {} is not in the geo set {}",
                Key::from(member.as_slice()),
                Key::from(key)
            )));
        }
        other => other?,
    };
    let Value::Array(found) = reply else {
        return Err(unexpected("GEOSEARCH", key, &reply));
    };
    let mut members = StringViewBuilder::with_capacity(found.len());
    let mut longitudes = Float64Builder::with_capacity(found.len());
    let mut latitudes = Float64Builder::with_capacity(found.len());
    let mut distances = Float64Builder::with_capacity(found.len());
    for item in &found {
        let parts = item.as_array().unwrap_or_default();
        let (member, rest) = parts
            .split_first()
            .ok_or_else(|| unexpected("GEOSEARCH", key, item))?;
        members.append_value(text(member));
        let mut rest = rest.iter();
        if search.with_distance {
            distances.append_option(rest.next().and_then(number));
        }
        let (longitude, latitude) = rest.next().and_then(point).unwrap_or((None, None));
        longitudes.append_option(longitude);
        latitudes.append_option(latitude);
    }
    let mut fields = vec![
        string_field("member"),
        float_field("longitude"),
        float_field("latitude"),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(members.finish()),
        Arc::new(longitudes.finish()),
        Arc::new(latitudes.finish()),
    ];
    if search.with_distance {
        fields.push(float_field("distance"));
        arrays.push(Arc::new(distances.finish()));
    }
    batch(fields, arrays)
}

/// Each member's position (`GEOPOS`): `(longitude, latitude)`, `None` for a
/// member not in the set.
pub fn geo_pos(
    config: &ConnectionConfig,
    key: &[u8],
    members: &[Vec<u8>],
) -> Result<Vec<Option<(f64, f64)>>> {
    let jobs = members
        .iter()
        .map(|member| vec![b"GEOPOS".to_vec(), key.to_vec(), member.clone()])
        .collect();
    on_key(config, key, jobs)?
        .into_iter()
        .map(|reply| match ok(reply, "GEOPOS", key)? {
            Value::Array(mut items) if items.len() == 1 => {
                Ok(match point(&items.pop().unwrap_or(Value::Nil)) {
                    Some((Some(longitude), Some(latitude))) => Some((longitude, latitude)),
                    _ => None,
                })
            }
            other => Err(unexpected("GEOPOS", key, &other)),
        })
        .collect()
}

/// Each member's geohash string (`GEOHASH`), `None` for a member not in the set.
pub fn geo_hash(
    config: &ConnectionConfig,
    key: &[u8],
    members: &[Vec<u8>],
) -> Result<Vec<Option<String>>> {
    let jobs = members
        .iter()
        .map(|member| vec![b"GEOHASH".to_vec(), key.to_vec(), member.clone()])
        .collect();
    on_key(config, key, jobs)?
        .into_iter()
        .map(|reply| match ok(reply, "GEOHASH", key)? {
            Value::Array(items) if items.len() == 1 => Ok(match &items[0] {
                Value::Bytes(hash) => Some(String::from_utf8_lossy(hash).into_owned()),
                _ => None,
            }),
            other => Err(unexpected("GEOHASH", key, &other)),
        })
        .collect()
}

/// The distance (`GEODIST`) of each pair of members, in `unit`; `None` when
/// either member is not in the set.
pub fn geo_dist(
    config: &ConnectionConfig,
    key: &[u8],
    pairs: &[(Vec<u8>, Vec<u8>)],
    unit: GeoUnit,
) -> Result<Vec<Option<f64>>> {
    let jobs = pairs
        .iter()
        .map(|(a, b)| {
            vec![
                b"GEODIST".to_vec(),
                key.to_vec(),
                a.clone(),
                b.clone(),
                unit.as_arg().to_vec(),
            ]
        })
        .collect();
    on_key(config, key, jobs)?
        .into_iter()
        .map(|reply| match ok(reply, "GEODIST", key)? {
            Value::Nil => Ok(None),
            other => number(&other)
                .map(Some)
                .ok_or_else(|| unexpected("GEODIST", key, &other)),
        })
        .collect()
}

/// The distance of every pair of `members` (`GEODIST`, each pair asked
/// once), row by row: `matrix[i][j]`, `None` when either is not in the set.
pub fn geo_dist_matrix(
    config: &ConnectionConfig,
    key: &[u8],
    members: &[Vec<u8>],
    unit: GeoUnit,
) -> Result<Vec<Vec<Option<f64>>>> {
    let n = members.len();
    let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect();
    let named: Vec<(Vec<u8>, Vec<u8>)> = pairs
        .iter()
        .map(|&(i, j)| (members[i].clone(), members[j].clone()))
        .collect();
    let distances = geo_dist(config, key, &named, unit)?;
    let mut matrix = vec![vec![None; n]; n];
    for (&(i, j), distance) in pairs.iter().zip(distances) {
        matrix[i][j] = distance;
        matrix[j][i] = distance;
    }
    Ok(matrix)
}

/// A search extent must be a finite, non-negative number.
fn check_extent(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{name} must be a finite number of at least 0, got {value}"
        )))
    }
}

/// The shortest text that parses back to `value`.
fn format_number(value: f64) -> Vec<u8> {
    let mut buffer = ryu::Buffer::new();
    buffer.format(value).as_bytes().to_vec()
}

fn float_field(name: &str) -> ArrowField {
    ArrowField::new(name, DataType::Float64, true)
}

fn text(value: &Value) -> String {
    match value {
        Value::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => other.to_text(),
    }
}

/// A number reply (bulk text in RESP2, a double in RESP3).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Bytes(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        Value::Double(number) => Some(*number),
        _ => None,
    }
}

/// A `[longitude, latitude]` reply; `None` for a null.
fn point(value: &Value) -> Option<(Option<f64>, Option<f64>)> {
    match value.as_array()? {
        [longitude, latitude] => Some((number(longitude), number(latitude))),
        _ => None,
    }
}
