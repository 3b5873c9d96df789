//! The write script, and the units that call it: one `EVALSHA` writes a
//! batch of keys on one server (on a Redis Cluster, keys of one slot), each
//! key on its own terms, and answers with each key's own outcome.
//!
//! Per key the script runs, all at once: an `EXISTS` when the key's
//! commands depend on it (the `skip`/`fail` guard, or a command that only
//! runs on a new key), the key's data commands, then its expiry. The first
//! command that fails stops that key (its expiry never runs, so a key of
//! another type never gets its TTL changed) and becomes its outcome; the
//! script goes on with the next key. The per-call cost of a script (about
//! as much as the data commands of a small key) is paid once per unit
//! instead of once per key.

use super::commands::{Command, Commands};
use super::conflict::Outcome;
use crate::error::{Error, Result};
use crate::net::resp::{write_array, Item, ReplyReader};

/// Most keys in one unit: enough to spread the call's cost thin, few
/// enough that one call never blocks the server for long.
const MAX_UNIT_KEYS: usize = 256;
/// Most script arguments in one unit (a key with more gets a unit alone).
const MAX_UNIT_ARGS: usize = 8192;

/// The write script. `KEYS` are the unit's keys; `ARGV` holds, per key in
/// order: its check (`g`: write nothing if the key exists; `e`: look
/// whether it exists, for commands that only run on a new key; `-`: no
/// look), its command count, the number of `ARGV` entries its commands
/// take, then per command: name, flags (`a`lways or only if the key was
/// absent, then `k` when the key is the first argument), argument count,
/// arguments. Returns per key 1 (written), 0 (the guard found the key) or
/// the error that stopped it.
pub(crate) const WRITE_SCRIPT: &str = r#"
local function failure(reply)
  if type(reply) ~= 'table' then return nil end
  if reply.err then return reply end
  if reply.ok ~= nil then return nil end
  for _, item in ipairs(reply) do
    if type(item) == 'table' and item.err then return item end
  end
  return nil
end
local out = {}
local i = 1
for k = 1, #KEYS do
  local key = KEYS[k]
  local check, count = ARGV[i], tonumber(ARGV[i + 1])
  local stop = i + 3 + tonumber(ARGV[i + 2])
  i = i + 3
  local existed = check ~= '-' and redis.call('EXISTS', key) == 1
  local result = 1
  if check == 'g' and existed then
    result = 0
  else
    for _ = 1, count do
      local name, flags, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
      if string.byte(flags, 1) == 97 or not existed then
        local reply
        if string.byte(flags, 2) == 107 then
          reply = redis.pcall(name, key, unpack(ARGV, i + 3, i + 2 + n))
        else
          reply = redis.pcall(name, unpack(ARGV, i + 3, i + 2 + n))
        end
        local err = failure(reply)
        if err then
          result = err
          break
        end
      end
      i = i + 3 + n
    end
  end
  out[k] = result
  i = stop
end
return out
"#;

/// Arguments kept in one buffer, each a span of it.
#[derive(Default)]
pub(crate) struct Args {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Args {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.ends.push(self.data.len());
    }

    /// Add one argument written by `write`.
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.data);
        self.ends.push(self.data.len());
    }

    /// The argument at `i`.
    pub(crate) fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    fn extend<'a>(&mut self, args: impl IntoIterator<Item = &'a [u8]>) {
        for arg in args {
            self.push(arg);
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> + Clone + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.data[start..end])
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
}

/// One script call being built: the keys added so far and their commands.
#[derive(Default)]
pub(crate) struct ScriptUnit {
    keys: Args,
    argv: Args,
}

impl ScriptUnit {
    /// Add one key: `commands` then `expiry` (name and argument), run
    /// unless `guard` finds the key.
    pub(crate) fn add(
        &mut self,
        key: &[u8],
        cmds: &Commands,
        expiry: Option<(&str, &[u8])>,
        guard: bool,
    ) {
        let check: &[u8] = if guard {
            b"g"
        } else if cmds.unconditional() {
            b"-"
        } else {
            b"e"
        };
        let count = cmds.commands().len() + usize::from(expiry.is_some());
        let span: usize = cmds
            .commands()
            .iter()
            .map(|c| 3 + Commands::arg_count(c))
            .sum::<usize>()
            + if expiry.is_some() { 4 } else { 0 };
        let mut number = itoa::Buffer::new();
        self.keys.push(key);
        self.argv.push(check);
        self.argv.push(number.format(count).as_bytes());
        self.argv.push(number.format(span).as_bytes());
        for cmd in cmds.commands() {
            self.argv.push(cmd.name.as_bytes());
            self.argv.push(&flags(cmd));
            self.argv
                .push(number.format(Commands::arg_count(cmd)).as_bytes());
            for arg in cmds.args(cmd) {
                self.argv.push(arg);
            }
        }
        if let Some((name, arg)) = expiry {
            self.argv.extend([name.as_bytes(), b"ak", b"1", arg]);
        }
    }

