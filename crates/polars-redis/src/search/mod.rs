//! RediSearch: predicates that run inside Redis, explicit searches,
//! aggregations and index management.
//!
//! | module | job |
//! |---|---|
//! | `index` | `FT._LIST` / `FT.INFO` into [`IndexInfo`]; coverage and readiness checks; `FT.CREATE` |
//! | `query` | the query tree, rendered with `PARAMS` (dialect 2) or a tested escaper; the query builder |
//! | `translate` | Polars predicate JSON → sound query (exact or superset) |
//! | `cursor` | `FT.AGGREGATE ... WITHCURSOR` paging over RESP3; sorts sized by `MAX`; timeouts, partial replies and row counts short of the server's count are errors |
//! | `plan` | which index answers a scan, and the search-driven key source |
//! | `scan` | `with_search` and `search_plan` on the scan builders and `ScanOptions` |
//! | `aggregate` | `aggregate_*`: GROUPBY / REDUCE / APPLY / SORTBY into typed columns |
//! | `admin` | create / drop / info / exists, blocking API |
//! | `listing` | every index (`list_indexes`), and which one `index="auto"` would choose for a pattern, and why not |
//! | `vector` | `VECTOR` attributes of a new index (FLAT / HNSW, metric, type, dimension) |
//! | `knn` | KNN searches, many in flight on one connection: keys and distances, nearest first |

mod admin;
mod aggregate;
mod cursor;
mod index;
mod knn;
mod listing;
mod plan;
mod query;
mod scan;
mod translate;
mod vector;

pub use crate::types::IndexOn;
pub use admin::{create_index, drop_index, index_exists, index_info};
pub use aggregate::{AggregateBuilder, Reducer};
pub use index::{Attribute, AttributeKind, AttributeSpec, IndexInfo};
pub use knn::{KnnSearch, Neighbour};
pub use listing::{find_index_for_pattern, list_indexes, IndexMatch};
pub use plan::{IndexChoice, SearchOptions, SearchPlan, SearchQuery, DEFAULT_SEARCH_TIMEOUT};
pub use query::{escape, QueryText, DIALECT};
pub use translate::Translation;
pub use vector::{DistanceMetric, VectorAlgorithm, VectorSpec};
