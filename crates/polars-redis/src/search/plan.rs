//! Deciding how a scan uses an index, and producing its keys from one.
//!
//! A scan with [`SearchOptions`] asks, when it starts, which index may
//! answer it ([`IndexChoice`]): with `Auto`, the first index that covers
//! the key pattern (`FT._LIST` + `FT.INFO`: same key type, prefixes that
//! cover the pattern, no `FILTER`, no indexing failures, fully indexed) and
//! to which part of the predicate can be pushed; when none qualifies the
//! scan falls back to `SCAN`, which is never wrong, only slower. A `Named`
//! index must qualify, or the scan fails with [`Error::Search`].
//!
//! The chosen index produces the keys (`FT.AGGREGATE ... LOAD 1 @__key
//! WITHCURSOR`), which the type's own fetcher then reads like any other key
//! batch: the full predicate is re-applied to every row afterwards.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_core::future::BoxFuture;
use tokio::sync::mpsc;

use super::cursor::{AggregateRequest, Cursor};
use super::index::{self, IndexInfo, Verdict};
use super::query::{Clause, QueryText};
use super::translate::{translate, Columns, Translation};
use crate::error::{Error, Result};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::glob::glob_match;
use crate::net::resp::Value;
use crate::read::keys::{KeyBatch, KeyProducer, PatternKeyPlanner, PatternKeySource, ScanFacts};
use crate::types::Field;
use crate::types::IndexOn;

/// Keys a search-driven scan reads ahead of its consumer (a few MB at most).
const READ_AHEAD_KEYS: usize = 100_000;

/// Keys per cursor page.
const PAGE: usize = 5_000;

/// Default `TIMEOUT` sent with every search request.
pub const DEFAULT_SEARCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Which index may answer a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IndexChoice {
    /// Never use an index.
    #[default]
    Off,
    /// Use an index that covers the key pattern, if there is one.
    Auto,
    /// Use this index; fail if it cannot answer completely.
    Named(String),
}

/// The query of an explicit search (`search_hashes`).
#[derive(Clone, Debug, PartialEq)]
pub enum SearchQuery {
    /// RediSearch query text with its own `PARAMS`.
    Raw(QueryText),
    /// The query builder's JSON tree, rendered against the index's attribute types.
    Builder(serde_json::Value),
}

/// How a scan uses RediSearch.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchOptions {
    pub(crate) choice: IndexChoice,
    pub(crate) query: Option<SearchQuery>,
    pub(crate) timeout: Duration,
    pub(crate) sort_by: Vec<(String, bool)>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            choice: IndexChoice::Off,
            query: None,
            timeout: DEFAULT_SEARCH_TIMEOUT,
            sort_by: Vec::new(),
        }
    }
}

impl SearchOptions {
    /// Push predicates into an index covering the key pattern, when one exists.
    pub fn auto() -> Self {
        SearchOptions {
            choice: IndexChoice::Auto,
            ..Default::default()
        }
    }

    /// Push predicates into this index (an error if it cannot answer).
    pub fn index(name: impl Into<String>) -> Self {
        SearchOptions {
            choice: IndexChoice::Named(name.into()),
            ..Default::default()
        }
    }

    /// An explicit search: the rows are the documents `query` matches in `index`.
    pub fn search(index: impl Into<String>, query: SearchQuery) -> Self {
        SearchOptions {
            choice: IndexChoice::Named(index.into()),
            query: Some(query),
            ..Default::default()
        }
    }

    /// The `TIMEOUT` of each search request. Default 10 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sort an explicit search by these attributes (`true`: descending).
    pub fn with_sort_by(mut self, sort_by: Vec<(String, bool)>) -> Self {
        self.sort_by = sort_by;
        self
    }

    pub(crate) fn is_off(&self) -> bool {
        self.choice == IndexChoice::Off
    }

    pub(crate) fn is_auto(&self) -> bool {
        self.choice == IndexChoice::Auto
    }
}

