//! The checked transaction: a batch of keys written by `append` with an
//! expiry, `skip` or `fail` on a standalone server, each key on its own
//! terms, for less server CPU than the write script.
//!
//! One exchange is two round trips on one connection:
//! 1. `WATCH` every key, then per key the check its mode needs: `EXISTS`
//!    (`skip`/`fail`: a key that exists is left alone) or `TYPE` (`append`:
//!    a key of another type is refused before anything touches it, so its
//!    TTL is never changed).
//! 2. `MULTI`, the data commands and expiry of every key that passed, `EXEC`.
//!
//! `WATCH` makes the check hold until `EXEC`: if another client changes any
//! watched key in between (creates it, changes its type), `EXEC` runs
//! nothing and the keys are checked and sent again (a few times, then one
//! key per write-script call, see the worker). A key that passed its check
//! is one whose data commands cannot fail (only types whose commands never
//! fail on a key of their own type use this, see
//! [`Encoder::checked_type`](super::encode::Encoder::checked_type)), so the
//! expiry after them is always the right one to run.
//!
//! The write script stays where this is not cheaper or not possible: on a
//! cluster (a batch's keys spread over many slots, and `WATCH`/`MULTI` must
//! stay within one, so a transaction would hold about one key and cost two
//! round trips), after `ASKING`, for types whose commands can fail on a key
//! of the right type (streams, time series, JSON), for keys whose commands
//! depend on whether the key existed, and for batches of fewer than
//! [`MIN_KEYS`] keys (there the fixed cost of `WATCH`, `MULTI`, `EXEC` and a
//! second round trip outweighs the script call's).

use super::commands::Commands;
use super::conflict::{self, first_error, IfExists, Outcome};
use super::script::Args;
use crate::error::{Error, Result};
use crate::net::connection::{server_error, Connection};
use crate::net::resp::{write_array, Item, ReplyReader};

/// Fewest keys of a batch written by checked transactions.
pub(crate) const MIN_KEYS: usize = 16;
/// Most keys in one transaction. `WATCH` costs the server more per key the
/// more keys the connection watches (Redis 7.0 looks each new key up in
/// the connection's list of watched keys: measured 0.23 µs per key for 16
/// keys, 0.61 for 64, 1.58 for 256), while `WATCH`, `MULTI` and `EXEC`
/// themselves cost a few µs per transaction: 64 keys keep both small.
const MAX_KEYS: usize = 64;
/// Most queued arguments in one transaction.
const MAX_ARGS: usize = 8192;
/// Times a transaction is sent after `EXEC` ran nothing; its keys then go
/// one per write-script call.
pub(crate) const MAX_ATTEMPTS: usize = 3;

/// What a key is checked for before it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// `EXISTS`: the key is written only if it does not exist.
    Absent,
    /// `TYPE`: the key is written only if it is absent or of this type.
    Type(&'static str),
}

impl Check {
    /// The check for writes in `mode` of a type whose commands never fail
    /// on `checked_type`; `None` when transactions do not apply.
    pub(crate) fn for_mode(mode: IfExists, checked_type: Option<&'static str>) -> Option<Self> {
        match (mode, checked_type) {
            (IfExists::Append, Some(name)) => Some(Check::Type(name)),
            (IfExists::Skip | IfExists::Fail, Some(_)) => Some(Check::Absent),
            (IfExists::Replace, _) | (_, None) => None,
        }
    }
}

/// The keys of one transaction and each key's encoded commands.
pub(crate) struct Transaction {
    check: Check,
    groups: Vec<usize>,
    keys: Args,
    /// Every key's commands, encoded.
    bodies: Args,
    /// Commands queued per key.
    queued: Vec<usize>,
    args: usize,
}

impl Transaction {
    pub(crate) fn new(check: Check) -> Self {
        Transaction {
            check,
            groups: Vec::new(),
            keys: Args::default(),
            bodies: Args::default(),
            queued: Vec::new(),
            args: 0,
        }
    }

    /// Add one key (`group`): its data commands, then its expiry.
    pub(crate) fn add(
        &mut self,
        group: usize,
        key: &[u8],
        cmds: &Commands,
        expiry: Option<(&str, &[u8])>,
    ) {
        self.bodies.push_with(|out| {
            for cmd in cmds.commands() {
                conflict::write_command(out, key, cmd, cmds);
            }
            if let Some((name, arg)) = expiry {
                write_array(out, [name.as_bytes(), key, arg]);
            }
        });
        self.args += cmds
            .commands()
            .iter()
            .map(|cmd| 2 + Commands::arg_count(cmd))
            .sum::<usize>()
            + if expiry.is_some() { 3 } else { 0 };
        self.groups.push(group);
        self.keys.push(key);
        self.queued
            .push(cmds.commands().len() + usize::from(expiry.is_some()));
    }

    /// This transaction, leaving an empty one with the same check.
    pub(crate) fn take(&mut self) -> Transaction {
        let check = self.check;
        std::mem::replace(self, Transaction::new(check))
    }

