//! Conflict modes, and how one key's commands are sent so that each key is
//! written atomically: one atomic unit per key (so the design carries over
//! to Redis Cluster, where a unit must stay within one slot).
//!
//! | mode      | strategy                                                                  |
//! |-----------|---------------------------------------------------------------------------|
//! | `replace` | `MULTI`, `DEL key`, the data commands, the expiry, `EXEC`                 |
//! | `append`  | the one data command alone when there is no expiry, else the write script |
//! | `skip`    | the write script, guarded: it writes nothing when the key exists          |
//! | `fail`    | first `EXISTS` for every key (any hit: nothing is written), then as `skip`; a key created meanwhile is reported as a conflict, never overwritten |
//!
//! Strings use one `SET` with `EX`/`PXAT`/`NX` in replace, skip and fail;
//! an append runs `STRLEN` (which fails on a key of another type) and
//! `SET ... KEEPTTL` in the write script, so it never replaces a hash or a
//! list by a string.
//!
//! The write script runs the data commands of one key and then its expiry,
//! all at once; a command that fails stops it before the expiry, so a key of
//! another type never gets its TTL changed by a failed append.

use super::commands::{Command, Commands};
use crate::error::Result;
use crate::net::cluster::Redirect;
use crate::net::resp::{write_array, Item, ReplyReader};

/// What to do when a key already exists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IfExists {
    /// Raise listing the existing keys and write nothing. A key created by
    /// someone else after that check is reported as a conflict, not overwritten.
    Fail,
    /// Write only the keys that do not exist; report the others as skipped.
    Skip,
    /// Replace each key atomically: the old value is gone (no stale hash
    /// fields, list elements, ... survive).
    #[default]
    Replace,
    /// Merge into the existing value (see each type for what that means).
    Append,
}

impl IfExists {
    /// Parse `fail`, `skip`, `replace` or `append`.
    pub fn from_name(name: &str) -> crate::error::Result<Self> {
        Ok(match name {
            "fail" => IfExists::Fail,
            "skip" => IfExists::Skip,
            "replace" => IfExists::Replace,
            "append" => IfExists::Append,
            other => {
                return Err(crate::error::Error::InvalidArgument(format!(
                    "if_exists must be 'fail', 'skip', 'replace' or 'append', got {other:?}"
                )))
            }
        })
    }

    /// True when existing keys must be left alone.
    pub(crate) fn guarded(self) -> bool {
        matches!(self, IfExists::Fail | IfExists::Skip)
    }
}

/// When a key expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// No TTL is set (replace: the key is persistent; append: its TTL is kept).
    Keep,
    /// `EXPIRE key seconds`.
    Seconds(i64),
    /// `PEXPIREAT key ms` (an absolute instant).
    AtMillis(i64),
}

/// How one key's commands go over the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// The commands as they are (one command, atomic by itself).
    Native,
    /// `MULTI` [`DEL`] ... `EXEC`.
    Multi { delete_first: bool },
    /// `EVALSHA` of [`WRITE_SCRIPT`]; `guard`: write nothing if the key exists.
    Script { guard: bool },
}

impl Strategy {
    /// The strategy for one key in `mode` (strings send one `SET`, except
    /// appends, which check the key's type first).
    pub(crate) fn choose(
        mode: IfExists,
        expiry: Expiry,
        cmds: &Commands,
        single_set: bool,
    ) -> Self {
        if single_set && cmds.commands().len() == 1 {
            return Strategy::Native;
        }
        match mode {
            IfExists::Replace => Strategy::Multi { delete_first: true },
            IfExists::Append
                if expiry == Expiry::Keep && cmds.commands().len() == 1 && cmds.unconditional() =>
            {
                Strategy::Native
            }
            IfExists::Append => Strategy::Script { guard: false },
            IfExists::Fail | IfExists::Skip => Strategy::Script { guard: true },
        }
    }
}

