//! One throw-away `redis-server` process.

use std::fs::{self, File};
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config;
use crate::resp::{Connection, RespValue};
use crate::{HarnessError, UnwrapOrPanic};

/// How long a server may take to answer PING after being spawned.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
const START_ATTEMPTS: usize = 5;
const LOG_TAIL_LINES: usize = 40;
/// Files in the server's directory: its log, pid file and stdout/stderr.
const LOG_FILE: &str = "redis.log";
const PID_FILE: &str = "redis.pid";
const STDIO_FILE: &str = "stdio.log";

/// Runs the server as a child of `sh`. A second child blocks reading fd 0 (a
/// pipe whose write end only this process holds) and SIGKILLs the server when
/// it reads EOF: when the `RedisServer` is dropped, or when the test process
/// exits or dies in any way (so servers kept in statics never leak). `$1` is
/// the server's directory, removed after such a kill.
const WATCHDOG: &str = r#"
dir=$1; shift
exec 3<&0 </dev/null
"$@" &
rpid=$!
( read -r _ <&3; kill -9 "$rpid" 2>/dev/null ) &
wpid=$!
exec 3<&-
wait "$rpid"; st=$?
kill "$wpid" 2>/dev/null
[ "$st" -eq 137 ] && rm -rf "$dir"
exit "$st"
"#;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn make_temp_dir(name: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "redis-test-support-{name}-{}-{n}-{nanos:x}",
            std::process::id()
        ));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tail_of(path: &Path, lines: usize) -> Option<String> {
    let text = fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    (!tail.trim().is_empty()).then_some(tail)
}

#[derive(Debug, Clone)]
enum Binary {
    Plain,
    Stack,
    Path(PathBuf),
}

/// Configures and starts a [`RedisServer`].
#[derive(Debug, Clone)]
pub struct RedisServerBuilder {
    binary: Binary,
    modules: Vec<PathBuf>,
    args: Vec<String>,
    unix_socket: bool,
    cluster: bool,
    ld_library_path: Option<String>,
    startup_timeout: Duration,
    name: Option<String>,
}

impl Default for RedisServerBuilder {
    fn default() -> Self {
        Self {
            binary: Binary::Plain,
            modules: Vec::new(),
            args: Vec::new(),
            unix_socket: false,
            cluster: false,
            ld_library_path: None,
            startup_timeout: STARTUP_TIMEOUT,
            name: None,
        }
    }
}

impl RedisServerBuilder {
    /// Use Redis Stack (its modules from `POLARS_REDIS_STACK_MODULES` are loaded).
    pub fn stack(mut self) -> Self {
        self.binary = Binary::Stack;
        self
    }

    /// Use this `redis-server` binary instead of a configured one.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Binary::Path(path.into());
        self
    }

    /// An extra `--loadmodule PATH`.
    pub fn module(mut self, path: impl Into<PathBuf>) -> Self {
        self.modules.push(path.into());
        self
    }

    /// One extra command-line argument (e.g. `"--maxmemory"`, `"10mb"`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `--requirepass PASSWORD`; the harness authenticates its own commands.
    pub fn password(self, password: impl Into<String>) -> Self {
        self.arg("--requirepass").arg(password)
    }

    /// Also listen on a unix socket in the server's directory.
    pub fn unix_socket(mut self) -> Self {
        self.unix_socket = true;
        self
    }

    /// `--cluster-enabled yes` with its own config file and bus port.
    pub fn cluster_enabled(mut self) -> Self {
        self.cluster = true;
        self
    }

    /// Prepended to `LD_LIBRARY_PATH` of the server process.
    pub fn ld_library_path(mut self, path: impl Into<String>) -> Self {
        self.ld_library_path = Some(path.into());
        self
    }

    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Name used in temp-dir names and messages.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Whether the extra arguments end up with `--port 0` (no TCP listener;
    /// the last `--port` wins, as in redis-server).
    fn tcp_port_disabled(&self) -> bool {
        self.args
            .windows(2)
            .rev()
            .find(|pair| pair[0] == "--port")
            .is_some_and(|pair| pair[1] == "0")
    }

    /// Starts the server and waits until it answers (for a server started
    /// with `--port 0`, until its log says it is ready).
    pub fn start(self) -> Result<RedisServer, HarnessError> {
        let mut modules = Vec::new();
        let mut ld_library_path = self.ld_library_path.clone();
        let (server, default_name) = match &self.binary {
            Binary::Plain => (config::plain_server()?, "redis"),
            Binary::Stack => {
                let stack = config::stack()?;
                modules = stack.modules;
                if ld_library_path.is_none() {
                    ld_library_path = stack.ld_library_path;
                }
                (stack.server, "redis-stack")
            }
            Binary::Path(p) => (p.clone(), "redis"),
        };
        if !server.is_file() {
            return Err(HarnessError::Unavailable(format!(
                "redis-server binary {} does not exist",
                server.display()
            )));
        }
        modules.extend(self.modules.iter().cloned());
        let spec = Spec {
            name: self.name.clone().unwrap_or_else(|| default_name.to_owned()),
            server,
            modules,
            password: self
                .args
                .iter()
                .position(|a| a == "--requirepass")
                .and_then(|i| self.args.get(i + 1))
                .cloned(),
            builder: self,
            ld_library_path,
        };
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            match spec.start_once()? {
                Ok(server) => return Ok(server),
                Err(port_in_use) => last = Some(port_in_use),
            }
        }
        Err(HarnessError::Startup {
            name: spec.name.clone(),
            message: format!("no free port after {START_ATTEMPTS} attempts"),
            log_tail: last.unwrap_or_default(),
        })
    }
}

