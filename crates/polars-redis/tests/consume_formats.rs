//! Stored forms (`with_formats`) of temporal entry fields in consumer-group
//! and tailing reads, against a real redis-server.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, TimestampMillisecondType};
use polars_redis::{
    ConnectionConfig, Error, Field, FieldType, StreamReadBuilder, TextForm, TimeUnit,
};
use redis_test_support::RedisServer;

fn schema() -> Vec<Field> {
    vec![
        Field::new("day", FieldType::Date),
        Field::new(
            "at",
            FieldType::Datetime {
                unit: TimeUnit::Millisecond,
                tz: None,
            },
        ),
    ]
}

fn forms() -> Vec<(String, TextForm)> {
    vec![
        ("day".into(), TextForm::from_spec("%d/%m/%Y").unwrap()),
        ("at".into(), TextForm::from_spec("epoch_s").unwrap()),
    ]
}

#[test]
fn group_reads_parse_stored_forms() {
    let server = RedisServer::plain();
    server.cmd(&["XADD", "s", "*", "day", "03/12/2026", "at", "1764784800"]);
    let config = ConnectionConfig::from_url(&server.url()).unwrap();
    let mut reader = StreamReadBuilder::new(config, vec![b"s".to_vec()], schema())
        .with_group("g", "c")
        .with_group_creation(Some("0"))
        .with_formats(forms())
        .build()
        .unwrap();
    let batch = reader.next_batch().unwrap();
    let day = batch
        .column_by_name("day")
        .unwrap()
        .as_primitive::<Date32Type>();
    assert_eq!(day.value(0), 20_790); // 2026-12-03
    let at = batch.column_by_name("at").unwrap();
    assert_eq!(
        at.as_primitive::<TimestampMillisecondType>().value(0),
        1_764_784_800_000
    );
}

#[test]
fn a_form_for_no_field_is_refused_before_connecting() {
    let config = ConnectionConfig::from_url("redis://127.0.0.1:1").unwrap();
    let bad = vec![("nope".to_string(), TextForm::from_spec("epoch_s").unwrap())];
    let err = StreamReadBuilder::new(config, vec![b"s".to_vec()], schema())
        .with_formats(bad)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("nope")),
        "{err}"
    );
}