/// The write script. `KEYS[1]` is the key; `ARGV` is the guard flag, the
/// command count, then per command: name, flags (`a`lways or only if the
/// key was absent, then `k` when the key is the first argument), argument count,
/// arguments. Returns 1 when written, 0 when the guard found the key.
pub(crate) const WRITE_SCRIPT: &str = r#"
local key = KEYS[1]
local existed = redis.call('EXISTS', key) == 1
if ARGV[1] == '1' and existed then return 0 end
local i = 3
for _ = 1, tonumber(ARGV[2]) do
  local name, flags, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local when = string.sub(flags, 1, 1)
  if when == 'a' or not existed then
    local reply
    if string.sub(flags, 2, 2) == 'k' then
      reply = redis.call(name, key, unpack(ARGV, i + 3, i + 2 + n))
    else
      reply = redis.call(name, unpack(ARGV, i + 3, i + 2 + n))
    end
    if type(reply) == 'table' and reply.ok == nil then
      for _, item in ipairs(reply) do
        if type(item) == 'table' and item.err then return redis.error_reply(item.err) end
      end
    end
  end
  i = i + 3 + n
end
return 1
"#;

/// What one key's replies said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Written,
    /// The guard found the key (skip), or `SET NX` did.
    Exists,
    Failed(String),
    /// Nothing ran: a cluster node sent the key elsewhere (`MOVED`/`ASK`).
    Redirected(Redirect),
}

impl Outcome {
    /// A failure that is a cluster redirect becomes [`Outcome::Redirected`]
    /// (for keys none of whose commands ran).
    pub(crate) fn redirected(self) -> Self {
        match self {
            Outcome::Failed(message) => match Redirect::parse(&message) {
                Some(redirect) => Outcome::Redirected(redirect),
                None => Outcome::Failed(message),
            },
            other => other,
        }
    }
}

/// How many replies a key's commands produce, and how to read them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ReplyShape {
    Native(usize),
    /// `MULTI`, this many queued commands, `EXEC`.
    Multi(usize),
    Script,
}

/// Encode one key's commands into `out` and say how to read the replies.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    strategy: Strategy,
    key: &[u8],
    cmds: &Commands,
    expiry: Expiry,
    script_sha: &[u8],
) -> ReplyShape {
    let mut number = itoa::Buffer::new();
    let expiry_cmd: Option<(&str, &[u8])> = match expiry {
        Expiry::Keep => None,
        Expiry::Seconds(s) => Some(("EXPIRE", number.format(s).as_bytes())),
        Expiry::AtMillis(ms) => Some(("PEXPIREAT", number.format(ms).as_bytes())),
    };
    match strategy {
        Strategy::Native => {
            for cmd in cmds.commands() {
                write_command(out, key, cmd, cmds);
            }
            ReplyShape::Native(cmds.commands().len())
        }
        Strategy::Multi { delete_first } => {
            write_array(out, [&b"MULTI"[..]]);
            let mut queued = 0;
            if delete_first {
                write_array(out, [&b"DEL"[..], key]);
                queued += 1;
            }
            for cmd in cmds.commands() {
                write_command(out, key, cmd, cmds);
                queued += 1;
            }
            if let Some((name, arg)) = &expiry_cmd {
                write_array(out, [name.as_bytes(), key, arg]);
                queued += 1;
            }
            write_array(out, [&b"EXEC"[..]]);
            ReplyShape::Multi(queued)
        }
        Strategy::Script { guard } => {
            let mut parts: Vec<&[u8]> = Vec::new();
            let count = cmds.commands().len() + usize::from(expiry_cmd.is_some());
            let count_text = count.to_string();
            parts.extend([
                &b"EVALSHA"[..],
                script_sha,
                b"1",
                key,
                if guard { b"1" } else { b"0" },
                count_text.as_bytes(),
            ]);
            let flags: Vec<[u8; 2]> = cmds
                .commands()
                .iter()
                .map(|c| [c.when.code(), if c.key_first { b'k' } else { b'-' }])
                .collect();
            let counts: Vec<String> = cmds
                .commands()
                .iter()
                .map(|c| Commands::arg_count(c).to_string())
                .collect();
            for (i, cmd) in cmds.commands().iter().enumerate() {
                parts.push(cmd.name.as_bytes());
                parts.push(&flags[i]);
                parts.push(counts[i].as_bytes());
                parts.extend(cmds.args(cmd));
            }
            if let Some((name, arg)) = &expiry_cmd {
                parts.extend([name.as_bytes(), b"ak", b"1", arg]);
            }
            write_array(out, parts);
            ReplyShape::Script
        }
    }
}

fn write_command(out: &mut Vec<u8>, key: &[u8], cmd: &Command, cmds: &Commands) {
    let name = std::iter::once(cmd.name.as_bytes());
    if cmd.key_first {
        write_array(out, name.chain([key]).chain(cmds.args(cmd)));
    } else {
        write_array(out, name.chain(cmds.args(cmd)));
    }
}

