//! The `redis-harness` binary: reports what it started, answers requests and
//! leaves nothing behind however it ends.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use redis_test_support::{Connection, RespValue};

fn harness(args: &[&str]) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-harness"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn redis-harness");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (child, stdout)
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read report");
    line
}

/// Every `"field": value` of a report, in order (values are numbers, null or
/// strings without quotes or escapes in these tests).
fn fields<'a>(report: &'a str, field: &str) -> Vec<&'a str> {
    report
        .split(&format!("\"{field}\": "))
        .skip(1)
        .map(|rest| {
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            rest[..end].trim_matches('"')
        })
        .collect()
}

fn ping(port: &str) -> Option<RespValue> {
    let port: u16 = port.parse().expect("port");
    Connection::tcp(("127.0.0.1", port), Duration::from_millis(500))
        .and_then(|mut c| c.cmd(&["PING"]))
        .ok()
}

fn wait_gone(dir: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while PathBuf::from(dir).exists() {
        assert!(Instant::now() < deadline, "{dir} still exists");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn server_reports_answers_and_stops_when_stdin_closes() {
    let (mut child, mut stdout) =
        harness(&["server", "--unix-socket", "--", "--requirepass", "pw"]);
    let report = read_line(&mut stdout);
    let (port, dir) = (fields(&report, "port")[0], fields(&report, "dir")[0]);
    assert_eq!(fields(&report, "password"), ["pw"], "{report}");
    assert_eq!(
        fields(&report, "url")[0],
        format!("redis://127.0.0.1:{port}")
    );
    assert!(PathBuf::from(fields(&report, "unix_socket")[0]).exists());
    assert!(fields(&report, "pid")[0].parse::<u32>().is_ok(), "{report}");
    assert!(
        ping(port).is_some_and(|r| r.is_error()),
        "no password, no PING"
    );

    let stdin = child.stdin.as_mut().expect("stdin");
    writeln!(stdin, "log-tail 0").unwrap();
    assert!(read_line(&mut stdout).contains("Ready to accept connections"));
    writeln!(stdin, "log-tail 7").unwrap();
    assert!(read_line(&mut stdout).contains("\"error\""));

    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert!(!PathBuf::from(dir).exists(), "{dir} still exists");
    assert!(ping(port).is_none());
}

#[test]
fn killed_harness_leaves_no_server() {
    let (mut child, mut stdout) = harness(&["server"]);
    let report = read_line(&mut stdout);
    let (port, dir) = (fields(&report, "port")[0], fields(&report, "dir")[0]);
    assert_eq!(ping(port), Some(RespValue::simple("PONG")));
    child.kill().unwrap();
    child.wait().unwrap();
    wait_gone(dir);
    assert!(ping(port).is_none());
}

#[test]
fn cluster_reports_every_node() {
    let (mut child, mut stdout) = harness(&["cluster", "--masters", "3"]);
    let report = read_line(&mut stdout);
    let ports = fields(&report, "port");
    assert_eq!(ports.len(), 3, "{report}");
    assert_eq!(fields(&report, "cluster_port").len(), 3, "{report}");
    for port in &ports {
        assert_eq!(ping(port), Some(RespValue::simple("PONG")));
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    for dir in fields(&report, "dir") {
        assert!(!PathBuf::from(dir).exists(), "{dir} still exists");
    }
}

#[test]
fn failures_are_reported_as_json() {
    let (mut child, mut stdout) = harness(&["server", "--server-bin", "/nonexistent/redis"]);
    let report = read_line(&mut stdout);
    assert_eq!(fields(&report, "error"), ["unavailable"], "{report}");
    assert!(!child.wait().unwrap().success());

    let (mut child, mut stdout) = harness(&["server", "--", "--maxmemory-policy", "nope"]);
    let report = read_line(&mut stdout);
    assert_eq!(fields(&report, "error"), ["startup"], "{report}");
    assert!(report.contains("log tail"), "{report}");
    assert!(!child.wait().unwrap().success());
}

#[test]
fn server_without_tcp_port_is_ready_from_its_log() {
    let (mut child, mut stdout) = harness(&["server", "--unix-socket", "--", "--port", "0"]);
    let report = read_line(&mut stdout);
    let socket = PathBuf::from(fields(&report, "unix_socket")[0]);
    let mut conn = Connection::unix(&socket, Duration::from_secs(5)).unwrap();
    assert_eq!(conn.cmd(&["PING"]).unwrap(), RespValue::simple("PONG"));
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}