    /// True when no further key should join.
    pub(crate) fn full(&self) -> bool {
        self.groups.len() >= MAX_KEYS || self.args >= MAX_ARGS
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The keys (by group index) at these positions.
    pub(crate) fn groups<'a>(&'a self, at: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
        at.iter().map(|&i| self.groups[i])
    }

    /// Every position, for the first exchange.
    pub(crate) fn all(&self) -> Vec<usize> {
        (0..self.groups.len()).collect()
    }

    fn key(&self, i: usize) -> &[u8] {
        self.keys.get(i)
    }

    fn body(&self, i: usize) -> &[u8] {
        self.bodies.get(i)
    }

    /// Write `WATCH` and the checks of the keys at `live`.
    fn write_checks(&self, out: &mut Vec<u8>, live: &[usize]) {
        write_array(
            out,
            std::iter::once(&b"WATCH"[..]).chain(live.iter().map(|&i| self.key(i))),
        );
        let name: &[u8] = match self.check {
            Check::Absent => b"EXISTS",
            Check::Type(_) => b"TYPE",
        };
        for &i in live {
            write_array(out, [name, self.key(i)]);
        }
    }

    /// Decode one key's check reply: `None` when the key may be written,
    /// else its outcome.
    fn checked(&self, r: &mut ReplyReader<'_>) -> Result<Option<Outcome>> {
        let item = r.next()?;
        Ok(match (self.check, item) {
            (_, Item::Error(message)) => Some(failed(message)),
            (Check::Absent, Item::Int(0)) => None,
            (Check::Absent, Item::Int(_)) => Some(Outcome::Exists),
            (Check::Type(want), Item::Bytes(found))
                if found == b"none" || found == want.as_bytes() =>
            {
                None
            }
            (Check::Type(_), Item::Bytes(_)) => Some(Outcome::Failed(
                "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            )),
            (_, other) => {
                return Err(Error::Protocol(format!(
                    "unexpected reply to a write check: {other:?}"
                )))
            }
        })
    }
}

fn failed(message: &[u8]) -> Outcome {
    Outcome::Failed(String::from_utf8_lossy(message).into_owned())
}

/// How one exchange ended for the keys sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Exchanged {
    /// Keys (positions) with their outcome.
    pub(crate) done: Vec<(usize, Outcome)>,
    /// Keys (positions) nothing was done to, to send again: `EXEC` ran
    /// nothing because a watched key changed or another key's command was
    /// refused.
    pub(crate) again: Vec<usize>,
}

/// Why an exchange stopped early.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// Nothing of the exchange was written (the connection broke before
    /// `MULTI`, or `WATCH` was refused): the keys can go another way.
    Unwritten(Error),
    /// The transaction may have run: its keys are in doubt.
    InDoubt(Error),
}

/// Run one exchange for the keys of `tx` at `live` on `conn`.
pub(crate) async fn exchange(
    conn: &mut Connection,
    tx: &Transaction,
    live: &[usize],
) -> std::result::Result<Exchanged, Stopped> {
    tx.write_checks(conn.write_buf(), live);
    conn.flush().await.map_err(Stopped::Unwritten)?;
    let watched = conn
        .read_reply("WATCH", first_error)
        .await
        .map_err(Stopped::Unwritten)?;
    let mut result = Exchanged::default();
    let mut pass = Vec::with_capacity(live.len());
    for &i in live {
        let checked = conn
            .read_reply("write check", |r| tx.checked(r))
            .await
            .map_err(Stopped::Unwritten)?;
        match checked {
            None => pass.push(i),
            Some(outcome) => result.done.push((i, outcome)),
        }
    }
    if let Some(message) = watched {
        // Nothing is watched: the checks would not hold until a write.
        return Err(Stopped::Unwritten(server_error(
            "WATCH",
            None,
            message.as_bytes(),
        )));
    }
    if pass.is_empty() {
        write_array(conn.write_buf(), [&b"UNWATCH"[..]]);
        conn.flush().await.map_err(Stopped::Unwritten)?;
        conn.read_reply("UNWATCH", first_error)
            .await
            .map_err(Stopped::Unwritten)?;
        return Ok(result);
    }
    let buf = conn.write_buf();
    write_array(buf, [&b"MULTI"[..]]);
    for &i in &pass {
        buf.extend_from_slice(tx.body(i));
    }
    write_array(buf, [&b"EXEC"[..]]);
    conn.flush().await.map_err(Stopped::InDoubt)?;
    let in_doubt = Stopped::InDoubt;
    if let Some(message) = conn
        .read_reply("MULTI", first_error)
        .await
        .map_err(in_doubt)?
    {
        // The commands ran on their own, outside a transaction.
        return Err(Stopped::InDoubt(server_error(
            "MULTI",
            None,
            message.as_bytes(),
        )));
    }
    let mut refused = vec![None; pass.len()];
    for (slot, &i) in refused.iter_mut().zip(&pass) {
        for _ in 0..tx.queued[i] {
            let error = conn
                .read_reply("MULTI", first_error)
                .await
                .map_err(in_doubt)?;
            if slot.is_none() {
                *slot = error;
            }
        }
    }
    let outcomes = conn
        .read_reply("EXEC", |r| exec_outcomes(r, tx, &pass, refused))
        .await
        .map_err(in_doubt)?;
    for (i, outcome) in pass.into_iter().zip(outcomes) {
        match outcome {
            Some(outcome) => result.done.push((i, outcome)),
            None => result.again.push(i),
        }
    }
    Ok(result)
}

