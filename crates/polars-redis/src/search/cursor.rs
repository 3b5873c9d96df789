//! Reading an `FT.AGGREGATE ... WITHCURSOR` result page by page.
//!
//! Connections are switched to RESP3 first: only RESP3 replies carry the
//! `warning` list in which RediSearch reports a timeout (under its default
//! `ON_TIMEOUT RETURN` policy a RESP2 reply is silently partial). Every
//! request sends an explicit `TIMEOUT`, and any warning becomes an error.
//! A cursor that is dropped before it is exhausted (the consumer stopped
//! early, or the scan was cancelled) is deleted with `FT.CURSOR DEL`.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, Connection};
use crate::net::resp::{Cmd, Item, Value};

use super::index::is_unknown_index;
use super::query::{QueryText, DIALECT};

/// One `FT.AGGREGATE` request.
#[derive(Clone, Debug)]
pub(crate) struct AggregateRequest {
    pub(crate) index: String,
    pub(crate) query: QueryText,
    /// Pipeline steps after the query (`LOAD`, `GROUPBY`, `SORTBY`, `LIMIT`, ...).
    pub(crate) steps: Vec<String>,
    /// Rows per cursor page.
    pub(crate) page: usize,
    /// Sent as `TIMEOUT` (milliseconds) with the request.
    pub(crate) timeout: Duration,
}

impl AggregateRequest {
    fn command(&self) -> Cmd {
        let mut cmd = Cmd::new("FT.AGGREGATE");
        cmd.arg(&self.index).arg(&self.query.text);
        cmd.args(&self.steps);
        cmd.arg("WITHCURSOR")
            .arg("COUNT")
            .arg(self.page.max(1).to_string());
        cmd.arg("TIMEOUT")
            .arg(self.timeout.as_millis().max(1).to_string());
        if !self.query.params.is_empty() {
            cmd.arg("PARAMS")
                .arg((self.query.params.len() * 2).to_string());
            for (name, value) in &self.query.params {
                cmd.arg(name).arg(value);
            }
        }
        cmd.arg("DIALECT").arg(DIALECT);
        cmd
    }
}

/// One row of a page: `(name, value)` pairs as the server sent them.
pub(crate) type Row = Vec<(Vec<u8>, Value)>;

/// An open cursor; deleted on drop unless exhausted.
pub(crate) struct Cursor {
    index: String,
    id: u64,
    page: usize,
    first: Option<Vec<Row>>,
    config: ConnectionConfig,
}

impl Cursor {
    /// Send the request on `conn` (already in RESP3) and read the first page.
    pub(crate) async fn open(
        conn: &mut Connection,
        config: &ConnectionConfig,
        request: &AggregateRequest,
    ) -> Result<Cursor> {
        let (rows, id) = read_page(conn, &request.index, &request.command()).await?;
        Ok(Cursor {
            index: request.index.clone(),
            id,
            page: request.page,
            first: Some(rows),
            config: config.clone(),
        })
    }

    /// The next page, or `None` once the cursor is exhausted.
    pub(crate) async fn next_page(&mut self, conn: &mut Connection) -> Result<Option<Vec<Row>>> {
        if let Some(rows) = self.first.take() {
            return Ok(Some(rows));
        }
        if self.id == 0 {
            return Ok(None);
        }
        let mut cmd = Cmd::new("FT.CURSOR");
        cmd.arg("READ")
            .arg(&self.index)
            .arg(self.id.to_string())
            .arg("COUNT")
            .arg(self.page.max(1).to_string());
        // The id is kept while the read is in flight: if this future is
        // dropped mid-read (the scan was cancelled), the cursor is deleted.
        let (rows, id) = read_page(conn, &self.index, &cmd).await?;
        self.id = id;
        Ok(Some(rows))
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        if self.id == 0 {
            return;
        }
        let (config, index, id) = (self.config.clone(), self.index.clone(), self.id);
        let delete = async move {
            if let Ok(mut conn) = Connection::connect(&config).await {
                let mut cmd = Cmd::new("FT.CURSOR");
                cmd.arg("DEL").arg(&index).arg(id.to_string());
                let _ = conn.query(&cmd).await;
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(delete)),
            Err(_) => drop(crate::net::runtime::runtime().spawn(delete)),
        }
    }
}