struct Spec {
    name: String,
    server: PathBuf,
    modules: Vec<PathBuf>,
    password: Option<String>,
    ld_library_path: Option<String>,
    builder: RedisServerBuilder,
}

impl Spec {
    /// `Ok(Err(log))`: the port was taken, try again.
    fn start_once(&self) -> Result<Result<RedisServer, String>, HarnessError> {
        let dir = make_temp_dir(&self.name)?;
        let port = free_port()?;
        let cluster_port = if self.builder.cluster {
            Some(free_port()?)
        } else {
            None
        };
        let unix_socket = self.builder.unix_socket.then(|| dir.join("redis.sock"));

        let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let mut args: Vec<String> = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.to_string_lossy().into_owned(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--daemonize".into(),
            "no".into(),
            "--protected-mode".into(),
            "no".into(),
            "--logfile".into(),
            d(LOG_FILE),
            "--pidfile".into(),
            d(PID_FILE),
        ];
        if let Some(sock) = &unix_socket {
            args.extend([
                "--unixsocket".into(),
                sock.to_string_lossy().into_owned(),
                "--unixsocketperm".into(),
                "700".into(),
            ]);
        }
        if let Some(bus) = cluster_port {
            // Explicit bus port: port + 10000 may be above 65535.
            args.extend([
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                d("nodes.conf"),
                "--cluster-port".into(),
                bus.to_string(),
                "--cluster-node-timeout".into(),
                "5000".into(),
            ]);
        }
        for m in &self.modules {
            args.push("--loadmodule".into());
            args.push(m.to_string_lossy().into_owned());
        }
        args.extend(self.builder.args.iter().cloned());

        let stdio = File::create(dir.join(STDIO_FILE))?;
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("redis-watchdog")
            .arg(&dir)
            .arg(&self.server)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(stdio.try_clone()?))
            .stderr(Stdio::from(stdio));
        if let Some(ld) = &self.ld_library_path {
            let value = match std::env::var("LD_LIBRARY_PATH") {
                Ok(prev) if !prev.is_empty() => format!("{ld}:{prev}"),
                _ => ld.clone(),
            };
            command.env("LD_LIBRARY_PATH", value);
        }
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e.into());
            }
        };
        let stdin = child.stdin.take();
        let server = RedisServer {
            name: self.name.clone(),
            binary: self.server.clone(),
            port,
            cluster_port,
            dir,
            unix_socket,
            password: self.password.clone(),
            process: Mutex::new(Process { child, stdin }),
            conn: Mutex::new(None),
        };
        let probe = if self.builder.tcp_port_disabled() {
            ReadyProbe::Log
        } else {
            ReadyProbe::Tcp
        };
        match server.wait_ready(probe, self.builder.startup_timeout) {
            Ok(()) => Ok(Ok(server)),
            Err(Ready::PortInUse(log)) => Ok(Err(log)),
            Err(Ready::Failed(e)) => Err(e),
        }
    }
}