    /// Keys added since the unit was last written.
    pub(crate) fn keys(&self) -> usize {
        self.keys.len()
    }

    /// True when no further key should join this unit.
    pub(crate) fn full(&self, max_keys: usize) -> bool {
        self.keys.len() >= max_keys.min(MAX_UNIT_KEYS) || self.argv.len() >= MAX_UNIT_ARGS
    }

    /// Write the `EVALSHA` call into `out` and empty the unit.
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, sha: &[u8]) {
        let mut number = itoa::Buffer::new();
        let head = [
            &b"EVALSHA"[..],
            sha,
            number.format(self.keys.len()).as_bytes(),
        ];
        write_array(
            out,
            head.into_iter()
                .chain(self.keys.iter())
                .chain(self.argv.iter()),
        );
        self.keys.clear();
        self.argv.clear();
    }
}

fn flags(cmd: &Command) -> [u8; 2] {
    [cmd.when.code(), if cmd.key_first { b'k' } else { b'-' }]
}

/// Decode the reply to a unit of `keys` keys: each key's outcome. An error
/// for the whole call (nothing ran: `NOSCRIPT`, a cluster redirect, ...)
/// is every key's outcome.
pub(crate) fn unit_outcomes(r: &mut ReplyReader<'_>, keys: usize) -> Result<Vec<Outcome>> {
    match r.next()? {
        Item::Array(n) if n == keys => (0..n).map(|_| key_outcome(r)).collect(),
        Item::Error(message) => {
            let message = String::from_utf8_lossy(message).into_owned();
            Ok(vec![Outcome::Failed(message).redirected(); keys])
        }
        other => Err(Error::Protocol(format!(
            "unexpected reply from the write script for {keys} keys: {other:?}"
        ))),
    }
}

fn key_outcome(r: &mut ReplyReader<'_>) -> Result<Outcome> {
    Ok(match r.next()? {
        Item::Int(1) => Outcome::Written,
        Item::Int(0) => Outcome::Exists,
        Item::Error(message) => Outcome::Failed(String::from_utf8_lossy(message).into_owned()),
        other => {
            return Err(Error::Protocol(format!(
                "unexpected outcome from the write script: {other:?}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::commands::When;

    #[test]
    fn one_call_carries_each_keys_commands_and_check() {
        let mut unit = ScriptUnit::default();
        let mut cmds = Commands::default();
        cmds.start("HSET", When::Always);
        cmds.arg(b"f");
        cmds.arg(b"v");
        unit.add(b"a", &cmds, Some(("EXPIRE", b"9")), false);
        cmds.clear();
        cmds.start("TS.CREATE", When::IfAbsent);
        unit.add(b"b", &cmds, None, true);
        assert_eq!(unit.keys(), 2);
        let mut out = Vec::new();
        unit.write(&mut out, b"sha");
        let text = String::from_utf8(out).unwrap();
        let args: Vec<&str> = text.split("\r\n").skip(2).step_by(2).collect();
        assert_eq!(
            args,
            [
                "EVALSHA",
                "sha",
                "2",
                "a",
                "b",
                "-",
                "2",
                "9",
                "HSET",
                "ak",
                "2",
                "f",
                "v",
                "EXPIRE",
                "ak",
                "1",
                "9",
                "g",
                "1",
                "3",
                "TS.CREATE",
                "ck",
                "0"
            ]
        );
        assert_eq!(unit.keys(), 0);
    }

    #[test]
    fn reads_each_keys_outcome_or_one_for_all() {
        let mut r = ReplyReader::new(b"*3\r\n:1\r\n:0\r\n-WRONGTYPE no\r\n");
        assert_eq!(
            unit_outcomes(&mut r, 3).unwrap(),
            [
                Outcome::Written,
                Outcome::Exists,
                Outcome::Failed("WRONGTYPE no".into())
            ]
        );
        let mut r = ReplyReader::new(b"-NOSCRIPT gone\r\n");
        assert_eq!(
            unit_outcomes(&mut r, 2).unwrap(),
            vec![Outcome::Failed("NOSCRIPT gone".into()); 2]
        );
        let mut r = ReplyReader::new(b"*1\r\n:1\r\n");
        assert!(unit_outcomes(&mut r, 2).is_err());
    }
}
