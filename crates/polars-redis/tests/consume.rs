//! Stream consumer groups, tailing and pub/sub against a real redis-server;
//! ground truth is written and read with the harness's own RESP client.

use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::RecordBatch;
use polars_redis::{
    ack_entries, pending, ConnectionConfig, Field, FieldType, Payload, PubSubBuilder,
    StreamReadBuilder,
};
use redis_test_support::{RedisServer, RespValue};

fn config(server: &RedisServer) -> ConnectionConfig {
    ConnectionConfig::from_url(&server.url()).unwrap()
}

fn add(server: &RedisServer, stream: &str, n: i64) -> String {
    let reply = server.cmd(&["XADD", stream, "*", "n", &n.to_string()]);
    reply.as_str().unwrap().to_string()
}

fn ids(batch: &RecordBatch) -> Vec<String> {
    let column = batch.column_by_name("_id").unwrap().as_string_view();
    column.iter().map(|id| id.unwrap().to_string()).collect()
}

fn numbers(batch: &RecordBatch) -> Vec<i64> {
    let column = batch.column_by_name("n").unwrap();
    column.as_primitive::<Int64Type>().values().to_vec()
}

fn pending_count(server: &RedisServer, stream: &str) -> i64 {
    match server.cmd(&["XPENDING", stream, "g"]) {
        RespValue::Array(parts) => parts[0].as_int().unwrap(),
        other => panic!("XPENDING replied {other:?}"),
    }
}

fn group_reader(server: &RedisServer, consumer: &str) -> StreamReadBuilder {
    let schema = vec![Field::new("n", FieldType::Int64)];
    StreamReadBuilder::new(config(server), vec![b"s".to_vec()], schema)
        .with_group("g", consumer)
        .with_group_creation(Some("0"))
        .with_batch_size(4)
}

#[test]
fn group_batches_are_acked_when_the_next_is_read() {
    let server = RedisServer::plain();
    let all: Vec<String> = (0..10).map(|n| add(&server, "s", n)).collect();
    let mut reader = group_reader(&server, "c").with_ack(true).build().unwrap();
    let first = reader.next_batch().unwrap();
    assert_eq!(ids(&first), all[..4]);
    assert_eq!(numbers(&first), [0, 1, 2, 3]);
    assert_eq!(pending_count(&server, "s"), 4);
    let second = reader.next_batch().unwrap();
    assert_eq!(ids(&second), all[4..8]);
    assert_eq!(pending_count(&server, "s"), 4, "the first batch is acked");
    drop(reader); // dropped, not closed: the second batch stays pending
    assert_eq!(pending_count(&server, "s"), 4);

    // The same consumer re-reads its pending entries first, then new ones.
    let mut again = group_reader(&server, "c").build().unwrap();
    assert_eq!(ids(&again.next_batch().unwrap()), all[4..8]);
    assert_eq!(ids(&again.next_batch().unwrap()), all[8..]);
    assert_eq!(again.next_batch().unwrap().num_rows(), 0);
    let listed = pending(&config(&server), b"s", b"g", None).unwrap();
    assert_eq!(listed.num_rows(), 6);
    let delivered: Vec<Vec<u8>> = all[4..].iter().map(|id| id.as_bytes().to_vec()).collect();
    assert_eq!(
        ack_entries(&config(&server), b"s", b"g", &delivered).unwrap(),
        6
    );
    assert_eq!(pending_count(&server, "s"), 0);
}

#[test]
fn idle_entries_are_claimed_by_another_consumer() {
    let server = RedisServer::plain();
    let all: Vec<String> = (0..3).map(|n| add(&server, "s", n)).collect();
    group_reader(&server, "crashed")
        .build()
        .unwrap()
        .next_batch()
        .unwrap();
    std::thread::sleep(Duration::from_millis(60));
    let mut rescuer = group_reader(&server, "rescuer")
        .with_claim_min_idle_ms(Some(50))
        .with_ack(true)
        .build()
        .unwrap();
    assert_eq!(ids(&rescuer.next_batch().unwrap()), all);
    rescuer.close().unwrap();
    assert_eq!(pending_count(&server, "s"), 0);
}

#[test]
fn commit_acks_and_sets_the_checkpoint_in_one_transaction() {
    let server = RedisServer::plain();
    let all: Vec<String> = (0..2).map(|n| add(&server, "s", n)).collect();
    let mut reader = group_reader(&server, "c").build().unwrap();
    reader.next_batch().unwrap();
    let fields = vec![(b"last_id".to_vec(), all[1].as_bytes().to_vec())];
    assert_eq!(reader.commit(b"ckpt", &fields).unwrap(), 2);
    assert_eq!(pending_count(&server, "s"), 0);
    let stored = server.cmd(&["HGET", "ckpt", "last_id"]);
    assert_eq!(stored.as_str(), Some(all[1].as_str()));
}

#[test]
fn tailing_reads_new_entries_and_reports_a_deleted_stream() {
    let server = RedisServer::plain();
    add(&server, "s", -1);
    let schema = vec![Field::new("n", FieldType::Int64)];
    let mut reader = StreamReadBuilder::new(config(&server), vec![b"s".to_vec()], schema)
        .with_block_ms(Some(100))
        .build()
        .unwrap();
    let new = add(&server, "s", 7);
    let batch = reader.next_batch().unwrap();
    assert_eq!((ids(&batch), numbers(&batch)), (vec![new], vec![7]));
    server.cmd(&["DEL", "s"]);
    let err = reader.next_batch().unwrap_err();
    assert!(
        err.to_string()
            .contains("deleted while it was being tailed"),
        "{err}"
    );
}

#[test]
fn pubsub_messages_become_rows() {
    let server = RedisServer::plain();
    let mut reader = PubSubBuilder::new(config(&server), vec![b"news".to_vec()])
        .with_payload(Payload::Raw(FieldType::Utf8))
        .build()
        .unwrap();
    server.cmd(&["PUBLISH", "news", "hello"]);
    server.cmd(&["PUBLISH", "news", "world"]);
    let batch = reader.next_batch(2, Some(Duration::from_secs(5))).unwrap();
    let payload = batch.column_by_name("payload").unwrap().as_string_view();
    let got: Vec<&str> = payload.iter().map(Option::unwrap).collect();
    assert_eq!(got, ["hello", "world"]);
    let empty = reader
        .next_batch(10, Some(Duration::from_millis(50)))
        .unwrap();
    assert_eq!(empty.num_rows(), 0);
}
