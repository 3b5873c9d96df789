//! `redis-harness`: the harness as a process, for test suites in other
//! languages (the Python fixtures in `tests/redis_servers.py`).
//!
//! ```text
//! redis-harness server  [OPTIONS] [-- REDIS-SERVER-ARGS...]
//! redis-harness cluster [--masters N] [OPTIONS] [-- REDIS-SERVER-ARGS...]
//! redis-harness which   cli | server | stack-server
//!
//! OPTIONS: --stack  --server-bin PATH  --module PATH  --unix-socket
//!          --cluster-enabled  --ld-library-path PATH  --name NAME
//!          --startup-timeout SECONDS
//! ```
//!
//! `server` and `cluster` print one JSON line once everything answers:
//! `{"nodes": [{"name", "host", "port", "url", "password", "cluster_port",
//! "dir", "unix_socket", "logfile", "pid"}, ...]}`, then answer requests read
//! line by line from stdin (`log-tail NODE`: `{"log_tail": "..."}`). When
//! stdin closes they stop every server and exit; if the harness is killed
//! instead, each server's watchdog kills it. Failures print
//! `{"error": KIND, "message": "..."}` (KIND `unavailable` when a binary or
//! module is missing) and exit with status 1.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use redis_test_support::{config, HarnessError, RedisCluster, RedisServer, RedisServerBuilder};

const USAGE: &str = "usage: redis-harness server|cluster [--masters N] [--stack] \
    [--server-bin PATH] [--module PATH] [--unix-socket] [--cluster-enabled] \
    [--ld-library-path PATH] [--name NAME] [--startup-timeout SECONDS] [-- ARGS...]\n\
    \x20      redis-harness which cli|server|stack-server";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((command, rest)) if command == "which" => which(rest),
        Some((command, rest)) if command == "server" || command == "cluster" => {
            Options::parse(rest).and_then(|options| serve(command == "cluster", &options))
        }
        _ => Err(HarnessError::Command(USAGE.into())),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!(
                "{{\"error\": {}, \"message\": {}}}",
                json_string(error_kind(&error)),
                json_string(&error.to_string())
            );
            ExitCode::FAILURE
        }
    }
}

/// What to start, from the command line.
#[derive(Default)]
struct Options {
    masters: usize,
    stack: bool,
    server_bin: Option<PathBuf>,
    modules: Vec<PathBuf>,
    unix_socket: bool,
    cluster_enabled: bool,
    ld_library_path: Option<String>,
    name: Option<String>,
    startup_timeout: Option<Duration>,
    server_args: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, HarnessError> {
        let mut options = Options {
            masters: 3,
            ..Options::default()
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| HarnessError::Command(format!("{arg} needs a value\n{USAGE}")))
            };
            match arg.as_str() {
                "--" => {
                    options.server_args.extend(args.by_ref().cloned());
                }
                "--masters" => options.masters = parse_number(arg, &value()?)?,
                "--stack" => options.stack = true,
                "--server-bin" => options.server_bin = Some(value()?.into()),
                "--module" => options.modules.push(value()?.into()),
                "--unix-socket" => options.unix_socket = true,
                "--cluster-enabled" => options.cluster_enabled = true,
                "--ld-library-path" => options.ld_library_path = Some(value()?),
                "--name" => options.name = Some(value()?),
                "--startup-timeout" => {
                    let seconds: f64 = parse_number(arg, &value()?)?;
                    options.startup_timeout = Duration::try_from_secs_f64(seconds).ok();
                }
                other => {
                    return Err(HarnessError::Command(format!(
                        "unknown option {other}\n{USAGE}"
                    )))
                }
            }
        }
        Ok(options)
    }

    /// Applies the per-server options to `builder`.
    fn configure(&self, mut builder: RedisServerBuilder) -> RedisServerBuilder {
        if self.stack {
            builder = builder.stack();
        }
        if let Some(path) = &self.server_bin {
            builder = builder.binary(path);
        }
        for module in &self.modules {
            builder = builder.module(module);
        }
        if self.unix_socket {
            builder = builder.unix_socket();
        }
        if self.cluster_enabled {
            builder = builder.cluster_enabled();
        }
        if let Some(path) = &self.ld_library_path {
            builder = builder.ld_library_path(path);
        }
        if let Some(name) = &self.name {
            builder = builder.name(name);
        }
        if let Some(timeout) = self.startup_timeout {
            builder = builder.startup_timeout(timeout);
        }
        builder.args(self.server_args.iter().cloned())
    }
}