/// Read one whole reply; the first error anywhere in it, if any.
pub(crate) fn first_error(r: &mut ReplyReader<'_>) -> Result<Option<String>> {
    let item = r.next()?;
    first_error_from(r, item)
}

fn first_error_from(r: &mut ReplyReader<'_>, item: Item<'_>) -> Result<Option<String>> {
    let mut found = None;
    let children = match item {
        Item::Error(message) => return Ok(Some(String::from_utf8_lossy(message).into_owned())),
        Item::Array(n) => n,
        Item::Map(n) => 2 * n,
        _ => 0,
    };
    for _ in 0..children {
        let error = first_error(r)?;
        if found.is_none() {
            found = error;
        }
    }
    Ok(found)
}

/// Decode a native command's reply (nil: `SET NX` found the key).
pub(crate) fn native_outcome(r: &mut ReplyReader<'_>) -> Result<Outcome> {
    let item = r.next()?;
    if item == Item::Nil {
        return Ok(Outcome::Exists);
    }
    Ok(match first_error_from(r, item)? {
        Some(message) => Outcome::Failed(message),
        None => Outcome::Written,
    })
}

/// Decode the reply to `EXEC`, given the first error met while queueing.
pub(crate) fn exec_outcome(
    r: &mut ReplyReader<'_>,
    queue_error: Option<String>,
) -> Result<Outcome> {
    let item = r.next()?;
    Ok(match (item, queue_error) {
        (_, Some(message)) => Outcome::Failed(message),
        (Item::Nil, None) => Outcome::Failed("transaction aborted by the server".into()),
        (Item::Error(message), None) => Outcome::Failed(String::from_utf8_lossy(message).into()),
        (item, None) => match first_error_from(r, item)? {
            Some(message) => Outcome::Failed(format!(
                "{message} (inside the transaction: Redis does not roll back the commands before it)"
            )),
            None => Outcome::Written,
        },
    })
}

/// Decode the write script's reply.
pub(crate) fn script_outcome(r: &mut ReplyReader<'_>) -> Result<Outcome> {
    let item = r.next()?;
    Ok(match item {
        Item::Int(1) => Outcome::Written,
        Item::Int(0) => Outcome::Exists,
        other => match first_error_from(r, other)? {
            Some(message) => Outcome::Failed(message),
            None => Outcome::Failed(format!("unexpected reply from the write script: {other:?}")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::commands::When;

    #[test]
    fn multi_wraps_delete_commands_and_expiry() {
        let mut cmds = Commands::default();
        cmds.start("HSET", When::Always);
        cmds.arg(b"f");
        cmds.arg(b"v");
        let mut out = Vec::new();
        let strategy = Strategy::choose(IfExists::Replace, Expiry::Seconds(9), &cmds, false);
        let shape = encode(&mut out, strategy, b"k", &cmds, Expiry::Seconds(9), b"sha");
        assert!(matches!(shape, ReplyShape::Multi(3)));
        let text = String::from_utf8(out).unwrap().replace("\r\n", " ");
        assert_eq!(
            text,
            "*1 $5 MULTI *2 $3 DEL $1 k *4 $4 HSET $1 k $1 f $1 v *3 $6 EXPIRE $1 k $1 9 *1 $4 EXEC "
        );
    }

    #[test]
    fn strategies_per_mode() {
        let mut cmds = Commands::default();
        cmds.start("SADD", When::Always);
        cmds.arg(b"m");
        let keep = Expiry::Keep;
        assert_eq!(
            Strategy::choose(IfExists::Append, keep, &cmds, false),
            Strategy::Native
        );
        assert_eq!(
            Strategy::choose(IfExists::Append, Expiry::Seconds(1), &cmds, false),
            Strategy::Script { guard: false }
        );
        assert_eq!(
            Strategy::choose(IfExists::Skip, keep, &cmds, false),
            Strategy::Script { guard: true }
        );
        assert_eq!(
            Strategy::choose(IfExists::Fail, keep, &cmds, true),
            Strategy::Native
        );
    }

    #[test]
    fn finds_nested_errors() {
        let mut r = ReplyReader::new(b"*2\r\n:1\r\n*1\r\n-ERR deep\r\n");
        assert_eq!(first_error(&mut r).unwrap(), Some("ERR deep".into()));
        let mut r = ReplyReader::new(b":1\r\n");
        assert_eq!(script_outcome(&mut r).unwrap(), Outcome::Written);
    }
}
