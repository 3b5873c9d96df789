//! Conflict modes, and how each key's commands are sent so that each key is
//! written atomically, on its own terms (so the design carries over to
//! Redis Cluster, where an atomic unit must stay within one slot).
//!
//! | mode      | strategy                                                                  |
//! |-----------|---------------------------------------------------------------------------|
//! | `replace` | `MULTI`, `DEL key`, the data commands, the expiry, `EXEC`                 |
//! | `append`  | the one data command alone when there is no expiry, else a checked transaction or the write script |
//! | `skip`    | a checked transaction or the write script, guarded: nothing is written to a key that exists |
//! | `fail`    | first `EXISTS` for every key (any hit: nothing is written), then as `skip`; a key created meanwhile is reported as a conflict, never overwritten |
//!
//! Strings need neither: one `SET` carries the value, the expiry
//! (`EX`/`PXAT`, or `KEEPTTL` for an append) and the condition (`NX` for
//! skip and fail); an append adds `GET`, so the server refuses it (writing
//! nothing) when the key holds a hash, a list, ...
//!
//! A checked transaction ([`super::watch`]) writes a batch of keys on a
//! standalone server: `WATCH` and a check per key (`TYPE` for `append`,
//! `EXISTS` for `skip`/`fail`), then one `MULTI`/`EXEC` with the keys that
//! passed; a key changed meanwhile makes `EXEC` run nothing, and the batch
//! is checked again. It serves the types whose commands cannot fail on a
//! key that passed (hashes, sets, lists, sorted sets).
//!
//! The write script ([`super::script`]) serves the rest: the keys of one
//! slot on a cluster, the other types, small batches. Per key it runs the
//! guard, the data commands and then the expiry, all at once; a command
//! that fails stops that key before its expiry (a key of another type never
//! gets its TTL changed by a failed append) and becomes that key's outcome,
//! and the call goes on with the next key.
//!
//! Either way each key stays one atomic unit with its own outcome, while
//! the cost of a transaction or script call is paid once per batch, not
//! per key.

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
    /// Sent on their own ([`encode`]).
    Direct(Direct),
    /// In a checked transaction ([`super::watch`]) when the worker uses
    /// them, else in a call of the write script ([`super::script`]);
    /// `guard`: write nothing if the key exists.
    Script { guard: bool },
}

/// How one key's commands are sent on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direct {
    /// The commands as they are (one command, atomic by itself).
    Native,
    /// `MULTI` [`DEL`] ... `EXEC`.
    Multi { delete_first: bool },
}

impl Strategy {
    /// The strategy for one key in `mode` (strings send one `SET`).
    pub(crate) fn choose(
        mode: IfExists,
        expiry: Expiry,
        cmds: &Commands,
        single_set: bool,
    ) -> Self {
        if single_set && cmds.commands().len() == 1 {
            return Strategy::Direct(Direct::Native);
        }
        match mode {
            IfExists::Replace => Strategy::Direct(Direct::Multi { delete_first: true }),
            IfExists::Append
                if expiry == Expiry::Keep && cmds.commands().len() == 1 && cmds.unconditional() =>
            {
                Strategy::Direct(Direct::Native)
            }
            IfExists::Append => Strategy::Script { guard: false },
            IfExists::Fail | IfExists::Skip => Strategy::Script { guard: true },
        }
    }
}

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
    /// One write script call for this many keys.
    Script(usize),
}

impl Expiry {
    /// The command setting this expiry on a key: its name and argument
    /// (written into `number`), or `None` to leave the TTL alone.
    pub(crate) fn command(self, number: &mut itoa::Buffer) -> Option<(&'static str, &[u8])> {
        match self {
            Expiry::Keep => None,
            Expiry::Seconds(s) => Some(("EXPIRE", number.format(s).as_bytes())),
            Expiry::AtMillis(ms) => Some(("PEXPIREAT", number.format(ms).as_bytes())),
        }
    }
}

/// Encode one key's commands sent on their own into `out`, and say how to
/// read the replies.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    direct: Direct,
    key: &[u8],
    cmds: &Commands,
    expiry: Expiry,
) -> ReplyShape {
    let mut number = itoa::Buffer::new();
    match direct {
        Direct::Native => {
            for cmd in cmds.commands() {
                write_command(out, key, cmd, cmds);
            }
            ReplyShape::Native(cmds.commands().len())
        }
        Direct::Multi { delete_first } => {
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
            if let Some((name, arg)) = expiry.command(&mut number) {
                write_array(out, [name.as_bytes(), key, arg]);
                queued += 1;
            }
            write_array(out, [&b"EXEC"[..]]);
            ReplyShape::Multi(queued)
        }
    }
}

/// Write one of a key's commands (with the key when it comes first).
pub(crate) fn write_command(out: &mut Vec<u8>, key: &[u8], cmd: &Command, cmds: &Commands) {
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

/// Decode a native command's reply. A nil reply means that `SET NX` found
/// the key when `guarded`, else that `SET ... GET` found no old value.
pub(crate) fn native_outcome(r: &mut ReplyReader<'_>, guarded: bool) -> Result<Outcome> {
    let item = r.next()?;
    if item == Item::Nil {
        return Ok(if guarded {
            Outcome::Exists
        } else {
            Outcome::Written
        });
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
        let Strategy::Direct(direct) = strategy else {
            panic!("replace is sent on its own, got {strategy:?}");
        };
        let shape = encode(&mut out, direct, b"k", &cmds, Expiry::Seconds(9));
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
            Strategy::Direct(Direct::Native)
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
            Strategy::Direct(Direct::Native)
        );
    }

    #[test]
    fn finds_nested_errors() {
        let mut r = ReplyReader::new(b"*2\r\n:1\r\n*1\r\n-ERR deep\r\n");
        assert_eq!(first_error(&mut r).unwrap(), Some("ERR deep".into()));
    }
}
