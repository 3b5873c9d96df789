//! Schema inference from Rust, against real servers; ground truth is written
//! through the harness's own RESP client. Each test uses its own server so
//! the keyspace holds exactly what the test wrote.

use polars_redis::{
    infer_hash_schema, infer_json_schema, ConnectionConfig, Error, Field, FieldType, InferOptions,
    TimeUnit,
};
use redis_test_support::RedisServer;

fn config(server: &RedisServer) -> ConnectionConfig {
    ConnectionConfig::from_url(&server.url()).unwrap()
}

#[test]
fn infers_hash_fields_with_confidence() {
    let server = RedisServer::plain();
    for i in 0..20 {
        let ratio = if i < 15 {
            format!("{i}")
        } else {
            format!("{i}.5")
        };
        let key = format!("h:{i}");
        server.cmd(&[
            "HSET",
            &key,
            "n",
            &i.to_string(),
            "ratio",
            &ratio,
            "on",
            "true",
        ]);
    }
    server.cmd(&["SET", "h:string", "not a hash"]);
    let inferred = infer_hash_schema(&config(&server), b"h:*", &InferOptions::default()).unwrap();
    assert_eq!(inferred.sample_count, 20);
    assert_eq!(
        inferred.schema(),
        vec![
            Field::new("n", FieldType::Int64),
            Field::new("on", FieldType::Boolean),
            Field::new("ratio", FieldType::Float64),
        ]
    );
    let ratio = &inferred.fields[2];
    assert_eq!((ratio.present, ratio.matching), (20, 5));
    assert_eq!(ratio.confidence, 0.25);
    assert_eq!(inferred.low_confidence(0.9).len(), 1);

    let corrected = inferred.with_override("n", FieldType::Int32).unwrap();
    assert_eq!(corrected.fields[0].field_type, FieldType::Int32);
}

#[test]
fn infers_nested_json_members() {
    let server = RedisServer::stack();
    server.cmd(&[
        "JSON.SET",
        "d:1",
        "$",
        r#"{"a": {"b": [1, 2]}, "t": "2024-01-02T03:04:05"}"#,
    ]);
    server.cmd(&["JSON.SET", "d:2", "$", r#"{"a": {"b": []}, "t": null}"#]);
    let inferred = infer_json_schema(&config(&server), b"d:*", &InferOptions::default()).unwrap();
    assert_eq!(
        inferred.schema(),
        vec![
            Field::new(
                "a",
                FieldType::Struct(vec![Field::new(
                    "b",
                    FieldType::List(Box::new(FieldType::Int64))
                )])
            ),
            Field::new(
                "t",
                FieldType::datetime(TimeUnit::Microsecond, None).unwrap()
            ),
        ]
    );
}

#[test]
fn nothing_to_sample_is_an_inference_error() {
    let server = RedisServer::plain();
    let err = infer_hash_schema(&config(&server), b"none:*", &InferOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Inference(_)), "{err}");
    let zero = InferOptions {
        sample_size: 0,
        ..InferOptions::default()
    };
    let err = infer_hash_schema(&config(&server), b"*", &zero).unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
    let huge = InferOptions {
        sample_size: usize::MAX,
        ..InferOptions::default()
    };
    let err = infer_hash_schema(&config(&server), b"*", &huge).unwrap_err();
    assert!(
        err.to_string()
            .contains("sample_size must be between 1 and"),
        "{err}"
    );
}
