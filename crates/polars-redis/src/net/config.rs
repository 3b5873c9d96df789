//! Connection settings: parsing `redis://`, `rediss://` and `unix://` URLs,
//! TLS and timeouts.
//!
//! ```
//! use polars_redis::ConnectionConfig;
//! use std::time::Duration;
//!
//! let config = ConnectionConfig::from_url("redis://app:s3cret@cache.internal:6380/2")?
//!     .with_connect_timeout(Duration::from_secs(2));
//! assert_eq!(config.db(), 2);
//! // The password never shows up in Debug output or messages.
//! assert!(!format!("{config:?}").contains("s3cret"));
//! # Ok::<(), polars_redis::Error>(())
//! ```

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};
use crate::net::tls_options::{set_tls_parameter, TLS_PARAMETERS};

pub use crate::net::credentials::{CredentialProvider, Credentials};
pub use crate::net::tls_options::TlsOptions;

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP host and port.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Unix domain socket path.
    Unix(PathBuf),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A password that never prints.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(secret: String) -> Self {
        Secret(secret)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// The port of a sentinel address without one.
const DEFAULT_SENTINEL_PORT: u16 = 26379;

/// The sentinels watching one service, and how to talk to them (used by the
/// `sentinel` module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sentinels {
    /// The sentinels, asked in order.
    pub(crate) addresses: Vec<Endpoint>,
    /// The name the sentinels know the master by.
    pub(crate) service: String,
    /// `AUTH` for the sentinels (`?sentinel_username=`, `?sentinel_password=`).
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
}

/// The connection pool of a configuration (a `ConnectionPool`, set with
/// `ConnectionConfig::with_pool`), held by type so that settings do not
/// depend on connections; equal only to itself.
#[derive(Clone)]
pub(crate) struct SharedPool(pub(crate) Arc<dyn std::any::Any + Send + Sync>);

impl fmt::Debug for SharedPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionPool")
    }
}

impl PartialEq for SharedPool {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedPool {}

/// Everything needed to open a connection to one Redis server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionConfig {
    pub(crate) endpoint: Endpoint,
    pub(crate) tls: Option<TlsOptions>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) db: u32,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Option<Duration>,
    /// For `redis+sentinel://`: the sentinels that name the server to use.
    pub(crate) sentinel: Option<Arc<Sentinels>>,
    /// Asked for the user and password of every new connection, instead
    /// of `username` / `password`.
    pub(crate) credentials: Option<CredentialProvider>,
    /// Where connections come from and go back to (a reusable client).
    pub(crate) pool: Option<SharedPool>,
}

/// Default time allowed to open a connection (TCP, TLS and AUTH together).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for one reply to arrive.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

