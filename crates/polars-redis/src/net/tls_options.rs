//! TLS settings of `rediss://` connections ([`TlsOptions`]) and their URL
//! query parameters, under redis-py's names: `ssl_ca_certs`, `ssl_certfile`,
//! `ssl_keyfile`, `ssl_cert_reqs` and `ssl_check_hostname`.
//!
//! ```
//! use polars_redis::ConnectionConfig;
//!
//! let config = ConnectionConfig::from_url(
//!     "rediss://cache:6380?ssl_certfile=/etc/app/client.pem&ssl_keyfile=/etc/app/client.key",
//! )?;
//! let tls = config.tls().unwrap();
//! assert_eq!(tls.cert_file.as_deref(), Some(std::path::Path::new("/etc/app/client.pem")));
//! assert!(tls.verify_peer && tls.check_hostname);
//! # Ok::<(), polars_redis::Error>(())
//! ```

use std::path::PathBuf;

use crate::error::{Error, Result};

/// TLS settings for `rediss://` URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file with the certificate authorities to trust instead of the
    /// operating system's trust store (`ssl_ca_certs`).
    pub ca_file: Option<PathBuf>,
    /// PEM file with the client certificate chain, for servers that require
    /// client certificates (`ssl_certfile`).
    pub cert_file: Option<PathBuf>,
    /// PEM file with the client certificate's private key (`ssl_keyfile`);
    /// without it the key is read from `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Verify the server's certificate chain (`ssl_cert_reqs=required`, the
    /// default). `false` (`ssl_cert_reqs=none`) accepts any certificate.
    pub verify_peer: bool,
    /// Check that the server's certificate names the host of the URL
    /// (`ssl_check_hostname=true`, the default).
    pub check_hostname: bool,
}

impl Default for TlsOptions {
    /// Verify the server against the operating system's trust store, host
    /// name included; no client certificate.
    fn default() -> Self {
        TlsOptions {
            ca_file: None,
            cert_file: None,
            key_file: None,
            verify_peer: true,
            check_hostname: true,
        }
    }
}

/// The URL query parameters [`set_tls_parameter`] understands.
pub(crate) const TLS_PARAMETERS: [&str; 6] = [
    "ssl_ca_certs",
    "ca_file",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_cert_reqs",
    "ssl_check_hostname",
];

/// Apply the TLS query parameter `name` (one of [`TLS_PARAMETERS`]) with
/// its decoded `value`. The error names the parameter, never the value of a
/// path (which is shown as given only in the reason for a bad choice).
pub(crate) fn set_tls_parameter(tls: &mut TlsOptions, name: &str, value: String) -> Result<()> {
    match name {
        "ssl_ca_certs" | "ca_file" => tls.ca_file = Some(non_empty_path(name, value)?),
        "ssl_certfile" => tls.cert_file = Some(non_empty_path(name, value)?),
        "ssl_keyfile" => tls.key_file = Some(non_empty_path(name, value)?),
        "ssl_cert_reqs" => {
            tls.verify_peer = match value.to_ascii_lowercase().as_str() {
                "required" | "cert_required" => true,
                "none" | "cert_none" => false,
                _ => {
                    return Err(Error::InvalidConfig(format!(
                        "ssl_cert_reqs must be `required` or `none`, got `{}`",
                        shown_choice(&value)
                    )))
                }
            }
        }
        "ssl_check_hostname" => {
            tls.check_hostname = match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(Error::InvalidConfig(format!(
                        "ssl_check_hostname must be `true` or `false`, got `{}`",
                        shown_choice(&value)
                    )))
                }
            }
        }
        other => {
            return Err(Error::InvalidConfig(format!(
                "`{other}` is not a TLS parameter"
            )))
        }
    }
    Ok(())
}

fn non_empty_path(name: &str, value: String) -> Result<PathBuf> {
    if value.is_empty() {
        return Err(Error::InvalidConfig(format!("{name} needs a file path")));
    }
    Ok(PathBuf::from(value))
}

/// A bad choice as it may be shown: short words only (a misplaced password
/// is rarely a short lowercase word, and is cut anyway).
fn shown_choice(value: &str) -> &str {
    if value.len() <= 12 && value.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') {
        value
    } else {
        "***"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_py_names() {
        let mut tls = TlsOptions::default();
        for (name, value) in [
            ("ssl_ca_certs", "/ca.pem"),
            ("ssl_certfile", "/c.pem"),
            ("ssl_keyfile", "/k.pem"),
            ("ssl_cert_reqs", "none"),
            ("ssl_check_hostname", "false"),
        ] {
            set_tls_parameter(&mut tls, name, value.into()).unwrap();
        }
        assert_eq!(tls.ca_file, Some(PathBuf::from("/ca.pem")));
        assert_eq!(tls.cert_file, Some(PathBuf::from("/c.pem")));
        assert_eq!(tls.key_file, Some(PathBuf::from("/k.pem")));
        assert!(!tls.verify_peer && !tls.check_hostname);
    }

    #[test]
    fn refuses_bad_choices_without_echoing_secrets() {
        let mut tls = TlsOptions::default();
        let err = set_tls_parameter(&mut tls, "ssl_cert_reqs", "optional".into()).unwrap_err();
        assert!(err.to_string().contains("`optional`"), "{err}");
        let err = set_tls_parameter(&mut tls, "ssl_check_hostname", "hunter2!".into()).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(set_tls_parameter(&mut tls, "ssl_certfile", String::new()).is_err());
    }
}
