//! Redis glob patterns (`SCAN MATCH`, `KEYS`): matching keys client-side and
//! reading a pattern's literal prefix.

/// True when `text` matches the Redis glob `pattern`: `*` any run, `?` one
/// byte, `[abc]`, `[^abc]`, `[a-z]` classes, `\x` a literal `x`.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, text index).
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => match_class(pattern, p, text[t]),
            Some(b'\\') if p + 1 < pattern.len() => (pattern[p + 1] == text[t]).then_some(p + 2),
            Some(&c) => (c == text[t]).then_some(p + 1),
            None => None,
        };
        match (step, backtrack) {
            (Some(next), _) => {
                p = next;
                t += 1;
            }
            (None, Some((star_p, star_t))) => {
                p = star_p;
                t = star_t + 1;
                backtrack = Some((star_p, star_t + 1));
            }
            (None, None) => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Match one byte against the class starting at `pattern[start] == b'['`;
/// returns the pattern index after the class when it matches.
fn match_class(pattern: &[u8], start: usize, byte: u8) -> Option<usize> {
    let mut i = start + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    while i < pattern.len() && pattern[i] != b']' {
        if pattern[i] == b'\\' && i + 1 < pattern.len() {
            matched |= pattern[i + 1] == byte;
            i += 2;
        } else if i + 2 < pattern.len() && pattern[i + 1] == b'-' {
            // As in Redis, `a-]` is a range ending at `]` (leaving the class unclosed).
            let (lo, hi) = (
                pattern[i].min(pattern[i + 2]),
                pattern[i].max(pattern[i + 2]),
            );
            matched |= (lo..=hi).contains(&byte);
            i += 3;
        } else {
            matched |= pattern[i] == byte;
            i += 1;
        }
    }
    // An unclosed class ends at the end of the pattern, as in Redis.
    let after = (i + 1).min(pattern.len());
    (matched != negate).then_some(after)
}

/// The literal bytes every match of `pattern` starts with, and whether the
/// pattern is exactly that literal followed by a single trailing `*`.
pub(crate) fn literal_prefix(pattern: &[u8]) -> (Vec<u8>, bool) {
    let mut prefix = Vec::new();
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' => return (prefix, i + 1 == pattern.len()),
            b'?' | b'[' => return (prefix, false),
            b'\\' if i + 1 < pattern.len() => {
                prefix.push(pattern[i + 1]);
                i += 2;
            }
            c => {
                prefix.push(c);
                i += 1;
            }
        }
    }
    (prefix, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_redis() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("user:*", "user:1", true),
            ("user:*", "use", false),
            ("u?er:*", "uXer:", true),
            ("*:1", "a:b:1", true),
            ("*:1", "a:b:2", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("[abc]x", "bx", true),
            ("[^abc]x", "bx", false),
            ("[a-c]x", "cx", true),
            ("[c-a]x", "bx", true),
            ("\\*x", "*x", true),
            ("\\*x", "ax", false),
            ("k[\\]]", "k]", true),
            ("[a-]", "]", true),
            ("[a-]", "^", true),
            ("[a-]", "-", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), text.as_bytes()),
                *expected,
                "{pattern} ~ {text}"
            );
        }
    }

    #[test]
    fn reads_literal_prefixes() {
        assert_eq!(literal_prefix(b"user:*"), (b"user:".to_vec(), true));
        assert_eq!(literal_prefix(b"us\\*er:*"), (b"us*er:".to_vec(), true));
        assert_eq!(literal_prefix(b"user:*:x"), (b"user:".to_vec(), false));
        assert_eq!(literal_prefix(b"user"), (b"user".to_vec(), false));
    }
}
