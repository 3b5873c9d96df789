//! How many keys a database holds, for an estimated total (`progress=`).

use crate::error::{Error, Result};
use crate::net::cluster::Topology;
use crate::net::config::ConnectionConfig;
use crate::net::connection::Connection;
use crate::net::resp::{Cmd, Value};
use crate::net::runtime::runtime;

/// The keys of the database `config` points at: `DBSIZE`, summed over the
/// masters of a Redis Cluster (blocking). Every key counts, whatever its
/// type or name, so for a scan of one pattern or type it is an upper bound.
pub fn count_keys(config: &ConnectionConfig) -> Result<u64> {
    runtime().block_on(async {
        let mut first = Connection::connect(config).await?;
        let topology = Topology::discover(&mut first, config).await?;
        if !topology.is_cluster() {
            return dbsize(&mut first).await;
        }
        let mut total = 0;
        for node in topology.nodes() {
            total += dbsize(&mut Connection::connect(&node.config).await?).await?;
        }
        Ok(total)
    })
}

async fn dbsize(conn: &mut Connection) -> Result<u64> {
    match conn.query(&Cmd::new("DBSIZE")).await? {
        Value::Int(n) => Ok(n.max(0) as u64),
        _ => Err(Error::Protocol(format!(
            "unexpected reply to DBSIZE from {}",
            conn.addr()
        ))),
    }
}
