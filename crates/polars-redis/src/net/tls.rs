//! The TLS handshake of `rediss://` connections, and telling a server that
//! speaks plain RESP from one that expects TLS, so that a URL with the wrong
//! scheme fails fast with advice instead of waiting out the connect timeout.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

use crate::error::{Error, Result};
use crate::net::config::TlsOptions;

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
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| Error::InvalidConfig(format!("`{host}` is not a valid TLS server name")))?;
    let failed = |e: std::io::Error| Error::Connection {
        addr: addr.to_string(),
        message: match not_tls(&e) {
            true => format!("TLS handshake failed: {e} ({NOT_TLS_HINT})"),
            false => format!("TLS handshake failed: {e}"),
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

/// The rustls client: the bundled Mozilla roots, or the CA file's.
fn client_config(options: &TlsOptions) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match &options.ca_file {
        Some(path) => {
            use rustls_pki_types::pem::PemObject;
            let bad = |e: &dyn std::fmt::Display| {
                Error::InvalidConfig(format!("bad certificate in {}: {e}", path.display()))
            };
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path).map_err(|e| {
                Error::InvalidConfig(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            for cert in certs {
                roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidConfig(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
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
