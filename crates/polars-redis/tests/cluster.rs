//! Integration tests of reads and writes on a Redis Cluster (three masters started by
//! `redis-test-support`). Ground truth is written node by node with the
//! harness's own RESP client, which routes by its own slot table.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use polars_redis::{
    key_slot, ConnectionConfig, Field, FieldType, HashScanBuilder, HashWriteBuilder,
    StringScanBuilder,
};
use redis_test_support::RedisCluster;

fn cluster() -> &'static RedisCluster {
    RedisCluster::shared()
}

fn config() -> ConnectionConfig {
    ConnectionConfig::from_url(&cluster().url()).expect("valid url")
}

/// `_key` -> first value column (Int64), over every batch.
fn rows(batches: Vec<RecordBatch>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for batch in batches {
        let keys = batch.column(0).as_string_view();
        let values = batch.column(1).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            assert!(!values.is_null(i));
            out.insert(keys.value(i).to_string(), values.value(i));
        }
    }
    out
}

#[test]
fn slots_agree_with_the_server() {
    for key in ["", "a", "user:1000", "{tag}x", "x{}y", "é"] {
        let reply = cluster().nodes()[0].cmd(&["CLUSTER", "KEYSLOT", key]);
        assert_eq!(
            Some(i64::from(key_slot(key.as_bytes()))),
            reply.as_int(),
            "{key}"
        );
    }
}

#[test]
fn hashes_and_strings_from_every_master() {
    let mut truth = BTreeMap::new();
    for i in 0..400i64 {
        let key = format!("ct:h:{i}");
        cluster()
            .cmd_for_key(&key, &["HSET", &key, "n", &i.to_string()])
            .expect_ok();
        truth.insert(key, i);
        let key = format!("ct:s:{i}");
        cluster()
            .cmd_for_key(&key, &["SET", &key, &(i * 2).to_string()])
            .expect_ok();
    }
    for node in cluster().nodes() {
        let count = node.cmd(&["DBSIZE"]).as_int().unwrap_or(0);
        assert!(count > 100, "keys on {}: {count}", node.port());
    }

    let hashes = HashScanBuilder::new(config(), vec![Field::new("n", FieldType::Int64)])
        .with_pattern("ct:h:*")
        .with_batch_size(64)
        .build()
        .expect("valid scan")
        .collect::<Result<Vec<_>, _>>()
        .expect("scan succeeds");
    assert_eq!(rows(hashes), truth);

    let strings = StringScanBuilder::new(config())
        .with_value("v", FieldType::Int64)
        .with_keys(["ct:s:1", "ct:s:nope", "ct:s:250", "ct:s:399"])
        .build()
        .expect("valid scan")
        .collect::<Result<Vec<_>, _>>()
        .expect("scan succeeds");
    let expected: BTreeMap<String, i64> = [("ct:s:1", 2), ("ct:s:250", 500), ("ct:s:399", 798)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(rows(strings), expected);
}

#[test]
fn writes_reach_the_master_of_each_key() {
    let keys: Vec<String> = (0..300).map(|i| format!("cw:{i}")).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("_key", Arc::new(StringArray::from(keys.clone()))),
        ("n", Arc::new(Int64Array::from_iter_values(0..300))),
    ];
    let frame = RecordBatch::try_from_iter(columns).expect("valid batch");
    let result = HashWriteBuilder::new(config())
        .with_batch_size(32)
        .write(vec![frame])
        .expect("write succeeds");
    assert_eq!((result.written, result.failed, result.unknown), (300, 0, 0));
    for (i, key) in keys.iter().enumerate() {
        let reply = cluster().cmd_for_key(key, &["HGET", key.as_str(), "n"]);
        assert_eq!(reply.as_int(), Some(i as i64), "{key}");
    }
}
