//! Stream scans against a real redis-server; ground truth is written with
//! the harness's own RESP client.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int64Type, TimestampMillisecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit as ArrowUnit};
use polars_redis::{ConnectionConfig, Field, FieldType, StreamScanBuilder};
use redis_test_support::{RedisServer, RespValue};

/// Every cell of the batches as text, row by row (`null` for nulls).
fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| cell(column.as_ref(), row))
                    .collect(),
            );
        }
    }
    out
}

fn cell(column: &dyn Array, row: usize) -> String {
    if column.is_null(row) {
        return "null".into();
    }
    match column.data_type() {
        DataType::Utf8View => column.as_string_view().value(row).to_string(),
        DataType::BinaryView => format!("{:?}", column.as_binary_view().value(row)),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt64 => column.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::UInt32 => column.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::Float64 => column.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Timestamp(ArrowUnit::Millisecond, None) => column
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .to_string(),
        other => panic!("no rendering for {other}"),
    }
}

fn config(server: &RedisServer) -> ConnectionConfig {
    ConnectionConfig::from_url(&server.url()).unwrap()
}

fn scan(server: &RedisServer, schema: Vec<Field>) -> StreamScanBuilder {
    StreamScanBuilder::new(config(server), schema)
}

fn collect(builder: StreamScanBuilder) -> polars_redis::Result<Vec<RecordBatch>> {
    builder.build()?.collect()
}

/// Calls of `command` so far, from `INFO commandstats`.
fn calls(server: &RedisServer, command: &str) -> u64 {
    let info = server.cmd(&["INFO", "commandstats"]);
    let text = String::from_utf8_lossy(info.as_bytes().unwrap()).into_owned();
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

fn xadd(server: &RedisServer, key: &str, id: &str, fields: &[&str]) {
    let mut args = vec!["XADD", key, id];
    args.extend_from_slice(fields);
    let reply = server.cmd(&args);
    assert_eq!(reply, RespValue::bulk(id), "XADD {key} {id}");
}

#[test]
fn reads_entries_with_id_parts_and_typed_fields() {
    let server = RedisServer::plain();
    xadd(
        &server,
        "s:1",
        "5-1",
        &["name", "a", "n", "1", "n", "2", "extra", "x"],
    );
    xadd(&server, "s:1", "5-3", &["name", "b"]);
    xadd(&server, "s:2", "7-0", &["n", "-4", "raw", "\u{1}"]);
    server.cmd(&["HSET", "s:hash", "name", "h"]).expect_ok();
    server.cmd(&["SET", "s:string", "x"]).expect_ok();
    let schema = vec![
        Field::new("name", FieldType::Utf8),
        Field::new("n", FieldType::Int64),
        Field::new("raw", FieldType::Binary),
    ];
    let batches = collect(
        scan(&server, schema)
            .with_pattern("s:*")
            .with_sequence_column(Some("_seq")),
    )
    .unwrap();
    let schema = batches[0].schema();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["_key", "_id", "_ts", "_seq", "name", "n", "raw"]);
    let mut got = rows(&batches);
    got.sort();
    assert_eq!(
        got,
        [
            ["s:1", "5-1", "5", "1", "a", "2", "null"],
            ["s:1", "5-3", "5", "3", "b", "null", "null"],
            ["s:2", "7-0", "7", "0", "null", "-4", "[1]"],
        ]
    );
    // SCAN ... TYPE stream: the hash and the string were never probed.
    assert_eq!(calls(&server, "xlen"), 2);
    assert_eq!(calls(&server, "hgetall") + calls(&server, "get"), 0);
}