impl PatternKeyPlanner for SearchOptions {
    fn validate(&self) -> Result<()> {
        if self.timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "the search timeout must be positive".into(),
            ));
        }
        if self.query.is_some() && !matches!(self.choice, IndexChoice::Named(_)) {
            return Err(Error::InvalidArgument(
                "an explicit search needs an index name".into(),
            ));
        }
        if !self.sort_by.is_empty() && self.query.is_none() {
            return Err(Error::InvalidArgument(
                "sort_by applies to explicit searches only".into(),
            ));
        }
        Ok(())
    }

    fn source(&self, scan: ScanFacts) -> Result<Option<Arc<dyn PatternKeySource>>> {
        Ok(SearchSource::new(self, scan)?.map(|source| Arc::new(source) as _))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What a scan will ask the index, or why it scans instead.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPlan {
    /// The index used, if any.
    pub index: Option<IndexInfo>,
    /// The full query sent (`None`: the scan reads keys with `SCAN`).
    pub query: Option<QueryText>,
    /// What the predicate translation pushed and left out.
    pub translation: Option<Translation>,
    /// Why no index is used.
    pub fallback: Option<String>,
    /// The steps sent after the query (`LOAD`, `SORTBY ... MAX`, `LIMIT`);
    /// a sort that matches more rows than its first `MAX` is asked again
    /// with a larger one.
    pub steps: Vec<String>,
    /// The request that reads the keys.
    request: Option<AggregateRequest>,
    explicit: bool,
}

impl SearchPlan {
    pub(crate) fn off() -> Self {
        SearchPlan::scan("search pushdown is off")
    }

    pub(crate) fn keys_listed() -> Self {
        SearchPlan::scan("the keys are listed, so they are read directly")
    }

    fn scan(reason: impl Into<String>) -> Self {
        SearchPlan {
            index: None,
            query: None,
            translation: None,
            fallback: Some(reason.into()),
            steps: Vec::new(),
            request: None,
            explicit: false,
        }
    }

    /// The plan that reads the keys `request` returns.
    fn with_index(
        info: IndexInfo,
        request: AggregateRequest,
        translation: Option<Translation>,
        explicit: bool,
    ) -> Self {
        SearchPlan {
            steps: request.pipeline(request.first_sort_max()),
            query: Some(request.query.clone()),
            index: Some(info),
            translation,
            fallback: None,
            request: Some(request),
            explicit,
        }
    }
}

impl fmt::Display for SearchPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.index, &self.query) {
            (Some(index), Some(query)) => {
                writeln!(f, "search: {index}")?;
                writeln!(f, "  FT.AGGREGATE query: {}", query.display())?;
                writeln!(f, "  steps: {}", self.steps.join(" "))?;
            }
            _ => writeln!(
                f,
                "search: not used ({}); keys come from SCAN",
                self.fallback.as_deref().unwrap_or("no index")
            )?,
        }
        if let Some(t) = &self.translation {
            match &t.clause {
                Some(_) if t.two_sided => writeln!(f, "  predicate: pushed, exact")?,
                Some(_) => writeln!(f, "  predicate: pushed as a superset")?,
                None => writeln!(f, "  predicate: nothing pushed")?,
            }
            for note in &t.notes {
                writeln!(f, "  {note}")?;
            }
        }
        if self.explicit || self.translation.is_some() {
            writeln!(
                f,
                "  client-side: the full predicate is applied to every row"
            )?;
        }
        Ok(())
    }
}

/// A search-driven key source: everything [`plan`] needs, fixed at build time.
#[derive(Clone, Debug)]
pub(crate) struct SearchSource {
    pub(crate) config: ConnectionConfig,
    pub(crate) options: SearchOptions,
    /// The serialized Polars predicate to push (the scan's `predicate_json`).
    pub(crate) predicate: Option<String>,
    pub(crate) on: IndexOn,
    /// The full (unprojected) value schema: column dtypes for the translator.
    pub(crate) fields: Vec<Field>,
    /// Per column, the identifiers an index attribute over it may have.
    pub(crate) identifiers: Vec<(String, Vec<String>)>,
    /// The scan's row limit, applied by the server when nothing is filtered afterwards.
    pub(crate) limit: Option<usize>,
}

