//! Ignore patterns as ASC MHL records them (`<ignore><pattern>`): git-style wildcards
//! ("gitwildmatch", what the reference tool's `pathspec` uses) matched against paths relative
//! to the history root.
//!
//! Rules implemented: a pattern without `/` (other than a trailing one) matches the name at any
//! depth; a pattern with an inner or leading `/` is anchored at the root; a trailing `/` matches
//! directories only; `*` and `?` never cross `/`; `**` crosses directories; `[a-z]`/`[!a]`
//! classes; `\` escapes; a leading `!` re-includes (the last matching pattern wins).

/// The patterns ascmhl always writes first (the history folder and macOS metadata).
pub const DEFAULT_IGNORE: [&str; 3] = [".DS_Store", "ascmhl", "ascmhl/"];

/// An ordered list of patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreSpec {
    patterns: Vec<String>,
}

impl IgnoreSpec {
    /// Like the reference tool: start from the latest generation's patterns (or the defaults
    /// when there are none), then append new ones, skipping duplicates.
    pub fn new(existing: Option<&[String]>, extra: &[String]) -> Self {
        let mut spec = IgnoreSpec {
            patterns: Vec::new(),
        };
        match existing {
            Some(p) if !p.is_empty() => spec.extend(p),
            _ => spec.extend(&DEFAULT_IGNORE.map(String::from)),
        }
        spec.extend(extra);
        spec
    }

    fn extend(&mut self, more: &[String]) {
        for p in more {
            if !p.is_empty() && !self.patterns.contains(p) {
                self.patterns.push(p.clone());
            }
        }
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `rel_path` (`/`-separated, relative to the root) is ignored.
    pub fn is_ignored(&self, rel_path: &str, is_dir: bool) -> bool {
        let mut ignored = false;
        for p in &self.patterns {
            let (negate, body) = match p.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, p.as_str()),
            };
            if pattern_matches(body, rel_path, is_dir) {
                ignored = !negate;
            }
        }
        ignored
    }
}

fn pattern_matches(pattern: &str, rel_path: &str, is_dir: bool) -> bool {
    let (body, dir_only) = match pattern.strip_suffix('/') {
        Some(b) => (b, true),
        None => (pattern, false),
    };
    if body.is_empty() || (dir_only && !is_dir) {
        return false;
    }
    let anchored = body.contains('/');
    let body = body.strip_prefix('/').unwrap_or(body);
    let p: Vec<char> = body.chars().collect();
    let s: Vec<char> = rel_path.chars().collect();
    if anchored {
        glob(&p, &s)
    } else {
        // Unanchored: match the last component only (parents were tested on the way down).
        let start = s.iter().rposition(|c| *c == '/').map_or(0, |i| i + 1);
        glob(&p, &s[start..])
    }
}

/// Matches a pattern against a whole path; `*`/`?` stay within one component.
fn glob(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            // `**/x`: zero or more directories; trailing `**`: everything.
            let rest = &p[2..];
            let rest = rest.strip_prefix(&['/']).unwrap_or(rest);
            if rest.is_empty() {
                return true;
            }
            (0..=s.len())
                .filter(|&i| i == 0 || s[i - 1] == '/')
                .any(|i| glob(rest, &s[i..]))
        }
        Some('*') => {
            let mut i = 0;
            loop {
                if glob(&p[1..], &s[i..]) {
                    return true;
                }
                if i >= s.len() || s[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        Some('?') => !s.is_empty() && s[0] != '/' && glob(&p[1..], &s[1..]),
        Some('[') => match class(p, s.first().copied()) {
            Some((true, used)) => glob(&p[used..], &s[1..]),
            Some((false, _)) => false,
            // An unclosed `[` is a literal.
            None => s.first() == Some(&'[') && glob(&p[1..], &s[1..]),
        },
        Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && glob(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && glob(&p[1..], &s[1..]),
    }
}

/// `[...]` at the start of `p`: (whether `c` is in it, pattern chars used), None if unclosed.
fn class(p: &[char], c: Option<char>) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            let ok = c.is_some_and(|c| c != '/') && (hit != negate);
            return Some((ok, i + 1));
        }
        first = false;
        let lo = p[i];
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|x| *x != ']') {
            let hi = p[i + 2];
            hit |= c.is_some_and(|c| lo <= c && c <= hi);
            i += 3;
        } else {
            hit |= c == Some(lo);
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(p: &[&str]) -> IgnoreSpec {
        IgnoreSpec::new(None, &p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn gitwildmatch_rules() {
        let s = spec(&[
            "*.tmp",
            "cache/",
            "/top.txt",
            "a/**/z.bin",
            "f?le[0-9].dat",
            "!keep.tmp",
        ]);
        let cases = [
            ("x.tmp", false, true),
            ("deep/dir/x.tmp", false, true),
            ("keep.tmp", false, false),
            ("cache", true, true),
            ("sub/cache", true, true),
            ("cache", false, false),
            ("top.txt", false, true),
            ("sub/top.txt", false, false),
            ("a/z.bin", false, true),
            ("a/b/c/z.bin", false, true),
            ("b/a/z.bin", false, false),
            ("file7.dat", false, true),
            ("fileX.dat", false, false),
            ("ascmhl", true, true),
            ("sub/ascmhl", true, true),
            (".DS_Store", false, true),
            ("clip.mov", false, false),
        ];
        for (path, is_dir, want) in cases {
            assert_eq!(s.is_ignored(path, is_dir), want, "{path} (dir {is_dir})");
        }
    }

    #[test]
    fn existing_patterns_replace_the_defaults_and_duplicates_are_dropped() {
        let existing = vec!["ascmhl".to_string(), "*.tmp".to_string()];
        let s = IgnoreSpec::new(Some(&existing), &["*.tmp".into(), "*.bak".into()]);
        assert_eq!(s.patterns(), ["ascmhl", "*.tmp", "*.bak"]);
        assert_eq!(IgnoreSpec::new(None, &[]).patterns(), DEFAULT_IGNORE);
    }
}
