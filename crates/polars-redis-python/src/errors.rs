//! The Python exception hierarchy, and [`BindingError`]: what every binding
//! function returns, so `?` takes core and Python errors alike. Its
//! conversion into `PyErr` is the one place core errors are mapped onto
//! the hierarchy.
//!
//! `InvalidInputError` is also a `ValueError`, and `ArgumentTypeError` (an
//! argument of the wrong type) both an `InvalidInputError` and a
//! `TypeError`, so code catching the builtin exceptions catches them too.
//! `create_exception!` takes one base, so these two classes are made with
//! `type(name, bases, namespace)` the first time they are needed.

use polars_redis::Error;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

create_exception!(
    polars_redis,
    PolarsRedisError,
    PyException,
    "Base class of every polars-redis error."
);
create_exception!(
    polars_redis,
    RedisConnectionError,
    PolarsRedisError,
    "The server could not be reached, or the connection broke."
);
create_exception!(
    polars_redis,
    AuthenticationError,
    RedisConnectionError,
    "The server rejected the credentials."
);
create_exception!(
    polars_redis,
    RedisTimeoutError,
    PolarsRedisError,
    "A connect, a command or the overall deadline ran out."
);
create_exception!(
    polars_redis,
    RedisServerError,
    PolarsRedisError,
    "The server answered with an error reply."
);
create_exception!(
    polars_redis,
    WrongTypeError,
    PolarsRedisError,
    "A key holds another Redis type than the one being read."
);
create_exception!(
    polars_redis,
    ParseError,
    PolarsRedisError,
    "A stored value could not be parsed as its declared dtype (strict mode)."
);
create_exception!(
    polars_redis,
    SchemaInferenceError,
    PolarsRedisError,
    "Schema inference found nothing to infer from (e.g. no key matches the pattern)."
);
create_exception!(
    polars_redis,
    UnsupportedError,
    PolarsRedisError,
    "The server or the request needs something this version does not support."
);
create_exception!(
    polars_redis,
    SearchError,
    PolarsRedisError,
    "RediSearch cannot answer completely: no such index, still indexing, a partial reply, or a cluster without a search coordinator."
);
create_exception!(
    polars_redis,
    ClusterError,
    PolarsRedisError,
    "A Redis Cluster changed under a read (a slot moved or is migrating) or cannot serve every slot; nothing partial was returned, so retrying is safe."
);
create_exception!(
    polars_redis,
    CacheCorruptError,
    PolarsRedisError,
    "A cached frame failed its checks (a chunk missing, truncated or failing its checksum, or a damaged manifest); nothing was returned."
);
create_exception!(
    polars_redis,
    ProtocolError,
    PolarsRedisError,
    "The server sent something that is not valid RESP."
);

/// An exception class with two bases, made on first use.
struct TwoBaseException {
    name: &'static str,
    doc: &'static str,
    class: PyOnceLock<Py<PyType>>,
}

impl TwoBaseException {
    const fn new(name: &'static str, doc: &'static str) -> Self {
        TwoBaseException {
            name,
            doc,
            class: PyOnceLock::new(),
        }
    }

    /// The class, subclassing both `bases` (made the first time).
    fn class<'py>(
        &self,
        py: Python<'py>,
        bases: impl FnOnce() -> PyResult<[Bound<'py, PyType>; 2]>,
    ) -> PyResult<Bound<'py, PyType>> {
        let class = self.class.get_or_try_init(py, || -> PyResult<Py<PyType>> {
            let namespace = PyDict::new(py);
            namespace.set_item("__doc__", self.doc)?;
            namespace.set_item("__module__", "polars_redis")?;
            let made = py.get_type::<PyType>().call1((
                self.name,
                PyTuple::new(py, bases()?)?,
                namespace,
            ))?;
            Ok(made.cast_into::<PyType>()?.unbind())
        })?;
        Ok(class.bind(py).clone())
    }
}

static INVALID_INPUT: TwoBaseException = TwoBaseException::new(
    "InvalidInputError",
    "A malformed URL, option, schema or argument (also a ValueError).",
);
static ARGUMENT_TYPE: TwoBaseException = TwoBaseException::new(
    "ArgumentTypeError",
    "An argument of the wrong type: an InvalidInputError that is also a TypeError.",
);

