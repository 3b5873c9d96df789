//! Reading an `FT.AGGREGATE ... WITHCURSOR` result page by page, complete
//! or not at all.
//!
//! Connections are switched to RESP3 first: only RESP3 replies carry the
//! `warning` list in which RediSearch reports a timeout (under its default
//! `ON_TIMEOUT RETURN` policy a RESP2 reply is silently partial). Every
//! request sends an explicit `TIMEOUT`, and any warning becomes an error.
//! A cursor that is dropped before it is exhausted (the consumer stopped
//! early, or the scan was cancelled) is deleted with `FT.CURSOR DEL`.
//!
//! A sort is where RediSearch drops rows without a word: `SORTBY` keeps
//! `MAX` rows (10 when `MAX` is left out), and the server lowers `MAX` to
//! its `MAXAGGREGATERESULTS` setting. So a sort always sends `MAX`, sized
//! from the index's document count, and asks again with a larger `MAX`
//! when the first reply's `total_results` says more rows matched. A
//! pipeline that groups or sorts is counted by the server, and once its
//! cursor is exhausted the rows received must equal that count (or the
//! limit): a shortfall is an [`Error::Search`], never a short result.
//!
//! `MAX` costs memory: the server reserves 8 bytes per row of `MAX` for
//! as long as the cursor is open, which is why it is sized from the result
//! rather than set huge. A `LIMIT` after `SORTBY` would replace `MAX` (and
//! reserve 8 bytes per row of the limit), so a sort is capped by `MAX` alone.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::{server_error, Connection};
use crate::net::resp::{Cmd, Item, Value};

use super::index::is_unknown_index;
use super::query::{QueryText, DIALECT};

/// The largest `MAX` a sort asks for before it knows how many rows match:
/// 800 kB reserved on the server at most. A larger result is asked for
/// again with `MAX` set to the count the first reply gave (the server then
/// sorts twice).
const FIRST_SORT_MAX: usize = 100_000;

/// How often a sort is asked again because more rows matched than `MAX`
/// (the index grows while it is read).
const SORT_ATTEMPTS: usize = 3;

/// One `FT.AGGREGATE` request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AggregateRequest {
    pub(crate) index: String,
    pub(crate) query: QueryText,
    /// Pipeline steps after the query, before the sort (`LOAD`, `GROUPBY`,
    /// `REDUCE`, `APPLY`).
    pub(crate) steps: Vec<String>,
    /// Whether `steps` group the rows (the server then counts the groups).
    pub(crate) grouped: bool,
    /// `SORTBY` keys (`@name`) and directions (`true`: descending).
    pub(crate) sort_by: Vec<(String, bool)>,
    /// At most this many rows (the sort's `MAX`, or `LIMIT 0 n`).
    pub(crate) limit: Option<usize>,
    /// How many rows the pipeline may yield, as far as is known beforehand
    /// (the index's document count): the first `MAX` of a sort.
    pub(crate) rows_hint: u64,
    /// Rows per cursor page.
    pub(crate) page: usize,
    /// Sent as `TIMEOUT` (milliseconds) with the request.
    pub(crate) timeout: Duration,
}

impl AggregateRequest {
    /// Whether the server counts the rows (`total_results`): only a
    /// pipeline that groups or sorts. A plain one is never capped.
    fn counted(&self) -> bool {
        self.grouped || !self.sort_by.is_empty()
    }

    /// The `MAX` of the first request of a sort.
    pub(crate) fn first_sort_max(&self) -> usize {
        let hint = usize::try_from(self.rows_hint).unwrap_or(usize::MAX);
        let guess = hint.clamp(1, FIRST_SORT_MAX);
        self.limit.map_or(guess, |limit| limit.clamp(1, guess))
    }

    /// The steps after the query, with a sort keeping `sort_max` rows.
    pub(crate) fn pipeline(&self, sort_max: usize) -> Vec<String> {
        let mut steps = self.steps.clone();
        if self.sort_by.is_empty() {
            if let Some(limit) = self.limit {
                steps.extend(["LIMIT".into(), "0".into(), limit.max(1).to_string()]);
            }
            return steps;
        }
        steps.push("SORTBY".into());
        steps.push((self.sort_by.len() * 2).to_string());
        for (name, descending) in &self.sort_by {
            steps.push(name.clone());
            steps.push(if *descending { "DESC" } else { "ASC" }.into());
        }
        steps.extend(["MAX".into(), sort_max.max(1).to_string()]);
        steps
    }