impl ConnectionConfig {
    /// Parse a connection URL.
    ///
    /// Accepted forms:
    /// - `redis://[[user]:password@]host[:port][/db]`
    /// - `rediss://...` (TLS), with redis-py's TLS parameters:
    ///   `ssl_ca_certs=/path/ca.pem` (or `ca_file=`) trusts that CA instead of
    ///   the operating system's trust store, `ssl_certfile=` / `ssl_keyfile=`
    ///   give a client certificate, `ssl_cert_reqs=none` accepts any server
    ///   certificate and `ssl_check_hostname=false` any host name in it
    /// - `unix:///path/to/redis.sock[?db=N&username=U&password=P]`
    /// - `redis+sentinel://[[user]:password@]host1[:port],host2[:port]/service[/db]`
    ///   (the master of `service`, found through its sentinels, port 26379 by
    ///   default; `?sentinel_username=U&sentinel_password=P` authenticate to the
    ///   sentinels, the userinfo to the master and replicas)
    ///
    /// User names and passwords are percent-decoded. The port defaults to 6379.
    pub fn from_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid(url, SCHEME_EXPECTED))?;
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let mut config = match scheme {
            "redis" | "rediss" => parse_tcp(url, rest, scheme == "rediss")?,
            "redis+sentinel" => parse_sentinel(url, rest)?,
            "unix" | "redis+unix" => {
                // `unix://user:password@/path`: the userinfo ends at the last `@`.
                let (userinfo, path) = match rest.rsplit_once('@') {
                    Some((userinfo, path)) => (Some(userinfo), path),
                    None => (None, rest),
                };
                let mut config = Self::new(Endpoint::Unix(PathBuf::from(decode(path)?)));
                config.set_userinfo(userinfo)?;
                config
            }
            _ => return Err(invalid(url, SCHEME_EXPECTED)),
        };
        if let Endpoint::Unix(path) = &config.endpoint {
            if path.as_os_str().is_empty() {
                return Err(invalid(url, "missing socket path"));
            }
        }
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value)?;
            match name {
                "db" => config.db = parse_db(url, &value)?,
                "username" => config.username = Some(value),
                "password" => config.password = Some(Secret(value)),
                "sentinel_username" | "sentinel_password" => {
                    let sentinel = config.sentinel.as_mut().ok_or_else(|| {
                        invalid(url, &format!("{name} needs a redis+sentinel:// URL"))
                    })?;
                    let sentinel = Arc::make_mut(sentinel);
                    match name {
                        "sentinel_username" => sentinel.username = Some(value),
                        _ => sentinel.password = Some(Secret(value)),
                    }
                }
                name if TLS_PARAMETERS.contains(&name) => {
                    config.set_tls_parameter(url, name, value)?
                }
                other if pair.contains('=') => {
                    return Err(invalid(
                        url,
                        &format!(
                            "unknown option `{other}` (known: db, username, password, sentinel_username, sentinel_password, {})",
                            TLS_PARAMETERS.join(", ")
                        ),
                    ))
                }
                _ => return Err(invalid(url, "a query part is not `name=value`")),
            }
        }
        Ok(config)
    }

    /// A plain TCP or socket configuration with default settings.
    pub fn new(endpoint: Endpoint) -> Self {
        ConnectionConfig {
            endpoint,
            tls: None,
            username: None,
            password: None,
            db: 0,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: Some(DEFAULT_COMMAND_TIMEOUT),
            sentinel: None,
            credentials: None,
            pool: None,
        }
    }

    /// Apply a TLS query parameter of `url` (see [`TlsOptions`]).
    fn set_tls_parameter(&mut self, url: &str, name: &str, value: String) -> Result<()> {
        let tls = self
            .tls
            .as_mut()
            .ok_or_else(|| invalid(url, &format!("{name} needs a rediss:// URL")))?;
        set_tls_parameter(tls, name, value).map_err(|err| match err {
            Error::InvalidConfig(reason) => invalid(url, &reason),
            other => other,
        })
    }

    /// Set one TLS parameter by its URL query name (`ssl_certfile`,
    /// `ssl_cert_reqs`, ...; see [`TlsOptions`]), as a client's keyword
    /// does. Only a `rediss://` configuration takes TLS parameters.
    pub fn with_tls_parameter(mut self, name: &str, value: &str) -> Result<Self> {
        if !TLS_PARAMETERS.contains(&name) {
            return Err(Error::InvalidConfig(format!(
                "unknown TLS parameter `{name}` (known: {})",
                TLS_PARAMETERS.join(", ")
            )));
        }
        let tls = self
            .tls
            .as_mut()
            .ok_or_else(|| Error::InvalidConfig(format!("{name} needs a rediss:// URL (TLS)")))?;
        set_tls_parameter(tls, name, value.to_string())?;
        Ok(self)
    }

    /// Ask `provider` for the user and password of every new connection
    /// (rotating tokens); it replaces any credentials of the URL.
    pub fn with_credential_provider(mut self, provider: CredentialProvider) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// The TLS settings, for a `rediss://` configuration.
    pub fn tls(&self) -> Option<&TlsOptions> {
        self.tls.as_ref()
    }

    /// Time allowed to open a connection, including TLS and AUTH.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for each reply; `None` waits forever.
    pub fn with_command_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Use TLS with these options.
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Authenticate with this user and password (ACL) or password only.
    pub fn with_credentials(mut self, username: Option<&str>, password: &str) -> Self {
        self.username = username.map(str::to_string);
        self.password = Some(Secret(password.to_string()));
        self
    }

    /// The user and password of a URL's userinfo (`user:password`, `:password`,
    /// or a lone `password` as in redis-cli), percent-decoded.
    fn set_userinfo(&mut self, userinfo: Option<&str>) -> Result<()> {
        let Some(userinfo) = userinfo else {
            return Ok(());
        };
        match userinfo.split_once(':') {
            Some((user, password)) => {
                self.password = Some(Secret(decode(password)?));
                if !user.is_empty() {
                    self.username = Some(decode(user)?);
                }
            }
            None if !userinfo.is_empty() => self.password = Some(Secret(decode(userinfo)?)),
            None => {}
        }
        Ok(())
    }

    /// The same settings for another server (a cluster node, a replica, the
    /// master the sentinels name).
    pub(crate) fn with_endpoint(&self, endpoint: Endpoint) -> Self {
        ConnectionConfig {
            endpoint,
            sentinel: None,
            ..self.clone()
        }
    }

    /// The server endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The logical database index.
    pub fn db(&self) -> u32 {
        self.db
    }
}

