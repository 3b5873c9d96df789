//! Integration tests of the hash scan builder against real redis-server
//! processes (`redis-test-support`). Ground truth is written with the
//! harness's own RESP client (`RedisServer::cmd`), which shares no code with
//! the library.
//!
//! Most tests share one server and use their own key prefix (no FLUSHALL);
//! tests that need special server settings start their own.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType, UInt32Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};
use polars_redis::{
    ConnectionConfig, Error, Field, FieldType, HashFetch, HashScanBuilder, KeyType, TextForm,
    TimeUnit, BATCH_SIZE_LIMIT, COUNT_HINT_LIMIT, PARALLELISM_LIMIT,
};
use redis_test_support::{free_port, Connection, RedisServer, RespValue};

// --------------------------------------------------------------------------
// helpers
// --------------------------------------------------------------------------

fn server() -> &'static RedisServer {
    RedisServer::shared_plain()
}

fn config(server: &RedisServer) -> ConnectionConfig {
    ConnectionConfig::from_url(&server.url()).expect("valid url")
}

fn hset(server: &RedisServer, key: impl AsRef<[u8]>, fields: &[(&str, &[u8])]) {
    let mut args: Vec<Vec<u8>> = vec![b"HSET".to_vec(), key.as_ref().to_vec()];
    for (f, v) in fields {
        args.push(f.as_bytes().to_vec());
        args.push(v.to_vec());
    }
    server.cmd(&args).expect_ok();
}

fn read_all(builder: HashScanBuilder) -> Result<Vec<RecordBatch>, Error> {
    builder.build()?.collect()
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn column_names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// A Utf8View column as strings.
fn strings(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        let col = col.as_string_view();
        out.extend((0..col.len()).map(|i| col.is_valid(i).then(|| col.value(i).to_string())));
    }
    out
}

fn i64s(batches: &[RecordBatch], name: &str) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        let col = col.as_primitive::<Int64Type>();
        out.extend((0..col.len()).map(|i| col.is_valid(i).then(|| col.value(i))));
    }
    out
}

fn keys(batches: &[RecordBatch]) -> Vec<String> {
    strings(batches, "_key")
        .into_iter()
        .map(|k| k.expect("key"))
        .collect()
}

fn i64_field(t: FieldType) -> Vec<Field> {
    vec![Field::new("a", t)]
}

// --------------------------------------------------------------------------
// ground truth
// --------------------------------------------------------------------------

