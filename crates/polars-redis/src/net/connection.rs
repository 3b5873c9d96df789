//! One connection to one Redis server: connect (TCP, TLS or Unix socket),
//! authenticate, select the database, then send pipelines and decode replies
//! in place from the read buffer. A connection of a pooled configuration
//! comes from its [`ConnectionPool`] when one is idle there, and goes back to
//! it when dropped in a reusable state.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::error::{Error, Key, Result};
use crate::net::config::{ConnectionConfig, Endpoint, Secret};
use crate::net::modules::{unknown_module_command, Requirement};
use crate::net::pool::ConnectionPool;
use crate::net::resp::{count_commands, Cmd, FrameScanner, Item, ReplyReader, Value};
use crate::net::tls;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

const READ_CHUNK: usize = 256 * 1024;

/// A connection with its read and write buffers.
pub(crate) struct Connection {
    stream: Box<dyn Stream>,
    addr: String,
    read_buf: BytesMut,
    write_buf: Vec<u8>,
    scanner: FrameScanner,
    command_timeout: Option<Duration>,
    deadline: Option<Instant>,
    /// Talks to a cluster node: commands must not span hash slots.
    cluster: bool,
    /// Every command is sent after `ASKING` (reads of a slot being imported).
    asking: bool,
    /// Plain TCP before its first reply: until then the connect timeout
    /// also bounds each read, and a reset, a close or TLS bytes mean the
    /// server expects TLS (`rediss://`).
    first_reply_by: Option<Instant>,
    /// The pool this connection goes back to when dropped, with the
    /// settings it was opened with.
    pooled: Option<(Arc<ConnectionPool>, ConnectionConfig)>,
    /// Commands sent and replies read, counted for a pooled connection:
    /// it is reused only when they match.
    sent: u64,
    received: u64,
    /// False once a command changed the session (see [`Cmd::changes_session`]).
    reusable: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .finish()
    }
}

/// How a connection reaches its server, for the log.
fn transport(config: &ConnectionConfig) -> &'static str {
    match (&config.endpoint, &config.tls) {
        (Endpoint::Unix(_), _) => "Unix socket",
        (Endpoint::Tcp { .. }, Some(_)) => "TCP, TLS",
        (Endpoint::Tcp { .. }, None) => "TCP, no TLS",
    }
}

impl Connection {
    /// Open, authenticate and select the database, all within the connect
    /// timeout; for a `redis+sentinel://` config, on the master the
    /// sentinels name now.
    pub(crate) async fn connect(config: &ConnectionConfig) -> Result<Self> {
        match &config.sentinel {
            Some(sentinels) => sentinels.connect_master(config).await,
            None => Self::connect_direct(config).await,
        }
    }