/// How [`RedisServer::wait_ready`] tells that the server is up.
#[derive(Clone, Copy)]
enum ReadyProbe {
    /// `CONFIG GET dir` on the TCP port names this server's directory.
    Tcp,
    /// The log says it is ready to accept connections (servers started with
    /// `--port 0`, e.g. TLS-only ones, which the harness cannot talk to).
    Log,
}

enum Ready {
    PortInUse(String),
    Failed(HarnessError),
}

struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
}

/// A running `redis-server` on `127.0.0.1:<free port>`, in its own temporary
/// directory, without persistence. Dropping it kills the server and removes
/// the directory.
pub struct RedisServer {
    name: String,
    binary: PathBuf,
    port: u16,
    cluster_port: Option<u16>,
    dir: PathBuf,
    unix_socket: Option<PathBuf>,
    password: Option<String>,
    process: Mutex<Process>,
    conn: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("name", &self.name)
            .field("url", &self.url())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl RedisServer {
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    /// Debian's redis-server. Panics (with the reason) if it cannot start.
    #[track_caller]
    pub fn plain() -> Self {
        Self::builder().start().unwrap_or_panic()
    }

    /// Redis Stack with RediSearch, RedisJSON, RedisTimeSeries (and Bloom).
    /// Panics (with the reason) if it cannot start.
    #[track_caller]
    pub fn stack() -> Self {
        Self::builder().stack().start().unwrap_or_panic()
    }

    /// One plain server shared by all tests of this test binary (started on
    /// first use, killed by the watchdog when the process exits). Tests that
    /// use it must not FLUSHALL and should use their own key prefixes.
    pub fn shared_plain() -> &'static RedisServer {
        static SERVER: OnceLock<RedisServer> = OnceLock::new();
        SERVER.get_or_init(RedisServer::plain)
    }