#[test]
fn reads_every_column_like_the_ground_truth() {
    let s = server();
    let mut truth = BTreeMap::new();
    for i in 0..30i64 {
        let key = format!("rs:basic:{i:02}");
        let name = format!("name {i} ✓");
        let age = (i * 7 - 50).to_string();
        let score = format!("{}.25", i);
        let active = if i % 3 == 0 { "yes" } else { "0" };
        let joined = format!("2024-01-{:02}T12:00:00.5{i:02}Z", i % 28 + 1);
        let blob = vec![0xff, i as u8, 0x00, b'\r', b'\n'];
        if i == 13 {
            // missing fields are null
            hset(s, &key, &[("other", b"x")]);
        } else {
            hset(
                s,
                &key,
                &[
                    ("name", name.as_bytes()),
                    ("age", age.as_bytes()),
                    ("score", score.as_bytes()),
                    ("active", active.as_bytes()),
                    ("joined", joined.as_bytes()),
                    ("blob", &blob),
                    ("ignored", b"extra"),
                ],
            );
        }
        truth.insert(key, (i, name, blob));
    }
    s.cmd(&["SET", "rs:basic:string", "not a hash"]).expect_ok();
    s.cmd(&["RPUSH", "rs:basic:list", "x"]).expect_ok();

    let schema = vec![
        Field::new("name", FieldType::Utf8),
        Field::new("age", FieldType::Int64),
        Field::new("score", FieldType::Float64),
        Field::new("active", FieldType::Boolean),
        Field::new(
            "joined",
            FieldType::datetime(TimeUnit::Millisecond, Some("UTC")).unwrap(),
        ),
        Field::new("blob", FieldType::Binary),
    ];
    let batches = read_all(
        HashScanBuilder::new(config(s), schema)
            .with_pattern("rs:basic:*")
            .with_batch_size(4),
    )
    .unwrap();
    assert_eq!(rows(&batches), 30);
    let b0 = &batches[0];
    assert_eq!(
        column_names(b0),
        ["_key", "name", "age", "score", "active", "joined", "blob"]
    );
    assert_eq!(b0.schema().field(0).data_type(), &DataType::Utf8View);
    assert_eq!(
        b0.schema().field(5).data_type(),
        &DataType::Timestamp(ArrowTimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(b0.schema().field(6).data_type(), &DataType::BinaryView);

    let mut seen = BTreeSet::new();
    for batch in &batches {
        let k = batch.column(0).as_string_view();
        let name = batch.column(1).as_string_view();
        let age = batch.column(2).as_primitive::<Int64Type>();
        let score = batch.column(3).as_primitive::<Float64Type>();
        let active = batch.column(4).as_boolean();
        let joined = batch.column(5).as_primitive::<TimestampMillisecondType>();
        let blob = batch.column(6).as_binary_view();
        for r in 0..batch.num_rows() {
            let key = k.value(r).to_string();
            let (i, want_name, want_blob) = truth.get(&key).expect("a seeded key");
            assert!(seen.insert(key.clone()), "{key} twice");
            if *i == 13 {
                for c in 1..7 {
                    assert!(batch.column(c).is_null(r), "{key} column {c}");
                }
                continue;
            }
            assert_eq!(name.value(r), want_name);
            assert_eq!(age.value(r), i * 7 - 50);
            assert_eq!(score.value(r), *i as f64 + 0.25);
            assert_eq!(active.value(r), i % 3 == 0);
            // 2024-01-DDT12:00:00.5ii UTC
            let day = i % 28 + 1;
            let expected_ms = 1_704_067_200_000 + (day - 1) * 86_400_000 + 12 * 3_600_000 + 500 + i;
            assert_eq!(joined.value(r), expected_ms, "{key}");
            assert_eq!(blob.value(r), want_blob.as_slice());
        }
    }
    assert_eq!(seen.len(), 30);
}

#[test]
fn bare_integers_are_not_dates_unless_a_form_says_so() {
    let s = server();
    hset(
        s,
        "rs:forms:1",
        &[("at", b"1706696100123"), ("on", b"20240131")],
    );
    let schema = vec![
        Field::new(
            "at",
            FieldType::datetime(TimeUnit::Millisecond, None).unwrap(),
        ),
        Field::new("on", FieldType::Date),
    ];
    let scan = || HashScanBuilder::new(config(s), schema.clone()).with_keys(["rs:forms:1"]);
    // 1706696100123 is not a date: a parse error that names formats=.
    let err = read_all(scan()).unwrap_err();
    assert!(err.is_parse(), "{err}");
    assert!(err.to_string().contains("formats="), "{err}");
    // Declared as epoch milliseconds, it reads as the instant it is; the
    // ISO-8601 basic date needs no form.
    let form = TextForm::from_spec("epoch_ms").unwrap();
    let batches = read_all(scan().with_formats(vec![("at".into(), form)])).unwrap();
    let b = &batches[0];
    assert_eq!(
        b.column(1)
            .as_primitive::<TimestampMillisecondType>()
            .value(0),
        1_706_696_100_123
    );
    assert_eq!(
        b.column(2)
            .as_primitive::<arrow_array::types::Date32Type>()
            .value(0),
        19_753
    );
    // A form on a column that is not temporal is refused up front.
    let form = TextForm::from_spec("%Y").unwrap();
    let err = read_all(scan().with_formats(vec![("_key".into(), form)])).unwrap_err();
    assert!(
        err.is_invalid_input() && err.to_string().contains("`_key`"),
        "{err}"
    );
}

#[test]
fn temporal_decimal_and_enum_types() {
    let s = server();
    hset(
        s,
        "rs:types:1",
        &[
            ("d", b"2024-02-29"),
            ("t", b"01:02:03.000000004"),
            ("du", b"-1500"),
            ("dec", b"-12.3"),
            ("e", b"mid"),
            ("ams", b"2024-07-01T12:00:00"),
            ("u8", b"255"),
        ],
    );
    let schema = vec![
        Field::new("d", FieldType::Date),
        Field::new("t", FieldType::Time),
        Field::new(
            "du",
            FieldType::Duration {
                unit: TimeUnit::Millisecond,
            },
        ),
        Field::new("dec", FieldType::decimal(10, 2).unwrap()),
        Field::new(
            "e",
            FieldType::Enum {
                categories: vec!["lo".into(), "mid".into(), "hi".into()].into(),
            },
        ),
        Field::new(
            "ams",
            FieldType::datetime(TimeUnit::Microsecond, Some("Europe/Amsterdam")).unwrap(),
        ),
        Field::new("u8", FieldType::UInt8),
    ];
    let batches =
        read_all(HashScanBuilder::new(config(s), schema).with_keys(["rs:types:1"])).unwrap();
    assert_eq!(rows(&batches), 1);
    let b = &batches[0];
    assert_eq!(
        b.column(1)
            .as_primitive::<arrow_array::types::Date32Type>()
            .value(0),
        19782
    );
    assert_eq!(
        b.column(2)
            .as_primitive::<arrow_array::types::Time64NanosecondType>()
            .value(0),
        3_723_000_000_004
    );
    assert_eq!(
        b.column(3)
            .as_primitive::<arrow_array::types::DurationMillisecondType>()
            .value(0),
        -1500
    );
    assert_eq!(b.column(4).data_type(), &DataType::Decimal128(10, 2));
    assert_eq!(
        b.column(4)
            .as_primitive::<arrow_array::types::Decimal128Type>()
            .value(0),
        -1230
    );
    assert_eq!(b.column(5).as_string_view().value(0), "mid");
    // 12:00 in Amsterdam in July is 10:00 UTC.
    assert_eq!(
        b.column(6)
            .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
            .value(0),
        1_719_828_000_000_000
    );
    assert_eq!(
        b.column(7)
            .as_primitive::<arrow_array::types::UInt8Type>()
            .value(0),
        255
    );
}

#[test]
fn pre_epoch_datetime_with_extra_fraction_digits_is_floored() {
    // 1969-12-31T23:59:59.9995 lies in the millisecond starting at -1 ms;
    // truncating the text's fraction (as Polars' own parser does) gives -1,
    // not 0 (which would be in another year).
    let s = server();
    hset(s, "rs:preepoch:1", &[("t", b"1969-12-31T23:59:59.9995")]);
    let schema = vec![Field::new(
        "t",
        FieldType::datetime(TimeUnit::Millisecond, None).unwrap(),
    )];
    let batches =
        read_all(HashScanBuilder::new(config(s), schema).with_keys(["rs:preepoch:1"])).unwrap();
    let t = batches[0]
        .column(1)
        .as_primitive::<TimestampMillisecondType>()
        .value(0);
    assert_eq!(t, -1);
}

// --------------------------------------------------------------------------
// key selection and extra columns
// --------------------------------------------------------------------------

#[test]
fn explicit_keys_keep_order_skip_missing_and_dedupe() {
    let s = server();
    for i in 0..5 {
        hset(
            s,
            format!("rs:keys:{i}"),
            &[("a", i.to_string().as_bytes())],
        );
    }
    let wanted = [
        "rs:keys:3",
        "rs:keys:missing",
        "rs:keys:1",
        "rs:keys:3",
        "rs:keys:0",
        "rs:keys:1",
    ];
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_keys(wanted)
            .with_batch_size(1),
    )
    .unwrap();
    assert_eq!(keys(&batches), ["rs:keys:3", "rs:keys:1", "rs:keys:0"]);
    assert_eq!(i64s(&batches, "a"), [Some(3), Some(1), Some(0)]);

    let no_key = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_keys(["rs:keys:4"])
            .with_key_column(None),
    )
    .unwrap();
    assert_eq!(column_names(&no_key[0]), ["a"]);
    assert_eq!(i64s(&no_key, "a"), [Some(4)]);

    let renamed = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_keys(["rs:keys:2"])
            .with_key_column(Some("id")),
    )
    .unwrap();
    assert_eq!(strings(&renamed, "id"), [Some("rs:keys:2".to_string())]);
}