impl SearchSource {
    /// The source `options` make for `scan`; `None` when search is off.
    pub(crate) fn new(options: &SearchOptions, scan: ScanFacts) -> Result<Option<Self>> {
        if options.is_off() {
            return Ok(None);
        }
        let on = scan.index_on.ok_or_else(|| {
            Error::InvalidArgument(format!("RediSearch cannot index {} keys", scan.redis_type))
        })?;
        Ok(Some(SearchSource {
            config: scan.config,
            options: options.clone(),
            predicate: scan.predicate,
            on,
            fields: scan.fields,
            identifiers: scan.identifiers,
            limit: scan.limit,
        }))
    }
}

impl PatternKeySource for SearchSource {
    /// On a cluster, `Auto` leaves the keys to `SCAN`.
    fn lists_keys_on(&self, topology: &Topology) -> bool {
        !(topology.is_cluster() && self.options.is_auto())
    }

    fn send_keys<'a>(
        &'a self,
        producer: &'a KeyProducer,
        topology: &'a Arc<Topology>,
        conn: Connection,
        pattern: &'a [u8],
        tx: &'a mpsc::Sender<Result<KeyBatch>>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(send_keys(producer, topology, self, conn, pattern, tx))
    }
}

/// A request for the keys of the documents `query` matches in `info`'s
/// index: `LOAD` the key (and `load`, what an unsortable sort key needs),
/// then sort and limit.
fn key_request(
    info: &IndexInfo,
    query: QueryText,
    load: Vec<String>,
    sort_by: Vec<(String, bool)>,
    limit: Option<usize>,
    timeout: Duration,
) -> AggregateRequest {
    let mut steps = vec!["LOAD".to_string(), (load.len() + 1).to_string()];
    steps.push("@__key".into());
    steps.extend(load);
    AggregateRequest {
        index: info.name.clone(),
        query,
        steps,
        grouped: false,
        sort_by,
        limit,
        rows_hint: info.num_docs,
        page: PAGE,
        timeout,
    }
}

/// Open a connection for search requests: refuse targets that cannot
/// answer completely, then switch to RESP3.
pub(crate) async fn search_connection(config: &ConnectionConfig) -> Result<Connection> {
    let mut conn = Connection::connect(config).await?;
    index::check_target(&mut conn).await?;
    conn.hello3().await?;
    Ok(conn)
}

/// Decide how `source` reads the keys matching `pattern`.
pub(crate) async fn plan(
    conn: &mut Connection,
    source: &SearchSource,
    pattern: &[u8],
) -> Result<SearchPlan> {
    let options = &source.options;
    match &options.choice {
        IndexChoice::Off => Ok(SearchPlan::off()),
        IndexChoice::Named(name) => plan_named(conn, source, name, pattern).await,
        IndexChoice::Auto => {
            let Some(predicate) = &source.predicate else {
                return Ok(SearchPlan::scan("no predicate to push"));
            };
            let verdicts = match index::survey(conn, source.config.db, source.on, pattern).await {
                Ok(verdicts) => verdicts,
                Err(reason) => return Ok(SearchPlan::scan(reason)),
            };
            let mut reasons = Vec::new();
            let mut tried = None;
            for Verdict { name, covers } in verdicts {
                let info = match covers {
                    Ok(info) => info,
                    Err(why) => {
                        reasons.push(format!("`{name}`: {why}"));
                        continue;
                    }
                };
                let translation = translate(
                    predicate,
                    &Columns::new(&info, &source.fields, &source.identifiers),
                );
                let Some(clause) = translation.clause.clone() else {
                    reasons.push(format!("`{name}`: no part of the predicate can be pushed"));
                    tried = Some(translation);
                    continue;
                };
                let request = key_request(
                    &info,
                    clause.render("pp"),
                    Vec::new(),
                    Vec::new(),
                    None,
                    options.timeout,
                );
                return Ok(SearchPlan::with_index(
                    info,
                    request,
                    Some(translation),
                    false,
                ));
            }
            if reasons.is_empty() {
                reasons.push("there is no index".into());
            }
            let mut plan = SearchPlan::scan(format!("no index can answer: {}", reasons.join("; ")));
            plan.translation = tried;
            Ok(plan)
        }
    }
}

