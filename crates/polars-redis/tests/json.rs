//! The JSON builder against a real Redis Stack server; ground truth is
//! written with `JSON.SET` through the harness's own RESP client.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use polars_redis::{
    ConnectionConfig, Error, Field, FieldType, HashScanBuilder, JsonFetch, JsonScanBuilder,
    SetScanBuilder,
};
use redis_test_support::RedisServer;

fn server() -> &'static RedisServer {
    RedisServer::shared_stack()
}

fn json_set(key: &str, doc: &str) {
    server().cmd(&["JSON.SET", key, "$", doc]).expect_ok();
}

fn config() -> ConnectionConfig {
    ConnectionConfig::from_url(&server().url()).unwrap()
}

fn collect(builder: JsonScanBuilder) -> Result<RecordBatch, Error> {
    let iter = builder.build()?;
    let schema = iter.schema();
    let batches = iter.collect::<Result<Vec<_>, _>>()?;
    Ok(arrow_select::concat::concat_batches(&schema, &batches).unwrap())
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch.column_by_name(column).unwrap();
    let array = array.as_string_view();
    array.iter().map(|v| v.map(str::to_string)).collect()
}

fn user_schema() -> Vec<Field> {
    vec![
        Field::new("name", FieldType::Utf8),
        Field::new("age", FieldType::Int64),
        Field::new(
            "address",
            FieldType::Struct(vec![
                Field::new("city", FieldType::Utf8),
                Field::new("zip", FieldType::Int64),
            ]),
        ),
        Field::new("scores", FieldType::List(Box::new(FieldType::Float64))),
        Field::new("city", FieldType::Utf8),
    ]
}

fn seed_users(prefix: &str) {
    json_set(
        &format!("{prefix}:1"),
        r#"{"name":"Ann","age":36,"address":{"city":"Oslo","zip":150},"scores":[1.5,2],"x":{"deep":[1]}}"#,
    );
    json_set(
        &format!("{prefix}:2"),
        r#"{"age":7,"name":"Bo \"B\" \u00e9","address":{"zip":9},"scores":[]}"#,
    );
    json_set(&format!("{prefix}:3"), r#"{"name":null,"scores":null}"#);
}

#[test]
fn reads_nested_documents_in_both_fetch_modes() {
    seed_users("rn");
    for fetch in [JsonFetch::Document, JsonFetch::Paths, JsonFetch::Auto] {
        let batch = collect(
            JsonScanBuilder::new(config(), user_schema())
                .with_keys(["rn:1", "rn:2", "rn:3", "rn:404"])
                .with_column_path("city", "$.address.city")
                .with_fetch(fetch),
        )
        .unwrap();
        assert_eq!(batch.num_rows(), 3, "{fetch:?}");
        assert_eq!(
            strings(&batch, "_key"),
            [Some("rn:1"), Some("rn:2"), Some("rn:3")].map(|s| s.map(String::from))
        );
        assert_eq!(
            strings(&batch, "name"),
            [Some("Ann".into()), Some("Bo \"B\" é".into()), None]
        );
        let age = batch
            .column_by_name("age")
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(age.iter().collect::<Vec<_>>(), [Some(36), Some(7), None]);
        let address = batch.column_by_name("address").unwrap().as_struct();
        assert!(address.is_valid(0) && address.is_valid(1) && address.is_null(2));
        let zip = address.column(1).as_primitive::<Int64Type>();
        assert_eq!((zip.value(0), zip.value(1)), (150, 9));
        let city = address.column(0).as_string_view();
        assert_eq!((city.value(0), city.is_null(1)), ("Oslo", true));
        let scores = batch.column_by_name("scores").unwrap().as_list::<i32>();
        let first = scores.value(0);
        let first = first.as_primitive::<Float64Type>();
        assert_eq!(first.values().to_vec(), vec![1.5, 2.0]);
        assert_eq!(
            (scores.value(1).len(), scores.is_null(2)),
            (0, true),
            "{fetch:?}"
        );
        assert_eq!(strings(&batch, "city"), [Some("Oslo".into()), None, None]);
    }
}

#[test]
fn projection_reads_only_the_projected_columns() {
    seed_users("pr");
    let builder = JsonScanBuilder::new(config(), user_schema())
        .with_pattern("pr:*")
        .with_column_path("city", "$.address.city")
        .with_projection(["city", "age"]);
    let schema = builder.output_schema().unwrap();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["age", "city"]);
    let batch = collect(builder.with_key_column(None)).unwrap();
    let mut rows: Vec<(Option<i64>, Option<String>)> = batch
        .column(0)
        .as_primitive::<Int64Type>()
        .iter()
        .zip(strings(&batch, "city"))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            (None, None),
            (Some(7), None),
            (Some(36), Some("Oslo".into()))
        ]
    );
}