#[test]
fn explicit_key_order_survives_parallel_batches() {
    let s = server();
    let mut wanted = Vec::new();
    for i in 0..40 {
        let key = format!("rs:order:{i}");
        hset(s, &key, &[("a", i.to_string().as_bytes())]);
        wanted.push(key);
    }
    wanted.reverse();
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_keys(&wanted)
            .with_batch_size(3)
            .with_parallelism(4),
    )
    .unwrap();
    assert_eq!(keys(&batches), wanted);
    assert!(batches.iter().all(|b| b.num_rows() <= 3));
}

#[test]
fn ttl_column_matches_redis_ttl() {
    let s = server();
    for i in 0..6 {
        hset(s, format!("rs:ttl:{i}"), &[("a", b"1")]);
    }
    s.cmd(&["EXPIRE", "rs:ttl:1", "100"]).expect_ok();
    s.cmd(&["EXPIRE", "rs:ttl:4", "86400"]).expect_ok();
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_pattern("rs:ttl:*")
            .with_ttl_column(Some("_ttl")),
    )
    .unwrap();
    assert_eq!(column_names(&batches[0]), ["_key", "a", "_ttl"]);
    let ks = keys(&batches);
    let ttls = i64s(&batches, "_ttl");
    assert_eq!(ks.len(), 6);
    for (k, ttl) in ks.iter().zip(ttls) {
        let truth = s.cmd(&["TTL", k.as_str()]).as_int().unwrap();
        match truth {
            -1 => assert_eq!(ttl, None, "{k}"),
            t => assert!((ttl.expect("a ttl") - t).abs() <= 1, "{k}: {ttl:?} vs {t}"),
        }
    }
}

