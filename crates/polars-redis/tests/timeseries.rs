//! Time series scans against Redis Stack (RedisTimeSeries); ground truth is
//! written and queried with the harness's own RESP client.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use polars_redis::{Aggregation, ConnectionConfig, TimeSeriesScanBuilder};
use redis_test_support::{RedisServer, RespValue};

/// `(key, timestamp, value, labels...)` per row; labels `None` when null.
type Row = (String, i64, f64, Vec<Option<String>>);

fn rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = Vec::new();
    for batch in batches {
        let keys = batch.column(0).as_string_view();
        let ts = batch.column(1).as_primitive::<TimestampMillisecondType>();
        let values = batch.column(2).as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let labels = batch.columns()[3..]
                .iter()
                .map(|c| {
                    let c = c.as_string_view();
                    (!c.is_null(row)).then(|| c.value(row).to_string())
                })
                .collect();
            out.push((
                keys.value(row).to_string(),
                ts.value(row),
                values.value(row),
                labels,
            ));
        }
    }
    out
}

fn scan(server: &RedisServer) -> TimeSeriesScanBuilder {
    TimeSeriesScanBuilder::new(ConnectionConfig::from_url(&server.url()).unwrap())
}

fn collect(builder: TimeSeriesScanBuilder) -> polars_redis::Result<Vec<RecordBatch>> {
    builder.build()?.collect()
}

/// `TS.RANGE` (or any sample-list reply) as `(timestamp, value)` pairs.
fn samples(reply: RespValue) -> Vec<(i64, f64)> {
    reply
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {reply:?}"))
        .iter()
        .map(|pair| {
            let pair = pair.as_array().unwrap();
            let value = match &pair[1] {
                RespValue::Simple(text) => text.parse().unwrap(),
                RespValue::Double(value) => *value,
                other => panic!("{other:?}"),
            };
            (pair[0].as_int().unwrap(), value)
        })
        .collect()
}

/// The value of sample `i` of a seeded series: a trend with some jitter,
/// so that the aggregations differ.
fn value(i: usize) -> f64 {
    i as f64 * 0.5 + ((i * 7919) % 13) as f64
}

/// A series of `n` samples every 7 ms from 1000, valued by [`value`], with labels.
fn seed(server: &RedisServer, key: &str, n: usize, labels: &[&str]) {
    let mut create = vec!["TS.CREATE", key];
    if !labels.is_empty() {
        create.push("LABELS");
        create.extend_from_slice(labels);
    }
    server.cmd(&create).expect_ok();
    let commands: Vec<Vec<String>> = (0..n)
        .map(|i| {
            vec![
                "TS.ADD".into(),
                key.into(),
                (1000 + 7 * i).to_string(),
                value(i).to_string(),
            ]
        })
        .collect();
    for reply in server.pipeline(&commands) {
        assert!(!reply.is_error(), "{reply:?}");
    }
}

#[test]
fn reads_samples_and_labels_by_pattern_skipping_other_types() {
    let server = RedisServer::stack();
    seed(&server, "ts:a", 3, &["sensor", "temp", "room", "kitchen"]);
    seed(&server, "ts:b", 2, &["sensor", "hum"]);
    server.cmd(&["HSET", "ts:hash", "x", "1"]).expect_ok();
    server.cmd(&["XADD", "ts:stream", "1-1", "x", "1"]);
    let batches = collect(
        scan(&server)
            .with_pattern("ts:*")
            .with_labels(["room", "sensor"]),
    )
    .unwrap();
    let mut got = rows(&batches);
    got.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let some = |s: &str| Some(s.to_string());
    let a = vec![some("kitchen"), some("temp")];
    let b = vec![None, some("hum")];
    let expected: Vec<Row> = vec![
        ("ts:a".into(), 1000, value(0), a.clone()),
        ("ts:a".into(), 1007, value(1), a.clone()),
        ("ts:a".into(), 1014, value(2), a),
        ("ts:b".into(), 1000, value(0), b.clone()),
        ("ts:b".into(), 1007, value(1), b),
    ];
    assert_ne!(value(1), value(2));
    assert_eq!(got, expected);
}

#[test]
fn long_series_are_paged_and_match_ts_range() {
    let server = RedisServer::stack();
    seed(&server, "long", 2500, &[]);
    seed(&server, "short", 5, &[]);
    let batches = collect(
        scan(&server)
            .with_keys(["long", "short"])
            .with_batch_size(100),
    )
    .unwrap();
    assert!(batches.iter().all(|b| b.num_rows() <= 100));
    let got: Vec<(String, i64, f64)> = rows(&batches)
        .into_iter()
        .map(|(k, t, v, _)| (k, t, v))
        .collect();
    let mut expected = Vec::new();
    for key in ["long", "short"] {
        let truth = samples(server.cmd(&["TS.RANGE", key, "-", "+"]));
        expected.extend(truth.into_iter().map(|(t, v)| (key.to_string(), t, v)));
    }
    assert_eq!(got.len(), 2505);
    assert_eq!(got, expected);
}