fn parse_number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, HarnessError> {
    value
        .parse()
        .map_err(|_| HarnessError::Command(format!("{option}: not a number: {value:?}")))
}

/// `which TOOL`: prints `{"path": ...}` of a configured binary.
fn which(args: &[String]) -> Result<(), HarnessError> {
    let path = match args {
        [tool] if tool == "cli" => config::cli()?,
        [tool] if tool == "server" => config::plain_server()?,
        [tool] if tool == "stack-server" => config::stack()?.server,
        _ => return Err(HarnessError::Command(USAGE.into())),
    };
    println!("{{\"path\": {}}}", json_string(&path.to_string_lossy()));
    Ok(())
}

/// What `serve` started; dropping it stops every server.
enum Started {
    Server(RedisServer),
    Cluster(RedisCluster),
}

impl Started {
    fn nodes(&self) -> &[RedisServer] {
        match self {
            Started::Server(server) => std::slice::from_ref(server),
            Started::Cluster(cluster) => cluster.nodes(),
        }
    }
}

/// Starts a server or cluster, reports it and answers requests until stdin closes.
fn serve(cluster: bool, options: &Options) -> Result<(), HarnessError> {
    let started = if cluster {
        Started::Cluster(RedisCluster::try_start_with(options.masters, |builder| {
            options.configure(builder)
        })?)
    } else {
        Started::Server(options.configure(RedisServer::builder()).start()?)
    };
    let nodes: Vec<String> = started.nodes().iter().map(node_json).collect();
    let mut out = io::stdout().lock();
    writeln!(out, "{{\"nodes\": [{}]}}", nodes.join(", "))?;
    out.flush()?;
    for line in io::stdin().lock().lines() {
        let reply = answer(&started, &line?);
        writeln!(out, "{reply}")?;
        out.flush()?;
    }
    Ok(())
}

/// The reply to one request line.
fn answer(started: &Started, request: &str) -> String {
    let words: Vec<&str> = request.split_whitespace().collect();
    let node = |index: &str| {
        index
            .parse()
            .ok()
            .and_then(|i: usize| started.nodes().get(i))
    };
    match words.as_slice() {
        ["log-tail", index] => match node(index) {
            Some(server) => format!("{{\"log_tail\": {}}}", json_string(&server.log_tail())),
            None => error_json(&format!("no node {index}")),
        },
        _ => error_json(&format!("unknown request {request:?}")),
    }
}

fn error_json(message: &str) -> String {
    format!(
        "{{\"error\": \"request\", \"message\": {}}}",
        json_string(message)
    )
}

fn node_json(server: &RedisServer) -> String {
    let path = |p: &std::path::Path| json_string(&p.to_string_lossy());
    let optional = |value: Option<String>| value.unwrap_or_else(|| "null".into());
    format!(
        "{{\"name\": {}, \"host\": {}, \"port\": {}, \"url\": {}, \"password\": {}, \
         \"cluster_port\": {}, \"dir\": {}, \"unix_socket\": {}, \"logfile\": {}, \"pid\": {}}}",
        json_string(server.name()),
        json_string(server.host()),
        server.port(),
        json_string(&server.url()),
        optional(server.password().map(json_string)),
        optional(server.cluster_port().map(|p| p.to_string())),
        path(server.dir()),
        optional(server.unix_socket_path().map(path)),
        path(&server.log_path()),
        optional(server.pid().map(|p| p.to_string())),
    )
}

fn error_kind(error: &HarnessError) -> &'static str {
    match error {
        HarnessError::Unavailable(_) => "unavailable",
        HarnessError::Startup { .. } => "startup",
        HarnessError::Cluster(_) => "cluster",
        HarnessError::Command(_) => "command",
        HarnessError::Io(_) => "io",
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