#[test]
fn row_index_column() {
    let s = server();
    for i in 0..20 {
        hset(s, format!("rs:idx:{i}"), &[("a", b"1")]);
    }
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_pattern("rs:idx:*")
            .with_row_index_column(Some("_index"))
            .with_batch_size(6),
    )
    .unwrap();
    assert_eq!(column_names(&batches[0]), ["_index", "_key", "a"]);
    let index: Vec<u32> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<UInt32Type>().values().to_vec())
        .collect();
    assert_eq!(index, (0..20).collect::<Vec<u32>>());
}

#[test]
fn row_index_only_projection() {
    let s = server();
    for i in 0..4 {
        hset(s, format!("rs:idxonly:{i}"), &[("a", b"1")]);
    }
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_pattern("rs:idxonly:*")
            .with_row_index_column(Some("_index"))
            .with_projection(["_index"]),
    )
    .unwrap();
    assert_eq!(rows(&batches), 4);
    assert_eq!(column_names(&batches[0]), ["_index"]);
}

#[test]
fn other_types_are_skipped_under_a_pattern_and_rejected_when_listed() {
    let s = server();
    hset(s, "rs:wt:h", &[("a", b"1")]);
    s.cmd(&["SET", "rs:wt:s", "x"]).expect_ok();
    s.cmd(&["SADD", "rs:wt:set", "x"]).expect_ok();
    s.cmd(&["XADD", "rs:wt:x", "*", "a", "1"]).expect_ok();
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64)).with_pattern("rs:wt:*"),
    )
    .unwrap();
    assert_eq!(keys(&batches), ["rs:wt:h"]);

    for other in ["rs:wt:s", "rs:wt:set", "rs:wt:x"] {
        for projection in [None, Some(vec!["_key"])] {
            let mut b = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
                .with_keys(["rs:wt:h", other]);
            if let Some(p) = projection.clone() {
                b = b.with_projection(p);
            }
            let err = read_all(b).unwrap_err();
            assert!(err.is_wrong_type(), "{other} {projection:?}: {err}");
            assert!(err.to_string().contains(other), "{err}");
        }
    }
}

// --------------------------------------------------------------------------
// projection, limit, batching
// --------------------------------------------------------------------------

fn seed_projection(s: &RedisServer) {
    hset(
        s,
        "rs:proj:1",
        &[("a", b"1"), ("b", b"x"), ("c", b"c1"), ("d", b"d1")],
    );
    hset(s, "rs:proj:2", &[("a", b"2"), ("c", b"c2")]);
    hset(s, "rs:proj:3", &[("zz", b"no schema field")]);
}

fn projection_schema() -> Vec<Field> {
    ["a", "b", "c", "d"]
        .into_iter()
        .map(|n| {
            Field::new(
                n,
                if n == "a" {
                    FieldType::Int64
                } else {
                    FieldType::Utf8
                },
            )
        })
        .collect()
}

#[test]
fn projection_with_every_fetch_mode() {
    let s = server();
    seed_projection(s);
    for fetch in [HashFetch::Auto, HashFetch::All, HashFetch::Fields] {
        let builder = HashScanBuilder::new(config(s), projection_schema())
            .with_keys(["rs:proj:1", "rs:proj:2", "rs:proj:3", "rs:proj:nope"])
            .with_fetch(fetch)
            .with_projection(["_key", "c"]);
        assert_eq!(
            builder
                .output_schema()
                .unwrap()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>(),
            ["_key", "c"]
        );
        let batches = read_all(builder).unwrap();
        assert_eq!(column_names(&batches[0]), ["_key", "c"], "{fetch:?}");
        assert_eq!(
            keys(&batches),
            ["rs:proj:1", "rs:proj:2", "rs:proj:3"],
            "{fetch:?}"
        );
        assert_eq!(
            strings(&batches, "c"),
            [Some("c1".to_string()), Some("c2".to_string()), None],
            "{fetch:?}"
        );

        let only_b = read_all(
            HashScanBuilder::new(config(s), projection_schema())
                .with_keys(["rs:proj:2", "rs:proj:1"])
                .with_fetch(fetch)
                .with_projection(["b"]),
        )
        .unwrap();
        assert_eq!(column_names(&only_b[0]), ["b"]);
        assert_eq!(
            strings(&only_b, "b"),
            [None, Some("x".to_string())],
            "{fetch:?}"
        );
    }
}

