//! The TLS handshake of `rediss://` connections, and telling a server that
//! speaks plain RESP from one that expects TLS, so that a URL with the wrong
//! scheme fails fast with advice instead of waiting out the connect timeout.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::DigitallySignedStruct;

use crate::error::{Error, Result};
use crate::net::tls_options::TlsOptions;

/// Advice for a TLS handshake the server does not answer.
pub(crate) const NOT_TLS_HINT: &str =
    "is TLS enabled on the server? If it is not, the URL should be redis://, not rediss://";

/// How long a handshake may go unanswered before the server is asked, on a
/// second connection, whether it speaks plain RESP. A TLS server answers a
/// `ClientHello` within a round trip; a plain Redis server never does, it
/// waits for the end of a command line.
const ASK_PLAIN_AFTER: Duration = Duration::from_millis(300);

/// True when `bytes` start like a TLS record: a handshake (`0x16`) or an
/// alert (`0x15`), protocol major version 3. No RESP reply starts so.
pub(crate) fn is_tls_record(bytes: &[u8]) -> bool {
    matches!(bytes, [0x15 | 0x16, 0x03, ..])
}

/// Run the TLS handshake over `tcp`; a server that does not answer it but
/// speaks plain RESP is reported as such.
pub(crate) async fn handshake(
    tcp: TcpStream,
    (host, port): (&str, u16),
    options: &TlsOptions,
    addr: &str,
) -> Result<TlsStream<TcpStream>> {
    let client = client_config(options)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| Error::InvalidConfig(format!("`{host}` is not a valid TLS server name")))?;
    let failed = |e: std::io::Error| match not_tls(&e) {
        true => Error::Connection {
            addr: addr.to_string(),
            message: format!("TLS handshake failed: {e} ({NOT_TLS_HINT})"),
        },
        false => match io_error(addr, e) {
            Error::Connection { addr, message } => Error::Connection {
                addr,
                message: format!("TLS handshake failed: {message}"),
            },
            other => other,
        },
    };
    let handshake = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp);
    tokio::pin!(handshake);
    if let Ok(result) = tokio::time::timeout(ASK_PLAIN_AFTER, &mut handshake).await {
        return result.map_err(failed);
    }
    if speaks_plain_resp((host, port)).await {
        return Err(Error::Connection {
            addr: addr.to_string(),
            message: "the TLS handshake did not happen: the server speaks plain RESP (TLS is \
                      not enabled on this port); use a redis:// URL, or the server's TLS port"
                .into(),
        });
    }
    handshake.await.map_err(failed)
}

/// The error for a failed read or write on a connection: a TLS alert about
/// the client certificate (which a TLS 1.3 server sends after the client's
/// side of the handshake is done, so on the first read) gets advice.
pub(crate) fn io_error(addr: &str, err: std::io::Error) -> Error {
    let advice = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .and_then(client_certificate_advice);
    match advice {
        Some(advice) => Error::Connection {
            addr: addr.to_string(),
            message: format!("{err} ({advice})"),
        },
        None => Error::io(addr, err),
    }
}

/// Advice for a TLS alert refusing (or asking for) our client certificate.
fn client_certificate_advice(err: &rustls::Error) -> Option<&'static str> {
    use rustls::AlertDescription as Alert;
    match err {
        rustls::Error::AlertReceived(Alert::CertificateRequired) => Some(
            "the server requires a client certificate: give one with ssl_certfile= \
             (and ssl_keyfile=)",
        ),
        rustls::Error::AlertReceived(
            Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::UnsupportedCertificate
            | Alert::CertificateExpired
            | Alert::DecryptError,
        ) => Some(
            "the server refused the client certificate (ssl_certfile): is it valid and \
             signed by a CA the server trusts?",
        ),
        _ => None,
    }
}