async fn plan_named(
    conn: &mut Connection,
    source: &SearchSource,
    name: &str,
    pattern: &[u8],
) -> Result<SearchPlan> {
    let options = &source.options;
    if source.config.db != 0 {
        return Err(Error::Search(format!(
            "RediSearch only indexes database 0, and this connection uses database {}",
            source.config.db
        )));
    }
    index::check_target(conn).await?;
    conn.hello3().await?;
    let info = index::info(conn, name).await?;
    if let Some(why) = info.not_ready() {
        return Err(Error::Search(why));
    }
    if info.on != source.on {
        return Err(Error::Search(format!(
            "index `{name}` is on {}, not {}",
            info.on.name(),
            source.on.name()
        )));
    }
    let explicit = options.query.is_some();
    if !explicit {
        if let Some(why) = info.cannot_cover(source.on, pattern) {
            return Err(Error::Search(format!(
                "index `{name}` cannot answer a scan of {}: {why}",
                crate::error::Key(pattern.to_vec())
            )));
        }
    }
    let base = match &options.query {
        None => QueryText::raw("*", Vec::new()),
        Some(SearchQuery::Raw(query)) => query.clone(),
        Some(SearchQuery::Builder(tree)) => Clause::from_builder_json(&info, tree)?.render("qb"),
    };
    let translation = source
        .predicate
        .as_ref()
        .map(|p| translate(p, &Columns::new(&info, &source.fields, &source.identifiers)));
    let pushed = translation
        .as_ref()
        .and_then(|t| t.clause.as_ref())
        .map(|c| c.render("pp"))
        .unwrap_or_else(|| QueryText::raw("*", Vec::new()));
    let query = base.and(pushed)?;
    let mut load = Vec::new();
    let mut sort_by = Vec::new();
    for (attr, descending) in options.sort_by.iter().filter(|_| explicit) {
        let attribute = info
            .attribute_named(attr)
            .or_else(|| info.attribute_for(attr))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "cannot sort by `{attr}`: index `{name}` has no such attribute"
                ))
            })?;
        let field = format!("@{}", attribute.name);
        if !attribute.sortable {
            // Unsortable attributes must be loaded before SORTBY.
            load.push(field.clone());
        }
        sort_by.push((field, *descending));
    }
    let limit = source.limit.filter(|_| explicit);
    let request = key_request(&info, query, load, sort_by, limit, options.timeout);
    Ok(SearchPlan::with_index(info, request, translation, explicit))
}