    /// Open, authenticate and select the database on `config`'s endpoint
    /// itself, all within the connect timeout.
    pub(crate) async fn connect_direct(config: &ConnectionConfig) -> Result<Self> {
        let addr = config.endpoint.to_string();
        if let Some(pool) = &config.pool() {
            if pool.is_closed() {
                return Err(Error::Connection {
                    addr,
                    message: "the client was closed; connect a new one".into(),
                });
            }
            while let Some(idle) = pool.take(config) {
                let Ok(mut conn) = idle.downcast::<Connection>() else {
                    continue;
                };
                if conn.is_idle_and_open() {
                    conn.reuse(config, pool);
                    return Ok(*conn);
                }
                pool.forget_topology();
            }
        }
        let limit = config.connect_timeout;
        let by = Instant::now() + limit;
        let outcome = match tokio::time::timeout_at(
            by,
            Self::connect_inner(config, addr.clone(), by),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                during: match config.tls {
                    Some(_) => format!(
                        "connecting to {addr} (no answer to the TLS handshake: {})",
                        tls::NOT_TLS_HINT
                    ),
                    None => format!("connecting to {addr}"),
                },
                after_ms: limit.as_millis() as u64,
            }),
        };
        // The address and transport only: never the credentials.
        match &outcome {
            Ok(_) => log::debug!("connected to {addr} ({})", transport(config)),
            Err(Error::Auth { .. }) => {
                log::debug!(
                    "connecting to {addr} ({}): authentication refused",
                    transport(config)
                )
            }
            Err(err) => log::debug!("connecting to {addr} ({}) failed: {err}", transport(config)),
        }
        outcome
    }

    async fn connect_inner(config: &ConnectionConfig, addr: String, by: Instant) -> Result<Self> {
        let mut first_reply_by = None;
        let stream: Box<dyn Stream> = match &config.endpoint {
            Endpoint::Tcp { host, port } => {
                let tcp = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| Error::io(&addr, e))?;
                tcp.set_nodelay(true).map_err(|e| Error::io(&addr, e))?;
                match &config.tls {
                    Some(options) => {
                        Box::new(tls::handshake(tcp, (host, *port), options, &addr).await?)
                    }
                    None => {
                        first_reply_by = Some(by);
                        Box::new(tcp)
                    }
                }
            }
            Endpoint::Unix(path) => Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| Error::io(&addr, e))?,
            ),
        };
        let mut conn = Connection {
            stream,
            addr,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(64 * 1024),
            scanner: FrameScanner::default(),
            command_timeout: config.command_timeout,
            deadline: None,
            cluster: false,
            asking: false,
            first_reply_by,
            pooled: None,
            sent: 0,
            received: 0,
            reusable: true,
        };
        let (username, password) = match &config.credentials {
            Some(provider) => {
                let (user, password) = provider.credentials().map_err(|err| match err {
                    Error::Auth { message, .. } => Error::Auth {
                        addr: conn.addr.clone(),
                        message,
                    },
                    other => other,
                })?;
                (user, Some(Secret::new(password)))
            }
            None => (config.username.clone(), config.password.clone()),
        };
        if let Some(password) = &password {
            let mut auth = Cmd::new("AUTH");
            if let Some(user) = &username {
                auth.arg(user);
            }
            auth.arg(password.expose());
            conn.query(&auth).await.map_err(|err| match err {
                Error::Server { message, .. } | Error::Auth { message, .. } => Error::Auth {
                    addr: conn.addr.clone(),
                    message: auth_refused(username.as_deref(), &message),
                },
                other => other,
            })?;
        }
        if config.db != 0 {
            conn.query(Cmd::new("SELECT").arg(config.db.to_string()))
                .await?;
        }
        if let Some(pool) = config.pool() {
            conn.pooled = Some((pool, config.clone()));
            conn.reusable = true;
        }
        Ok(conn)
    }

    /// Set a connection taken from `pool` up as a new one of `config`.
    fn reuse(&mut self, config: &ConnectionConfig, pool: &Arc<ConnectionPool>) {
        self.command_timeout = config.command_timeout;
        self.deadline = None;
        self.cluster = false;
        self.asking = false;
        self.pooled = Some((pool.clone(), config.clone()));
    }

    /// True when the server has neither closed this idle connection nor
    /// sent anything on it (checked without waiting).
    fn is_idle_and_open(&mut self) -> bool {
        let mut byte = [0u8; 1];
        let mut buf = tokio::io::ReadBuf::new(&mut byte);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        matches!(
            Pin::new(&mut self.stream).poll_read(&mut cx, &mut buf),
            Poll::Pending
        )
    }

    /// True when this connection may serve another call: every reply read,
    /// nothing left in its buffers, its session untouched.
    fn is_reusable(&self) -> bool {
        self.reusable
            && !self.asking
            && self.sent == self.received
            && self.read_buf.is_empty()
            && self.write_buf.is_empty()
            && self.first_reply_by.is_none()
    }

    /// Switch this connection to RESP3 (`HELLO 3`): RediSearch reports
    /// timeouts and partial results only in RESP3 replies.
    pub(crate) async fn hello3(&mut self) -> Result<()> {
        self.query(Cmd::new("HELLO").arg("3")).await.map_err(|err| match err {
            Error::Server { message, .. } => Error::Search(format!(
                "the server at {} does not speak RESP3 (HELLO 3: {message}); search needs Redis 6 or later",
                self.addr
            )),
            other => other,
        })?;
        Ok(())
    }

    /// `host:port` or socket path, for messages.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Fail any later read that would end after `deadline`.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// The pool this connection came from, if any.
    pub(crate) fn pool(&self) -> Option<&Arc<ConnectionPool>> {
        self.pooled.as_ref().map(|(pool, _)| pool)
    }

    /// Mark this connection as talking to a cluster node.
    pub(crate) fn set_cluster(&mut self, cluster: bool) {
        self.cluster = cluster;
    }

    /// Send `ASKING` before every command from now on, so that this cluster
    /// node serves keys of a slot it is importing. The `+OK` replies are
    /// consumed by [`Connection::read_reply`].
    pub(crate) fn set_asking(&mut self) {
        self.asking = true;
        self.reusable = false;
    }

    /// True for a connection to a cluster node, where a multi-key command
    /// (`MGET`) fails unless all its keys share a hash slot.
    pub(crate) fn in_cluster(&self) -> bool {
        self.cluster
    }

    /// Queue a command in the write buffer (sent by [`Connection::flush`]).
    pub(crate) fn queue(&mut self, cmd: &Cmd) {
        if self.pooled.is_some() && cmd.changes_session() {
            self.reusable = false;
        }
        cmd.write_to(&mut self.write_buf);
    }

    /// Raw access to the write buffer for hot-path command encoding.
    pub(crate) fn write_buf(&mut self) -> &mut Vec<u8> {
        &mut self.write_buf
    }

    /// Send every queued command.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if self.asking {
            self.write_buf =
                crate::net::resp::prefix_commands(&self.write_buf, b"*1\r\n$6\r\nASKING\r\n")?;
        }
        if self.pooled.is_some() {
            match count_commands(&self.write_buf) {
                Some(count) => self.sent += count as u64,
                None => self.reusable = false,
            }
        }
        let result = self.stream.write_all(&self.write_buf).await;
        self.write_buf.clear();
        result.map_err(|e| tls::io_error(&self.addr, e))
    }

    /// Wait for the next complete reply and decode it in place with `decode`.
    pub(crate) async fn read_reply<T>(
        &mut self,
        waiting_for: &str,
        decode: impl FnOnce(&mut ReplyReader<'_>) -> Result<T>,
    ) -> Result<T> {
        if self.asking {
            let len = self.next_frame("ASKING").await?;
            let reply = ReplyReader::new(&self.read_buf[..len]).next()?;
            if let Item::Error(message) = reply {
                return Err(server_error("ASKING", None, message));
            }
            self.read_buf.advance(len);
        }
        let len = self.next_frame(waiting_for).await?;
        let result = decode(&mut ReplyReader::new(&self.read_buf[..len]));
        self.read_buf.advance(len);
        if let (Err(Error::Redirected { .. }), Some((pool, _))) = (&result, &self.pooled) {
            pool.forget_topology();
        }
        result.map_err(|err| match err {
            Error::Auth { addr, message } if addr.is_empty() => Error::Auth {
                addr: self.addr.clone(),
                message,
            },
            other => other,
        })
    }

    /// Wait until the read buffer starts with a complete reply; its length.
    async fn next_frame(&mut self, waiting_for: &str) -> Result<usize> {
        loop {
            if self.first_reply_by.is_some() && tls::is_tls_record(&self.read_buf) {
                return Err(self.not_plain("answered with TLS bytes"));
            }
            if let Some(len) = self.scanner.scan(&self.read_buf)? {
                self.first_reply_by = None;
                if self.pooled.is_some() {
                    self.received += 1;
                }
                return Ok(len);
            }
            self.fill(waiting_for).await?;
        }
    }

    /// The error for a plain connection to a server that expects TLS.
    fn not_plain(&self, what_happened: &str) -> Error {
        Error::Connection {
            addr: self.addr.clone(),
            message: format!(
                "the server {what_happened} instead of a reply, so it expects a TLS handshake, \
                 which did not happen: use a rediss:// URL"
            ),
        }
    }

    async fn fill(&mut self, waiting_for: &str) -> Result<()> {
        if self.read_buf.capacity() - self.read_buf.len() < READ_CHUNK / 4 {
            self.read_buf.reserve(READ_CHUNK.max(self.read_buf.len()));
        }
        let limit = self.time_left();
        let read = self.stream.read_buf(&mut self.read_buf);
        let first = self.first_reply_by.is_some();
        let n = match limit {
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .map_err(|_| Error::Timeout {
                    during: match first {
                        true => format!(
                            "waiting for the first reply (to {waiting_for}) from {}: if the \
                             server only accepts TLS, use a rediss:// URL",
                            self.addr
                        ),
                        false => {
                            format!("waiting for the reply to {waiting_for} from {}", self.addr)
                        }
                    },
                    after_ms: limit.as_millis() as u64,
                })?,
            None => read.await,
        };
        let n = match n {
            Ok(n) => n,
            Err(err) if first && err.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(self.not_plain("reset the connection"))
            }
            Err(err) => return Err(tls::io_error(&self.addr, err)),
        };
        if n == 0 && first {
            return Err(self.not_plain("closed the connection"));
        }
        if n == 0 {
            return Err(Error::Connection {
                addr: self.addr.clone(),
                message: format!("server closed the connection while we waited for {waiting_for}"),
            });
        }
        Ok(())
    }

    /// The time a read may take: the command timeout, the scan's deadline
    /// and, before the first reply, the connect timeout.
    fn time_left(&self) -> Option<Duration> {
        [self.deadline, self.first_reply_by]
            .into_iter()
            .flatten()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .chain(self.command_timeout)
            .min()
    }

    /// Send one command and return its reply; an error reply becomes an [`Error`].
    pub(crate) async fn query(&mut self, cmd: &Cmd) -> Result<Value> {
        self.queue(cmd);
        self.flush().await?;
        let name = cmd.name();
        self.read_reply(&name, |r| {
            let item = r.next()?;
            if let Item::Error(message) = item {
                return Err(server_error(&name, None, message));
            }
            r.value_from(item)
        })
        .await
    }
}