#[test]
fn hmget_does_not_invent_rows_for_missing_keys() {
    let s = server();
    hset(s, "rs:ph:has", &[("a", b"1")]);
    hset(s, "rs:ph:none", &[("other", b"1")]);
    s.cmd(&["EXPIRE", "rs:ph:none", "300"]).expect_ok();
    let batches = read_all(
        HashScanBuilder::new(config(s), projection_schema())
            .with_keys(["rs:ph:none", "rs:ph:missing", "rs:ph:has", "rs:ph:gone"])
            .with_fetch(HashFetch::Fields)
            .with_ttl_column(Some("_ttl"))
            .with_projection(["_key", "b", "_ttl"]),
    )
    .unwrap();
    assert_eq!(keys(&batches), ["rs:ph:none", "rs:ph:has"]);
    assert_eq!(strings(&batches, "b"), [None, None]);
    let ttl = i64s(&batches, "_ttl");
    assert!(
        matches!(ttl[0], Some(t) if (295..=300).contains(&t)),
        "{ttl:?}"
    );
    assert_eq!(ttl[1], None);

    let none = read_all(
        HashScanBuilder::new(config(s), projection_schema())
            .with_keys(["rs:ph:missing"])
            .with_fetch(HashFetch::Fields),
    )
    .unwrap();
    assert_eq!(rows(&none), 0);
}

#[test]
fn limit_returns_exactly_n_real_rows() {
    let s = server();
    for i in 0..50 {
        hset(
            s,
            format!("rs:lim:{i:02}"),
            &[("a", i.to_string().as_bytes())],
        );
    }
    for n in [1usize, 7, 50, 80] {
        let batches = read_all(
            HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
                .with_pattern("rs:lim:*")
                .with_limit(Some(n))
                .with_batch_size(10),
        )
        .unwrap();
        let ks = keys(&batches);
        assert_eq!(ks.len(), n.min(50));
        assert_eq!(ks.iter().collect::<BTreeSet<_>>().len(), ks.len());
        for (k, a) in ks.iter().zip(i64s(&batches, "a")) {
            assert_eq!(k, &format!("rs:lim:{:02}", a.unwrap()));
        }
    }
    let zero = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_pattern("rs:lim:*")
            .with_limit(Some(0)),
    )
    .unwrap();
    assert_eq!(rows(&zero), 0);
}

#[test]
fn small_batches_read_every_key_once() {
    let s = server();
    let mut expected = BTreeSet::new();
    for i in 0..100 {
        let key = format!("rs:batch:{i:03}");
        hset(s, &key, &[("a", i.to_string().as_bytes())]);
        expected.insert(key);
    }
    let mut reader = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
        .with_pattern("rs:batch:*")
        .with_batch_size(7)
        .with_count_hint(3)
        .build()
        .unwrap();
    let schema = reader.schema();
    let mut seen = Vec::new();
    for batch in reader.by_ref() {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 7 && batch.num_rows() > 0);
        assert_eq!(batch.schema(), schema);
        seen.extend(keys(&[batch]));
    }
    assert_eq!(seen.len(), 100);
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

// --------------------------------------------------------------------------
// errors
// --------------------------------------------------------------------------

#[test]
fn strict_and_lenient_parsing() {
    let s = server();
    hset(s, "rs:parse:1", &[("a", b"forty")]);
    hset(s, "rs:parse:2", &[("a", b"41")]);
    let err = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64)).with_pattern("rs:parse:*"),
    )
    .unwrap_err();
    assert!(err.is_parse(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("rs:parse:1") && message.contains("`a`") && message.contains("forty"),
        "{message}"
    );

    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_keys(["rs:parse:1", "rs:parse:2"])
            .with_strict(false),
    )
    .unwrap();
    assert_eq!(i64s(&batches, "a"), [None, Some(41)]);
}

#[test]
fn the_largest_sizes_allocate_only_what_arrives() {
    let s = server();
    hset(s, "rs:largest:1", &[("a", b"1")]);
    hset(s, "rs:largest:2", &[("a", b"2")]);
    let batches = read_all(
        HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
            .with_pattern("rs:largest:*")
            .with_batch_size(BATCH_SIZE_LIMIT.max)
            .with_count_hint(COUNT_HINT_LIMIT.max)
            .with_parallelism(PARALLELISM_LIMIT.max),
    )
    .unwrap();
    let mut values = i64s(&batches, "a");
    values.sort();
    assert_eq!(values, [Some(1), Some(2)]);
    let err = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
        .with_batch_size(10_000_000_000)
        .build()
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "invalid argument: batch_size must be between 1 and 1000000, got 10000000000"
    );
}

