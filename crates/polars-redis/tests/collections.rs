//! The string, set, list and sorted-set builders against a real server,
//! with ground truth written and read by the test harness's own RESP client.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use polars_redis::{
    Bound, ConnectionConfig, Error, FieldType, ListScanBuilder, SetScanBuilder, StringScanBuilder,
    ValueRange, ZsetScanBuilder,
};
use redis_test_support::{RedisServer, RespValue};

fn config(server: &RedisServer) -> ConnectionConfig {
    ConnectionConfig::from_url(&server.url()).unwrap()
}

/// Every batch of a scan, each checked against the declared schema.
fn batches(reader: polars_redis::RecordBatchIter) -> Result<Vec<RecordBatch>, Error> {
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    for batch in &batches {
        assert_eq!(batch.schema(), schema);
    }
    Ok(batches)
}

/// One text column of all batches (nulls as `None`).
fn texts(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let array = b.column_by_name(column).unwrap().as_string_view().clone();
            (0..array.len())
                .map(|i| array.is_valid(i).then(|| array.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One primitive column of all batches.
fn values<T: ArrowPrimitiveType>(batches: &[RecordBatch], column: &str) -> Vec<T::Native> {
    batches
        .iter()
        .flat_map(|b| {
            let array = b.column_by_name(column).unwrap();
            array.as_primitive::<T>().values().to_vec()
        })
        .collect()
}

fn bulk_list(value: RespValue) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn strings_by_pattern_and_by_keys() {
    let server = RedisServer::plain();
    for i in 0..120 {
        server.cmd(&["SET".to_string(), format!("n:{i}"), format!("{}", i * 3)]);
    }
    server.cmd(&["RPUSH", "n:list", "1"]);
    server.cmd(&["HSET", "n:hash", "f", "1"]);
    let scan = StringScanBuilder::new(config(&server))
        .with_value("n", FieldType::Int64)
        .with_pattern("n:*")
        .with_batch_size(50);
    let found = batches(scan.clone().build().unwrap()).unwrap();
    let pairs: BTreeMap<String, i64> = texts(&found, "_key")
        .into_iter()
        .map(Option::unwrap)
        .zip(values::<Int64Type>(&found, "n"))
        .collect();
    let truth: BTreeMap<String, i64> = (0..120).map(|i| (format!("n:{i}"), i * 3)).collect();
    assert_eq!(pairs, truth);

    let listed = scan
        .clone()
        .with_keys(["n:7", "gone", "n:2"])
        .build()
        .unwrap();
    let listed = batches(listed).unwrap();
    assert_eq!(values::<Int64Type>(&listed, "n"), vec![21, 6]);

    let err = batches(scan.clone().with_keys(["n:1", "n:list"]).build().unwrap()).unwrap_err();
    assert!(err.is_wrong_type(), "{err}");
    assert_eq!(err.to_string(), "key \"n:list\" holds a list, not a string");

    server.cmd(&["SET", "n:bad", "twelve"]);
    let err = batches(scan.clone().build().unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "key \"n:bad\", field `n`: cannot parse \"twelve\" as Int64"
    );
    let lenient = batches(
        scan.with_strict(false)
            .with_limit(Some(130))
            .build()
            .unwrap(),
    )
    .unwrap();
    let rows: usize = lenient.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 121);
}

#[test]
fn large_sets_page_without_repeats_and_limit_counts_rows() {
    let server = RedisServer::plain();
    let mut sadd = vec!["SADD".to_string(), "big".to_string()];
    sadd.extend((0..3000).map(|i| format!("member-{i}")));
    server.cmd(&sadd);
    server.cmd(&["SADD", "small", "a", "b"]);
    let scan = SetScanBuilder::new(config(&server))
        .with_member("m", FieldType::Utf8)
        .with_batch_size(100);
    let all = batches(scan.clone().build().unwrap()).unwrap();
    assert!(all.iter().all(|b| b.num_rows() < 200));
    let mut got: Vec<(String, String)> = texts(&all, "_key")
        .into_iter()
        .zip(texts(&all, "m"))
        .map(|(k, m)| (k.unwrap(), m.unwrap()))
        .collect();
    got.sort();
    let mut truth: Vec<(String, String)> = ["big", "small"]
        .iter()
        .flat_map(|k| {
            bulk_list(server.cmd(&["SMEMBERS", k]))
                .into_iter()
                .map(move |m| (k.to_string(), m))
        })
        .collect();
    truth.sort();
    assert_eq!(got, truth);

    let limited = batches(scan.with_limit(Some(150)).build().unwrap()).unwrap();
    assert_eq!(
        limited.iter().map(RecordBatch::num_rows).sum::<usize>(),
        150
    );
}

#[test]
fn lists_keep_order_and_positions_across_pages() {
    let server = RedisServer::plain();
    let mut rpush = vec!["RPUSH".to_string(), "l".to_string()];
    rpush.extend((0..1234).map(|i| format!("e{i}")));
    server.cmd(&rpush);
    server.cmd(&["RPUSH", "short", "x", "y"]);
    server.cmd(&["SET", "plain", "v"]);
    let scan = ListScanBuilder::new(config(&server))
        .with_position_column(Some("pos"))
        .with_keys(["short", "l", "missing"])
        .with_batch_size(100);
    let all = batches(scan.clone().build().unwrap()).unwrap();
    let mut truth = vec![Some("x".to_string()), Some("y".to_string())];
    truth.extend(
        bulk_list(server.cmd(&["LRANGE", "l", "0", "-1"]))
            .into_iter()
            .map(Some),
    );
    assert_eq!(texts(&all, "element"), truth);
    let positions: Vec<i64> = (0..2).chain(0..1234).collect();
    assert_eq!(values::<Int64Type>(&all, "pos"), positions);

    // Projection: only the position column; and a limit inside one key.
    let projected = scan.clone().with_projection(["pos"]).with_limit(Some(5));
    let projected = batches(projected.build().unwrap()).unwrap();
    assert_eq!(projected[0].num_columns(), 1);
    assert_eq!(values::<Int64Type>(&projected, "pos"), vec![0, 1, 0, 1, 2]);

    let err = batches(scan.with_keys(["l", "plain"]).build().unwrap()).unwrap_err();
    assert_eq!(err.to_string(), "key \"plain\" holds a string, not a list");
}

#[test]
fn zset_score_ranges_match_zrangebyscore() {
    let server = RedisServer::plain();
    let mut zadd = vec!["ZADD".to_string(), "z".to_string()];
    for i in 0..900 {
        // Long runs of equal scores, so pages continue inside a tie.
        zadd.push(format!("{}", i / 150));
        zadd.push(format!("m{i:03}"));
    }
    zadd.extend(["+inf", "top", "-inf", "bottom"].map(String::from));
    server.cmd(&zadd);
    let scan = ZsetScanBuilder::new(config(&server)).with_batch_size(64);
    let bound = |value, inclusive| Some(Bound { value, inclusive });
    let cases = [
        (bound(1.0, true), bound(3.0, false), "1", "(3"),
        (bound(2.0, false), None, "(2", "+inf"),
        (None, bound(0.0, true), "-inf", "0"),
        (bound(4.0, true), bound(4.0, true), "4", "4"),
    ];
    for (lower, upper, min, max) in cases {
        let range = ValueRange {
            lower,
            upper,
            empty: false,
        };
        let got = batches(scan.clone().with_score_range(range).build().unwrap()).unwrap();
        let truth = bulk_list(server.cmd(&["ZRANGE", "z", min, max, "BYSCORE", "WITHSCORES"]));
        let members: Vec<String> = truth.iter().step_by(2).cloned().collect();
        let scores: Vec<f64> = truth
            .iter()
            .skip(1)
            .step_by(2)
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            texts(&got, "member"),
            members.into_iter().map(Some).collect::<Vec<_>>()
        );
        assert_eq!(values::<Float64Type>(&got, "score"), scores, "{min} {max}");
    }

    // With a rank column the range is not pushed: ranks are over the whole set.
    let ranked = scan
        .clone()
        .with_rank_column(Some("rank"))
        .with_score_range(ValueRange {
            lower: bound(5.0, true),
            ..ValueRange::default()
        });
    let ranked = batches(ranked.build().unwrap()).unwrap();
    assert_eq!(
        values::<Int64Type>(&ranked, "rank"),
        (0..902).collect::<Vec<_>>()
    );
    assert_eq!(
        values::<Float64Type>(&ranked, "score")[0],
        f64::NEG_INFINITY
    );

    let empty = ValueRange {
        empty: true,
        ..ValueRange::default()
    };
    let nothing = batches(scan.with_score_range(empty).build().unwrap()).unwrap();
    assert_eq!(nothing.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}