/// `InvalidInputError(PolarsRedisError, ValueError)`.
pub(crate) fn invalid_input_error(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    INVALID_INPUT.class(py, || {
        Ok([
            py.get_type::<PolarsRedisError>(),
            py.get_type::<PyValueError>(),
        ])
    })
}

/// `ArgumentTypeError(InvalidInputError, TypeError)`.
fn argument_type_error(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    ARGUMENT_TYPE.class(py, || {
        Ok([invalid_input_error(py)?, py.get_type::<PyTypeError>()])
    })
}

/// A Python exception of `class` with `message`, or the error making the class.
fn raise_as(class: PyResult<Bound<'_, PyType>>, message: String) -> PyErr {
    match class {
        Ok(class) => PyErr::from_type(class, message),
        Err(err) => err,
    }
}

/// An `InvalidInputError` with this message, as a `PyErr`.
pub(crate) fn invalid_input_err(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| raise_as(invalid_input_error(py), message))
}

/// An `ArgumentTypeError` with this message, as a `PyErr`.
pub(crate) fn argument_type_err(message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| raise_as(argument_type_error(py), message))
}

/// An error on its way to Python: a core error, or one raised on the
/// Python side (argument conversion, invalid input caught here).
///
/// The orphan rule forbids `From<polars_redis::Error> for PyErr`, so binding
/// functions return [`BindingResult`] and `?` converts through this type.
pub(crate) enum BindingError {
    /// An error of the core crate, mapped when it reaches Python.
    Core(Error),
    /// A Python exception, passed on as it is.
    Python(PyErr),
}

/// The result of every binding function.
pub(crate) type BindingResult<T> = Result<T, BindingError>;

/// An `InvalidInputError` with this message.
pub(crate) fn invalid_input(message: impl Into<String>) -> BindingError {
    BindingError::Python(invalid_input_err(message))
}

impl From<Error> for BindingError {
    fn from(err: Error) -> Self {
        BindingError::Core(err)
    }
}

impl From<PyErr> for BindingError {
    fn from(err: PyErr) -> Self {
        BindingError::Python(err)
    }
}

impl From<BindingError> for PyErr {
    /// Each core error becomes its Python exception.
    fn from(err: BindingError) -> Self {
        let err = match err {
            BindingError::Core(err) => err,
            BindingError::Python(err) => return err,
        };
        let message = err.to_string();
        match err {
            Error::InvalidConfig(_) | Error::InvalidArgument(_) => invalid_input_err(message),
            Error::Auth { .. } => AuthenticationError::new_err(message),
            Error::Connection { .. } => RedisConnectionError::new_err(message),
            Error::Timeout { .. } => RedisTimeoutError::new_err(message),
            Error::Server { .. } => RedisServerError::new_err(message),
            Error::WrongType { .. } => WrongTypeError::new_err(message),
            Error::Parse { .. } => ParseError::new_err(message),
            Error::Inference(_) => SchemaInferenceError::new_err(message),
            Error::Unsupported(_) => UnsupportedError::new_err(message),
            Error::Protocol(_) => ProtocolError::new_err(message),
            Error::WriteFailed(_) => RedisServerError::new_err(message),
            Error::Search(_) => SearchError::new_err(message),
            Error::CacheCorrupt { .. } => CacheCorruptError::new_err(message),
            Error::Cluster(_) | Error::Redirected { .. } => ClusterError::new_err(message),
            _ => PolarsRedisError::new_err(message),
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PolarsRedisError", py.get_type::<PolarsRedisError>())?;
    m.add("InvalidInputError", invalid_input_error(py)?)?;
    m.add("ArgumentTypeError", argument_type_error(py)?)?;
    m.add(
        "RedisConnectionError",
        py.get_type::<RedisConnectionError>(),
    )?;
    m.add("AuthenticationError", py.get_type::<AuthenticationError>())?;
    m.add("RedisTimeoutError", py.get_type::<RedisTimeoutError>())?;
    m.add("RedisServerError", py.get_type::<RedisServerError>())?;
    m.add("WrongTypeError", py.get_type::<WrongTypeError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add(
        "SchemaInferenceError",
        py.get_type::<SchemaInferenceError>(),
    )?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("ProtocolError", py.get_type::<ProtocolError>())?;
    m.add("SearchError", py.get_type::<SearchError>())?;
    m.add("ClusterError", py.get_type::<ClusterError>())?;
    m.add("CacheCorruptError", py.get_type::<CacheCorruptError>())?;
    Ok(())
}