    /// Like [`RedisServer::shared_plain`], for Redis Stack.
    pub fn shared_stack() -> &'static RedisServer {
        static SERVER: OnceLock<RedisServer> = OnceLock::new();
        SERVER.get_or_init(RedisServer::stack)
    }

    fn wait_ready(&self, probe: ReadyProbe, timeout: Duration) -> Result<(), Ready> {
        let deadline = Instant::now() + timeout;
        let want_dir = fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        loop {
            let exited = lock(&self.process)
                .child
                .try_wait()
                .map_err(|e| Ready::Failed(e.into()))?;
            if let Some(status) = exited {
                let log = self.log_tail();
                if log.contains("Address already in use") {
                    return Err(Ready::PortInUse(log));
                }
                return Err(Ready::Failed(HarnessError::Startup {
                    name: self.name.clone(),
                    message: format!(
                        "{} exited with {status} during startup",
                        self.binary.display()
                    ),
                    log_tail: log,
                }));
            }
            let last = match probe {
                ReadyProbe::Log if self.logged_ready() => return Ok(()),
                ReadyProbe::Log => "not logged as ready yet".to_owned(),
                // Make sure the answering server is ours (and not another one
                // that won a race for the same port).
                ReadyProbe::Tcp => match self.try_cmd(&["CONFIG", "GET", "dir"]) {
                    Ok(RespValue::Array(items))
                        if items.len() == 2
                            && items[1].as_str().is_some_and(|d| Path::new(d) == want_dir) =>
                    {
                        return Ok(())
                    }
                    Ok(other) => format!("{other:?}"),
                    Err(e) => e.to_string(),
                },
            };
            if Instant::now() > deadline {
                return Err(Ready::Failed(HarnessError::Startup {
                    name: self.name.clone(),
                    message: format!(
                        "no answer on port {} within {timeout:?} (last: {last})",
                        self.port
                    ),
                    log_tail: self.log_tail(),
                }));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server's log says it accepts connections ("Ready to
    /// accept connections" on TCP/TLS, "... ready to accept connections at
    /// PATH" on a unix socket).
    fn logged_ready(&self) -> bool {
        fs::read(self.log_path())
            .map(|log| String::from_utf8_lossy(&log).contains("eady to accept connections"))
            .unwrap_or(false)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cluster bus port (cluster-enabled servers only).
    pub fn cluster_port(&self) -> Option<u16> {
        self.cluster_port
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis://:PASSWORD@127.0.0.1:PORT` (the password is not URL-encoded).
    pub fn url_with_password(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{pw}@127.0.0.1:{}", self.port),
            None => self.url(),
        }
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn unix_socket_path(&self) -> Option<&Path> {
        self.unix_socket.as_deref()
    }

    /// `unix:///path/to/redis.sock`
    pub fn unix_url(&self) -> Option<String> {
        self.unix_socket
            .as_ref()
            .map(|p| format!("unix://{}", p.display()))
    }

    /// The server's working directory (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's log file (`--logfile`).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// The server's process id, from its pid file (`None` until written).
    pub fn pid(&self) -> Option<u32> {
        fs::read_to_string(self.dir.join(PID_FILE))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The last lines of the server's log and stdout/stderr.
    pub fn log_tail(&self) -> String {
        let parts: Vec<String> = [LOG_FILE, STDIO_FILE]
            .iter()
            .filter_map(|f| tail_of(&self.dir.join(f), LOG_TAIL_LINES))
            .collect();
        if parts.is_empty() {
            "(no log output)".into()
        } else {
            parts.join("\n")
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(lock(&self.process).child.try_wait(), Ok(None))
    }

    /// A new connection (authenticated if the server has a password).
    pub fn connect(&self) -> Result<Connection, HarnessError> {
        let mut conn = Connection::tcp(("127.0.0.1", self.port), crate::resp::DEFAULT_IO_TIMEOUT)?;
        if let Some(pw) = &self.password {
            match conn.cmd(&["AUTH", pw.as_str()])? {
                RespValue::Simple(_) => {}
                other => return Err(HarnessError::Command(format!("AUTH failed: {other:?}"))),
            }
        }
        Ok(conn)
    }

    /// Sends one command on the harness's own connection. Error replies are
    /// returned as [`RespValue::Error`]; I/O problems as `Err`.
    pub fn try_cmd<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<RespValue, HarnessError> {
        let mut guard = lock(&self.conn);
        if guard.is_none() {
            *guard = Some(self.connect()?);
        }
        let result = guard.as_mut().map(|c| c.cmd(args)).expect("connected");
        if result.is_err() {
            *guard = None;
        }
        Ok(result?)
    }

    /// Sends one command (e.g. to seed ground truth) and returns the reply;
    /// error replies come back as [`RespValue::Error`]. Panics on I/O errors.
    #[track_caller]
    pub fn cmd<A: AsRef<[u8]>>(&self, args: &[A]) -> RespValue {
        match self.try_cmd(args) {
            Ok(reply) => reply,
            Err(e) => panic!(
                "{}: command {:?} failed: {e}\n--- log tail ---\n{}",
                self.name,
                args.first().map(|a| String::from_utf8_lossy(a.as_ref())),
                self.log_tail()
            ),
        }
    }

    /// Sends several commands in one round trip on the harness connection.
    #[track_caller]
    pub fn pipeline<C: AsRef<[A]>, A: AsRef<[u8]>>(&self, commands: &[C]) -> Vec<RespValue> {
        let run = || -> Result<Vec<RespValue>, HarnessError> {
            let mut guard = lock(&self.conn);
            if guard.is_none() {
                *guard = Some(self.connect()?);
            }
            let result = guard
                .as_mut()
                .map(|c| c.pipeline(commands))
                .expect("connected");
            if result.is_err() {
                *guard = None;
            }
            Ok(result?)
        };
        match run() {
            Ok(replies) => replies,
            Err(e) => panic!("{}: pipeline failed: {e}", self.name),
        }
    }

    /// `FLUSHALL` (panics on failure).
    #[track_caller]
    pub fn flushall(&self) {
        self.cmd(&["FLUSHALL"]).expect_ok();
    }

    /// Names reported by `MODULE LIST` (e.g. `search`, `ReJSON`, `timeseries`).
    #[track_caller]
    pub fn module_names(&self) -> Vec<String> {
        let reply = self.cmd(&["MODULE", "LIST"]);
        let mut names = Vec::new();
        for module in reply.as_array().unwrap_or_default() {
            let fields: Vec<&RespValue> = match module {
                RespValue::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
                other => other.as_array().unwrap_or_default().iter().collect(),
            };
            for pair in fields.chunks(2) {
                if let [k, v] = pair {
                    if k.as_str() == Some("name") {
                        names.extend(v.as_str().map(str::to_owned));
                    }
                }
            }
        }
        names
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        lock(&self.conn).take();
        let process = self.process.get_mut().unwrap_or_else(|p| p.into_inner());
        // Closing the pipe makes the watchdog SIGKILL the server.
        process.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match process.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = process.child.kill();
                    let _ = process.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
