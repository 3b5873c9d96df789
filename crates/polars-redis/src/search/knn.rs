//! KNN searches: for each query vector, the `k` documents nearest to it in
//! a `VECTOR` attribute, among those a filter query matches (hybrid).
//!
//! Each query is one `FT.SEARCH index "(filter)=>[KNN k @field $v AS d]"
//! PARAMS ... SORTBY d RETURN 1 d LIMIT 0 k DIALECT 2`, the vector a
//! little-endian blob parameter of the attribute's element type. Many
//! queries are kept in flight on one RESP3 connection (a sliding window),
//! so a batch of vectors costs about one round trip per window, not one per
//! query. A reply with a `warning` (timeout, partial result) is an error.

use std::time::Duration;

use arrow_array::ArrayRef;

use super::cursor::{check_warnings, map_get};
use super::index::{self, is_unknown_index, AttributeKind, IndexInfo};
use super::plan::{search_connection, SearchQuery, DEFAULT_SEARCH_TIMEOUT};
use super::query::{Clause, QueryText, DIALECT};
use crate::error::{Error, Key, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, Connection};
use crate::net::resp::{Cmd, Item, Value};
use crate::types::format::cells;
use crate::types::VectorType;

/// Queries in flight on the connection at most.
const IN_FLIGHT: usize = 512;

/// The name the distance is yielded as inside the query.
const DISTANCE: &str = "__knn_distance";
/// The parameter holding the query vector.
const VECTOR_PARAM: &str = "__knn_vector";

/// One neighbour of one query vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour {
    /// The position of the query vector among those searched.
    pub query: usize,
    /// The document's key.
    pub key: Vec<u8>,
    /// Its distance to the query vector, by the attribute's metric.
    pub distance: f64,
}

/// A KNN search over one index attribute, run for one or many vectors.
///
/// ```no_run
/// use polars_redis::search::KnnSearch;
/// use polars_redis::ConnectionConfig;
/// # fn vectors() -> arrow_array::ArrayRef { unimplemented!() }
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let neighbours = KnnSearch::new("docs", "emb", 10).run(&config, &vectors())?;
/// # Ok::<(), polars_redis::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KnnSearch {
    index: String,
    field: String,
    k: usize,
    ef_runtime: Option<u32>,
    filter: Option<SearchQuery>,
    timeout: Duration,
}

impl KnnSearch {
    /// The `k` nearest neighbours in attribute `field` (its query name or
    /// hash field / JSON path) of index `index`.
    pub fn new(index: impl Into<String>, field: impl Into<String>, k: usize) -> Self {
        KnnSearch {
            index: index.into(),
            field: field.into(),
            k,
            ef_runtime: None,
            filter: None,
            timeout: DEFAULT_SEARCH_TIMEOUT,
        }
    }

    /// Only among the documents this query matches (pre-filtering, exact
    /// for FLAT).
    pub fn with_filter(mut self, filter: Option<SearchQuery>) -> Self {
        self.filter = filter;
        self
    }

    /// HNSW: candidates kept while searching (higher: better recall, slower).
    pub fn with_ef_runtime(mut self, ef_runtime: Option<u32>) -> Self {
        self.ef_runtime = ef_runtime;
        self
    }

    /// `TIMEOUT` of each query (default 10 s); running out is an error.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The neighbours of every vector in `vectors` (a list or fixed-size
    /// list column of floats, one query per row), nearest first within each
    /// query, queries in order. A null vector, a null element or a vector of
    /// the wrong dimension is an error naming its row.
    pub fn run(&self, config: &ConnectionConfig, vectors: &ArrayRef) -> Result<Vec<Neighbour>> {
        crate::net::runtime::runtime().block_on(self.run_async(config, vectors))
    }

    async fn run_async(
        &self,
        config: &ConnectionConfig,
        vectors: &ArrayRef,
    ) -> Result<Vec<Neighbour>> {
        if self.k == 0 {
            return Err(Error::InvalidArgument("k must be at least 1".into()));
        }
        let mut conn = search_connection(config).await?;
        let info = index::info(&mut conn, &self.index).await?;
        if let Some(why) = info.not_ready() {
            return Err(Error::Search(why));
        }
        let (name, element, dim) = self.vector_attribute(&info)?;
        let filter = match &self.filter {
            None => QueryText::raw("*", Vec::new()),
            Some(SearchQuery::Raw(query)) => query.clone(),
            Some(SearchQuery::Builder(tree)) => {
                Clause::from_builder_json(&info, tree)?.render("qb")
            }
        };
        let query = self.query_text(&filter.text, &name);
        let blobs = blobs(vectors, element, dim)?;
        let mut out = Vec::with_capacity(blobs.len() * self.k);
        let mut sent = 0;
        let mut received = 0;
        while received < blobs.len() {
            while sent < blobs.len() && sent - received < IN_FLIGHT {
                conn.queue(&self.command(&query, &filter.params, &blobs[sent]));
                sent += 1;
            }
            conn.flush().await?;
            // Read half a window, then top the window up again.
            let until = sent.min(received + IN_FLIGHT / 2).max(received + 1);
            while received < until {
                let reply = read_reply(&mut conn, &self.index).await?;
                parse_neighbours(&reply, received, &mut out)?;
                received += 1;
            }
        }
        Ok(out)
    }