/// Whether a failed handshake looks like a server that does not speak TLS:
/// it closed the connection, or sent bytes that are no TLS record (a plain
/// Redis answers a `ClientHello` that happens to hold a newline with `-ERR`).
fn not_tls(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::UnexpectedEof
        || err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|e| matches!(e, rustls::Error::InvalidMessage(_)))
}

/// Whether the server answers an inline `PING` on a new plain connection
/// with a RESP reply (`+PONG`, or an error such as `-NOAUTH`). A TLS server
/// drops the connection or answers with an alert; no answer in time counts
/// as "no".
async fn speaks_plain_resp((host, port): (&str, u16)) -> bool {
    let ask = async {
        let mut tcp = TcpStream::connect((host, port)).await.ok()?;
        tcp.write_all(b"PING\r\n").await.ok()?;
        let mut first = [0u8; 1];
        tcp.read_exact(&mut first).await.ok()?;
        Some(matches!(first[0], b'+' | b'-'))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), ask).await,
        Ok(Some(true))
    )
}

/// The rustls client of `options`: the server verified against the CA
/// file, else the operating system's trust store (see [`system_roots`]),
/// with the relaxations `options` asks for, and a client certificate when
/// one is given.
fn client_config(options: &TlsOptions) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidConfig(format!("TLS setup failed: {e}")))?;
    let roots = match &options.ca_file {
        Some(path) => Arc::new(ca_file_roots(path)?),
        None => system_roots(),
    };
    let builder = if options.verify_peer && options.check_hostname {
        builder.with_root_certificates(roots)
    } else {
        let chain = match options.verify_peer {
            true => Some(
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| Error::InvalidConfig(format!("TLS setup failed: {e}")))?,
            ),
            false => None,
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RelaxedVerifier { chain, provider }))
    };
    match &options.cert_file {
        Some(cert_file) => {
            let (certs, key) = client_certificate(cert_file, options.key_file.as_deref())?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                Error::InvalidConfig(format!(
                    "the client certificate {} does not match its key: {e}",
                    cert_file.display()
                ))
            })
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The certificate authorities of a PEM file.
fn ca_file_roots(path: &Path) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    let bad = |e: &dyn std::fmt::Display| {
        Error::InvalidConfig(format!("bad certificate in {}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
        Error::InvalidConfig(format!("cannot read CA file {}: {e}", path.display()))
    })?;
    for cert in certs {
        roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    Ok(roots)
}

/// The operating system's trust store (read once per process), or the
/// bundled Mozilla roots where it holds no usable certificate.
fn system_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(roots)
        })
        .clone()
}

/// The client certificate chain of `cert_file` and its private key, from
/// `key_file` or else from `cert_file` itself.
fn client_certificate(
    cert_file: &Path,
    key_file: Option<&Path>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let certs = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::InvalidConfig(format!(
                "cannot read the client certificate (ssl_certfile) {}: {e}",
                cert_file.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "no certificate in the client certificate file (ssl_certfile) {}",
            cert_file.display()
        )));
    }
    let key_path = key_file.unwrap_or(cert_file);
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
        Error::InvalidConfig(format!(
            "cannot read the client certificate's private key (ssl_keyfile) {}: {e}",
            key_path.display()
        ))
    })?;
    Ok((certs, key))
}

/// A server certificate check with `ssl_check_hostname=false` (the chain
/// is verified, any host name accepted) or `ssl_cert_reqs=none` (no
/// `chain`: any certificate accepted). The handshake signatures are always
/// verified.
#[derive(Debug)]
struct RelaxedVerifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for RelaxedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_tls_records_from_resp() {
        assert!(is_tls_record(b"\x15\x03\x03\x00\x02\x02\x46"));
        assert!(is_tls_record(b"\x16\x03\x01\x00"));
        for resp in [&b"+OK\r\n"[..], b"-ERR x\r\n", b"*1\r\n", b"\x15", b""] {
            assert!(!is_tls_record(resp));
        }
    }
}