    fn command(&self, sort_max: usize) -> Cmd {
        let mut cmd = Cmd::new("FT.AGGREGATE");
        cmd.arg(&self.index).arg(&self.query.text);
        cmd.args(self.pipeline(sort_max));
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

    /// The rows a complete answer holds, given the server's count.
    fn wanted(&self, total: u64) -> u64 {
        self.limit.map_or(total, |limit| total.min(limit as u64))
    }
}

/// One row of a page: `(name, value)` pairs as the server sent them.
pub(crate) type Row = Vec<(Vec<u8>, Value)>;

/// One reply of a cursor.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) rows: Vec<Row>,
    /// The cursor id to read on with (0: exhausted).
    pub(crate) cursor: u64,
    /// `total_results`: the rows of the whole result, in the first reply of
    /// a pipeline that groups or sorts (other replies say 0 or 1).
    pub(crate) total: Option<u64>,
}

/// An open cursor; deleted on drop unless exhausted.
pub(crate) struct Cursor {
    index: String,
    id: u64,
    page: usize,
    first: Option<Vec<Row>>,
    config: ConnectionConfig,
    /// The rows a complete answer holds, when the server counted them.
    expected: Option<u64>,
    received: u64,
}

impl Cursor {
    /// Send the request on `conn` (already in RESP3) and read the first
    /// page; a sort that matched more rows than its `MAX` is asked again.
    pub(crate) async fn open(
        conn: &mut Connection,
        config: &ConnectionConfig,
        request: &AggregateRequest,
    ) -> Result<Cursor> {
        let index = &request.index;
        let mut sort_max = request.first_sort_max();
        for _ in 0..SORT_ATTEMPTS {
            let page = read_page(conn, index, &request.command(sort_max)).await?;
            let expected = match (request.counted(), page.total) {
                (false, _) => None,
                (true, Some(total)) => Some(request.wanted(total)),
                (true, None) => {
                    return Err(Error::Protocol(format!(
                        "FT.AGGREGATE on index `{index}` gave no total_results, so a complete \
                         result cannot be told from a cut one"
                    )))
                }
            };
            let sorted = !request.sort_by.is_empty();
            if let Some(wanted) = expected.filter(|&wanted| sorted && wanted > sort_max as u64) {
                delete(conn, index, page.cursor).await;
                sort_max = usize::try_from(wanted).unwrap_or(usize::MAX);
                continue;
            }
            return Ok(Cursor {
                index: index.clone(),
                id: page.cursor,
                page: request.page,
                first: Some(page.rows),
                config: config.clone(),
                expected,
                received: 0,
            });
        }
        Err(Error::Search(format!(
            "index `{index}`: more documents matched each of the {SORT_ATTEMPTS} times the sort \
             was asked (the index is growing while it is read); try again"
        )))
    }

    /// The next page, or `None` once the cursor is exhausted. The last page
    /// is an error instead when the rows received are not the rows the
    /// server counted.
    pub(crate) async fn next_page(&mut self, conn: &mut Connection) -> Result<Option<Vec<Row>>> {
        let rows = match self.first.take() {
            Some(rows) => rows,
            None if self.id == 0 => return Ok(None),
            None => {
                let mut cmd = Cmd::new("FT.CURSOR");
                cmd.arg("READ")
                    .arg(&self.index)
                    .arg(self.id.to_string())
                    .arg("COUNT")
                    .arg(self.page.max(1).to_string());
                // The id is kept while the read is in flight: if this future is
                // dropped mid-read (the scan was cancelled), the cursor is deleted.
                let page = read_page(conn, &self.index, &cmd).await?;
                self.id = page.cursor;
                page.rows
            }
        };
        self.received += rows.len() as u64;
        if self.id == 0 {
            self.check_complete()?;
        }
        Ok(Some(rows))
    }

    fn check_complete(&self) -> Result<()> {
        match self.expected {
            Some(expected) if expected != self.received => Err(Error::Search(format!(
                "index `{}`: the server counted {expected} rows but sent {}, so the result is \
                 incomplete. RediSearch cuts a sorted result at its MAXAGGREGATERESULTS \
                 setting: ask for fewer rows (a limit / head), or raise it \
                 (FT.CONFIG SET MAXAGGREGATERESULTS n)",
                self.index, self.received
            ))),
            _ => Ok(()),
        }
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
                delete(&mut conn, &index, id).await;
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(delete)),
            Err(_) => drop(crate::net::runtime::runtime().spawn(delete)),
        }
    }
}

