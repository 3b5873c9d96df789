//! Proves the harness really starts working servers.

use std::os::unix::net::UnixStream;
use std::time::Duration;

use redis_test_support::{
    key_slot, Connection, HarnessError, RedisCluster, RedisServer, RespValue, CLUSTER_SLOTS,
};

#[test]
fn plain_server_round_trip() {
    let server = RedisServer::plain();
    assert_ne!(server.port(), 6379);
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
    assert_eq!(server.cmd(&["PING"]), RespValue::simple("PONG"));
    assert_eq!(
        server.cmd(&[&b"SET"[..], b"k\x00\xff", b"v\r\n\x01"]),
        RespValue::simple("OK")
    );
    assert_eq!(
        server.cmd(&[&b"GET"[..], b"k\x00\xff"]),
        RespValue::bulk(b"v\r\n\x01")
    );
    assert_eq!(server.cmd(&["GET", "missing"]), RespValue::Nil);
    server.cmd(&["RPUSH", "l", "a", "b"]).expect_ok();
    assert!(server.cmd(&["GET", "l"]).is_error());
    assert_eq!(
        server.cmd(&["LRANGE", "l", "0", "-1"]),
        RespValue::Array(vec![RespValue::bulk("a"), RespValue::bulk("b")])
    );
    // Nested arrays.
    server.cmd(&["XADD", "s", "1-1", "f", "v"]).expect_ok();
    assert_eq!(
        server.cmd(&["XRANGE", "s", "-", "+"]),
        RespValue::Array(vec![RespValue::Array(vec![
            RespValue::bulk("1-1"),
            RespValue::Array(vec![RespValue::bulk("f"), RespValue::bulk("v")]),
        ])])
    );
    let replies = server.pipeline(&[vec!["INCR", "n"], vec!["INCRBY", "n", "2"]]);
    assert_eq!(replies, vec![RespValue::Integer(1), RespValue::Integer(3)]);

    // A separate connection sees the same data.
    let mut conn = Connection::tcp(("127.0.0.1", server.port()), Duration::from_secs(5)).unwrap();
    assert_eq!(conn.cmd(&["GET", "n"]).unwrap(), RespValue::bulk("3"));
    server.flushall();
    assert_eq!(server.cmd(&["DBSIZE"]), RespValue::Integer(0));
}

#[test]
fn drop_kills_server_and_removes_dir() {
    let server = RedisServer::plain();
    let dir = server.dir().to_path_buf();
    let port = server.port();
    assert!(dir.is_dir());
    assert!(server.is_running());
    drop(server);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(
        Connection::tcp(("127.0.0.1", port), Duration::from_millis(500))
            .and_then(|mut c| c.cmd(&["PING"]))
            .is_err()
    );
}

#[test]
fn builder_password_unix_socket_and_args() {
    let server = RedisServer::builder()
        .password("s3 cret")
        .unix_socket()
        .args(["--maxmemory", "10mb"])
        .start()
        .unwrap();
    assert_eq!(server.password(), Some("s3 cret"));
    assert_eq!(
        server.cmd(&["CONFIG", "GET", "maxmemory"]),
        RespValue::Array(vec![
            RespValue::bulk("maxmemory"),
            RespValue::bulk("10485760")
        ])
    );
    // Unauthenticated connections are refused.
    let mut anon = Connection::tcp(("127.0.0.1", server.port()), Duration::from_secs(5)).unwrap();
    match anon.cmd(&["PING"]).unwrap() {
        RespValue::Error(e) => assert!(e.starts_with("NOAUTH"), "{e}"),
        other => panic!("expected NOAUTH, got {other:?}"),
    }
    let sock = server.unix_socket_path().expect("unix socket");
    assert!(UnixStream::connect(sock).is_ok());
    let mut unix = Connection::unix(sock, Duration::from_secs(5)).unwrap();
    assert_eq!(
        unix.cmd(&["AUTH", "s3 cret"]).unwrap(),
        RespValue::simple("OK")
    );
    assert_eq!(unix.cmd(&["PING"]).unwrap(), RespValue::simple("PONG"));
    assert_eq!(
        server.unix_url().unwrap(),
        format!("unix://{}", sock.display())
    );
}

#[test]
fn startup_failure_reports_log_tail() {
    let err = RedisServer::builder()
        .args(["--maxmemory-policy", "no-such-policy"])
        .start()
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HarnessError::Startup { .. }), "{text}");
    assert!(
        text.contains("log tail") && text.contains("maxmemory-policy"),
        "{text}"
    );
}

#[test]
fn busy_port_is_retried_then_reported() {
    // Forcing an occupied port (extra args override the harness's --port)
    // exercises the "Address already in use" detection and retry loop.
    let blocker = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let busy = blocker.local_addr().unwrap().port().to_string();
    let err = RedisServer::builder()
        .args(["--port", busy.as_str()])
        .start()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no free port"), "{text}");
    assert!(text.contains("Address already in use"), "{text}");
}

