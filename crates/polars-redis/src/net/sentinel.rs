//! Redis Sentinel: `redis+sentinel://` URLs name a service that a set of
//! sentinels watch, and every connection to it goes to its current master,
//! asked of the sentinels each time a connection is opened. After a
//! failover the next connection (a read's retry, the next call) finds the
//! new master; a server the sentinels still name but that has already
//! become a replica is refused with a connection error, which reads retry.
//!
//! ```
//! use polars_redis::ConnectionConfig;
//! let config = ConnectionConfig::from_url(
//!     "redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/cache/2?sentinel_password=t0p",
//! )?;
//! assert_eq!(config.db(), 2);
//! assert!(!format!("{config:?}").contains("s3cret"));
//! assert!(!format!("{config:?}").contains("t0p"));
//! # Ok::<(), polars_redis::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::net::config::{ConnectionConfig, Endpoint, Sentinels};
use crate::net::connection::Connection;
use crate::net::resp::{Cmd, Value};

impl Sentinels {
    /// How to connect to sentinel `address`: `data`'s timeouts, the
    /// sentinels' own credentials, no database.
    fn sentinel_config(&self, address: &Endpoint, data: &ConnectionConfig) -> ConnectionConfig {
        let mut config = ConnectionConfig::new(address.clone())
            .with_connect_timeout(data.connect_timeout)
            .with_command_timeout(data.command_timeout);
        config.username = self.username.clone();
        config.password = self.password.clone();
        config
    }

    /// Ask each sentinel in turn for an answer to `cmd`; the first that
    /// gives one (`Some`) wins. Unreachable sentinels are skipped.
    async fn ask<T>(
        &self,
        data: &ConnectionConfig,
        cmd: &Cmd,
        answer: impl Fn(Value) -> Option<T>,
    ) -> Result<T> {
        let mut failures = Vec::with_capacity(self.addresses.len());
        for address in &self.addresses {
            let reply = match Connection::connect_direct(&self.sentinel_config(address, data)).await
            {
                Ok(mut conn) => conn.query(cmd).await,
                Err(err) => Err(err),
            };
            match reply.map(&answer) {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => failures.push(format!("{address}: does not know `{}`", self.service)),
                Err(err @ Error::Auth { .. }) => return Err(err),
                Err(err) => failures.push(err.to_string()),
            }
        }
        Err(Error::Connection {
            addr: format!("sentinels of `{}`", self.service),
            message: format!("no sentinel named the server ({})", failures.join("; ")),
        })
    }

    /// How to reach the current master of the service (`data`'s settings,
    /// with the address the sentinels give).
    pub(crate) async fn master(&self, data: &ConnectionConfig) -> Result<ConnectionConfig> {
        let mut cmd = Cmd::new("SENTINEL");
        cmd.arg("GET-MASTER-ADDR-BY-NAME").arg(&self.service);
        let endpoint = self.ask(data, &cmd, |reply| address(&reply, 0)).await?;
        Ok(data.with_endpoint(endpoint))
    }

    /// How to reach the replicas of the service the sentinels consider up
    /// (not subjectively or objectively down, not disconnected).
    pub(crate) async fn replicas(&self, data: &ConnectionConfig) -> Result<Vec<ConnectionConfig>> {
        let mut cmd = Cmd::new("SENTINEL");
        cmd.arg("REPLICAS").arg(&self.service);
        let endpoints = self
            .ask(data, &cmd, |reply| {
                let replicas = reply.as_array()?;
                Some(replicas.iter().filter_map(up_replica).collect::<Vec<_>>())
            })
            .await?;
        Ok(endpoints
            .into_iter()
            .map(|endpoint| data.with_endpoint(endpoint))
            .collect())
    }

    /// A connection to the current master: the sentinels are asked, and the
    /// server they name must call itself a master (during a failover it may
    /// already be a replica: a connection error then, which reads retry).
    pub(crate) async fn connect_master(&self, data: &ConnectionConfig) -> Result<Connection> {
        let master = self.master(data).await?;
        let mut conn = Connection::connect_direct(&master).await?;
        let role = conn.query(&Cmd::new("ROLE")).await?;
        let role = role.as_array().and_then(|items| items.first()?.as_bytes());
        if role != Some(b"master") {
            return Err(Error::Connection {
                addr: master.endpoint().to_string(),
                message: format!(
                    "the sentinels name it the master of `{}`, but it is not (a failover is \
                     under way); retry",
                    self.service
                ),
            });
        }
        Ok(conn)
    }
}

/// The `[ip, port]` pair at `at` of a reply.
fn address(reply: &Value, at: usize) -> Option<Endpoint> {
    let items = reply.as_array()?;
    let host = String::from_utf8(items.get(at)?.as_bytes()?.to_vec()).ok()?;
    let port = u16::try_from(items.get(at + 1)?.as_int()?).ok()?;
    Some(Endpoint::Tcp { host, port })
}

/// The address of one entry of `SENTINEL REPLICAS` (a flat list of field
/// names and values), if the sentinel considers that replica up.
fn up_replica(entry: &Value) -> Option<Endpoint> {
    let fields = entry.as_array()?;
    let field = |name: &str| {
        fields
            .chunks(2)
            .find(|pair| pair[0].as_bytes() == Some(name.as_bytes()))
            .and_then(|pair| pair.get(1))
    };
    let flags = field("flags")?.to_text();
    if flags
        .split(',')
        .any(|flag| matches!(flag, "s_down" | "o_down" | "disconnected"))
    {
        return None;
    }
    let host = field("ip")?.to_text();
    let port = u16::try_from(field("port")?.as_int()?).ok()?;
    Some(Endpoint::Tcp { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_replica_entries() {
        let entry = |flags: &str| {
            Value::Array(
                [
                    "name", "x", "ip", "10.0.0.7", "port", "6380", "flags", flags,
                ]
                .into_iter()
                .map(text)
                .collect(),
            )
        };
        let up = Endpoint::Tcp {
            host: "10.0.0.7".into(),
            port: 6380,
        };
        assert_eq!(up_replica(&entry("slave")), Some(up));
        assert_eq!(up_replica(&entry("s_down,slave")), None);
        assert_eq!(up_replica(&entry("slave,disconnected")), None);
        assert_eq!(
            address(&Value::Array(vec![text("h"), text("7")]), 0),
            Some(Endpoint::Tcp {
                host: "h".into(),
                port: 7
            })
        );
        assert_eq!(address(&Value::Nil, 0), None);
    }
}
