//! Integration tests of scan partitions (`plan_partitions` +
//! `ScanOptions::with_slots`): on a standalone server and a 3-master cluster,
//! the partitions' rows together are the whole scan, every key once. Ground
//! truth is written with the harness's own RESP client.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::RecordBatch;
use polars_redis::{
    plan_partitions, ConnectionConfig, Field, FieldType, HashScanBuilder, SlotRanges,
};
use redis_test_support::{RedisCluster, RedisServer};

/// `_key` -> `n`, failing on a key read twice.
fn read_partitions(
    config: &ConnectionConfig,
    prefix: &str,
    partitions: Option<usize>,
) -> (usize, BTreeMap<String, i64>) {
    let planned = plan_partitions(config, partitions).expect("planned");
    let mut rows = BTreeMap::new();
    for part in &planned {
        let batches: Vec<RecordBatch> =
            HashScanBuilder::new(config.clone(), vec![Field::new("n", FieldType::Int64)])
                .with_pattern(format!("{prefix}*"))
                .with_batch_size(37)
                .with_slots(Some(part.slots.clone()))
                .build()
                .expect("valid scan")
                .collect::<Result<_, _>>()
                .expect("scan succeeds");
        for batch in batches {
            let keys = batch.column(0).as_string_view();
            let values = batch.column(1).as_primitive::<Int64Type>();
            for i in 0..batch.num_rows() {
                let old = rows.insert(keys.value(i).to_string(), values.value(i));
                assert!(old.is_none(), "{} read twice", keys.value(i));
            }
        }
    }
    let covered: usize = planned.iter().map(|p| p.slots.count()).sum();
    assert_eq!(
        covered, 16384,
        "the partitions' slots divide the slot space"
    );
    (planned.len(), rows)
}

#[test]
fn standalone_partitions_read_every_key_once() {
    let server = RedisServer::shared_plain();
    let truth: BTreeMap<String, i64> = (0..500).map(|i| (format!("pt:s:{i}"), i)).collect();
    for (key, n) in &truth {
        server.cmd(&["HSET", key, "n", &n.to_string()]).expect_ok();
    }
    server.cmd(&["SET", "pt:s:string", "x"]).expect_ok();
    let config = ConnectionConfig::from_url(&server.url()).expect("valid url");
    for asked in [None, Some(1), Some(6), Some(300)] {
        let (count, rows) = read_partitions(&config, "pt:s:", asked);
        assert_eq!(count, asked.unwrap_or(1));
        assert_eq!(rows, truth, "{asked:?} partitions");
    }
}

#[test]
fn cluster_partitions_follow_the_masters() {
    let cluster = RedisCluster::shared();
    let truth: BTreeMap<String, i64> = (0..600).map(|i| (format!("pt:c:{i}"), i)).collect();
    for (key, n) in &truth {
        cluster
            .cmd_for_key(key, &["HSET", key, "n", &n.to_string()])
            .expect_ok();
    }
    let config = ConnectionConfig::from_url(&cluster.url()).expect("valid url");
    let planned = plan_partitions(&config, Some(4)).expect("planned");
    // ceil(4 / 3) = 2 per master, each served by the node it names.
    assert_eq!(planned.len(), 6);
    for part in &planned {
        let (first, last) = part.slots.ranges()[0];
        for slot in [first, last] {
            let node = cluster.node_for_slot(slot);
            assert_eq!(part.node, format!("127.0.0.1:{}", node.port()));
        }
    }
    for asked in [None, Some(4), Some(50)] {
        let (_, rows) = read_partitions(&config, "pt:c:", asked);
        assert_eq!(rows, truth, "{asked:?} partitions");
    }
}

#[test]
fn bad_partition_counts_and_slot_ranges_are_refused() {
    let config = ConnectionConfig::from_url(&RedisServer::shared_plain().url()).expect("valid");
    let err = plan_partitions(&config, Some(0)).expect_err("refused");
    assert!(
        err.to_string()
            .contains("partitions must be between 1 and 16384"),
        "{err}"
    );
    let err = SlotRanges::new([(10, 16384)]).expect_err("refused");
    assert!(err.to_string().contains("10-16384"), "{err}");
}
