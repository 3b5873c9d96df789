//! Reading geo sets: the sorted-set scan (`ZRANGE ... WITHSCORES`, paged,
//! cluster-aware) with each score decoded into the position `GEOPOS` gives.

use std::sync::Arc;

use arrow_array::builder::Float64Builder;
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef};

use crate::error::{quote_bytes, Error, Key, Result};
use crate::read::output::RecordBatchIter;
use crate::read::zset::ZsetScanBuilder;

use super::geohash::decode;

/// The scan's score column, replaced by `longitude` and `latitude`.
const SCORE: &str = "score";

/// A read of geo sets: a sorted-set scan whose scores are decoded into
/// `longitude` and `latitude`. Each [`GeoScan::read`] starts a fresh scan.
#[derive(Clone, Debug)]
pub struct GeoScan {
    builder: ZsetScanBuilder,
}

impl GeoScan {
    /// Read the sorted sets `builder` scans as geo sets. The builder's own
    /// options apply (keys or pattern, key column, batch size, ...); its
    /// score column must keep the default name.
    pub fn new(builder: ZsetScanBuilder) -> Result<Self> {
        if builder.score_column() != SCORE {
            return Err(Error::InvalidArgument(format!(
                "a geo read needs the score column named {SCORE:?}"
            )));
        }
        Ok(GeoScan { builder })
    }

    /// The schema of every batch: the scan's, with `score` replaced by
    /// `longitude` and `latitude`.
    pub fn schema(&self) -> Result<SchemaRef> {
        Ok(geo_schema(&*self.builder.output_schema()?))
    }

    /// Start reading.
    pub fn read(&self) -> Result<GeoReader> {
        let scan = self.builder.clone().build()?;
        let schema = geo_schema(&scan.schema());
        Ok(GeoReader { scan, schema })
    }
}

/// Record batches of `_key`, `member`, `longitude`, `latitude` (and the
/// scan's other columns), one row per member of each geo set.
pub struct GeoReader {
    scan: RecordBatchIter,
    schema: SchemaRef,
}

impl GeoReader {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// `batch` with its score column decoded.
    fn decode(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let at = batch
            .schema()
            .index_of(SCORE)
            .expect("the scan has a score column");
        let scores = batch.column(at).as_primitive::<Float64Type>();
        let mut longitudes = Float64Builder::with_capacity(scores.len());
        let mut latitudes = Float64Builder::with_capacity(scores.len());
        for row in 0..scores.len() {
            let (longitude, latitude) = decode(scores.value(row))
                .ok_or_else(|| not_a_geohash(&batch, row, scores.value(row)))?;
            longitudes.append_value(longitude);
            latitudes.append_value(latitude);
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.splice(
            at..=at,
            [
                Arc::new(longitudes.finish()) as ArrayRef,
                Arc::new(latitudes.finish()) as ArrayRef,
            ],
        );
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|err| Error::Protocol(format!("cannot assemble a geo batch: {err}")))
    }
}

impl Iterator for GeoReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.scan.next()?;
        Some(batch.and_then(|batch| self.decode(batch)))
    }
}

/// The scan's schema with `score` replaced by `longitude`, `latitude`.
fn geo_schema(scan: &Schema) -> SchemaRef {
    let mut fields: Vec<ArrowField> = Vec::new();
    for field in scan.fields() {
        if field.name() == SCORE {
            fields.push(ArrowField::new("longitude", DataType::Float64, false));
            fields.push(ArrowField::new("latitude", DataType::Float64, false));
        } else {
            fields.push(field.as_ref().clone());
        }
    }
    Arc::new(Schema::new(fields))
}

/// The error for a member whose score `GEOADD` cannot have written.
fn not_a_geohash(batch: &RecordBatch, row: usize, score: f64) -> Error {
    let text_of = |name: &str| -> Vec<u8> {
        let Ok(at) = batch.schema().index_of(name) else {
            return Vec::new();
        };
        let column = batch.column(at);
        match column.data_type() {
            DataType::Utf8View => column.as_string_view().value(row).as_bytes().to_vec(),
            DataType::BinaryView => column.as_binary_view().value(row).to_vec(),
            _ => Vec::new(),
        }
    };
    Error::Parse {
        key: Key(text_of("_key")),
        field: format!("score of member {}", quote_bytes(&text_of("member"), 80)),
        value: score.to_string(),
        dtype: "a geohash".into(),
        hint: Some(
            "GEOADD stores whole, non-negative scores; this sorted set was not written \
             by GEOADD"
                .into(),
        ),
    }
}