#[test]
fn wrong_type_keys_are_skipped_by_patterns_and_reported_for_lists() {
    json_set("wt:1", r#"{"name":"a"}"#);
    server().cmd(&["SET", "wt:2", "plain"]).expect_ok();
    server().cmd(&["HSET", "wt:3", "name", "h"]).expect_ok();
    let schema = vec![Field::new("name", FieldType::Utf8)];
    let batch =
        collect(JsonScanBuilder::new(config(), schema.clone()).with_pattern("wt:*")).unwrap();
    assert_eq!(strings(&batch, "_key"), [Some("wt:1".into())]);

    let err =
        collect(JsonScanBuilder::new(config(), schema).with_keys(["wt:1", "wt:2"])).unwrap_err();
    assert!(err.is_wrong_type(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("\"wt:2\"") && message.contains("string"),
        "{message}"
    );
}

#[test]
fn strict_errors_name_key_field_and_value_and_lenient_nulls_one_value() {
    json_set(
        "st:1",
        r#"{"n":1.5,"tags":[1,"x",3],"o":{"d":"2024-13-01"}}"#,
    );
    let schema = vec![
        Field::new("n", FieldType::Int64),
        Field::new("tags", FieldType::List(Box::new(FieldType::Int64))),
        Field::new(
            "o",
            FieldType::Struct(vec![Field::new("d", FieldType::Date)]),
        ),
    ];
    let err =
        collect(JsonScanBuilder::new(config(), schema.clone()).with_keys(["st:1"])).unwrap_err();
    assert!(err.is_parse(), "{err}");
    assert_eq!(
        err.to_string(),
        "key \"st:1\", field `n`: cannot parse 1.5 as Int64"
    );
    let only_tags = JsonScanBuilder::new(config(), schema.clone())
        .with_keys(["st:1"])
        .with_projection(["tags"]);
    assert_eq!(
        collect(only_tags).unwrap_err().to_string(),
        "key \"st:1\", field `tags[1]`: cannot parse \"x\" as Int64"
    );

    let batch = collect(
        JsonScanBuilder::new(config(), schema)
            .with_keys(["st:1"])
            .with_strict(false),
    )
    .unwrap();
    assert!(batch.column_by_name("n").unwrap().is_null(0));
    let tags = batch.column_by_name("tags").unwrap().as_list::<i32>();
    let tags = tags.value(0);
    let tags = tags.as_primitive::<Int64Type>();
    assert_eq!(tags.iter().collect::<Vec<_>>(), [Some(1), None, Some(3)]);
    let o = batch.column_by_name("o").unwrap().as_struct();
    assert!(o.is_valid(0) && o.column(0).is_null(0));
}

#[test]
fn bad_paths_and_nested_set_members_are_invalid_input() {
    let schema = vec![Field::new("a", FieldType::Utf8)];
    let err = JsonScanBuilder::new(config(), schema.clone())
        .with_root_path("$..a")
        .output_schema()
        .unwrap_err();
    assert!(
        err.is_invalid_input() && err.to_string().contains("$..a"),
        "{err}"
    );
    let err = JsonScanBuilder::new(config(), schema.clone())
        .with_column_path("b", "$.b")
        .output_schema()
        .unwrap_err();
    assert!(err.to_string().contains("`b`"), "{err}");
    let err = JsonScanBuilder::new(config(), schema)
        .with_column_path("a", "a.b")
        .output_schema()
        .unwrap_err();
    assert!(err.to_string().contains("must start with `$`"), "{err}");

    // Hash fields read List values from their JSON text (issue 11, item
    // 10); set members stay flat text, so nested types are refused there.
    let nested = vec![Field::new(
        "tags",
        FieldType::List(Box::new(FieldType::Utf8)),
    )];
    assert!(HashScanBuilder::new(config(), nested)
        .output_schema()
        .is_ok());
    let err = SetScanBuilder::new(config())
        .with_member("tags", FieldType::List(Box::new(FieldType::Utf8)))
        .output_schema()
        .unwrap_err();
    assert!(
        err.is_invalid_input() && err.to_string().contains("field `tags`"),
        "{err}"
    );
}
