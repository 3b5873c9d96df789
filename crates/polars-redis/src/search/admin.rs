//! Index management, blocking: create (optionally waiting until the initial
//! scan is done), drop, info, exists. Each call opens one connection.

use std::time::Duration;

use tokio::time::Instant;

use super::index::{self, AttributeSpec, IndexInfo};
use super::plan::search_connection;
use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::resp::Cmd;
use crate::types::IndexOn;

pub(super) fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    crate::net::runtime::runtime().block_on(future)
}

pub(super) async fn connect(config: &ConnectionConfig) -> Result<Connection> {
    let conn = search_connection(config).await?;
    if config.db != 0 {
        return Err(Error::Search(format!(
            "RediSearch only indexes database 0, and this connection uses database {}",
            config.db
        )));
    }
    Ok(conn)
}

/// What `FT.INFO` says about index `name` ([`Error::Search`] if there is none).
pub fn index_info(config: &ConnectionConfig, name: &str) -> Result<IndexInfo> {
    block_on(async {
        let mut conn = connect(config).await?;
        index::info(&mut conn, name).await
    })
}

/// Whether index `name` exists.
pub fn index_exists(config: &ConnectionConfig, name: &str) -> Result<bool> {
    block_on(async {
        let mut conn = connect(config).await?;
        Ok(index::list(&mut conn).await?.iter().any(|n| n == name))
    })
}

/// Drop index `name`, and with `delete_documents` the keys it indexes too
/// (`FT.DROPINDEX ... DD`). [`Error::Search`] if there is no such index.
pub fn drop_index(config: &ConnectionConfig, name: &str, delete_documents: bool) -> Result<()> {
    block_on(async {
        let mut conn = connect(config).await?;
        let mut cmd = Cmd::new("FT.DROPINDEX");
        cmd.arg(name);
        if delete_documents {
            cmd.arg("DD");
        }
        match conn.query(&cmd).await {
            Ok(_) => Ok(()),
            Err(Error::Server { message, .. }) if index::is_unknown_index(&message) => {
                Err(Error::Search(format!("no index named `{name}`")))
            }
            Err(err) => Err(err),
        }
    })
}

/// Create index `name` over the keys starting with `prefixes`. With
/// `wait`, block until the initial scan has indexed every existing key (at
/// most that long) and return the index's info.
pub fn create_index(
    config: &ConnectionConfig,
    name: &str,
    on: IndexOn,
    prefixes: &[Vec<u8>],
    attributes: &[AttributeSpec],
    wait: Option<Duration>,
) -> Result<IndexInfo> {
    let cmd = index::create_command(name, on, prefixes, attributes)?;
    block_on(async {
        let mut conn = connect(config).await?;
        conn.query(&cmd).await.map_err(|err| match err {
            Error::Server { message, .. } if message.contains("already exists") => {
                Error::Search(format!("an index named `{name}` already exists"))
            }
            other => other,
        })?;
        let Some(wait) = wait else {
            return index::info(&mut conn, name).await;
        };
        let deadline = Instant::now() + wait;
        loop {
            let info = index::info(&mut conn, name).await?;
            if info.not_ready().is_none() {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    during: format!("waiting for index `{name}` to finish indexing"),
                    after_ms: wait.as_millis() as u64,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}
