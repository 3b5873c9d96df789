//! The data commands of one key, built without a heap allocation per
//! argument: argument bytes go into one buffer, commands are spans of it.

use std::ops::Range;

/// Most arguments per data command: large collections are split into
/// several `SADD`/`RPUSH`/... commands (Lua's `unpack` has a stack limit,
/// and the server parses smaller commands with less memory).
pub(crate) const MAX_ARGS: usize = 1024;

/// When a command runs, relative to whether the key existed before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    Always,
    /// Only when the key did not exist (e.g. `TS.CREATE` before appending).
    IfAbsent,
}

impl When {
    pub(crate) fn code(self) -> u8 {
        match self {
            When::Always => b'a',
            When::IfAbsent => b'c',
        }
    }
}

/// One command: its name, when it runs, whether the key is its first
/// argument (prepended when sent), and its other arguments.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    pub(crate) name: &'static str,
    pub(crate) when: When,
    pub(crate) key_first: bool,
    args: Range<usize>,
}

/// The commands of one key. `pub` only because [`Encoder`](super::encode::Encoder)
/// names it; the module is private.
#[derive(Default)]
pub struct Commands {
    data: Vec<u8>,
    ends: Vec<usize>,
    cmds: Vec<Command>,
}

impl Commands {
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.cmds.clear();
    }

    /// Start a command whose first argument is the key.
    pub(crate) fn start(&mut self, name: &'static str, when: When) {
        self.start_with(name, when, true);
    }

    /// Start a command; `key_first` says whether the key is prepended.
    pub(crate) fn start_with(&mut self, name: &'static str, when: When, key_first: bool) {
        let at = self.ends.len();
        self.cmds.push(Command {
            name,
            when,
            key_first,
            args: at..at,
        });
    }

    /// Continue the current `name` command if `width` more arguments fit,
    /// else start a new one (so a huge collection becomes several commands).
    pub(crate) fn room_for(&mut self, name: &'static str, when: When, width: usize) {
        let fits = self
            .cmds
            .last()
            .is_some_and(|c| c.name == name && c.when == when && c.args.len() + width <= MAX_ARGS);
        if !fits {
            self.start(name, when);
        }
    }

    /// Append one argument to the current command.
    pub(crate) fn arg(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.close_arg();
    }

    /// Append one argument written by `write`.
    pub(crate) fn arg_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.data.len();
        if let Err(err) = write(&mut self.data) {
            self.data.truncate(start);
            return Err(err);
        }
        self.close_arg();
        Ok(())
    }

    fn close_arg(&mut self) {
        self.ends.push(self.data.len());
        if let Some(cmd) = self.cmds.last_mut() {
            cmd.args.end = self.ends.len();
        }
    }

    pub(crate) fn commands(&self) -> &[Command] {
        &self.cmds
    }

    /// The arguments of `cmd` (without the key).
    pub(crate) fn args<'a>(&'a self, cmd: &Command) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        let ends = &self.ends;
        let data = &self.data;
        cmd.args.clone().map(move |i| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &data[start..ends[i]]
        })
    }

    pub(crate) fn arg_count(cmd: &Command) -> usize {
        cmd.args.len()
    }

    /// True when nothing depends on whether the key existed.
    pub(crate) fn unconditional(&self) -> bool {
        self.cmds.iter().all(|c| c.when == When::Always)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_large_commands_and_keeps_arguments_apart() {
        let mut cmds = Commands::default();
        for i in 0..(MAX_ARGS + 10) {
            cmds.room_for("SADD", When::Always, 1);
            cmds.arg(i.to_string().as_bytes());
        }
        assert_eq!(cmds.commands().len(), 2);
        let first: Vec<&[u8]> = cmds.args(&cmds.commands()[0]).collect();
        assert_eq!(
            (first.len(), first[0], first[11]),
            (MAX_ARGS, &b"0"[..], &b"11"[..])
        );
        let failed = cmds.arg_with(|out| {
            out.extend_from_slice(b"partial");
            Err("bad")
        });
        assert_eq!(failed, Err("bad"));
        assert_eq!(cmds.args(&cmds.commands()[1]).count(), 10);
    }
}
