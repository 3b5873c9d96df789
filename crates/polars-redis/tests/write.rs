//! The Rust write API against real servers; ground truth read with the
//! harness's own RESP client.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field as ArrowField, Schema};
use polars_redis::{
    ConnectionConfig, Field, FieldType, HashScanBuilder, HashWriteBuilder, IfExists,
    SetWriteBuilder,
};
use redis_test_support::{RedisServer, RespValue};

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, array)| ArrowField::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap()
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

#[test]
fn hashes_round_trip_through_the_scan() {
    let server = RedisServer::plain();
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let first = batch(vec![
        ("id", strings(&[Some("1"), Some("2")])),
        ("name", strings(&[Some("Ann"), None])),
        ("score", Arc::new(Float64Array::from(vec![0.1, -2.5e-8]))),
    ]);
    let second = batch(vec![
        ("id", strings(&[Some("3")])),
        ("name", strings(&[Some("Cy")])),
        ("score", Arc::new(Float64Array::from(vec![f64::MAX]))),
    ]);
    let result = HashWriteBuilder::new(config.clone())
        .with_key_column(Some("id"))
        .with_key_prefix("user:")
        .with_ttl(Some(Duration::from_secs(100)))
        .with_batch_size(1)
        .write(vec![first, second])
        .unwrap();
    assert_eq!(
        (result.rows, result.written, result.keys_written),
        (3, 3, 3)
    );
    assert_eq!(
        server.cmd(&["HGET", "user:1", "score"]),
        RespValue::bulk("0.1")
    );
    assert_eq!(server.cmd(&["HEXISTS", "user:2", "name"]).as_int(), Some(0));
    let ttl = server.cmd(&["TTL", "user:3"]).as_int().unwrap();
    assert!((95..=100).contains(&ttl), "{ttl}");

    let schema = vec![
        Field::new("name", FieldType::Utf8),
        Field::new("score", FieldType::Float64),
    ];
    let back: Vec<RecordBatch> = HashScanBuilder::new(config, schema)
        .with_keys(["user:1", "user:2", "user:3"])
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let back = arrow_select::concat::concat_batches(&back[0].schema(), &back).unwrap();
    let scores = back
        .column(2)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(scores.values().to_vec(), vec![0.1, -2.5e-8, f64::MAX]);
    assert_eq!(back.column(1).null_count(), 1);
}

#[test]
fn failed_keys_are_an_error_carrying_the_result() {
    let server = RedisServer::plain();
    server.cmd(&["SET", "k2", "text"]).expect_ok();
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let frame = batch(vec![
        ("_key", strings(&[Some("k1"), Some("k2")])),
        ("v", Arc::new(Int64Array::from(vec![1, 2]))),
    ]);
    let builder = HashWriteBuilder::new(config).with_if_exists(IfExists::Append);
    let err = builder.write(vec![frame.clone()]).unwrap_err();
    let polars_redis::Error::WriteFailed(result) = err else {
        panic!("expected WriteFailed, got {err}");
    };
    assert_eq!((result.written, result.failed), (1, 1));
    assert_eq!(result.failures[0].key.as_bytes(), b"k2");
    assert!(result.failures[0].message.starts_with("WRONGTYPE"));
    let result = builder
        .with_raise_on_failure(false)
        .write(vec![frame])
        .unwrap();
    assert!(!result.is_complete());
}

#[test]
fn bad_input_is_rejected_before_sending() {
    let server = RedisServer::plain();
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let frame = batch(vec![
        ("_key", strings(&[Some("a"), None])),
        ("member", strings(&[Some("x"), Some("y")])),
    ]);
    let err = SetWriteBuilder::new(config).write(vec![frame]).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    assert!(err.to_string().contains("row 1"), "{err}");
    assert_eq!(server.cmd(&["DBSIZE"]).as_int(), Some(0));
}

#[test]
fn async_write_of_a_large_set() {
    let server = RedisServer::plain();
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let members: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let keys: ArrayRef = Arc::new(StringArray::from(vec!["big"; members.len()]));
    let members: ArrayRef = Arc::new(StringArray::from(members));
    let frame = batch(vec![("_key", keys), ("member", members)]);
    let schema = frame.schema();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime
        .block_on(SetWriteBuilder::new(config).write_async(schema, vec![frame]))
        .unwrap();
    assert_eq!((result.written, result.keys_written), (10_000, 1));
    assert_eq!(server.cmd(&["SCARD", "big"]).as_int(), Some(10_000));
    assert_eq!(server.cmd(&["TYPE", "big"]), RespValue::simple("set"));
}