/// The reason given for a URL without a known scheme.
const SCHEME_EXPECTED: &str = "expected redis://[[user]:password@]host[:port][/db], rediss://..., \
     unix:///path/redis.sock or redis+sentinel://[[user]:password@]host[:port],.../service[/db]";

fn parse_tcp(url: &str, rest: &str, tls: bool) -> Result<ConnectionConfig> {
    // The userinfo ends at the last `@`, so a password may hold `/` or `@`.
    let (userinfo, after) = match rest.rsplit_once('@') {
        Some((userinfo, after)) => (Some(userinfo), after),
        None => (None, rest),
    };
    let (hostport, path) = match after.split_once('/') {
        Some((hostport, path)) => (hostport, path),
        None => (after, ""),
    };
    let (host, port) = split_host_port(url, hostport, 6379)?;
    let mut config = ConnectionConfig::new(Endpoint::Tcp { host, port });
    if tls {
        config.tls = Some(TlsOptions::default());
    }
    config.set_userinfo(userinfo)?;
    if !path.is_empty() {
        config.db = parse_db(url, path)?;
    }
    Ok(config)
}

/// The sentinels and service of a `redis+sentinel://` URL (after `://`,
/// before `?`); the endpoint shown for it is the first sentinel's.
fn parse_sentinel(url: &str, rest: &str) -> Result<ConnectionConfig> {
    let (userinfo, after) = match rest.rsplit_once('@') {
        Some((userinfo, after)) => (Some(userinfo), after),
        None => (None, rest),
    };
    let (hosts, path) = after.split_once('/').unwrap_or((after, ""));
    let (service, db) = path.split_once('/').unwrap_or((path, ""));
    if service.is_empty() {
        return Err(invalid(
            url,
            "missing service name (redis+sentinel://hosts/service)",
        ));
    }
    let addresses = hosts
        .split(',')
        .map(|hostport| {
            let (host, port) = split_host_port(url, hostport, DEFAULT_SENTINEL_PORT)?;
            Ok(Endpoint::Tcp { host, port })
        })
        .collect::<Result<Vec<_>>>()?;
    let sentinels = Sentinels {
        addresses,
        service: decode(service)?,
        username: None,
        password: None,
    };
    let mut config = ConnectionConfig::new(sentinels.addresses[0].clone());
    config.sentinel = Some(Arc::new(sentinels));
    config.set_userinfo(userinfo)?;
    if !db.is_empty() {
        config.db = parse_db(url, db)?;
    }
    Ok(config)
}

fn split_host_port(url: &str, hostport: &str, default_port: u16) -> Result<(String, u16)> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| invalid(url, "unclosed `[` in IPv6 host"))?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(invalid(url, "missing host"));
    }
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| {
                invalid(
                    url,
                    &format!("invalid port `{}` (1 to 65535)", shown_if_number(port)),
                )
            })?,
        None => default_port,
    };
    Ok((host.to_string(), port))
}

fn parse_db(url: &str, text: &str) -> Result<u32> {
    text.parse::<u32>().map_err(|_| {
        invalid(
            url,
            &format!("invalid database index `{}`", shown_if_number(text)),
        )
    })
}

