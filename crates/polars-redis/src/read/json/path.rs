//! What a JSONPath says before it is sent: whether it is one at all, the
//! path of an object member, and whether it selects at most one value.

use crate::error::{Error, Result};

pub(super) fn check_path(what: &str, path: &str) -> Result<()> {
    if path.starts_with('$') {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what}: `{path}` is not a JSONPath (it must start with `$`)"
        )))
    }
}

/// The path of member `name` of the object at `root`.
pub(super) fn member_path(root: &str, name: &str) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{root}.{name}")
    } else {
        let quoted = serde_json::Value::String(name.to_string()).to_string();
        format!("{root}[{quoted}]")
    }
}

/// True when a JSONPath selects at most one value: no wildcard, filter,
/// recursive descent, slice or union.
pub(super) fn is_definite(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut in_brackets = false;
    let mut quote = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' if in_brackets => quote = Some(b),
                b'[' => in_brackets = true,
                b']' => in_brackets = false,
                b'*' | b'?' | b'@' => return false,
                b'.' if bytes.get(i + 1) == Some(&b'.') => return false,
                b':' | b',' if in_brackets => return false,
                _ => {}
            },
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_paths() {
        for path in [
            "$",
            "$.a.b",
            "$['a b'][0]",
            "$[\"x*y\"]",
            "$.a[-1]",
            "$['a.b']",
        ] {
            assert!(is_definite(path), "{path}");
        }
        for path in [
            "$..a",
            "$.a[*]",
            "$.*",
            "$.a[?(@.b>1)]",
            "$.a[0:2]",
            "$.a[0,1]",
        ] {
            assert!(!is_definite(path), "{path}");
        }
    }

    #[test]
    fn member_paths_quote_odd_names() {
        assert_eq!(member_path("$", "name_1"), "$.name_1");
        assert_eq!(member_path("$.user", "na me"), "$.user[\"na me\"]");
        assert_eq!(member_path("$", "q\"t"), "$[\"q\\\"t\"]");
        assert_eq!(member_path("$", "1st"), "$[\"1st\"]");
    }
}
