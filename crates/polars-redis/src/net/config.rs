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
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

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

/// TLS settings for `rediss://` URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file with the certificate authorities to trust instead of the
    /// bundled Mozilla roots.
    pub ca_file: Option<PathBuf>,
}

/// A password that never prints.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

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
    /// - `rediss://...` (TLS; `?ca_file=/path/ca.pem` trusts a custom CA)
    /// - `unix:///path/to/redis.sock[?db=N&username=U&password=P]`
    ///
    /// User names and passwords are percent-decoded. The port defaults to 6379.
    pub fn from_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid(url, "expected a scheme such as redis://"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let mut config = match scheme {
            "redis" | "rediss" => parse_tcp(url, rest, scheme == "rediss")?,
            "unix" | "redis+unix" => Self::new(Endpoint::Unix(PathBuf::from(decode(rest)?))),
            other => return Err(invalid(url, &format!("unsupported scheme `{other}`"))),
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
                "ca_file" | "ssl_ca_certs" => {
                    let tls = config
                        .tls
                        .as_mut()
                        .ok_or_else(|| invalid(url, "ca_file needs a rediss:// URL"))?;
                    tls.ca_file = Some(PathBuf::from(value));
                }
                other => return Err(invalid(url, &format!("unknown option `{other}`"))),
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
        }
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

    /// The same settings for another server (a cluster node).
    pub(crate) fn with_endpoint(&self, endpoint: Endpoint) -> Self {
        ConnectionConfig {
            endpoint,
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
    let (host, port) = split_host_port(url, hostport)?;
    let mut config = ConnectionConfig::new(Endpoint::Tcp { host, port });
    if tls {
        config.tls = Some(TlsOptions::default());
    }
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        match password {
            Some(password) => {
                config.password = Some(Secret(decode(password)?));
                if !user.is_empty() {
                    config.username = Some(decode(user)?);
                }
            }
            // `redis://secret@host`: a lone userinfo is the password, as in redis-cli.
            None if !user.is_empty() => config.password = Some(Secret(decode(user)?)),
            None => {}
        }
    }
    if !path.is_empty() {
        config.db = parse_db(url, path)?;
    }
    Ok(config)
}

fn split_host_port(url: &str, hostport: &str) -> Result<(String, u16)> {
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
            .map_err(|_| invalid(url, &format!("invalid port `{port}`")))?,
        None => 6379,
    };
    Ok((host.to_string(), port))
}

fn parse_db(url: &str, text: &str) -> Result<u32> {
    text.parse::<u32>()
        .map_err(|_| invalid(url, &format!("invalid database index `{text}`")))
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

/// The URL with any userinfo and `password=` query value replaced by `***`.
///
/// Everything up to the last `@` counts as userinfo, so even a malformed
/// URL with `/`, `?` or `@` in its password shows none of it.
pub fn redact_url(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    };
    if let Some(start) = out.find("password=") {
        let value_start = start + "password=".len();
        let value_end = out[value_start..]
            .find('&')
            .map_or(out.len(), |i| value_start + i);
        out.replace_range(value_start..value_end, "***");
    }
    out
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
        ] {
            let err = ConnectionConfig::from_url(url).unwrap_err();
            assert!(err.is_invalid_input(), "{url}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
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
