//! Python's `glob.glob` (non-recursive) for `[include] files=`: `*`, `?`, `[...]`/`[!...]`
//! per path component, names starting with `.` only matched by patterns starting with
//! `.`, literal components checked for existence, `**` behaving like `*`.
//! Results are returned sorted (supervisord sorts each pattern's matches).

use std::path::Path;

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expands one absolute or relative pattern (relative to the process cwd is never used:
/// callers pass absolute patterns).
pub fn glob(pattern: &str) -> Vec<String> {
    let mut out = glob_inner(pattern, false);
    out.sort();
    out
}

fn lexists(p: &str) -> bool {
    Path::new(p).symlink_metadata().is_ok()
}

fn isdir(p: &str) -> bool {
    Path::new(if p.is_empty() { "." } else { p }).is_dir()
}

fn glob_inner(pattern: &str, dironly: bool) -> Vec<String> {
    let (dirname, basename) = match pattern.rfind('/') {
        Some(i) => {
            let head = &pattern[..=i];
            let head = if head.chars().all(|c| c == '/') {
                head
            } else {
                head.trim_end_matches('/')
            };
            (head.to_string(), pattern[i + 1..].to_string())
        }
        None => (String::new(), pattern.to_string()),
    };
    if !has_magic(pattern) {
        let ok = if basename.is_empty() {
            isdir(&dirname)
        } else {
            lexists(pattern)
        };
        return if ok {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    if dirname.is_empty() {
        return glob_in_dir("", &basename, dironly);
    }
    let dirs: Vec<String> = if dirname != pattern && has_magic(&dirname) {
        glob_inner(&dirname, true)
    } else {
        vec![dirname.clone()]
    };
    let mut out = Vec::new();
    for d in dirs {
        let names = if has_magic(&basename) {
            glob_in_dir(&d, &basename, dironly)
        } else if basename.is_empty() {
            if isdir(&d) {
                vec![String::new()]
            } else {
                Vec::new()
            }
        } else if lexists(&join(&d, &basename)) {
            vec![basename.clone()]
        } else {
            Vec::new()
        };
        out.extend(names.into_iter().map(|n| join(&d, &n)));
    }
    out
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() || a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

fn glob_in_dir(dir: &str, pattern: &str, dironly: bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let pat: Vec<char> = pattern.chars().collect();
    let mut names = Vec::new();
    for entry in entries.flatten() {
        if dironly && !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && !pattern.starts_with('.') {
            continue;
        }
        let chars: Vec<char> = name.chars().collect();
        if fnmatch(&chars, &pat) {
            names.push(name);
        }
    }
    names
}

/// One `[...]` item: a single character or an inclusive range.
enum ClassItem {
    Char(char),
    Range(char, char),
}

/// Parses a bracket expression starting after `[`; returns (negated, items, index after `]`),
/// or `None` when there is no closing bracket (then `[` is literal).
fn parse_class(pat: &[char], start: usize) -> Option<(bool, Vec<ClassItem>, usize)> {
    let mut j = start;
    if j < pat.len() && pat[j] == '!' {
        j += 1;
    }
    if j < pat.len() && pat[j] == ']' {
        j += 1;
    }
    while j < pat.len() && pat[j] != ']' {
        j += 1;
    }
    if j >= pat.len() {
        return None;
    }
    let mut body = &pat[start..j];
    let negated = body.first() == Some(&'!');
    if negated {
        body = &body[1..];
    }
    let mut items = Vec::new();
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            if body[k] <= body[k + 2] {
                items.push(ClassItem::Range(body[k], body[k + 2]));
            }
            k += 3;
        } else {
            items.push(ClassItem::Char(body[k]));
            k += 1;
        }
    }
    Some((negated, items, j + 1))
}

/// `fnmatch.fnmatchcase` on characters.
pub fn fnmatch(name: &[char], pat: &[char]) -> bool {
    if pat.is_empty() {
        return name.is_empty();
    }
    match pat[0] {
        '*' => {
            let rest = &pat[1..];
            (0..=name.len()).any(|i| fnmatch(&name[i..], rest))
        }
        '?' => !name.is_empty() && fnmatch(&name[1..], &pat[1..]),
        '[' => match parse_class(pat, 1) {
            Some((negated, items, next)) => {
                let Some(&c) = name.first() else { return false };
                let hit = items.iter().any(|it| match *it {
                    ClassItem::Char(x) => x == c,
                    ClassItem::Range(lo, hi) => lo <= c && c <= hi,
                });
                hit != negated && fnmatch(&name[1..], &pat[next..])
            }
            None => name.first() == Some(&'[') && fnmatch(&name[1..], &pat[1..]),
        },
        p => name.first() == Some(&p) && fnmatch(&name[1..], &pat[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, pat: &str) -> bool {
        fnmatch(
            &name.chars().collect::<Vec<_>>(),
            &pat.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn fnmatch_like_python() {
        for (name, pat, want) in [
            ("a.conf", "*.conf", true),
            ("a.conf", "?.conf", true),
            ("ab.conf", "?.conf", false),
            ("b.conf", "[ab].conf", true),
            ("c.conf", "[!ab].conf", true),
            ("a.conf", "[!ab].conf", false),
            ("x", "[a-z]", true),
            ("X", "[a-z]", false),
            ("[", "[", true),
            ("[a", "[a", true),
            ("]", "[]]", true),
            ("-", "[a-]", true),
            ("b", "[z-a]", false),
            ("ab", "**", true),
        ] {
            assert_eq!(m(name, pat), want, "{name} {pat}");
        }
    }

    #[test]
    fn glob_on_a_tree() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().to_string_lossy().into_owned();
        for f in [
            "b.conf",
            "a.conf",
            ".hidden.conf",
            "c.ini",
            "sub/x.conf",
            "sub2/y.conf",
        ] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        assert_eq!(
            glob(&format!("{root}/*.conf")),
            vec![format!("{root}/a.conf"), format!("{root}/b.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/.*.conf")),
            vec![format!("{root}/.hidden.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/*/*.conf")),
            vec![format!("{root}/sub/x.conf"), format!("{root}/sub2/y.conf")]
        );
        assert_eq!(
            glob(&format!("{root}/c.ini")),
            vec![format!("{root}/c.ini")]
        );
        assert!(glob(&format!("{root}/nope.ini")).is_empty());
        assert_eq!(
            glob(&format!("{root}/sub*")),
            vec![format!("{root}/sub"), format!("{root}/sub2")]
        );
    }
}