#[test]
fn missing_binary_is_unavailable() {
    let err = RedisServer::builder()
        .binary("/nonexistent/redis-server")
        .start()
        .unwrap_err();
    assert!(err.is_unavailable(), "{err}");
}

#[test]
fn stack_server_has_modules() {
    let server = RedisServer::stack();
    let names = server.module_names();
    for module in ["search", "ReJSON", "timeseries"] {
        assert!(
            names.iter().any(|n| n == module),
            "{module} not in {names:?}"
        );
    }
    server
        .cmd(&["JSON.SET", "doc", "$", r#"{"a":1,"b":"x"}"#])
        .expect_ok();
    assert_eq!(
        server.cmd(&["JSON.GET", "doc", "$.b"]),
        RespValue::bulk(r#"["x"]"#)
    );
    server.cmd(&["TS.ADD", "ts", "1000", "2.5"]).expect_ok();
    assert_eq!(
        server.cmd(&["TS.GET", "ts"]),
        RespValue::Array(vec![RespValue::Integer(1000), RespValue::simple("2.5")])
    );
    server
        .cmd(&[
            "FT.CREATE",
            "idx",
            "ON",
            "HASH",
            "PREFIX",
            "1",
            "h:",
            "SCHEMA",
            "n",
            "NUMERIC",
        ])
        .expect_ok();
    server.cmd(&["HSET", "h:1", "n", "5"]).expect_ok();
    assert_eq!(
        server.cmd(&["FT.SEARCH", "idx", "@n:[1 10]", "NOCONTENT"]),
        RespValue::Array(vec![RespValue::Integer(1), RespValue::bulk("h:1")])
    );
}

#[test]
fn shared_servers_are_reused() {
    let a = RedisServer::shared_plain();
    let b = RedisServer::shared_plain();
    assert_eq!(a.port(), b.port());
    a.cmd(&["SET", "shared:test", "1"]).expect_ok();
    assert_eq!(b.cmd(&["GET", "shared:test"]), RespValue::bulk("1"));
}

#[test]
fn cluster_works() {
    let cluster = RedisCluster::start(3);
    assert_eq!(cluster.urls().len(), 3);
    assert_eq!(cluster.url(), cluster.urls()[0]);

    // Every node agrees that all 16384 slots are covered by 3 masters.
    for node in cluster.nodes() {
        let info = node.cmd(&["CLUSTER", "INFO"]);
        let info = info.as_str().unwrap();
        assert!(info.contains("cluster_state:ok"), "{info}");
        assert!(
            info.contains(&format!("cluster_slots_ok:{CLUSTER_SLOTS}")),
            "{info}"
        );
    }
    let slots = cluster.nodes()[0].cmd(&["CLUSTER", "SLOTS"]);
    let covered: i64 = slots
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            r[1].as_int().unwrap() - r[0].as_int().unwrap() + 1
        })
        .sum();
    assert_eq!(covered, i64::from(CLUSTER_SLOTS));

    // Our CRC16 agrees with the server's CLUSTER KEYSLOT.
    for key in [
        "foo",
        "somekey",
        "{user1000}.following",
        "a{}b",
        "x{y}z{w}",
        "é\u{1F600}",
    ] {
        let server_slot = cluster.nodes()[0].cmd(&["CLUSTER", "KEYSLOT", key]);
        assert_eq!(
            server_slot,
            RespValue::Integer(i64::from(key_slot(key.as_bytes()))),
            "{key}"
        );
    }

    // Keys written through the owning node are readable there and nowhere else.
    let keys: Vec<String> = (0..60).map(|i| format!("key:{i}")).collect();
    for key in &keys {
        assert_eq!(
            cluster.cmd_for_key(key, &["SET", key.as_str(), key.as_str()]),
            RespValue::simple("OK")
        );
    }
    for key in &keys {
        assert_eq!(
            cluster.cmd_for_key(key, &["GET", key.as_str()]),
            RespValue::bulk(key)
        );
        let owner = cluster.node_for_key(key).port();
        for node in cluster.nodes().iter().filter(|n| n.port() != owner) {
            match node.cmd(&["GET", key.as_str()]) {
                RespValue::Error(e) => assert!(e.starts_with("MOVED"), "{e}"),
                other => panic!("non-owner answered {other:?}"),
            }
        }
    }
    let per_node: Vec<i64> = cluster
        .cmd_all(&["DBSIZE"])
        .iter()
        .map(|r| r.as_int().unwrap())
        .collect();
    assert_eq!(per_node.iter().sum::<i64>(), keys.len() as i64);
    assert!(per_node.iter().all(|&n| n > 0), "{per_node:?}");
    cluster.flushall();
    assert!(cluster
        .cmd_all(&["DBSIZE"])
        .iter()
        .all(|r| *r == RespValue::Integer(0)));
}