/// Produce the keys of a search-driven scan, or fall back to `SCAN`.
async fn send_keys(
    producer: &KeyProducer,
    topology: &Arc<Topology>,
    source: &SearchSource,
    conn: Connection,
    pattern: &[u8],
    tx: &mpsc::Sender<Result<KeyBatch>>,
) -> Result<()> {
    let mut conn = conn;
    let plan = plan(&mut conn, source, pattern).await?;
    if log::log_enabled!(log::Level::Info) {
        log::info!("{}", plan.to_string().trim_end().replace("\n  ", "; "));
    }
    let Some(request) = plan.request else {
        return producer.send_scan(topology, conn, 0, tx).await;
    };
    let filter_keys = !plan.explicit;
    // The cursor lives where `conn` goes (a replica under `read_from`).
    let mut cursor = Cursor::open(&mut conn, topology.nodes()[0].reader(0), &request).await?;
    // A search coordinator lists the keys of every shard: route each key,
    // in the index's order when it sorted them.
    let mut batcher = producer.routed_batcher(topology.clone());
    let mut in_order = (!request.sort_by.is_empty() && topology.is_cluster())
        .then(|| InOrder::new(producer.batch_size));
    // Keys read ahead of the consumer. Reading ahead lets a result of up to
    // READ_AHEAD_KEYS keys exhaust (and so free) its server-side cursor at
    // once, whatever the consumer does; beyond that the cursor stays open
    // until it is read to the end or dropped (`FT.CURSOR DEL`), and the
    // server's idle timeout is the last resort.
    let mut ready: VecDeque<KeyBatch> = VecDeque::new();
    let mut buffered = 0usize;
    let mut exhausted = false;
    loop {
        while !exhausted && buffered < READ_AHEAD_KEYS {
            let Some(rows) = cursor.next_page(&mut conn).await? else {
                exhausted = true;
                let last = in_order.as_mut().and_then(InOrder::finish);
                for batch in batcher.finish().into_iter().chain(last) {
                    buffered += batch.keys.len();
                    ready.push_back(batch);
                }
                break;
            };
            for row in rows {
                let key = row
                    .into_iter()
                    .find(|(name, _)| name == b"__key")
                    .and_then(|(_, value)| match value {
                        Value::Bytes(key) => Some(key),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        // RediSearch loads nothing for a key holding a NUL byte.
                        Error::Search(
                            "FT.AGGREGATE returned a document without its key name (RediSearch \
                             cannot load a key holding a NUL byte); read these keys without the \
                             index (index=None)"
                                .into(),
                        )
                    })?;
                if filter_keys && !glob_match(pattern, &key) {
                    continue;
                }
                let batch = match &mut in_order {
                    Some(in_order) => in_order.push(topology.route_of(&key), key),
                    None => batcher.push(key),
                };
                if let Some(batch) = batch {
                    buffered += batch.keys.len();
                    ready.push_back(batch);
                }
            }
            // Hand over what the consumer can take now, without waiting.
            while let Some(batch) = ready.pop_front() {
                let len = batch.keys.len();
                match tx.try_send(Ok(batch)) {
                    Ok(()) => buffered -= len,
                    Err(mpsc::error::TrySendError::Full(item)) => {
                        if let Ok(batch) = item {
                            ready.push_front(batch);
                        }
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
                }
            }
        }
        let Some(batch) = ready.pop_front() else {
            return Ok(());
        };
        buffered -= batch.keys.len();
        if tx.send(Ok(batch)).await.is_err() {
            return Ok(());
        }
    }
}

/// Key batches that keep the keys' order across the nodes of a cluster (the
/// engine emits batches in order): a batch ends where the next key lives
/// on another node.
struct InOrder {
    size: usize,
    pending: KeyBatch,
}

impl InOrder {
    fn new(size: usize) -> Self {
        InOrder {
            size: size.max(1),
            pending: KeyBatch {
                node: 0,
                keys: Vec::new(),
            },
        }
    }

    /// Add `key` of route `node`; returns the batch it closed, if any.
    fn push(&mut self, node: usize, key: Vec<u8>) -> Option<KeyBatch> {
        let full = self.pending.keys.len() >= self.size;
        let closed = (!self.pending.keys.is_empty() && (full || node != self.pending.node))
            .then(|| self.finish())
            .flatten();
        self.pending.node = node;
        self.pending.keys.push(key);
        closed
    }

    /// The last batch, once the keys run out.
    fn finish(&mut self) -> Option<KeyBatch> {
        let keys = std::mem::take(&mut self.pending.keys);
        (!keys.is_empty()).then_some(KeyBatch {
            node: self.pending.node,
            keys,
        })
    }
}

/// The plan a scan would follow, without reading any data.
pub(crate) async fn explain(source: &SearchSource, pattern: &[u8]) -> Result<SearchPlan> {
    let mut conn = Connection::connect(&source.config).await?;
    plan(&mut conn, source, pattern).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_keys_keep_their_order_across_nodes() {
        let mut in_order = InOrder::new(2);
        let mut batches = Vec::new();
        for (node, key) in [(0, "a"), (1, "b"), (1, "c"), (1, "d"), (0, "e")] {
            batches.extend(in_order.push(node, key.as_bytes().to_vec()));
        }
        batches.extend(in_order.finish());
        let seen: Vec<(usize, Vec<&[u8]>)> = batches
            .iter()
            .map(|b| (b.node, b.keys.iter().map(Vec::as_slice).collect()))
            .collect();
        let want: Vec<(usize, Vec<&[u8]>)> = vec![
            (0, vec![b"a"]),
            (1, vec![b"b", b"c"]),
            (1, vec![b"d"]),
            (0, vec![b"e"]),
        ];
        assert_eq!(seen, want);
    }
}

#[cfg(test)]
mod measurements {
    //! The design measurement behind the search-driven key source: loading
    //! the fields with `FT.AGGREGATE ... LOAD` vs loading keys and fetching
    //! them with the hash fetcher. At 1% of 1M hashes the two are on par
    //! (48-104 ms vs 52-87 ms over six runs, each ahead in some), and LOAD is
    //! not exact: for a NUMERIC (or SORTABLE) attribute it returns the index's
    //! normalized value, not the stored one ("0x10" comes back as "16",
    //! 9007199254740993 as 9007199254740992), so a scan through it would
    //! differ from a plain scan. Keys + HMGET is exact; it is used.
    //! Needs a server seeded by
    //! `bench/bench_search.py` (index `bench`):
    //! `POLARS_REDIS_BENCH_URL=redis://... cargo test --release -p polars-redis --lib -- --ignored load_vs_fetch --nocapture`

    use std::time::Instant;

    use super::*;
    use crate::read::layout::{ExtraColumns, Layout};
    use crate::types::FieldType;
    use crate::HashScanBuilder;

    fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
        let mut best = f64::MAX;
        let mut out = None;
        for _ in 0..runs {
            let start = Instant::now();
            out = Some(f());
            best = best.min(start.elapsed().as_secs_f64());
        }
        (best, out.expect("at least one run"))
    }

    #[test]
    #[ignore]
    fn load_vs_fetch() {
        let Ok(url) = std::env::var("POLARS_REDIS_BENCH_URL") else {
            return;
        };
        let config = ConnectionConfig::from_url(&url).unwrap();
        let fields = vec![
            Field::new("n", FieldType::Int64),
            Field::new("tag", FieldType::Utf8),
        ];
        let query = QueryText::raw("@n:[0 (1000]", vec![]);
        let fetch = || {
            let scan = HashScanBuilder::new(config.clone(), fields.clone())
                .with_pattern("bench:*")
                .with_search(SearchOptions::search(
                    "bench",
                    SearchQuery::Raw(query.clone()),
                ));
            scan.build()
                .unwrap()
                .map(|b| b.unwrap().num_rows())
                .sum::<usize>()
        };
        let extra = ExtraColumns::default();
        let layout = Layout::new(extra, fields.clone(), true).unwrap();
        let load = || {
            crate::net::runtime::runtime().block_on(async {
                let mut conn = search_connection(&config).await.unwrap();
                let request = AggregateRequest {
                    index: "bench".into(),
                    query: query.clone(),
                    steps: ["LOAD", "3", "@__key", "@n", "@tag"]
                        .map(String::from)
                        .to_vec(),
                    grouped: false,
                    sort_by: Vec::new(),
                    limit: None,
                    rows_hint: 0,
                    page: PAGE,
                    timeout: DEFAULT_SEARCH_TIMEOUT,
                };
                let mut cursor = Cursor::open(&mut conn, &config, &request).await.unwrap();
                let mut rows = 0;
                while let Some(page) = cursor.next_page(&mut conn).await.unwrap() {
                    let mut builders = layout.builders(page.len());
                    for row in &page {
                        let mut key = &b""[..];
                        for (name, value) in row {
                            let Value::Bytes(bytes) = value else { continue };
                            match name.as_slice() {
                                b"__key" => key = bytes,
                                b"n" => layout
                                    .append_value(&mut builders, 0, key, Some(bytes))
                                    .unwrap(),
                                b"tag" => layout
                                    .append_value(&mut builders, 1, key, Some(bytes))
                                    .unwrap(),
                                _ => {}
                            }
                        }
                        layout.append_key_and_ttl(&mut builders, key, None).unwrap();
                    }
                    rows += layout.finish(&mut builders).unwrap().num_rows();
                }
                rows
            })
        };
        let (fetch_s, fetch_rows) = best_of(9, fetch);
        let (load_s, load_rows) = best_of(9, load);
        assert_eq!(fetch_rows, load_rows);
        println!(
            "{fetch_rows} rows: keys + HMGET {:.2} ms, FT.AGGREGATE LOAD {:.2} ms",
            fetch_s * 1e3,
            load_s * 1e3
        );
    }
}
