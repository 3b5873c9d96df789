//! Warnings of scans that ran to their end (`RecordBatchIter::warnings`),
//! against real servers; ground truth written with the harness's RESP client.

use polars_redis::{
    infer_hash_schema, infer_stream_schema, ConnectionConfig, Error, Field, FieldType,
    HashScanBuilder, InferOptions, ScanWarning, StreamScanBuilder,
};
use redis_test_support::RedisServer;

fn config(server: &RedisServer) -> ConnectionConfig {
    ConnectionConfig::from_url(&server.url()).unwrap()
}

fn seed_users(server: &RedisServer, n: usize) {
    for i in 0..n {
        server.cmd(&[
            "HSET",
            &format!("u:{i}"),
            "name",
            "x",
            "age",
            &i.to_string(),
        ]);
    }
}

/// Rows read and the warnings given, after the last batch.
fn read_all(mut iter: polars_redis::RecordBatchIter) -> (usize, Vec<ScanWarning>) {
    let rows = iter.by_ref().map(|b| b.unwrap().num_rows()).sum();
    (rows, iter.warnings())
}

#[test]
fn a_field_in_no_key_warns_with_the_closest_names() {
    let server = RedisServer::plain();
    seed_users(&server, 30);
    let schema = vec![
        Field::new("name", FieldType::Utf8),
        Field::new("agee", FieldType::Int64),
    ];
    let scan = HashScanBuilder::new(config(&server), schema).with_pattern("u:*");
    let (rows, warnings) = read_all(scan.clone().build().unwrap());
    assert_eq!(rows, 30);
    assert_eq!(warnings.len(), 1);
    let ScanWarning::FieldNotFound { field, closest, .. } = &warnings[0] else {
        panic!("{warnings:?}");
    };
    assert_eq!((field.as_str(), closest[0].as_str()), ("agee", "age"));
    assert_eq!(
        warnings[0].to_string(),
        "field `agee` was found in no hash read, so its column is all null; \
         closest field names seen: `age`, `name`"
    );
    // A scan stopped by its row limit saw only some keys: no warning.
    let (rows, warnings) = read_all(scan.with_limit(Some(5)).build().unwrap());
    assert_eq!((rows, warnings.len()), (5, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_over_another_type_warns_on_async_streams_too() {
    let server = RedisServer::plain();
    for i in 0..3 {
        server.cmd(&["XADD", &format!("events:{i}"), "*", "user", "u"]);
    }
    let mut stream =
        HashScanBuilder::new(config(&server), vec![Field::new("user", FieldType::Utf8)])
            .with_pattern("events:*")
            .build_stream()
            .unwrap();
    assert!(stream.next_batch().await.is_none());
    let warnings = stream.warnings();
    let [ScanWarning::OtherTypes {
        pattern,
        redis_type,
        found,
        ..
    }] = warnings.as_slice()
    else {
        panic!("{warnings:?}");
    };
    assert_eq!(
        (pattern.as_bytes(), *redis_type, found.as_slice()),
        (&b"events:*"[..], "hash", &["stream".to_string()][..])
    );
    // The streams read as streams: no warning.
    let schema = vec![Field::new("user", FieldType::Utf8)];
    let mut stream = StreamScanBuilder::new(config(&server), schema)
        .with_pattern("events:*")
        .build_stream()
        .unwrap();
    let mut rows = 0;
    while let Some(batch) = stream.next_batch().await {
        rows += batch.unwrap().num_rows();
    }
    assert_eq!((rows, stream.warnings()), (3, vec![]));
}

#[test]
fn inference_raises_what_a_read_raises_for_keys_the_user_may_not_read() {
    let server = RedisServer::plain();
    seed_users(&server, 3);
    server.cmd(&["HSET", "app:1", "n", "1"]);
    server.cmd(&["XADD", "app:s", "*", "n", "1"]);
    server.cmd(&["XADD", "other:s", "*", "n", "1"]);
    let rules = [
        "ACL",
        "SETUSER",
        "app",
        "reset",
        "on",
        ">app-Pa55",
        "~app:*",
        "+@read",
    ];
    server.cmd(&rules);
    let url = format!("redis://app:app-Pa55@127.0.0.1:{}", server.port());
    let config = ConnectionConfig::from_url(&url).unwrap();
    let options = InferOptions::default();
    let read = HashScanBuilder::new(config.clone(), vec![Field::new("n", FieldType::Int64)])
        .build()
        .unwrap()
        .find_map(Result::err)
        .unwrap();
    let inferred = infer_hash_schema(&config, b"*", &options).unwrap_err();
    for err in [&read, &inferred] {
        assert!(
            matches!(err, Error::Server { message, .. } if message.starts_with("NOPERM")),
            "{err}"
        );
    }
    let streams = infer_stream_schema(&config, b"*", &options).unwrap_err();
    assert!(matches!(&streams, Error::Server { message, .. } if message.starts_with("NOPERM")));
    let allowed = infer_stream_schema(&config, b"app:*", &options).unwrap();
    assert_eq!(allowed.schema(), vec![Field::new("n", FieldType::Int64)]);
    server.cmd(&["ACL", "DELUSER", "app"]);
}

#[test]
fn stream_inference_samples_both_ends_once() {
    let server = RedisServer::plain();
    for i in 1..=120 {
        let id = format!("{i}-0");
        let mut args = vec!["XADD", "s", &id, "n"];
        let n = i.to_string();
        args.push(&n);
        if i > 110 {
            args.extend(["late", "2024-01-02"]);
        }
        server.cmd(&args);
    }
    server.cmd(&["XADD", "short", "1-0", "n", "1"]);
    let inferred = infer_stream_schema(&config(&server), b"*", &InferOptions::default()).unwrap();
    assert_eq!(inferred.sample_count, 2);
    assert_eq!(
        inferred.schema(),
        vec![
            Field::new("late", FieldType::Date),
            Field::new("n", FieldType::Int64)
        ]
    );
    // 50 first + 50 last of the long stream, and the short stream's one entry.
    assert_eq!(inferred.fields[1].present, 101);
    assert_eq!(inferred.fields[0].present, 10);
}