fn decode(text: &str) -> Result<String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::InvalidConfig("URL component is not valid UTF-8 after decoding".into()))
}

/// An error for a bad URL that shows the URL without its credentials.
fn invalid(url: &str, reason: &str) -> Error {
    Error::InvalidConfig(format!("{reason} in URL `{}`", redact_url(url)))
}

/// The URL as it may be shown: only what cannot be (part of) a password.
///
/// Everything up to the last `@` is userinfo and shows as `***`; so do an
/// unknown scheme, a port or a database that is not a number (the password
/// of `redis://user:secret` with the host forgotten is in the port's place),
/// and every query value but `db`'s. A URL without `://` shows only what
/// follows its last `@`, or nothing unless it looks like `host:port`.
/// Whatever the shape, no password shows.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_schemeless(url);
    };
    // Only a known scheme shows: anything else may be a misplaced password.
    let scheme = match scheme {
        "redis" | "rediss" | "unix" | "redis+unix" | "redis+sentinel" => scheme,
        _ => "***",
    };
    // Everything up to the last `@` is userinfo, even a `/`, `?` or `@` of a password.
    let (userinfo, rest) = match rest.rsplit_once('@') {
        Some((_, after)) => ("***@", after),
        None => ("", rest),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let mut out = format!("{scheme}://{userinfo}");
    if matches!(scheme, "unix" | "redis+unix") {
        out.push_str(rest);
    } else {
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, Some(path)),
            None => (rest, None),
        };
        let hosts: Vec<String> = authority.split(',').map(redact_authority).collect();
        out.push_str(&hosts.join(","));
        if let Some(path) = path {
            out.push('/');
            out.push_str(shown_if_number(path));
        }
    }
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_query(query));
    }
    out
}

/// `host[:port]`, with a port that is not a number as `***`.
fn redact_authority(authority: &str) -> String {
    let (host, port) = if authority.starts_with('[') {
        match authority.split_once(']') {
            Some((host, after)) => (format!("{host}]"), after.strip_prefix(':')),
            None => return "***".into(),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (authority.to_string(), None),
        }
    };
    match port {
        Some(port) => format!("{host}:{}", shown_if_number(port)),
        None => host,
    }
}

/// Every `name=value` with its value as `***`, except a numeric `db`.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("db", value)) => format!("db={}", shown_if_number(value)),
            Some((name, _)) => format!("{name}=***"),
            None if pair.is_empty() => String::new(),
            None => "***".into(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn shown_if_number(text: &str) -> &str {
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        text
    } else {
        "***"
    }
}

