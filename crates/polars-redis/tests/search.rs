//! The RediSearch path of the core against a real Redis Stack server.
//! Ground truth is written with the harness's own RESP client.

use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::RecordBatch;
use polars_redis::search::{IndexOn, QueryText, SearchOptions, SearchQuery};
use polars_redis::{ConnectionConfig, Error, Field, FieldType, HashScanBuilder};
use redis_test_support::{RedisServer, RespValue};

fn server() -> &'static RedisServer {
    RedisServer::shared_stack()
}

fn config() -> ConnectionConfig {
    ConnectionConfig::from_url(&server().url()).expect("valid url")
}

/// Seed `count` hashes `{prefix}{i}` with `n = i` and index them.
fn seed(prefix: &str, index: &str, count: usize) {
    let script = format!("for i=1,{count} do redis.call('HSET','{prefix}'..i,'n',i) end");
    server().cmd(&["EVAL", &script, "0"]).expect_ok();
    server()
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
        ])
        .expect_ok();
    let info = polars_redis::search::index_info(&config(), index).unwrap();
    assert_eq!(info.on, IndexOn::Hash);
    let deadline = Instant::now() + Duration::from_secs(30);
    while polars_redis::search::index_info(&config(), index)
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