#[test]
fn pages_long_streams_keeping_rows_grouped_and_ordered() {
    let server = RedisServer::plain();
    let lengths = [0usize, 1, 99, 100, 101, 250, 3, 1000];
    let mut expected = Vec::new();
    for (k, &len) in lengths.iter().enumerate() {
        let key = format!("long:{k}");
        if len == 0 {
            // An emptied stream still exists, with no entries.
            xadd(&server, &key, "1-1", &["i", "0"]);
            server.cmd(&["XDEL", &key, "1-1"]);
            continue;
        }
        let commands: Vec<Vec<String>> = (0..len)
            .map(|i| {
                let id = format!("{}-{}", 1000 + i / 3, i % 3);
                expected.push(vec![key.clone(), id.clone(), i.to_string()]);
                vec!["XADD".into(), key.clone(), id, "i".into(), i.to_string()]
            })
            .collect();
        for reply in server.pipeline(&commands) {
            assert!(!reply.is_error(), "{reply:?}");
        }
    }
    let before = calls(&server, "xrange");
    let batches = collect(
        scan(&server, vec![Field::new("i", FieldType::Int64)])
            .with_keys((0..lengths.len()).map(|k| format!("long:{k}")))
            .with_timestamp_column(None)
            .with_batch_size(100),
    )
    .unwrap();
    assert!(batches.iter().all(|b| b.num_rows() <= 100));
    assert_eq!(rows(&batches), expected);
    // Streams of fewer than 100 entries share pipelines and need one reply
    // each; longer ones are read 100 entries at a time (a full last page
    // costs one more, empty, reply).
    let full_pages: usize = lengths.iter().map(|&n| n / 100).sum();
    let xranges = calls(&server, "xrange") - before;
    assert!(
        (full_pages as u64..=(full_pages + lengths.len()) as u64).contains(&xranges),
        "{xranges} XRANGE calls"
    );
}

#[test]
fn explicit_keys_missing_and_wrong_type() {
    let server = RedisServer::plain();
    xadd(&server, "a", "1-1", &["v", "x"]);
    server.cmd(&["HSET", "h", "v", "y"]).expect_ok();
    let schema = vec![Field::new("v", FieldType::Utf8)];
    let batches = collect(scan(&server, schema.clone()).with_keys(["nope", "a", "a"])).unwrap();
    assert_eq!(rows(&batches), [["a", "1-1", "1", "x"]]);

    let err = collect(scan(&server, schema.clone()).with_keys(["a", "h"])).unwrap_err();
    assert!(err.is_wrong_type(), "{err}");
    assert_eq!(err.to_string(), "key \"h\" holds a hash, not a stream");
    // Found by a pattern, the hash is never fetched.
    let batches = collect(scan(&server, schema).with_pattern("*")).unwrap();
    assert_eq!(rows(&batches).len(), 1);
}

#[test]
fn strictness_names_key_field_value_and_entry() {
    let server = RedisServer::plain();
    xadd(&server, "m", "3-0", &["n", "1"]);
    xadd(&server, "m", "4-0", &["n", "four"]);
    let schema = vec![Field::new("n", FieldType::Int64)];
    let err = collect(scan(&server, schema.clone()).with_keys(["m"])).unwrap_err();
    assert!(err.is_parse(), "{err}");
    assert_eq!(
        err.to_string(),
        "key \"m\", field `n`: cannot parse \"four\" as Int64 (entry 4-0)"
    );
    let batches = collect(scan(&server, schema).with_keys(["m"]).with_strict(false)).unwrap();
    assert_eq!(
        rows(&batches),
        [["m", "3-0", "3", "1"], ["m", "4-0", "4", "null"]]
    );
}

#[test]
fn id_ranges_counts_limits_and_projection() {
    let server = RedisServer::plain();
    for key in ["r:1", "r:2"] {
        for ms in 1..=9 {
            xadd(&server, key, &format!("{ms}-0"), &["v", &ms.to_string()]);
            xadd(&server, key, &format!("{ms}-1"), &["v", &ms.to_string()]);
        }
    }
    let ids = |batches: &[RecordBatch]| -> Vec<String> {
        rows(batches).into_iter().map(|r| r.join(" ")).collect()
    };
    let base = scan(&server, vec![Field::new("v", FieldType::Int64)])
        .with_keys(["r:1", "r:2"])
        .with_projection(["_key", "_id"])
        .with_batch_size(2);
    let range = collect(base.clone().with_id_range("(3-0", "(5")).unwrap();
    assert_eq!(
        ids(&range),
        [
            "r:1 3-1", "r:1 4-0", "r:1 4-1", "r:1 5-0", "r:1 5-1", "r:2 3-1", "r:2 4-0", "r:2 4-1",
            "r:2 5-0", "r:2 5-1"
        ]
    );
    let counted = collect(
        base.clone()
            .with_id_range("7", "+")
            .with_count_per_stream(Some(3)),
    )
    .unwrap();
    assert_eq!(
        ids(&counted),
        ["r:1 7-0", "r:1 7-1", "r:1 8-0", "r:2 7-0", "r:2 7-1", "r:2 8-0"]
    );
    // The limit counts rows, not keys, and stops reading early: pages of 2
    // entries, the second asking for the 1 row left.
    let before = calls(&server, "xrange");
    let limited = collect(base.clone().with_limit(Some(3))).unwrap();
    assert_eq!(ids(&limited), ["r:1 1-0", "r:1 1-1", "r:1 2-0"]);
    assert_eq!(calls(&server, "xrange") - before, 2);
    let err = collect(base.clone().with_id_range("x", "+")).unwrap_err();
    assert!(
        err.is_invalid_input() && err.to_string().contains("start_id"),
        "{err}"
    );
    let err = collect(base.with_count_per_stream(Some(0))).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
}

