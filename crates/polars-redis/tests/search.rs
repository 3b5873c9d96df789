//! The RediSearch path of the core against a real Redis Stack server.
//! Ground truth is written with the harness's own RESP client.

use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::RecordBatch;
use polars_redis::search::{
    AggregateBuilder, IndexOn, QueryText, Reducer, SearchOptions, SearchQuery,
};
use polars_redis::{ConnectionConfig, Error, Field, FieldType, HashScanBuilder};
use redis_test_support::{RedisServer, RespValue};

fn server() -> &'static RedisServer {
    RedisServer::shared_stack()
}

fn config() -> ConnectionConfig {
    ConnectionConfig::from_url(&server().url()).expect("valid url")
}

/// Seed `count` hashes `{prefix}{i}` with `n = i` and `g = g{i % 15}`
/// and index them.
fn seed(prefix: &str, index: &str, count: usize) {
    seed_on(server(), prefix, index, count);
}

fn seed_on(server: &RedisServer, prefix: &str, index: &str, count: usize) {
    // Index first: documents written afterwards are indexed as they are
    // written (a background scan of existing keys is slow on a busy machine).
    server
        .cmd(&[
            "FT.CREATE",
            index,
            "ON",
            "HASH",
            "PREFIX",
            "1",
            prefix,
            "SCHEMA",
            "n",
            "NUMERIC",
            "g",
            "TAG",
        ])
        .expect_ok();
    // In scripts of 10,000 keys, not to block the shared server for long.
    for start in (1..=count).step_by(10_000) {
        let end = (start + 9_999).min(count);
        let script = format!(
            "for i={start},{end} do redis.call('HSET','{prefix}'..i,'n',i,'g','g'..(i % 15)) end"
        );
        server.cmd(&["EVAL", &script, "0"]).expect_ok();
    }
    let config = ConnectionConfig::from_url(&server.url()).expect("valid url");
    let info = polars_redis::search::index_info(&config, index).unwrap();
    assert_eq!(info.on, IndexOn::Hash);
    // Indexing 110k hashes takes seconds on an idle machine, minutes on a
    // loaded one.
    let deadline = Instant::now() + Duration::from_secs(300);
    while polars_redis::search::index_info(&config, index)
        .unwrap()
        .not_ready()
        .is_some()
    {
        assert!(Instant::now() < deadline, "index {index} never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn open_cursors(index: &str) -> i64 {
    let RespValue::Array(info) = server().cmd(&["FT.INFO", index]) else {
        panic!("FT.INFO reply")
    };
    let stats = info
        .chunks(2)
        .find(|pair| pair[0].as_str() == Some("cursor_stats"))
        .and_then(|pair| pair[1].as_array().map(<[RespValue]>::to_vec))
        .expect("cursor_stats");
    stats
        .chunks(2)
        .find(|pair| pair[0].as_str() == Some("index_total"))
        .and_then(|pair| pair[1].as_int())
        .expect("index_total")
}

fn values(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("n")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect();
    out.sort_unstable();
    out
}

fn search(index: &str, query: &str) -> HashScanBuilder {
    HashScanBuilder::new(config(), vec![Field::new("n", FieldType::Int64)]).with_search(
        SearchOptions::search(index, SearchQuery::Raw(QueryText::raw(query, vec![]))),
    )
}

#[test]
fn predicate_pushdown_reads_only_matching_keys() {
    seed("rs:a:", "rs_a", 2000);
    let predicate = r#"{"BinaryExpr":{"left":{"Column":"n"},"op":"Gt","right":{"Literal":{"Scalar":{"Int64":1990}}}}}"#;
    let scan = HashScanBuilder::new(config(), vec![Field::new("n", FieldType::Int64)])
        .with_pattern("rs:a:*")
        .with_predicate_json(Some(predicate))
        .with_search(SearchOptions::auto());
    let plan = scan.search_plan().unwrap();
    assert_eq!(plan.index.as_ref().unwrap().name, "rs_a");
    assert!(plan.query.as_ref().unwrap().text.contains("@n:[("));
    let batches: Vec<RecordBatch> = scan.build().unwrap().collect::<Result<_, _>>().unwrap();
    // The index answered: only the ten matching hashes were fetched.
    assert_eq!(values(&batches), (1991..=2000).collect::<Vec<_>>());
}

#[test]
fn a_dropped_scan_deletes_its_cursor() {
    // More matches than the key source reads ahead: the cursor stays open
    // until the scan is dropped.
    seed("rs:big:", "rs_big", 150_000);
    let mut iter = search("rs_big", "*").with_batch_size(100).build().unwrap();
    let first = iter.next().unwrap().unwrap();
    assert_eq!(first.num_rows(), 100);
    assert_eq!(open_cursors("rs_big"), 1);
    drop(iter);
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_cursors("rs_big") != 0 {
        assert!(Instant::now() < deadline, "the cursor was never deleted");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn limits_and_errors() {
    seed("rs:l:", "rs_l", 50);
    let batches: Vec<RecordBatch> = search("rs_l", "@n:[10 +inf]")
        .with_limit(Some(5))
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 5);
    let plan = search("rs_l", "*")
        .with_limit(Some(5))
        .search_plan()
        .unwrap();
    assert!(plan.steps.join(" ").ends_with("LIMIT 0 5"));
    let err = search("rs_missing", "*")
        .build()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    assert!(matches!(err, Error::Search(_)), "{err}");
    let Err(err) = HashScanBuilder::new(config(), vec![])
        .with_search(SearchOptions::auto().with_timeout(Duration::ZERO))
        .build()
    else {
        panic!("a zero search timeout was accepted")
    };
    assert!(err.is_invalid_input(), "{err}");
}

fn column_i64(batches: &[RecordBatch], name: &str) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name(name)
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

fn column_f64(batches: &[RecordBatch], name: &str) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name(name)
                .unwrap()
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

fn collect(iter: polars_redis::RecordBatchIter) -> Result<Vec<RecordBatch>, Error> {
    iter.collect()
}

fn sorted_search(
    config: &ConnectionConfig,
    index: &str,
    query: &str,
    desc: bool,
) -> HashScanBuilder {
    HashScanBuilder::new(config.clone(), vec![Field::new("n", FieldType::Int64)]).with_search(
        SearchOptions::search(index, SearchQuery::Raw(QueryText::raw(query, vec![])))
            .with_sort_by(vec![("n".into(), desc)]),
    )
}

/// `n` of every document, as an aggregation row (APPLY, no grouping).
fn aggregate_n(config: &ConnectionConfig, index: &str) -> AggregateBuilder {
    AggregateBuilder::new(config.clone(), index, QueryText::raw("*", vec![]).into()).with_apply(
        vec![("@n".into(), "m".into()), ("@n * 2".into(), "twice".into())],
    )
}

/// Per group `g`: the count and the largest `n`, as the server should see them.
fn groups_truth(count: i64) -> Vec<(String, i64, f64)> {
    let mut groups: Vec<(String, i64, f64)> = (0..15)
        .map(|g| {
            let members: Vec<i64> = (1..=count).filter(|i| i % 15 == g).collect();
            (
                format!("g{g}"),
                members.len() as i64,
                *members.iter().max().unwrap() as f64,
            )
        })
        .collect();
    // count descending, then g ascending
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    groups
}

fn groups_aggregate(config: &ConnectionConfig, index: &str) -> AggregateBuilder {
    AggregateBuilder::new(config.clone(), index, QueryText::raw("*", vec![]).into())
        .with_group_by(vec!["g".into()])
        .with_reducers(vec![
            Reducer {
                function: "COUNT".into(),
                args: vec![],
                name: "c".into(),
            },
            Reducer {
                function: "MAX".into(),
                args: vec!["@n".into()],
                name: "top".into(),
            },
        ])
        .with_sort_by(vec![("c".into(), true), ("g".into(), false)])
}

fn column_str(batches: &[RecordBatch], name: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column_by_name(name).unwrap().as_string_view();
            column
                .iter()
                .map(|v| v.expect("a value").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn sorted_searches_keep_every_row() {
    // RediSearch keeps 10 rows of a SORTBY without MAX.
    seed("rs:s:", "rs_s", 5000);
    let config = config();
    let twenty = collect(
        sorted_search(&config, "rs_s", "@n:[1 20]", false)
            .build()
            .unwrap(),
    );
    assert_eq!(
        column_i64(&twenty.unwrap(), "n"),
        (1..=20).collect::<Vec<_>>()
    );
    let all = collect(sorted_search(&config, "rs_s", "*", true).build().unwrap()).unwrap();
    assert_eq!(column_i64(&all, "n"), (1..=5000).rev().collect::<Vec<_>>());
    // A head of a sort: MAX n, the first n rows in order.
    let head = sorted_search(&config, "rs_s", "*", true).with_limit(Some(30));
    assert!(head
        .search_plan()
        .unwrap()
        .steps
        .join(" ")
        .ends_with("SORTBY 2 @n DESC MAX 30"));
    let head = collect(head.build().unwrap()).unwrap();
    assert_eq!(
        column_i64(&head, "n"),
        (4971..=5000).rev().collect::<Vec<_>>()
    );
    // A limit beyond the result reserves nothing on the server for it.
    let huge = sorted_search(&config, "rs_s", "@n:[1 20]", false).with_limit(Some(1 << 40));
    assert!(huge
        .search_plan()
        .unwrap()
        .steps
        .join(" ")
        .ends_with("MAX 5000"));
    let huge = collect(huge.build().unwrap()).unwrap();
    assert_eq!(column_i64(&huge, "n"), (1..=20).collect::<Vec<_>>());
}

#[test]
fn sorted_aggregations_keep_every_row() {
    seed("rs:g:", "rs_g", 5000);
    let config = config();
    // 15 groups, two sort keys (one descending).
    let groups = collect(groups_aggregate(&config, "rs_g").build(None).unwrap()).unwrap();
    let truth = groups_truth(5000);
    assert_eq!(
        column_str(&groups, "g"),
        truth.iter().map(|t| t.0.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        column_i64(&groups, "c"),
        truth.iter().map(|t| t.1).collect::<Vec<_>>()
    );
    assert_eq!(
        column_f64(&groups, "top"),
        truth.iter().map(|t| t.2).collect::<Vec<_>>()
    );
    // 5000 rows sorted descending, and the head of it.
    let rows = aggregate_n(&config, "rs_g").with_sort_by(vec![("m".into(), true)]);
    let all = collect(rows.build(None).unwrap()).unwrap();
    let want: Vec<f64> = (1..=5000).rev().map(f64::from).collect();
    assert_eq!(column_f64(&all, "m"), want);
    // By a computed column; and by a copied one (`APPLY @n AS m`), which
    // RediSearch 2.10 itself would order wrongly.
    let by_twice = aggregate_n(&config, "rs_g").with_sort_by(vec![("twice".into(), true)]);
    let by_twice = collect(by_twice.build(None).unwrap()).unwrap();
    assert_eq!(column_f64(&by_twice, "m"), want);
    let head = collect(rows.clone().with_limit(Some(12)).build(None).unwrap()).unwrap();
    assert_eq!(column_f64(&head, "m"), want[..12].to_vec());
}

#[test]
fn a_sort_beyond_its_first_max_is_asked_again() {
    // More rows than the first MAX (100,000): the cursor asks again with
    // the count the server gave.
    seed("rs:x:", "rs_x", 110_000);
    let sorted = aggregate_n(&config(), "rs_x").with_sort_by(vec![("m".into(), false)]);
    let all = collect(sorted.build(None).unwrap()).unwrap();
    let got = column_f64(&all, "m");
    let first_wrong = got.iter().zip(1..).position(|(&m, i)| m != f64::from(i));
    assert_eq!(
        (got.len(), first_wrong),
        (110_000, None),
        "{:?}",
        first_wrong.map(|i| &got[i.saturating_sub(3)..(i + 3).min(got.len())])
    );
}

#[test]
fn server_caps_are_errors_never_short_results() {
    // Its own server: the caps are server-wide settings.
    let server = RedisServer::stack();
    seed_on(&server, "cap:", "cap", 50);
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let set = |name: &str, value: &str| {
        server.cmd(&["FT.CONFIG", "SET", name, value]).expect_ok();
    };
    set("MAXAGGREGATERESULTS", "12");
    set("MAXSEARCHRESULTS", "12");
    let is_cap_error =
        |err: &Error| err.is_search() && err.to_string().contains("MAXAGGREGATERESULTS");
    // Sorted: 50 rows (or 15 groups) counted, 12 sent: an error.
    let err = collect(sorted_search(&config, "cap", "*", false).build().unwrap()).unwrap_err();
    assert!(is_cap_error(&err), "{err}");
    let err = collect(groups_aggregate(&config, "cap").build(None).unwrap()).unwrap_err();
    assert!(is_cap_error(&err), "{err}");
    // An unsorted LIMIT above the cap: the server refuses, as a search error.
    let err = collect(
        aggregate_n(&config, "cap")
            .with_limit(Some(40))
            .build(None)
            .unwrap(),
    )
    .unwrap_err();
    assert!(is_cap_error(&err), "{err}");
    // Within the cap, or unsorted and unlimited: complete.
    let head = sorted_search(&config, "cap", "*", true).with_limit(Some(5));
    let head = collect(head.build().unwrap()).unwrap();
    assert_eq!(column_i64(&head, "n"), vec![50, 49, 48, 47, 46]);
    let groups = groups_aggregate(&config, "cap").with_sort_by(vec![]);
    assert_eq!(
        column_str(&collect(groups.build(None).unwrap()).unwrap(), "g").len(),
        15
    );
    let plain =
        HashScanBuilder::new(config.clone(), vec![Field::new("n", FieldType::Int64)]).with_search(
            SearchOptions::search("cap", SearchQuery::Raw(QueryText::raw("*", vec![]))),
        );
    let plain = collect(plain.build().unwrap()).unwrap();
    assert_eq!(values(&plain), (1..=50).collect::<Vec<_>>());
    let predicate = r#"{"BinaryExpr":{"left":{"Column":"n"},"op":"Gt","right":{"Literal":{"Scalar":{"Int64":5}}}}}"#;
    let pushed = HashScanBuilder::new(config.clone(), vec![Field::new("n", FieldType::Int64)])
        .with_pattern("cap:*")
        .with_predicate_json(Some(predicate))
        .with_search(SearchOptions::auto());
    assert!(pushed.search_plan().unwrap().index.is_some());
    let pushed = collect(pushed.build().unwrap()).unwrap();
    assert_eq!(values(&pushed), (6..=50).collect::<Vec<_>>());
    set("MAXAGGREGATERESULTS", "-1");
    set("MAXSEARCHRESULTS", "1000000");
    let all = collect(sorted_search(&config, "cap", "*", false).build().unwrap()).unwrap();
    assert_eq!(column_i64(&all, "n"), (1..=50).collect::<Vec<_>>());
}