/// Send `cmd` and read one page: `[{results: [...], warning: [...]}, cursor]`.
async fn read_page(conn: &mut Connection, index: &str, cmd: &Cmd) -> Result<(Vec<Row>, u64)> {
    conn.queue(cmd);
    conn.flush().await?;
    let name = cmd.name();
    let reply = conn
        .read_reply(&name, |r| {
            let item = r.next()?;
            if let Item::Error(message) = item {
                return Err(server_error(&name, None, message));
            }
            r.value_from(item)
        })
        .await
        .map_err(|err| page_error(err, index))?;
    parse_page(&reply, &name)
}

fn page_error(err: Error, index: &str) -> Error {
    match err {
        Error::Server { message, .. } if is_unknown_index(&message) => {
            Error::Search(format!("no index named `{index}`"))
        }
        Error::Server { message, .. } if message.to_ascii_lowercase().contains("timeout") => {
            Error::Timeout {
                during: format!("searching index `{index}` (the server said: {message})"),
                after_ms: 0,
            }
        }
        other => other,
    }
}

fn map_get<'a>(map: &'a [(Value, Value)], name: &[u8]) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_bytes() == Some(name))
        .map(|(_, v)| v)
}

pub(crate) fn parse_page(reply: &Value, command: &str) -> Result<(Vec<Row>, u64)> {
    let bad = || Error::Protocol(format!("unexpected {command} reply shape"));
    let (body, id) = match reply {
        Value::Array(parts) if parts.len() == 2 => (&parts[0], parts[1].as_int().ok_or_else(bad)?),
        Value::Map(_) => (reply, 0),
        _ => return Err(bad()),
    };
    let Value::Map(body) = body else {
        return Err(Error::Search(format!(
            "{command} answered in RESP2; search needs a RESP3 connection"
        )));
    };
    if let Some(Value::Array(warnings)) = map_get(body, b"warning") {
        if !warnings.is_empty() {
            let text: Vec<String> = warnings.iter().map(Value::to_text).collect();
            let text = text.join("; ");
            if text.to_ascii_lowercase().contains("timeout") {
                return Err(Error::Timeout {
                    during: format!(
                        "{command}: the server stopped early and would have returned a partial result ({text})"
                    ),
                    after_ms: 0,
                });
            }
            return Err(Error::Search(format!(
                "{command} returned a partial result: {text}"
            )));
        }
    }
    let results = match map_get(body, b"results") {
        Some(Value::Array(results)) => results,
        _ => return Err(bad()),
    };
    let mut rows = Vec::with_capacity(results.len());
    for result in results {
        let Value::Map(result) = result else {
            return Err(bad());
        };
        let mut row = Vec::new();
        if let Some(Value::Map(attributes)) = map_get(result, b"extra_attributes") {
            for (name, value) in attributes {
                row.push((name.as_bytes().ok_or_else(bad)?.to_vec(), value.clone()));
            }
        }
        rows.push(row);
    }
    Ok((rows, u64::try_from(id).map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(warnings: Vec<&str>) -> Value {
        let b = |s: &str| Value::Bytes(s.as_bytes().to_vec());
        let row = Value::Map(vec![
            (
                b("extra_attributes"),
                Value::Map(vec![(b("__key"), b("k:1"))]),
            ),
            (b("values"), Value::Array(vec![])),
        ]);
        Value::Array(vec![
            Value::Map(vec![
                (b("results"), Value::Array(vec![row])),
                (
                    b("warning"),
                    Value::Array(warnings.into_iter().map(b).collect()),
                ),
            ]),
            Value::Int(42),
        ])
    }

    #[test]
    fn complete_pages_are_read() {
        let (rows, id) = parse_page(&page(vec![]), "FT.CURSOR").unwrap();
        assert_eq!(id, 42);
        assert_eq!(rows[0][0].0, b"__key");
    }

    #[test]
    fn warnings_are_errors_never_partial_pages() {
        let err = parse_page(&page(vec!["Timeout limit was reached"]), "FT.AGGREGATE").unwrap_err();
        assert!(
            err.is_timeout() && err.to_string().contains("partial result"),
            "{err}"
        );
        let err = parse_page(&page(vec!["Something else"]), "FT.AGGREGATE").unwrap_err();
        assert!(err.is_search(), "{err}");
        // A RESP2 reply cannot carry warnings: refused.
        let resp2 = Value::Array(vec![Value::Array(vec![Value::Int(0)]), Value::Int(0)]);
        assert!(parse_page(&resp2, "FT.AGGREGATE").unwrap_err().is_search());
    }
}