    /// The query name, element type and dimension of the searched attribute.
    fn vector_attribute(&self, info: &IndexInfo) -> Result<(String, VectorType, usize)> {
        let attribute = info
            .attribute_named(&self.field)
            .or_else(|| info.attribute_for(&self.field))
            .ok_or_else(|| {
                let names: Vec<&str> = info.attributes.iter().map(|a| a.name.as_str()).collect();
                Error::Search(format!(
                    "index `{}` has no attribute `{}` (its attributes: {})",
                    self.index,
                    self.field,
                    names.join(", ")
                ))
            })?;
        match (&attribute.kind, attribute.vector) {
            (AttributeKind::Other(kind), Some((element, dim))) if kind == "VECTOR" => {
                Ok((attribute.name.clone(), element, dim))
            }
            (kind, _) => Err(Error::Search(format!(
                "attribute `{}` of index `{}` is {}, not VECTOR: a KNN search needs a vector attribute",
                self.field,
                self.index,
                kind.name()
            ))),
        }
    }

    /// `(filter)=>[KNN k @name $v [EF_RUNTIME ef] AS d]`.
    fn query_text(&self, filter: &str, name: &str) -> String {
        let filter = match filter.trim() {
            "*" | "" => "*".to_string(),
            text => format!("({text})"),
        };
        let ef = self
            .ef_runtime
            .map_or(String::new(), |ef| format!(" EF_RUNTIME {ef}"));
        let name = super::query::escape(name);
        format!(
            "{filter}=>[KNN {} @{name} ${VECTOR_PARAM}{ef} AS {DISTANCE}]",
            self.k
        )
    }

    fn command(&self, query: &str, params: &[(String, String)], blob: &[u8]) -> Cmd {
        let mut cmd = Cmd::new("FT.SEARCH");
        cmd.arg(&self.index).arg(query);
        cmd.arg("PARAMS").arg(((params.len() + 1) * 2).to_string());
        for (name, value) in params {
            cmd.arg(name).arg(value);
        }
        cmd.arg(VECTOR_PARAM).arg(blob);
        cmd.arg("SORTBY").arg(DISTANCE).arg("ASC");
        cmd.arg("RETURN").arg("1").arg(DISTANCE);
        cmd.arg("LIMIT").arg("0").arg(self.k.to_string());
        cmd.arg("TIMEOUT")
            .arg(self.timeout.as_millis().max(1).to_string());
        cmd.arg("DIALECT").arg(DIALECT);
        cmd
    }
}

/// The query vectors as blobs of `element`s, each checked for nulls and
/// for its dimension.
fn blobs(vectors: &ArrayRef, element: VectorType, dim: usize) -> Result<Vec<Vec<u8>>> {
    if VectorType::of_arrow(vectors.data_type()).is_none() {
        return Err(Error::InvalidArgument(format!(
            "query vectors must be lists or arrays of Float32 / Float64, got {}",
            vectors.data_type()
        )));
    }
    let cells = cells(vectors).map_err(Error::InvalidArgument)?;
    let mut out = Vec::with_capacity(vectors.len());
    for row in 0..vectors.len() {
        if cells.is_null(row) {
            return Err(Error::InvalidArgument(format!(
                "query vector {row} is null"
            )));
        }
        let mut blob = Vec::with_capacity(dim * element.size());
        cells
            .blob(row, element, &mut blob)
            .map_err(|reason| Error::InvalidArgument(format!("query vector {row}: {reason}")))?;
        if blob.len() != dim * element.size() {
            return Err(Error::InvalidArgument(format!(
                "query vector {row} has {} elements; the attribute holds vectors of dimension {dim}",
                blob.len() / element.size()
            )));
        }
        out.push(blob);
    }
    Ok(out)
}

/// The next reply, a server error mapped as searches map it.
async fn read_reply(conn: &mut Connection, index: &str) -> Result<Value> {
    conn.read_reply("FT.SEARCH", |r| {
        let item = r.next()?;
        if let Item::Error(message) = item {
            return Err(server_error("FT.SEARCH", None, message));
        }
        r.value_from(item)
    })
    .await
    .map_err(|err| match err {
        Error::Server { message, .. } if is_unknown_index(&message) => {
            Error::Search(format!("no index named `{index}`"))
        }
        other => other,
    })
}

/// Append the neighbours of query `query` from its RESP3 `FT.SEARCH` reply.
fn parse_neighbours(reply: &Value, query: usize, out: &mut Vec<Neighbour>) -> Result<()> {
    let bad = || Error::Protocol("unexpected FT.SEARCH reply shape".into());
    let Value::Map(body) = reply else {
        return Err(bad());
    };
    check_warnings(body, "FT.SEARCH")?;
    let Some(Value::Array(results)) = map_get(body, b"results") else {
        return Err(bad());
    };
    for result in results {
        let Value::Map(result) = result else {
            return Err(bad());
        };
        let key = map_get(result, b"id")
            .and_then(Value::as_bytes)
            .ok_or_else(bad)?;
        let distance = match map_get(result, b"extra_attributes") {
            Some(Value::Map(attributes)) => map_get(attributes, DISTANCE.as_bytes()),
            _ => None,
        };
        let distance = match distance {
            Some(Value::Double(d)) => *d,
            Some(Value::Bytes(text)) => std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .ok_or_else(bad)?,
            _ => {
                return Err(Error::Protocol(format!(
                    "FT.SEARCH returned {} without its distance",
                    Key::from(key)
                )))
            }
        };
        out.push(Neighbour {
            query,
            key: key.to_vec(),
            distance,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_is_parenthesised_and_ef_runtime_inlined() {
        let search = KnnSearch::new("ix", "emb", 3).with_ef_runtime(Some(40));
        assert_eq!(
            search.query_text("@n:[1 2]", "emb"),
            "(@n:[1 2])=>[KNN 3 @emb $__knn_vector EF_RUNTIME 40 AS __knn_distance]"
        );
        assert_eq!(
            KnnSearch::new("ix", "e-b", 1).query_text(" * ", "e-b"),
            "*=>[KNN 1 @e\\-b $__knn_vector AS __knn_distance]"
        );
    }
}