#[test]
fn binary_key_type_reads_keys_that_are_not_utf8() {
    let s = server();
    let raw: &[u8] = b"rs:binkey:\xff\x00";
    hset(s, raw, &[("a", b"7")]);
    let scan =
        || HashScanBuilder::new(config(s), i64_field(FieldType::Int64)).with_pattern("rs:binkey:*");
    let err = read_all(scan()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
    assert!(err.to_string().contains("key_dtype=pl.Binary"), "{err}");
    let batches = read_all(scan().with_key_type(KeyType::Binary)).unwrap();
    let keys = batches[0].column_by_name("_key").unwrap();
    assert_eq!(keys.data_type(), &DataType::BinaryView);
    assert_eq!(keys.as_binary_view().value(0), raw);
    assert_eq!(i64s(&batches, "a"), [Some(7)]);
}

#[test]
fn invalid_arguments_are_rejected_by_build() {
    let s = server();
    let base = || HashScanBuilder::new(config(s), i64_field(FieldType::Int64));
    let cases: Vec<(&str, HashScanBuilder)> = vec![
        ("batch size 0", base().with_batch_size(0)),
        ("parallelism 0", base().with_parallelism(0)),
        ("count hint 0", base().with_count_hint(0)),
        (
            "batch size beyond its limit",
            base().with_batch_size(BATCH_SIZE_LIMIT.max + 1),
        ),
        ("batch size usize::MAX", base().with_batch_size(usize::MAX)),
        (
            "parallelism beyond its limit",
            base().with_parallelism(PARALLELISM_LIMIT.max + 1),
        ),
        (
            "count hint beyond its limit",
            base().with_count_hint(COUNT_HINT_LIMIT.max + 1),
        ),
        ("unknown projected column", base().with_projection(["nope"])),
        (
            "key column named like a field",
            base().with_key_column(Some("a")),
        ),
        (
            "ttl column named like the key",
            base().with_ttl_column(Some("_key")),
        ),
        (
            "field twice",
            HashScanBuilder::new(
                config(s),
                vec![
                    Field::new("a", FieldType::Int64),
                    Field::new("a", FieldType::Utf8),
                ],
            ),
        ),
    ];
    for (what, builder) in cases {
        match builder.build() {
            Ok(_) => panic!("{what}: build() succeeded"),
            Err(err) => assert!(err.is_invalid_input(), "{what}: {err}"),
        }
    }
    assert!(FieldType::decimal(39, 0).unwrap_err().is_invalid_input());
    assert!(FieldType::decimal(5, 6).unwrap_err().is_invalid_input());
    assert!(
        FieldType::datetime(TimeUnit::Millisecond, Some("Mars/Olympus"))
            .unwrap_err()
            .is_invalid_input()
    );
    for url in [
        "http://h",
        "redis://:hunter2@h:99999",
        "redis://:hunter2@h?bogus=1",
    ] {
        let err = ConnectionConfig::from_url(url).unwrap_err();
        assert!(
            err.is_invalid_input() && !err.to_string().contains("hunter2"),
            "{url}: {err}"
        );
    }
}

#[test]
fn closed_port_is_a_connection_error() {
    let port = free_port().unwrap();
    let config = ConnectionConfig::from_url(&format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(2));
    let start = Instant::now();
    let err = read_all(HashScanBuilder::new(config, i64_field(FieldType::Int64))).unwrap_err();
    assert!(
        err.is_connection() && !err.is_auth() && !err.is_timeout(),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_millis(1500));
}

#[test]
fn authentication_errors() {
    let protected = RedisServer::builder()
        .password("rs-Pa55word")
        .name("rs-auth")
        .start()
        .unwrap();
    hset(&protected, "k:1", &[("a", b"1")]);
    let port = protected.port();
    let ok = ConnectionConfig::from_url(&format!("redis://:rs-Pa55word@127.0.0.1:{port}")).unwrap();
    let batches = read_all(HashScanBuilder::new(ok, i64_field(FieldType::Int64))).unwrap();
    assert_eq!(keys(&batches), ["k:1"]);

    for (url, keys_listed) in [
        (format!("redis://:wrong-Pa55@127.0.0.1:{port}"), false),
        (format!("redis://127.0.0.1:{port}"), false),
        (format!("redis://127.0.0.1:{port}"), true),
    ] {
        let mut builder = HashScanBuilder::new(
            ConnectionConfig::from_url(&url).unwrap(),
            i64_field(FieldType::Int64),
        );
        if keys_listed {
            builder = builder.with_keys(["k:1"]);
        }
        let err = read_all(builder).unwrap_err();
        assert!(err.is_auth(), "{url}: {err}");
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains("wrong-Pa55") && !text.contains("rs-Pa55word"),
            "{text}"
        );
    }
    let creds = ConnectionConfig::from_url(&format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .with_credentials(Some("default"), "rs-Pa55word");
    assert!(!format!("{creds:?}").contains("rs-Pa55word"));
    assert_eq!(
        rows(&read_all(HashScanBuilder::new(creds, i64_field(FieldType::Int64))).unwrap()),
        1
    );
}

/// Runs DEBUG SLEEP on its own connection and returns once the server stopped answering.
fn put_to_sleep(server: &RedisServer, seconds: &str) -> std::thread::JoinHandle<RespValue> {
    let mut conn = server.connect().unwrap();
    let seconds = seconds.to_string();
    let handle =
        std::thread::spawn(move || conn.cmd(&["DEBUG", "SLEEP", seconds.as_str()]).unwrap());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut probe =
            Connection::tcp(("127.0.0.1", server.port()), Duration::from_millis(50)).unwrap();
        if probe.cmd(&["PING"]).is_err() {
            return handle;
        }
        assert!(Instant::now() < deadline, "server never went to sleep");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn command_timeout_and_deadline() {
    let sleepy = RedisServer::builder()
        .args(["--enable-debug-command", "yes"])
        .name("rs-sleepy")
        .start()
        .unwrap();
    hset(&sleepy, "k:1", &[("a", b"1")]);

    // command timeout, while SCAN waits
    let handle = put_to_sleep(&sleepy, "1.5");
    let cfg = config(&sleepy).with_command_timeout(Some(Duration::from_millis(400)));
    let start = Instant::now();
    let err = read_all(HashScanBuilder::new(cfg, i64_field(FieldType::Int64))).unwrap_err();
    let elapsed = start.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1400),
        "{elapsed:?}"
    );
    assert_eq!(handle.join().unwrap(), RespValue::simple("OK"));

    // overall deadline, while HGETALL waits
    let handle = put_to_sleep(&sleepy, "1.5");
    let start = Instant::now();
    let err = read_all(
        HashScanBuilder::new(config(&sleepy), i64_field(FieldType::Int64))
            .with_keys(["k:1"])
            .with_deadline(Some(Duration::from_millis(400))),
    )
    .unwrap_err();
    let elapsed = start.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert!(elapsed < Duration::from_millis(1400), "{elapsed:?}");
    handle.join().unwrap();

    // and after the nap everything works again
    let batches = read_all(
        HashScanBuilder::new(config(&sleepy), i64_field(FieldType::Int64))
            .with_deadline(Some(Duration::from_secs(30))),
    )
    .unwrap();
    assert_eq!(keys(&batches), ["k:1"]);
}

