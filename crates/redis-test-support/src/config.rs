//! Where the Redis binaries are: environment variables first (as exported by
//! `.redis/env.sh`), then `<workspace>/.redis/env.json` (both written by
//! `scripts/install-redis.sh`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::HarnessError;

pub const SERVER_VAR: &str = "POLARS_REDIS_SERVER";
pub const CLI_VAR: &str = "POLARS_REDIS_CLI";
pub const STACK_SERVER_VAR: &str = "POLARS_REDIS_STACK_SERVER";
pub const STACK_MODULES_VAR: &str = "POLARS_REDIS_STACK_MODULES";
pub const STACK_LD_LIBRARY_PATH_VAR: &str = "POLARS_REDIS_STACK_LD_LIBRARY_PATH";

/// All keys of `env.json` / `env.sh`.
pub const ENV_KEYS: [&str; 5] = [
    SERVER_VAR,
    CLI_VAR,
    STACK_SERVER_VAR,
    STACK_MODULES_VAR,
    STACK_LD_LIBRARY_PATH_VAR,
];

/// Module files a stack server must load.
pub const REQUIRED_STACK_MODULE_FILES: [&str; 3] =
    ["redisearch.so", "rejson.so", "redistimeseries.so"];

const HINT: &str = "run `bash scripts/install-redis.sh` (writes .redis/env.sh and .redis/env.json)";

/// `<workspace>/.redis/env.json`: the first `.redis/env.json` found walking up
/// from this crate's manifest directory.
pub fn env_json_path() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(".redis").join("env.json"))
        .find(|p| p.is_file())
}

/// Binary locations, environment variables overriding `env.json`.
pub fn load() -> Result<HashMap<String, String>, HarnessError> {
    let mut config = HashMap::new();
    if let Some(path) = env_json_path() {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            HarnessError::Unavailable(format!("cannot read {}: {e}", path.display()))
        })?;
        let parsed = parse_flat_json(&text).map_err(|e| {
            HarnessError::Unavailable(format!("cannot parse {}: {e}", path.display()))
        })?;
        config.extend(parsed);
    }
    for key in ENV_KEYS {
        if let Ok(v) = std::env::var(key) {
            if !v.is_empty() {
                config.insert(key.to_owned(), v);
            }
        }
    }
    Ok(config)
}

fn executable(config: &HashMap<String, String>, key: &str) -> Result<PathBuf, HarnessError> {
    use std::os::unix::fs::PermissionsExt;
    let path = config.get(key).ok_or_else(|| {
        HarnessError::Unavailable(format!(
            "{key} is not set and not found in .redis/env.json; {HINT}"
        ))
    })?;
    let path = PathBuf::from(path);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(path),
        _ => Err(HarnessError::Unavailable(format!(
            "{key}={} is not an executable file; {HINT}",
            path.display()
        ))),
    }
}

/// Debian's `redis-server`.
pub fn plain_server() -> Result<PathBuf, HarnessError> {
    executable(&load()?, SERVER_VAR)
}

/// `redis-cli` (used for `--cluster create`).
pub fn cli() -> Result<PathBuf, HarnessError> {
    executable(&load()?, CLI_VAR)
}

/// Redis Stack's server, modules and library path.
#[derive(Debug, Clone)]
pub struct StackConfig {
    pub server: PathBuf,
    pub modules: Vec<PathBuf>,
    pub ld_library_path: Option<String>,
}

pub fn stack() -> Result<StackConfig, HarnessError> {
    let config = load()?;
    let server = executable(&config, STACK_SERVER_VAR)?;
    let modules: Vec<PathBuf> = config
        .get(STACK_MODULES_VAR)
        .map(|s| {
            s.split(':')
                .filter(|m| !m.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(missing) = modules.iter().find(|m| !m.is_file()) {
        return Err(HarnessError::Unavailable(format!(
            "Redis Stack module {} not found; {HINT}",
            missing.display()
        )));
    }
    for needed in REQUIRED_STACK_MODULE_FILES {
        if !modules
            .iter()
            .any(|m| m.file_name().is_some_and(|n| n == needed))
        {
            return Err(HarnessError::Unavailable(format!(
                "{needed} is missing from {STACK_MODULES_VAR}; {HINT}"
            )));
        }
    }
    Ok(StackConfig {
        server,
        modules,
        ld_library_path: config
            .get(STACK_LD_LIBRARY_PATH_VAR)
            .filter(|s| !s.is_empty())
            .cloned(),
    })
}

/// Parses a flat JSON object whose values are all strings.
pub fn parse_flat_json(text: &str) -> Result<HashMap<String, String>, String> {
    let mut p = JsonParser {
        chars: text.chars().peekable(),
    };
    let mut out = HashMap::new();
    p.skip_ws();
    p.expect('{')?;
    p.skip_ws();
    if p.eat('}') {
        p.end()?;
        return Ok(out);
    }
    loop {
        p.skip_ws();
        let key = p.string()?;
        p.skip_ws();
        p.expect(':')?;
        p.skip_ws();
        let value = p.string()?;
        out.insert(key, value);
        p.skip_ws();
        if p.eat(',') {
            continue;
        }
        p.expect('}')?;
        p.end()?;
        return Ok(out);
    }
}

struct JsonParser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
    }

    fn eat(&mut self, c: char) -> bool {
        self.chars.next_if_eq(&c).is_some()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.chars.next() {
            Some(got) if got == c => Ok(()),
            got => Err(format!("expected {c:?}, found {got:?}")),
        }
    }

    fn end(&mut self) -> Result<(), String> {
        self.skip_ws();
        match self.chars.next() {
            None => Ok(()),
            Some(c) => Err(format!("trailing character {c:?}")),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let c = self.chars.next().ok_or("truncated \\u escape")?;
            v = v * 16 + c.to_digit(16).ok_or(format!("bad hex digit {c:?}"))?;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut s = String::new();
        loop {
            match self.chars.next().ok_or("unterminated string")? {
                '"' => return Ok(s),
                '\\' => {
                    let c = match self.chars.next().ok_or("unterminated escape")? {
                        '"' => '"',
                        '\\' => '\\',
                        '/' => '/',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.eat('\\') && self.eat('u')) {
                                    return Err("unpaired surrogate".into());
                                }
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or("invalid \\u escape")?
                        }
                        other => return Err(format!("bad escape \\{other}")),
                    };
                    s.push(c);
                }
                c => s.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_env_json() {
        let m = parse_flat_json(
            "{\n  \"A\": \"/x/y\",\n  \"B\": \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\"\n}\n",
        )
        .unwrap();
        assert_eq!(m["A"], "/x/y");
        assert_eq!(m["B"], "a\"b\\c\u{e9}\u{1F600}");
        assert!(parse_flat_json("{}").unwrap().is_empty());
        assert!(parse_flat_json("{\"a\": 1}").is_err());
        assert!(parse_flat_json("{\"a\": \"b\"} x").is_err());
        assert!(parse_flat_json("{\"a\": \"b\"").is_err());
    }
}