impl Drop for Connection {
    /// Give a reusable pooled connection back to its pool; any other is
    /// closed.
    fn drop(&mut self) {
        let reusable = self.is_reusable();
        let Some((pool, config)) = self
            .pooled
            .take()
            .filter(|(pool, _)| reusable && !pool.is_closed())
        else {
            log::debug!("closed the connection to {}", self.addr);
            return;
        };
        let conn = Connection {
            stream: std::mem::replace(&mut self.stream, Box::new(tokio::io::empty())),
            addr: std::mem::take(&mut self.addr),
            read_buf: std::mem::take(&mut self.read_buf),
            write_buf: std::mem::take(&mut self.write_buf),
            scanner: FrameScanner::default(),
            command_timeout: None,
            deadline: None,
            cluster: false,
            asking: false,
            first_reply_by: None,
            pooled: None,
            sent: 0,
            received: 0,
            reusable: true,
        };
        pool.put(&config, Box::new(conn));
    }
}

impl Connection {
    /// Read the reply to a queued `TTL key`: the seconds left, `None` when
    /// the key never expires (or is gone).
    pub(crate) async fn read_ttl(&mut self, key: &[u8]) -> Result<Option<i64>> {
        self.read_reply("TTL", |r| match r.next()? {
            Item::Int(ttl) if ttl >= 0 => Ok(Some(ttl)),
            Item::Int(_) => Ok(None),
            Item::Error(msg) => Err(server_error("TTL", Some(key), msg)),
            _ => Err(unexpected_reply("TTL", key)),
        })
        .await
    }