/// Decode the reply to `EXEC` for the keys of `tx` at `pass`, given each
/// key's first command refused while queueing: each key's outcome, or
/// `None` for a key to send again (nothing ran, through no fault of its
/// own).
fn exec_outcomes(
    r: &mut ReplyReader<'_>,
    tx: &Transaction,
    pass: &[usize],
    refused: Vec<Option<String>>,
) -> Result<Vec<Option<Outcome>>> {
    match r.next()? {
        Item::Array(n) if n == pass.iter().map(|&i| tx.queued[i]).sum::<usize>() => pass
            .iter()
            .map(|&i| {
                let mut found = None;
                for _ in 0..tx.queued[i] {
                    let error = first_error(r)?;
                    found = found.or(error);
                }
                Ok(Some(found.map_or(Outcome::Written, Outcome::Failed)))
            })
            .collect(),
        // A watched key changed: nothing ran.
        Item::Nil => Ok(vec![None; pass.len()]),
        // `EXECABORT`: nothing ran because of the refused commands; the
        // other keys go again.
        Item::Error(_) if refused.iter().any(Option::is_some) => Ok(refused
            .into_iter()
            .map(|error| error.map(Outcome::Failed))
            .collect()),
        // `EXEC` itself refused (e.g. out of memory): nothing ran.
        Item::Error(message) => Ok(vec![Some(failed(message)); pass.len()]),
        other => Err(Error::Protocol(format!(
            "unexpected reply to EXEC for {} keys: {other:?}",
            pass.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::commands::When;

    fn two_keys(check: Check) -> Transaction {
        let mut tx = Transaction::new(check);
        let mut cmds = Commands::default();
        cmds.start("HSET", When::Always);
        cmds.arg(b"f");
        cmds.arg(b"v");
        tx.add(7, b"a", &cmds, Some(("EXPIRE", b"9")));
        tx.add(8, b"b", &cmds, None);
        tx
    }

    #[test]
    fn watches_checks_and_queues_each_keys_commands() {
        let tx = two_keys(Check::Type("hash"));
        let mut out = Vec::new();
        tx.write_checks(&mut out, &[1]);
        let text = String::from_utf8(out).unwrap().replace("\r\n", " ");
        assert_eq!(text, "*2 $5 WATCH $1 b *2 $4 TYPE $1 b ");
        let body = String::from_utf8(tx.body(0).to_vec())
            .unwrap()
            .replace("\r\n", " ");
        assert_eq!(body, "*4 $4 HSET $1 a $1 f $1 v *3 $6 EXPIRE $1 a $1 9 ");
        assert_eq!(
            (tx.queued.clone(), tx.groups(&[1, 0]).collect::<Vec<_>>()),
            (vec![2, 1], vec![8, 7])
        );
    }

    #[test]
    fn checks_decide_which_keys_are_written() {
        let typed = two_keys(Check::Type("hash"));
        let absent = two_keys(Check::Absent);
        let check =
            |tx: &Transaction, reply: &[u8]| tx.checked(&mut ReplyReader::new(reply)).unwrap();
        assert_eq!(check(&typed, b"+none\r\n"), None);
        assert_eq!(check(&typed, b"+hash\r\n"), None);
        assert!(
            matches!(check(&typed, b"+list\r\n"), Some(Outcome::Failed(m)) if m.starts_with("WRONGTYPE"))
        );
        assert_eq!(check(&absent, b":0\r\n"), None);
        assert_eq!(check(&absent, b":1\r\n"), Some(Outcome::Exists));
        assert_eq!(
            check(&absent, b"-NOPERM no\r\n"),
            Some(Outcome::Failed("NOPERM no".into()))
        );
    }

    #[test]
    fn exec_replies_become_each_keys_outcome() {
        let tx = two_keys(Check::Absent);
        let exec = |reply: &[u8], refused: Vec<Option<String>>| {
            exec_outcomes(&mut ReplyReader::new(reply), &tx, &[0, 1], refused).unwrap()
        };
        assert_eq!(
            exec(b"*3\r\n:1\r\n:1\r\n-ERR odd\r\n", vec![None, None]),
            [
                Some(Outcome::Written),
                Some(Outcome::Failed("ERR odd".into()))
            ]
        );
        assert_eq!(exec(b"*-1\r\n", vec![None, None]), [None, None]);
        assert_eq!(
            exec(
                b"-EXECABORT refused\r\n",
                vec![None, Some("OOM full".into())]
            ),
            [None, Some(Outcome::Failed("OOM full".into()))]
        );
        assert_eq!(
            exec(b"-OOM full\r\n", vec![None, None]),
            [
                Some(Outcome::Failed("OOM full".into())),
                Some(Outcome::Failed("OOM full".into()))
            ]
        );
    }
}
