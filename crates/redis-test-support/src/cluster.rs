//! A throw-away Redis Cluster: N masters, no replicas.

use std::fs::File;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config;
use crate::resp::RespValue;
use crate::server::{RedisServer, RedisServerBuilder};
use crate::{HarnessError, UnwrapOrPanic};

/// Number of hash slots of a Redis Cluster.
pub const CLUSTER_SLOTS: u16 = 16384;
/// How long cluster creation may take.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60);

/// CRC16/XMODEM, as used by Redis Cluster.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The hash slot of `key`, honouring `{hash tags}`.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    crc16(hashed) % CLUSTER_SLOTS
}

#[derive(Debug, Clone, Copy)]
struct SlotRange {
    start: u16,
    end: u16,
    node: usize,
}

/// Cluster-enabled servers joined with `redis-cli --cluster create`.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    slots: Mutex<Vec<SlotRange>>,
}

impl RedisCluster {
    /// Starts `masters` (>= 3) plain masters. Panics (with the reason) on failure.
    #[track_caller]
    pub fn start(masters: usize) -> Self {
        Self::try_start(masters).unwrap_or_panic()
    }

    pub fn try_start(masters: usize) -> Result<Self, HarnessError> {
        Self::try_start_with(masters, |b| b)
    }

    /// Like [`RedisCluster::try_start`], with each node's builder adjusted by
    /// `configure` (e.g. `|b| b.stack()` or `|b| b.password("pw")`).
    pub fn try_start_with(
        masters: usize,
        configure: impl Fn(RedisServerBuilder) -> RedisServerBuilder,
    ) -> Result<Self, HarnessError> {
        if masters < 3 {
            return Err(HarnessError::Cluster(
                "redis-cli --cluster create needs at least 3 masters".into(),
            ));
        }
        let cli = config::cli()?;
        let nodes = (0..masters)
            .map(|i| {
                configure(RedisServer::builder())
                    .cluster_enabled()
                    .name(format!("cluster{i}"))
                    .start()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cluster = Self {
            nodes,
            slots: Mutex::new(Vec::new()),
        };
        cluster.create(&cli)?;
        cluster.wait_ok(CLUSTER_TIMEOUT)?;
        cluster.refresh_slots()?;
        Ok(cluster)
    }

    /// One 3-master cluster shared by all tests of this test binary (see
    /// [`RedisServer::shared_plain`] for the caveats).
    pub fn shared() -> &'static RedisCluster {
        static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
        CLUSTER.get_or_init(|| RedisCluster::start(3))
    }

    fn create(&self, cli: &std::path::Path) -> Result<(), HarnessError> {
        let log_path = self.nodes[0].dir().join("cluster-create.log");
        let log = File::create(&log_path)?;
        let mut cmd = Command::new(cli);
        cmd.args(["--cluster", "create"])
            .args(self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        if let Some(pw) = self.nodes[0].password() {
            cmd.env("REDISCLI_AUTH", pw);
        }
        let mut child = cmd.spawn()?;
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(self.error(format!(
                    "redis-cli --cluster create timed out after {CLUSTER_TIMEOUT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if !status.success() {
            let output = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(self.error(format!(
                "redis-cli --cluster create failed ({status}):\n{output}"
            )));
        }
        Ok(())
    }

    fn wait_ok(&self, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        let want_nodes = self.nodes.len().to_string();
        let want_slots = CLUSTER_SLOTS.to_string();
        loop {
            let mut report = String::new();
            let mut all_ok = true;
            for node in &self.nodes {
                let info = node
                    .try_cmd(&["CLUSTER", "INFO"])
                    .map(|r| r.as_str().unwrap_or_default().to_owned())
                    .unwrap_or_else(|e| e.to_string());
                let field = |name: &str| {
                    info.lines()
                        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                        .map(str::trim)
                };
                let ok = field("cluster_state") == Some("ok")
                    && field("cluster_slots_ok") == Some(want_slots.as_str())
                    && field("cluster_known_nodes") == Some(want_nodes.as_str());
                all_ok &= ok;
                report.push_str(&format!("--- node {} ---\n{info}\n", node.port()));
            }
            if all_ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.error(format!("cluster not ok after {timeout:?}:\n{report}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn error(&self, message: String) -> HarnessError {
        HarnessError::Cluster(format!("{message}\n{}", self.log_tail()))
    }

    /// Re-reads `CLUSTER SLOTS` (done automatically on a MOVED reply).
    pub fn refresh_slots(&self) -> Result<(), HarnessError> {
        let reply = self.nodes[0].try_cmd(&["CLUSTER", "SLOTS"])?;
        let mut ranges = Vec::new();
        for entry in reply.as_array().unwrap_or_default() {
            let parts = entry.as_array().unwrap_or_default();
            let (Some(start), Some(end), Some(master)) = (
                parts.first().and_then(RespValue::as_int),
                parts.get(1).and_then(RespValue::as_int),
                parts.get(2).and_then(RespValue::as_array),
            ) else {
                return Err(self.error(format!("unexpected CLUSTER SLOTS entry: {entry:?}")));
            };
            let port = master.get(1).and_then(RespValue::as_int);
            let node = self
                .nodes
                .iter()
                .position(|n| Some(i64::from(n.port())) == port)
                .ok_or_else(|| {
                    self.error(format!("CLUSTER SLOTS names unknown node: {entry:?}"))
                })?;
            ranges.push(SlotRange {
                start: start as u16,
                end: end as u16,
                node,
            });
        }
        let covered: u32 = ranges.iter().map(|r| u32::from(r.end - r.start) + 1).sum();
        if covered != u32::from(CLUSTER_SLOTS) {
            return Err(self.error(format!("CLUSTER SLOTS covers {covered} slots: {reply:?}")));
        }
        *self.slots.lock().unwrap_or_else(|p| p.into_inner()) = ranges;
        Ok(())
    }

    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// `redis://127.0.0.1:PORT` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// URL of the first node (a seed for cluster clients).
    pub fn url(&self) -> String {
        self.nodes[0].url()
    }

    /// The master serving `slot`.
    pub fn node_for_slot(&self, slot: u16) -> &RedisServer {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let range = slots
            .iter()
            .find(|r| (r.start..=r.end).contains(&slot))
            .unwrap_or_else(|| panic!("slot {slot} is not served by any node"));
        &self.nodes[range.node]
    }

    /// The master owning `key`.
    pub fn node_for_key(&self, key: impl AsRef<[u8]>) -> &RedisServer {
        self.node_for_slot(key_slot(key.as_ref()))
    }

    /// Sends `args` to the master owning `key` (following one MOVED redirect).
    #[track_caller]
    pub fn cmd_for_key<A: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, args: &[A]) -> RespValue {
        let key = key.as_ref();
        let reply = self.node_for_key(key).cmd(args);
        match &reply {
            RespValue::Error(e) if e.starts_with("MOVED ") => {
                self.refresh_slots().unwrap_or_panic();
                self.node_for_key(key).cmd(args)
            }
            _ => reply,
        }
    }

    /// Sends `args` to every node.
    #[track_caller]
    pub fn cmd_all<A: AsRef<[u8]>>(&self, args: &[A]) -> Vec<RespValue> {
        self.nodes.iter().map(|n| n.cmd(args)).collect()
    }

    /// `FLUSHALL` on every node.
    #[track_caller]
    pub fn flushall(&self) {
        for node in &self.nodes {
            node.flushall();
        }
    }

    /// Log tails of all nodes.
    pub fn log_tail(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- log of node {} ---\n{}", n.port(), n.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_reference_values() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"somekey"), 11058);
        assert_eq!(key_slot(b"foo{hash_tag}"), key_slot(b"hash_tag"));
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // Empty tag and unmatched braces hash the whole key.
        assert_eq!(
            key_slot(b"foo{}{bar}"),
            crc16(b"foo{}{bar}") % CLUSTER_SLOTS
        );
        assert_eq!(key_slot(b"foo{bar"), crc16(b"foo{bar") % CLUSTER_SLOTS);
        assert_eq!(key_slot(b"{a}{b}"), key_slot(b"a"));
    }
}
