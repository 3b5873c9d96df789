//! `VECTOR` attributes of a new index: algorithm, element type, dimension,
//! distance metric and HNSW parameters, as `FT.CREATE` takes them.

use crate::error::{Error, Result};
use crate::net::resp::Cmd;
use crate::types::{FieldType, VectorType};

/// How an index finds neighbours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum VectorAlgorithm {
    /// Brute force: exact top-k.
    #[default]
    Flat,
    /// Hierarchical navigable small world graph: approximate, fast.
    Hnsw {
        /// `M`: edges per node (RediSearch's default 16).
        m: Option<u32>,
        /// `EF_CONSTRUCTION`: candidates kept while building (default 200).
        ef_construction: Option<u32>,
        /// `EF_RUNTIME`: candidates kept while searching (default 10).
        ef_runtime: Option<u32>,
    },
}

/// How distance between two vectors is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DistanceMetric {
    /// `1 - cos(a, b)`.
    #[default]
    Cosine,
    /// Squared Euclidean distance.
    L2,
    /// `1 - a·b` (inner product).
    Ip,
}

impl DistanceMetric {
    /// Parse `COSINE`, `L2` or `IP` (any case).
    pub fn from_name(name: &str) -> Result<Self> {
        match name.to_ascii_uppercase().as_str() {
            "COSINE" => Ok(DistanceMetric::Cosine),
            "L2" => Ok(DistanceMetric::L2),
            "IP" => Ok(DistanceMetric::Ip),
            _ => Err(Error::InvalidArgument(format!(
                "unknown distance metric `{name}` (expected COSINE, L2 or IP)"
            ))),
        }
    }

    /// The `DISTANCE_METRIC` name.
    pub fn name(self) -> &'static str {
        match self {
            DistanceMetric::Cosine => "COSINE",
            DistanceMetric::L2 => "L2",
            DistanceMetric::Ip => "IP",
        }
    }
}

/// A `VECTOR` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorSpec {
    /// FLAT or HNSW (with its parameters).
    pub algorithm: VectorAlgorithm,
    /// `TYPE`: FLOAT32 or FLOAT64.
    pub element: VectorType,
    /// `DIM`: elements per vector.
    pub dim: usize,
    /// `DISTANCE_METRIC`.
    pub metric: DistanceMetric,
}

impl VectorSpec {
    /// The default attribute of a column of `field_type`: FLAT and COSINE
    /// over an `Array(Float32 | Float64, dim)`; `None` for other types (a
    /// `List` has no dimension to take).
    pub fn default_for(field_type: &FieldType) -> Option<VectorSpec> {
        let FieldType::Array(_, dim) = field_type else {
            return None;
        };
        Some(VectorSpec {
            algorithm: VectorAlgorithm::Flat,
            element: VectorType::of(field_type)?,
            dim: *dim,
            metric: DistanceMetric::Cosine,
        })
    }

    /// Append `FLAT|HNSW nargs TYPE .. DIM .. DISTANCE_METRIC .. [params]`.
    pub(crate) fn push_args(&self, cmd: &mut Cmd) -> Result<()> {
        if self.dim == 0 {
            return Err(Error::InvalidArgument(
                "a vector attribute needs a dimension of at least 1".into(),
            ));
        }
        let mut args = vec![
            ("TYPE", self.element.name().to_string()),
            ("DIM", self.dim.to_string()),
            ("DISTANCE_METRIC", self.metric.name().to_string()),
        ];
        let name = match &self.algorithm {
            VectorAlgorithm::Flat => "FLAT",
            VectorAlgorithm::Hnsw {
                m,
                ef_construction,
                ef_runtime,
            } => {
                for (param, value) in [
                    ("M", m),
                    ("EF_CONSTRUCTION", ef_construction),
                    ("EF_RUNTIME", ef_runtime),
                ] {
                    if let Some(value) = value {
                        args.push((param, value.to_string()));
                    }
                }
                "HNSW"
            }
        };
        cmd.arg(name).arg((args.len() * 2).to_string());
        for (param, value) in args {
            cmd.arg(param).arg(value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hnsw_arguments_are_counted() {
        let spec = VectorSpec {
            algorithm: VectorAlgorithm::Hnsw {
                m: Some(8),
                ef_construction: None,
                ef_runtime: Some(50),
            },
            element: VectorType::Float64,
            dim: 3,
            metric: DistanceMetric::Ip,
        };
        let mut cmd = Cmd::new("X");
        spec.push_args(&mut cmd).unwrap();
        let mut wire = Vec::new();
        cmd.write_to(&mut wire);
        let text = String::from_utf8(wire).unwrap();
        let words: Vec<&str> = text
            .split("\r\n")
            .filter(|w| !w.starts_with(['*', '$']))
            .collect();
        assert_eq!(
            words[1..words.len() - 1],
            [
                "HNSW",
                "10",
                "TYPE",
                "FLOAT64",
                "DIM",
                "3",
                "DISTANCE_METRIC",
                "IP",
                "M",
                "8",
                "EF_RUNTIME",
                "50"
            ]
        );
    }

    #[test]
    fn only_float_arrays_get_a_default() {
        let array = FieldType::array(FieldType::Float32, 4).unwrap();
        assert_eq!(VectorSpec::default_for(&array).unwrap().dim, 4);
        assert_eq!(
            VectorSpec::default_for(&FieldType::List(Box::new(FieldType::Float32))),
            None
        );
    }
}
