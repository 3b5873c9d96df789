//! The Redis modules some entry points need (RedisJSON, RedisTimeSeries,
//! RediSearch). Each such entry point checks once per call, before it sends
//! a command of the module, that the server has it (`Connection::require`),
//! so a server without the module gives [`Error::Unsupported`] naming the
//! module and the entry point, never an empty frame (a `SCAN ... TYPE` of a
//! module's type finds nothing) or a raw "unknown command" reply. Hash-field
//! expiry (Redis 7.4+) is checked the same way, its error naming the server's
//! version instead of a module.

use crate::error::Error;

/// A Redis module. `pub` only because the write side's `WriteKind`
/// names a [`Requirement`]; the module is private.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    /// RedisJSON (`JSON.*`).
    Json,
    /// RedisTimeSeries (`TS.*`).
    TimeSeries,
    /// RediSearch (`FT.*`).
    Search,
    /// Not a module: hash-field expiry (`HEXPIRE`, `HTTL`, ...), built into
    /// Redis 7.4 and later.
    HashFieldExpiry,
}

impl Module {
    const ALL: [Module; 3] = [Module::Json, Module::TimeSeries, Module::Search];

    /// The module's name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Module::Json => "RedisJSON",
            Module::TimeSeries => "RedisTimeSeries",
            Module::Search => "RediSearch",
            Module::HashFieldExpiry => "hash-field expiry",
        }
    }

    /// A command the module always adds, asked about with `COMMAND INFO`.
    pub(crate) fn probe_command(self) -> &'static str {
        match self {
            Module::Json => "JSON.GET",
            Module::TimeSeries => "TS.RANGE",
            Module::Search => "FT.SEARCH",
            Module::HashFieldExpiry => "HTTL",
        }
    }

    fn command_prefix(self) -> &'static str {
        match self {
            Module::Json => "JSON.",
            Module::TimeSeries => "TS.",
            Module::Search => "FT.",
            Module::HashFieldExpiry => "HTTL",
        }
    }

    /// The entry points that send the module's commands, for messages
    /// that cannot say which one is running.
    fn users(self) -> &'static str {
        match self {
            Module::Json => "scan_json / read_json / iter_json, write_json, infer_json_schema",
            Module::TimeSeries => {
                "scan_timeseries / read_timeseries / iter_timeseries, write_timeseries"
            }
            Module::Search => {
                "search_hashes, search_json, aggregate_hashes, aggregate_json, create_index, \
                 drop_index, index_info, index_exists and a scan with a named index="
            }
            Module::HashFieldExpiry => {
                "field_ttl of scan_hashes / read_hashes / iter_hashes \
                 and write_hashes"
            }
        }
    }

    /// The module a command belongs to, if any.
    fn of_command(command: &str) -> Option<Module> {
        let upper = command.to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|m| upper.starts_with(m.command_prefix()))
    }

    /// The error for a server (at `addr`, if known; of `version`, if
    /// known) without this module.
    pub(crate) fn missing(self, addr: &str, needed_by: &str, version: Option<&str>) -> Error {
        let at = match addr {
            "" => String::new(),
            addr => format!(" at {addr}"),
        };
        if self == Module::HashFieldExpiry {
            let version = version.unwrap_or("of an unknown version");
            return Error::Unsupported(format!(
                "{needed_by} needs hash-field expiry (HEXPIRE/HTTL, Redis 7.4 or later), which \
                 the server{at} does not have: it is Redis {version}"
            ));
        }
        Error::Unsupported(format!(
            "{needed_by} needs the {} module, which the server{at} does not have \
             ({} is an unknown command there): use Redis 8 or Redis Stack, or load the module",
            self.name(),
            self.probe_command(),
        ))
    }
}

/// An entry point that needs a module (`pub` like [`Module`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The module.
    pub(crate) module: Module,
    /// The entry points, as messages name them (`"write_json"`).
    pub(crate) needed_by: &'static str,
}

impl Requirement {
    /// `needed_by` needs `module`.
    pub(crate) const fn new(module: Module, needed_by: &'static str) -> Self {
        Requirement { module, needed_by }
    }
}

/// The error for an "unknown command" reply to a module's command (when
/// the check could not run, e.g. `COMMAND` is not allowed for the user).
pub(crate) fn unknown_module_command(command: &str, message: &str) -> Option<Error> {
    let module = Module::of_command(command)?;
    let lower = message.to_ascii_lowercase();
    lower.contains("unknown command").then(|| {
        Error::Unsupported(format!(
            "`{command}` ({}) needs the {} module, which the server does not have ({message}): \
             use Redis 8 or Redis Stack, or load the module",
            module.users(),
            module.name()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_module_commands_name_the_module() {
        let err = unknown_module_command("JSON.SET", "ERR unknown command 'JSON.SET'").unwrap();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert!(err.to_string().contains("RedisJSON"), "{err}");
        let err = unknown_module_command("ft.info", "ERR unknown command 'ft.info'").unwrap();
        assert!(err.to_string().contains("RediSearch"), "{err}");
        assert!(err.to_string().contains("search_hashes"), "{err}");
        assert!(unknown_module_command("TS.ADD", "ERR TSDB: invalid timestamp").is_none());
        assert!(unknown_module_command("HGET", "ERR unknown command 'HGET'").is_none());
    }

    #[test]
    fn missing_names_module_entry_point_and_server() {
        let text = Module::TimeSeries
            .missing("127.0.0.1:1", "write_timeseries", None)
            .to_string();
        assert!(text.contains("write_timeseries needs the RedisTimeSeries module"));
        assert!(text.contains("at 127.0.0.1:1") && text.contains("TS.RANGE"));
    }
}
