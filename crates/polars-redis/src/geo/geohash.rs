//! The sorted-set score `GEOADD` stores, decoded into the coordinates
//! `GEOPOS` replies with, bit for bit.
//!
//! `GEOADD` stores a 52-bit geohash as the member's score: 26 longitude
//! bits on the odd positions, 26 latitude bits on the even ones, each the
//! cell index over its range (longitude -180..180, latitude
//! -85.05112878..85.05112878, the Web Mercator limits). `GEOPOS` answers
//! with the centre of the cell, clamped to the ranges, printed with 17
//! decimals (`%.17Lf`, trailing zeros dropped); [`decode`] computes the same
//! doubles in the same order and rounds them through the same 17 decimals,
//! so a read of the scores equals `GEOPOS` exactly.

/// Longitude range of a geohash.
pub const LONGITUDE_RANGE: (f64, f64) = (-180.0, 180.0);
/// Latitude range of a geohash (Web Mercator).
pub const LATITUDE_RANGE: (f64, f64) = (-85.051_128_78, 85.051_128_78);

/// Bits per coordinate of a stored geohash.
const STEP: u32 = 26;

/// The `(longitude, latitude)` `GEOPOS` gives for a member with `score`;
/// `None` when the score is not a geohash (`GEOADD` writes whole numbers,
/// below 2^52 except on the upper edges of the ranges, where a cell index
/// reaches 2^26 and `GEOPOS` clamps the position).
pub fn decode(score: f64) -> Option<(f64, f64)> {
    let valid = score >= 0.0 && score < u64::MAX as f64 && score.fract() == 0.0;
    if !valid {
        return None;
    }
    let bits = score as u64;
    let longitude = cell_centre(even_bits(bits >> 1), LONGITUDE_RANGE);
    let latitude = cell_centre(even_bits(bits), LATITUDE_RANGE);
    Some((as_replied(longitude), as_replied(latitude)))
}

/// The centre of cell `index` of `range`, clamped to the range.
fn cell_centre(index: u32, (min, max): (f64, f64)) -> f64 {
    let scale = max - min;
    let cells = (1u64 << STEP) as f64;
    let low = min + (f64::from(index) / cells) * scale;
    let high = min + ((f64::from(index) + 1.0) / cells) * scale;
    ((low + high) / 2.0).clamp(min, max)
}

/// The bits of `bits` at positions 0, 2, 4, ... packed together.
fn even_bits(bits: u64) -> u32 {
    let mut x = bits & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    x = (x | (x >> 16)) & 0x0000_0000_ffff_ffff;
    x as u32
}

/// `value` as `GEOPOS` prints it (17 decimals) and a client parses it back.
fn as_replied(value: f64) -> f64 {
    format!("{value:.17}")
        .parse()
        .expect("a formatted f64 parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Interleave `lon` bits on odd positions and `lat` bits on even ones.
    fn interleave(lon: u32, lat: u32) -> u64 {
        (0..STEP).fold(0, |acc, bit| {
            acc | (u64::from((lat >> bit) & 1) << (2 * bit))
                | (u64::from((lon >> bit) & 1) << (2 * bit + 1))
        })
    }

    #[test]
    fn separates_the_two_coordinates() {
        let bits = interleave(0x2ab_cdef, 0x123_4567);
        assert_eq!(even_bits(bits >> 1), 0x2ab_cdef);
        assert_eq!(even_bits(bits), 0x123_4567);
    }

    #[test]
    fn corners_and_centre() {
        let (lon, lat) = decode(0.0).unwrap();
        assert!(lon > -180.0 && lon < -179.9999 && lat > -85.0512 && lat < -85.05);
        let last = ((1u64 << 52) - 1) as f64;
        let (lon, lat) = decode(last).unwrap();
        assert!(lon < 180.0 && lon > 179.9999 && lat < 85.0512 && lat > 85.05);
        // GEOADD 180 85.05112878 stores index 2^26 on both axes (3 * 2^52).
        assert_eq!(
            decode(3.0 * 2f64.powi(52)),
            Some(LONGITUDE_RANGE.1).zip(Some(LATITUDE_RANGE.1))
        );
    }

    #[test]
    fn refuses_scores_that_are_not_geohashes() {
        for score in [-1.0, 0.5, 2f64.powi(64), f64::NAN, f64::INFINITY] {
            assert_eq!(decode(score), None, "{score}");
        }
    }
}
