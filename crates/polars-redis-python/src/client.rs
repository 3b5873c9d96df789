//! The reusable client (`polars_redis.Client`, subclassed in Python from
//! `ClientHandle`): a connection configuration with a pool of connections,
//! and [`Target`], what every binding function takes as its `url`: a URL
//! string or a client, made into a [`ConnectionConfig`] in one place.

use std::ffi::CString;
use std::sync::Arc;

use polars_redis::config::{ConnectionConfig, CredentialProvider};
use polars_redis::ConnectionPool;
use polars_redis::{redact_url, Error};
use pyo3::create_exception;
use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;

use crate::errors::{invalid_input, BindingResult};
use crate::scanners::seconds_to_duration;

create_exception!(
    polars_redis,
    InsecureTLSWarning,
    PyUserWarning,
    "TLS without verifying the server's certificate (ssl_cert_reqs=none): anyone on the path can read and change the traffic."
);

/// A connection configuration with a pool of open connections, shared by
/// every call given this client.
#[pyclass(module = "polars_redis._internal", subclass, frozen)]
pub(crate) struct ClientHandle {
    config: ConnectionConfig,
    pool: Arc<ConnectionPool>,
    /// The URL without anything secret, for reprs and messages.
    shown: String,
}

#[pymethods]
impl ClientHandle {
    #[new]
    #[pyo3(signature = (
        url, *, ssl_certfile=None, ssl_keyfile=None, ssl_ca_certs=None, ssl_cert_reqs=None,
        ssl_check_hostname=None, username=None, password=None, credential_provider=None,
        connect_timeout=None, command_timeout=None, max_idle_per_node=32,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: &str,
        ssl_certfile: Option<String>,
        ssl_keyfile: Option<String>,
        ssl_ca_certs: Option<String>,
        ssl_cert_reqs: Option<String>,
        ssl_check_hostname: Option<bool>,
        username: Option<String>,
        password: Option<String>,
        credential_provider: Option<Py<PyAny>>,
        connect_timeout: Option<f64>,
        command_timeout: Option<f64>,
        max_idle_per_node: i64,
    ) -> BindingResult<Self> {
        let mut config = ConnectionConfig::from_url(url)?;
        let hostname = ssl_check_hostname.map(|check| check.to_string());
        for (name, value) in [
            ("ssl_certfile", ssl_certfile),
            ("ssl_keyfile", ssl_keyfile),
            ("ssl_ca_certs", ssl_ca_certs),
            ("ssl_cert_reqs", ssl_cert_reqs),
            ("ssl_check_hostname", hostname),
        ] {
            if let Some(value) = value {
                config = config.with_tls_parameter(name, &value)?;
            }
        }
        config = match (username, password, credential_provider) {
            (_, Some(_), Some(_)) | (Some(_), _, Some(_)) => {
                return Err(invalid_input(
                    "pass either username/password or credential_provider, not both",
                ))
            }
            (Some(_), None, None) => {
                return Err(invalid_input("username needs a password"));
            }
            (username, Some(password), None) => {
                config.with_credentials(username.as_deref(), &password)
            }
            (None, None, Some(provider)) => {
                if !provider.bind(py).is_callable() {
                    return Err(invalid_input(
                        "credential_provider must be a callable returning (username, password)",
                    ));
                }
                config.with_credential_provider(python_provider(provider))
            }
            (None, None, None) => config,
        };
        if let Some(seconds) = connect_timeout {
            config = config.with_connect_timeout(seconds_to_duration("connect_timeout", seconds)?);
        }
        if let Some(seconds) = command_timeout {
            let limit = seconds_to_duration("command_timeout", seconds)?;
            config = config.with_command_timeout(Some(limit));
        }
        let max_idle_per_node = usize::try_from(max_idle_per_node)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                invalid_input(format!(
                    "max_idle_per_node must be at least 1, got {max_idle_per_node}"
                ))
            })?;
        warn_if_unverified(py, &config)?;
        let pool = Arc::new(ConnectionPool::new(max_idle_per_node));
        Ok(ClientHandle {
            config: config.with_pool(pool.clone()),
            pool,
            shown: redact_url(url),
        })
    }

    /// Close the pooled connections; later calls with this client fail.
    fn close(&self) {
        self.pool.close();
    }

    /// True once the client was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// The client's URL with its password (and anything that may be one)
    /// removed.
    #[getter]
    fn url(&self) -> String {
        self.shown.clone()
    }

    /// How many open connections the pool holds for later calls.
    #[getter]
    fn idle_connections(&self) -> usize {
        self.pool.idle_connections()
    }
}