    /// Check that the server has the module `requirement` names (one
    /// `COMMAND INFO`; call it with no reply pending). A server that does
    /// not allow the check is trusted: the module's commands then report
    /// "unknown command" themselves (see [`server_error`]).
    pub(crate) async fn require(&mut self, requirement: Requirement) -> Result<()> {
        let module = requirement.module;
        match self
            .query(Cmd::new("COMMAND").arg("INFO").arg(module.probe_command()))
            .await
        {
            Ok(Value::Array(items)) if matches!(items.as_slice(), [Value::Nil]) => {
                let version = self.server_version().await;
                Err(module.missing(&self.addr, requirement.needed_by, version.as_deref()))
            }
            Ok(_) | Err(Error::Server { .. }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// The server's `redis_version` from `INFO server`, for messages; `None`
    /// when the server will not say (call it with no reply pending).
    async fn server_version(&mut self) -> Option<String> {
        let info = self.query(Cmd::new("INFO").arg("server")).await.ok()?;
        let text = String::from_utf8_lossy(info.as_bytes()?).into_owned();
        text.lines()
            .find_map(|line| line.strip_prefix("redis_version:"))
            .map(|version| version.trim().to_string())
    }

    /// The error for a key that is not a `expected`, naming its actual type
    /// (asked with `TYPE`; call it with no reply pending).
    pub(crate) async fn wrong_type_error(&mut self, key: &[u8], expected: &'static str) -> Error {
        let actual = match self.query(Cmd::new("TYPE").arg(key)).await {
            Ok(value) => value.to_text(),
            Err(err) => return err,
        };
        Error::WrongType {
            key: Key::from(key),
            expected,
            actual,
        }
    }
}

/// The error for a reply of an unexpected shape.
pub(crate) fn unexpected_reply(command: &str, key: &[u8]) -> Error {
    Error::Protocol(format!(
        "unexpected reply shape to {command} for key {}",
        Key::from(key)
    ))
}

/// Turn an error reply into the matching [`Error`] variant.
pub(crate) fn server_error(command: &str, key: Option<&[u8]>, message: &[u8]) -> Error {
    let message = String::from_utf8_lossy(message).into_owned();
    if message.starts_with("NOAUTH") {
        // The connection fills in its address on the way out.
        return Error::Auth {
            addr: String::new(),
            message: format!(
                "the server requires a password and none was given: put it in the URL, as \
                 redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port for an ACL \
                 user (server said: {message})"
            ),
        };
    }
    if message.starts_with("WRONGPASS") {
        // Only `AUTH` gets it: `Connection::connect` words it.
        return Error::Auth {
            addr: String::new(),
            message,
        };
    }
    if let Some(err) = unknown_module_command(command, &message) {
        return err;
    }
    if is_redirect(&message) {
        return Error::Redirected {
            command: command.to_string(),
            key: key.map(Key::from),
            message,
        };
    }
    Error::Server {
        command: command.to_string(),
        key: key.map(Key::from),
        message,
    }
}

/// What the server said to `AUTH`, as advice naming the user (never the password).
fn auth_refused(username: Option<&str>, message: &str) -> String {
    let user = username.unwrap_or("default");
    if message.starts_with("WRONGPASS") {
        format!(
            "the server rejected user `{user}` with that password (wrong password, unknown or \
             disabled user): check the credentials in the URL (server said: {message})"
        )
    } else if message.contains("without any password configured") {
        format!(
            "a password was given but user `{user}` has none on the server: leave it out of \
             the URL, or name the ACL user as redis://USER:PASSWORD@host (server said: {message})"
        )
    } else {
        format!("AUTH as user `{user}` failed: {message}")
    }
}

/// True for the error replies a cluster node gives for a key it does not
/// serve (any more): `MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`.
pub(crate) fn is_redirect(message: &str) -> bool {
    ["MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN"]
        .iter()
        .any(|prefix| message.starts_with(prefix))
}