/// A URL without `://`: what follows its last `@`, else itself only when it
/// is a bare `host:port` (the usual mistake), else nothing.
fn redact_schemeless(url: &str) -> String {
    if let Some((_, host)) = url.rsplit_once('@') {
        return format!(
            "***@{}",
            redact_authority(host.split(['/', '?']).next().unwrap_or(""))
        );
    }
    match url.split_once(':') {
        Some((host, port))
            if !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            url.to_string()
        }
        _ => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_tcp_urls() {
        let c = ConnectionConfig::from_url("redis://localhost").unwrap();
        assert_eq!(c.endpoint, tcp("localhost", 6379));
        assert_eq!((c.db, c.tls.is_some()), (0, false));

        let c = ConnectionConfig::from_url("rediss://u%40x:p%3Aw@[::1]:7000/3?ca_file=/ca.pem")
            .unwrap();
        assert_eq!(c.endpoint, tcp("::1", 7000));
        assert_eq!(c.username.as_deref(), Some("u@x"));
        assert_eq!(c.password.as_ref().unwrap().expose(), "p:w");
        assert_eq!(c.db, 3);
        assert_eq!(c.tls.unwrap().ca_file, Some(PathBuf::from("/ca.pem")));

        let c = ConnectionConfig::from_url("redis://u:p/w@d@h:7/2").unwrap();
        assert_eq!(c.password.as_ref().unwrap().expose(), "p/w@d");
        assert_eq!((c.endpoint, c.db), (tcp("h", 7), 2));

        let c = ConnectionConfig::from_url("redis://:only@h:1").unwrap();
        assert_eq!((c.username, c.password.unwrap().expose()), (None, "only"));
    }

    #[test]
    fn parses_sentinel_urls() {
        let c = ConnectionConfig::from_url(
            "redis+sentinel://u:p@s1,[::1]:26380/my%20svc/3?sentinel_password=sp&sentinel_username=su",
        )
        .unwrap();
        let sentinels = c.sentinel.as_deref().unwrap();
        assert_eq!(sentinels.addresses, [tcp("s1", 26379), tcp("::1", 26380)]);
        assert_eq!(sentinels.service, "my svc");
        assert_eq!(sentinels.username.as_deref(), Some("su"));
        assert_eq!(sentinels.password.as_ref().unwrap().expose(), "sp");
        assert_eq!(c.password.as_ref().unwrap().expose(), "p");
        assert_eq!(c.db, 3);
        // A node reached through it is a plain server.
        assert_eq!(c.with_endpoint(tcp("m", 1)).sentinel, None);
        assert_eq!(
            redact_url("redis+sentinel://:p@s1:26379,s2/svc?sentinel_password=p"),
            "redis+sentinel://***@s1:26379,s2/***?sentinel_password=***"
        );
    }

    #[test]
    fn parses_unix_urls() {
        let c = ConnectionConfig::from_url("unix:///tmp/r.sock?db=4&password=x").unwrap();
        assert_eq!(c.endpoint, Endpoint::Unix("/tmp/r.sock".into()));
        assert_eq!(c.db, 4);
    }

    #[test]
    fn rejects_bad_urls_without_leaking_passwords() {
        for url in [
            "localhost:6379",
            "http://h",
            "redis://:hunter2@h:99999",
            "redis://:hunter2@h/x",
            "redis://:hunter2@h?bogus=1",
            "redis://h?ca_file=/x",
            "redis://:hunter2@",
            "redis://:hunt/er2@127.0.0.1:99999",
            "redis://:hunt?er2@127.0.0.1:6380",
            "redis://alice:hunter2/x@h:99999",
            // No `://`: the whole URL used to be shown.
            "redis:/:hunter2@h",
            "redis:hunter2@h",
            "redis//:hunter2@h",
            ":hunter2@h",
            "hunter2",
            // A password where the host, port, database or scheme should be.
            "redis://alice:hunter2",
            "redis://:hunter2",
            "redis://h/hunter2",
            "redis://h?hunter2",
            "redis://h?pasword=hunter2",
            "redis:/:hunter2@h://x",
            "hunter2://h",
            "redis://[::1]:hunter2",
            "redis://[hunter2",
            "redis://:hunter2@h:0",
            "redis+sentinel://:hunter2@h1,h2",
            "redis+sentinel://:hunter2@h1,h2:x/svc",
            "redis+sentinel://:hunter2@h1/svc/x",
            "redis://h?sentinel_password=hunter2",
        ] {
            let err = ConnectionConfig::from_url(url).unwrap_err();
            assert!(err.is_invalid_input(), "{url}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{url}: {err}");
            assert!(!format!("{err:?}").contains("hunter2"), "{url}: {err:?}");
        }
    }

    #[test]
    fn redacted_urls_keep_what_helps() {
        for (url, shown) in [
            ("redis://u:p@cache:6380/2", "redis://***@cache:6380/2"),
            (
                "rediss://[::1]:x?ca_file=/ca.pem&db=3",
                "rediss://[::1]:***?ca_file=***&db=3",
            ),
            (
                "unix://u:p@/tmp/r.sock?password=p",
                "unix://***@/tmp/r.sock?password=***",
            ),
            ("localhost:6379", "localhost:6379"),
            ("redis:p@h:1/0", "***@h:1"),
            ("redis//:p", "***"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn debug_hides_password() {
        let c = ConnectionConfig::from_url("redis://u:hunter2@h?").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(
            redact_url("unix:///s?password=hunter2&db=1"),
            "unix:///s?password=***&db=1"
        );
    }
}