#[test]
fn paged_aggregations_equal_one_ts_range_aggregation() {
    let server = RedisServer::stack();
    seed(&server, "agg", 1500, &[]);
    for name in [
        "avg", "sum", "min", "max", "count", "first", "last", "range", "std.p", "std.s", "var.p",
        "var.s", "twa",
    ] {
        // An unaligned start; buckets of 50 ms hold about 7 samples; pages of 16 buckets.
        let truth =
            samples(server.cmd(&["TS.RANGE", "agg", "1234", "9000", "AGGREGATION", name, "50"]));
        let batches = collect(
            scan(&server)
                .with_keys(["agg"])
                .with_range(Some(1234), Some(9000))
                .with_aggregation(Aggregation::from_name(name).unwrap(), 50)
                .with_batch_size(16),
        )
        .unwrap();
        let got: Vec<(i64, f64)> = rows(&batches)
            .into_iter()
            .map(|(_, t, v, _)| (t, v))
            .collect();
        assert!(truth.len() > 100, "{name}: {} buckets", truth.len());
        assert_eq!(got, truth, "{name}");
    }
}

#[test]
fn label_filter_selects_the_queryindex_keys() {
    let server = RedisServer::stack();
    seed(&server, "f:1", 2, &["sensor", "temp", "room", "a"]);
    seed(&server, "f:2", 2, &["sensor", "temp", "room", "b"]);
    seed(&server, "f:3", 2, &["sensor", "temp", "room", "c"]);
    seed(&server, "f:4", 2, &["sensor", "hum", "room", "a"]);
    let filter = ["sensor=temp", "room=(a,b)"];
    let mut truth: Vec<String> = server
        .cmd(&["TS.QUERYINDEX", filter[0], filter[1]])
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    truth.sort();
    assert_eq!(truth, ["f:1", "f:2"]);
    let batches = collect(scan(&server).with_filter(filter)).unwrap();
    let mut keys: Vec<String> = rows(&batches).into_iter().map(|r| r.0).collect();
    keys.dedup();
    keys.sort();
    assert_eq!(keys, truth);
    let err = collect(scan(&server).with_filter(["room!=a"])).unwrap_err();
    assert!(
        err.is_server() && err.to_string().contains("TS.QUERYINDEX"),
        "{err}"
    );
}

#[test]
fn explicit_keys_missing_and_wrong_type() {
    let server = RedisServer::stack();
    seed(&server, "k", 2, &[]);
    server.cmd(&["SET", "str", "x"]).expect_ok();
    let batches = collect(scan(&server).with_keys(["gone", "k"])).unwrap();
    assert_eq!(rows(&batches).len(), 2);
    let err = collect(scan(&server).with_keys(["k", "str"])).unwrap_err();
    assert!(err.is_wrong_type(), "{err}");
    assert_eq!(
        err.to_string(),
        "key \"str\" holds a string, not a time series (TSDB-TYPE)"
    );
}

#[test]
fn a_series_deleted_mid_read_ends_without_error() {
    let server = RedisServer::stack();
    seed(&server, "del", 5000, &[]);
    for keys in [vec!["del"], vec![]] {
        let mut builder = scan(&server).with_batch_size(10).with_parallelism(1);
        builder = match keys.is_empty() {
            true => builder.with_pattern("del"),
            false => builder.with_keys(keys),
        };
        let mut iter = builder.build().unwrap();
        let first = iter.next().unwrap().unwrap();
        assert_eq!(first.num_rows(), 10);
        // Gone between two pages: the read of this key just ends.
        server.cmd(&["DEL", "del"]);
        let rest: Vec<RecordBatch> = iter.collect::<Result<_, _>>().unwrap();
        let total = 10 + rest.iter().map(RecordBatch::num_rows).sum::<usize>();
        assert!(total < 100, "{total} rows");
        seed(&server, "del", 5000, &[]);
    }
}

#[test]
fn a_key_that_changes_type_mid_read_is_skipped_or_reported() {
    let server = RedisServer::stack();
    for listed in [false, true] {
        server.cmd(&["DEL", "chg"]);
        seed(&server, "chg", 5000, &[]);
        let builder = scan(&server).with_batch_size(10).with_parallelism(1);
        let builder = match listed {
            true => builder.with_keys(["chg"]),
            false => builder.with_pattern("chg"),
        };
        let mut iter = builder.build().unwrap();
        iter.next().unwrap().unwrap();
        // Atomically: a read never sees the key missing in between.
        server.cmd(&["SET", "tmp", "now a string"]).expect_ok();
        server.cmd(&["RENAME", "tmp", "chg"]).expect_ok();
        let rest: Result<Vec<RecordBatch>, _> = iter.collect();
        match listed {
            false => assert!(rest.is_ok(), "{rest:?}"),
            true => assert!(rest.unwrap_err().is_wrong_type()),
        }
    }
}