/// `FT.CURSOR DEL`, best effort (an idle cursor expires on its own).
async fn delete(conn: &mut Connection, index: &str, id: u64) {
    if id != 0 {
        let mut cmd = Cmd::new("FT.CURSOR");
        cmd.arg("DEL").arg(index).arg(id.to_string());
        let _ = conn.query(&cmd).await;
    }
}

/// Send `cmd` and read one page: `[{results: [...], warning: [...]}, cursor]`.
async fn read_page(conn: &mut Connection, index: &str, cmd: &Cmd) -> Result<Page> {
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
        Error::Server { message, .. } if message.contains("exceeds maximum") => {
            Error::Search(format!(
                "index `{index}`: {message}: the server's MAXAGGREGATERESULTS setting caps how \
                 many rows an aggregation may ask for; ask for fewer rows (a limit / head), or \
                 raise it (FT.CONFIG SET MAXAGGREGATERESULTS n)"
            ))
        }
        other => other,
    }
}

pub(crate) fn map_get<'a>(map: &'a [(Value, Value)], name: &[u8]) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_bytes() == Some(name))
        .map(|(_, v)| v)
}

/// The error for a RESP3 search reply (`body`) that carries a `warning`:
/// a timeout or a partial result is never returned as if complete.
pub(crate) fn check_warnings(body: &[(Value, Value)], command: &str) -> Result<()> {
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
    Ok(())
}

pub(crate) fn parse_page(reply: &Value, command: &str) -> Result<Page> {
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
    check_warnings(body, command)?;
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
    let total = match map_get(body, b"total_results") {
        None => None,
        Some(total) => Some(
            total
                .as_int()
                .and_then(|t| u64::try_from(t).ok())
                .ok_or_else(bad)?,
        ),
    };
    Ok(Page {
        rows,
        cursor: u64::try_from(id).map_err(|_| bad())?,
        total,
    })
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
                (b("total_results"), Value::Int(7)),
                (b("results"), Value::Array(vec![row])),
                (
                    b("warning"),
                    Value::Array(warnings.into_iter().map(b).collect()),
                ),
            ]),
            Value::Int(42),
        ])
    }

    fn request(sort_by: &[&str], limit: Option<usize>, rows_hint: u64) -> AggregateRequest {
        AggregateRequest {
            index: "i".into(),
            query: QueryText::raw("*", vec![]),
            steps: vec!["LOAD".into(), "1".into(), "@__key".into()],
            grouped: false,
            sort_by: sort_by.iter().map(|s| (s.to_string(), true)).collect(),
            limit,
            rows_hint,
            page: 1000,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_sort_is_capped_by_max_alone() {
        // Never RediSearch's default of 10, never a LIMIT (it would replace MAX).
        let sorted = request(&["@n"], None, 20);
        assert_eq!(sorted.first_sort_max(), 20);
        assert_eq!(
            sorted.pipeline(20).join(" "),
            "LOAD 1 @__key SORTBY 2 @n DESC MAX 20"
        );
        // The first MAX is bounded (the server reserves 8 bytes a row) ...
        assert_eq!(
            request(&["@n"], None, 10_000_000).first_sort_max(),
            FIRST_SORT_MAX
        );
        assert_eq!(
            request(&["@n"], Some(10usize.pow(10)), 5).first_sort_max(),
            5
        );
        // ... and a limit below it is the MAX.
        assert_eq!(request(&["@n"], Some(3), 5000).first_sort_max(), 3);
        assert_eq!(request(&["@n"], None, 0).first_sort_max(), 1);
        // Without a sort, a limit is a LIMIT.
        assert_eq!(
            request(&[], Some(7), 20).pipeline(1).join(" "),
            "LOAD 1 @__key LIMIT 0 7"
        );
        assert!(!request(&[], Some(7), 20).counted());
        assert_eq!(request(&["@n"], Some(7), 20).wanted(20), 7);
        assert_eq!(request(&["@n"], Some(70), 20).wanted(20), 20);
    }

    #[test]
    fn complete_pages_are_read() {
        let page = parse_page(&page(vec![]), "FT.CURSOR").unwrap();
        assert_eq!(page.cursor, 42);
        assert_eq!(page.total, Some(7));
        assert_eq!(page.rows[0][0].0, b"__key");
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