#[test]
fn timestamp_predicates_narrow_the_xrange_bounds() {
    let server = RedisServer::plain();
    let commands: Vec<Vec<String>> = (1..=5000)
        .map(|i| {
            vec![
                "XADD".into(),
                "big".into(),
                format!("{i}-0"),
                "i".into(),
                i.to_string(),
            ]
        })
        .collect();
    assert!(server.pipeline(&commands).iter().all(|r| !r.is_error()));
    // 100 <= _ts < 150
    let predicate = r#"{"BinaryExpr":{"left":{"BinaryExpr":{"left":{"Column":"_ts"},"op":"GtEq","right":{"Literal":{"Dyn":{"Int":100}}}}},"op":"LogicalAnd","right":{"BinaryExpr":{"left":{"Literal":{"Dyn":{"Int":150}}},"op":"Gt","right":{"Column":"_ts"}}}}}"#;
    let before = calls(&server, "xrange");
    let batches = collect(
        scan(&server, vec![Field::new("i", FieldType::Int64)])
            .with_keys(["big"])
            .with_batch_size(1000)
            .with_predicate_json(Some(predicate)),
    )
    .unwrap();
    let got: Vec<String> = rows(&batches).into_iter().map(|r| r[3].clone()).collect();
    let want: Vec<String> = (100..150).map(|i: i32| i.to_string()).collect();
    assert_eq!(got, want);
    assert_eq!(calls(&server, "xrange") - before, 1);
    // With a row index the predicate is not pushed (the index numbers every row).
    let batches = collect(
        scan(&server, vec![Field::new("i", FieldType::Int64)])
            .with_keys(["big"])
            .with_row_index_column(Some("_index"))
            .with_predicate_json(Some(predicate)),
    )
    .unwrap();
    assert_eq!(rows(&batches).len(), 5000);
}

#[test]
fn a_stream_deleted_or_retyped_mid_read() {
    let server = RedisServer::plain();
    let seed = || {
        let commands: Vec<Vec<String>> = (1..=5000)
            .map(|i| {
                vec![
                    "XADD".into(),
                    "mid".into(),
                    format!("{i}-0"),
                    "i".into(),
                    i.to_string(),
                ]
            })
            .collect();
        server.cmd(&["DEL", "mid"]);
        assert!(server.pipeline(&commands).iter().all(|r| !r.is_error()));
    };
    // (listed by the user, what happens to the key, error expected)
    for (listed, retype, fails) in [
        (true, false, false),
        (false, false, false),
        (false, true, false),
        (true, true, true),
    ] {
        seed();
        let builder = scan(&server, vec![Field::new("i", FieldType::Int64)])
            .with_batch_size(10)
            .with_parallelism(1);
        let builder = match listed {
            true => builder.with_keys(["mid"]),
            false => builder.with_pattern("mid"),
        };
        let mut iter = builder.build().unwrap();
        assert_eq!(iter.next().unwrap().unwrap().num_rows(), 10);
        match retype {
            false => assert_eq!(server.cmd(&["DEL", "mid"]), RespValue::Integer(1)),
            true => {
                // Atomically: a read never sees the key missing in between.
                server.cmd(&["SET", "tmp", "now a string"]).expect_ok();
                server.cmd(&["RENAME", "tmp", "mid"]).expect_ok();
            }
        }
        let rest: polars_redis::Result<Vec<RecordBatch>> = iter.collect();
        match rest {
            Ok(rest) => {
                assert!(!fails, "listed {listed}, retyped {retype}: no error");
                let more: usize = rest.iter().map(RecordBatch::num_rows).sum();
                assert!(more < 100, "{more} more rows");
            }
            Err(err) => {
                assert!(fails && err.is_wrong_type(), "{err}");
                assert_eq!(err.to_string(), "key \"mid\" holds a string, not a stream");
            }
        }
    }
}