// --------------------------------------------------------------------------
// async streams
// --------------------------------------------------------------------------

fn seed_stream_keys(s: &RedisServer, prefix: &str, n: usize) {
    for i in 0..n {
        hset(
            s,
            format!("{prefix}:{i:02}"),
            &[("a", i.to_string().as_bytes())],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_stream_on_a_multi_thread_runtime() {
    let s = server();
    seed_stream_keys(s, "rs:stream-mt", 25);
    let mut stream = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
        .with_pattern("rs:stream-mt:*")
        .with_batch_size(4)
        .with_row_index_column(Some("_index"))
        .build_stream()
        .unwrap();
    let mut batches = Vec::new();
    while let Some(batch) = stream.next_batch().await {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 4);
        assert_eq!(batch.schema(), stream.schema());
        batches.push(batch);
    }
    assert_eq!(rows(&batches), 25);
    let mut sums = 0;
    for (k, a) in keys(&batches).iter().zip(i64s(&batches, "a")) {
        assert_eq!(k, &format!("rs:stream-mt:{:02}", a.unwrap()));
        sums += a.unwrap();
    }
    assert_eq!(sums, (0..25).sum::<i64>());
}

#[tokio::test]
async fn build_stream_on_a_current_thread_runtime() {
    let s = server();
    seed_stream_keys(s, "rs:stream-ct", 10);
    let mut stream = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
        .with_keys(["rs:stream-ct:09", "rs:stream-ct:missing", "rs:stream-ct:03"])
        .build_stream()
        .unwrap();
    let mut batches = Vec::new();
    while let Some(batch) = stream.next_batch().await {
        batches.push(batch.unwrap());
    }
    assert_eq!(keys(&batches), ["rs:stream-ct:09", "rs:stream-ct:03"]);
    assert_eq!(i64s(&batches, "a"), [Some(9), Some(3)]);
}

#[tokio::test]
async fn build_stream_reports_errors() {
    let s = server();
    s.cmd(&["SET", "rs:stream-err:s", "x"]).expect_ok();
    let mut stream = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
        .with_keys(["rs:stream-err:s"])
        .build_stream()
        .unwrap();
    let first = stream.next_batch().await.expect("an error item");
    assert!(first.unwrap_err().is_wrong_type());
    assert!(stream.next_batch().await.is_none());

    let port = free_port().unwrap();
    let cfg = ConnectionConfig::from_url(&format!("redis://127.0.0.1:{port}")).unwrap();
    let mut stream = HashScanBuilder::new(cfg, i64_field(FieldType::Int64))
        .build_stream()
        .unwrap();
    let err = stream
        .next_batch()
        .await
        .expect("an error item")
        .unwrap_err();
    assert!(err.is_connection(), "{err}");
}

#[tokio::test]
async fn build_stream_with_limit_stops_early() {
    let s = server();
    seed_stream_keys(s, "rs:stream-lim", 30);
    let mut stream = HashScanBuilder::new(config(s), i64_field(FieldType::Int64))
        .with_pattern("rs:stream-lim:*")
        .with_limit(Some(3))
        .build_stream()
        .unwrap();
    let mut total = 0;
    while let Some(batch) = stream.next_batch().await {
        total += batch.unwrap().num_rows();
    }
    assert_eq!(total, 3);
}

// --------------------------------------------------------------------------
// least-privilege users and glob agreement
// --------------------------------------------------------------------------

#[test]
fn read_only_acl_user_can_scan_hashes() {
    let s = server();
    hset(s, "rs:acl:1", &[("a", b"1")]);
    s.cmd(&[
        "ACL",
        "SETUSER",
        "rs-reader",
        "reset",
        "on",
        ">rs-reader-Pa55",
        "~rs:acl:*",
        "+@read",
    ])
    .expect_ok();
    let url = format!("redis://rs-reader:rs-reader-Pa55@127.0.0.1:{}", s.port());
    let result = read_all(
        HashScanBuilder::new(
            ConnectionConfig::from_url(&url).unwrap(),
            i64_field(FieldType::Int64),
        )
        .with_pattern("rs:acl:*"),
    );
    s.cmd(&["ACL", "DELUSER", "rs-reader"]);
    let batches = result.unwrap();
    assert_eq!(keys(&batches), ["rs:acl:1"]);
    assert_eq!(i64s(&batches, "a"), [Some(1)]);
}

/// `glob_match` decides which keys of a pushed-down `_key == k` filter are
/// read under a pattern: it must agree with Redis's own SCAN MATCH.
#[test]
fn glob_match_agrees_with_scan_match() {
    let s = RedisServer::builder().name("rs-glob").start().unwrap();
    let keys = [
        "a", "b", "-", "]", "^", "\\", "[", "ab", "a-", "-a", "a]", "x", "c", "[a", "a[b", "d",
    ];
    for k in keys {
        hset(&s, k, &[("v", b"1")]);
    }
    let patterns = [
        "[a-]", "[-a]", "[^-]", "[a\\]]", "[]a]", "[a-c-e]", "[c-a]", "[^a-c]", "\\", "a\\", "[",
        "[a", "a[b", "[^]", "?", "*[", "\\[a", "[\\-]", "*", "a*", "*a*", "[ab]*",
    ];
    let mut disagreements = Vec::new();
    for pattern in patterns {
        let mut redis_says = BTreeSet::new();
        let mut cursor = "0".to_string();
        loop {
            let reply = s.cmd(&["SCAN", cursor.as_str(), "MATCH", pattern, "COUNT", "1000"]);
            let parts = reply.as_array().unwrap();
            cursor = parts[0].as_str().unwrap().to_string();
            for k in parts[1].as_array().unwrap() {
                redis_says.insert(k.as_str().unwrap().to_string());
            }
            if cursor == "0" {
                break;
            }
        }
        for k in keys {
            let ours = polars_redis::glob_match(pattern.as_bytes(), k.as_bytes());
            if ours != redis_says.contains(k) {
                disagreements.push(format!("{pattern:?} ~ {k:?}: redis {} ours {ours}", !ours));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