/// A `url` argument: a URL string, or a client whose pool the call uses.
#[derive(Clone)]
pub(crate) enum Target {
    Url(String),
    Client {
        config: Box<ConnectionConfig>,
        shown: String,
    },
}

impl FromPyObject<'_, '_> for Target {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        if let Ok(handle) = obj.cast::<ClientHandle>() {
            let handle = handle.get();
            return Ok(Target::Client {
                config: Box::new(handle.config.clone()),
                shown: handle.shown.clone(),
            });
        }
        obj.extract::<String>().map(Target::Url).map_err(|_| {
            let given = obj
                .get_type()
                .name()
                .map(|name| name.to_string())
                .unwrap_or_else(|_| "?".into());
            crate::errors::argument_type_err(format!(
                "url must be a str or a polars_redis.Client, got {given}"
            ))
        })
    }
}

impl Target {
    /// How to connect: the URL parsed (warning when it turns certificate
    /// checks off), or the client's settings and pool.
    pub(crate) fn config(&self) -> BindingResult<ConnectionConfig> {
        match self {
            Target::Url(url) => {
                let config = ConnectionConfig::from_url(url)?;
                Python::attach(|py| warn_if_unverified(py, &config))?;
                Ok(config)
            }
            Target::Client { config, .. } => Ok(ConnectionConfig::clone(config)),
        }
    }

    /// The URL without anything secret.
    pub(crate) fn shown(&self) -> String {
        match self {
            Target::Url(url) => redact_url(url),
            Target::Client { shown, .. } => shown.clone(),
        }
    }
}

/// An `InsecureTLSWarning` naming the server when `config` accepts any
/// server certificate.
fn warn_if_unverified(py: Python<'_>, config: &ConnectionConfig) -> PyResult<()> {
    if config.tls().is_none_or(|tls| tls.verify_peer) {
        return Ok(());
    }
    let message = format!(
        "TLS to {} does not verify the server's certificate (ssl_cert_reqs=none): the \
         connection is encrypted but not authenticated",
        config.endpoint()
    );
    let message = CString::new(message).unwrap_or_default();
    PyErr::warn(py, &py.get_type::<InsecureTLSWarning>(), &message, 1)
}

/// The credential provider calling a Python `provider` (with the GIL) on
/// every new connection. What it raises or returns is never shown, only its
/// type.
fn python_provider(provider: Py<PyAny>) -> CredentialProvider {
    CredentialProvider::new(move || {
        Python::attach(|py| {
            let returned = provider.bind(py).call0().map_err(|err| {
                auth_error(format!(
                    "the credential_provider raised {}",
                    type_name(err.get_type(py).as_any())
                ))
            })?;
            returned.extract::<(Option<String>, String)>().map_err(|_| {
                auth_error(format!(
                    "the credential_provider must return a tuple (username, password) of \
                         str (username may be None); it returned a {}",
                    type_name(&returned.get_type().into_any())
                ))
            })
        })
    })
}

fn type_name(class: &Bound<'_, PyAny>) -> String {
    class
        .getattr("__name__")
        .and_then(|name| name.extract::<String>())
        .unwrap_or_else(|_| "?".into())
}

/// An authentication error; the connection fills in its address.
fn auth_error(message: String) -> Error {
    Error::Auth {
        addr: String::new(),
        message,
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ClientHandle>()?;
    m.add(
        "InsecureTLSWarning",
        m.py().get_type::<InsecureTLSWarning>(),
    )?;
    Ok(())
}
