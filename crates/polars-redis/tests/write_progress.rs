//! `WriteProgress`: the counts a running write shows, against a real
//! redis-server; ground truth read with the harness's own RESP client.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{Field as ArrowField, Schema};
use polars_redis::{ConnectionConfig, HashWriteBuilder, IfExists, SetWriteBuilder, WriteProgress};
use redis_test_support::{RedisServer, RespValue};

fn frame(keys: &[&str], values: &[&str], value_name: &str) -> RecordBatch {
    let schema = Schema::new(vec![
        ArrowField::new("_key", arrow_schema::DataType::Utf8, false),
        ArrowField::new(value_name, arrow_schema::DataType::Utf8, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(keys.to_vec())),
        Arc::new(StringArray::from(values.to_vec())),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

#[test]
fn progress_ends_at_the_rows_and_written_keys() {
    let server = RedisServer::plain();
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    server.cmd(&["HSET", "h:0", "n", "old"]);
    let keys: Vec<String> = (0..500).map(|n| format!("h:{n}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let progress = Arc::new(WriteProgress::default());
    let result = HashWriteBuilder::new(config)
        .with_if_exists(IfExists::Skip)
        .with_batch_size(7)
        .with_progress(Some(progress.clone()))
        .write(vec![frame(&keys, &vec!["v"; 500], "n")])
        .unwrap();
    assert_eq!(
        (result.rows, result.keys_written, result.skipped),
        (500, 499, 1)
    );
    assert_eq!((progress.rows(), progress.keys_written()), (500, 499));
    assert_eq!(server.cmd(&["HGET", "h:0", "n"]), RespValue::bulk("old"));
}

#[test]
fn grouped_keys_count_their_rows() {
    let server = RedisServer::plain();
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let progress = Arc::new(WriteProgress::default());
    SetWriteBuilder::new(config)
        .with_progress(Some(progress.clone()))
        .write(vec![frame(
            &["a", "a", "a", "b"],
            &["x", "y", "z", "x"],
            "member",
        )])
        .unwrap();
    assert_eq!((progress.rows(), progress.keys_written()), (4, 2));
    assert_eq!(server.cmd(&["SCARD", "a"]).as_int(), Some(3));
}
