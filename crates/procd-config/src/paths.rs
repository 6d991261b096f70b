//! Path helpers with Python `os.path` semantics (`expanduser`, `abspath`, `normpath`,
//! `dirname`), the path-valued option checks of `datatypes.py` (`existing_dirpath`,
//! `existing_directory`) and the default config file search of supervisord/supervisorctl.
//!
//! Relative paths are resolved against an explicit `cwd` rather than the process's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `os.path.expanduser`: `~` from `HOME` (else the passwd entry), `~user` from passwd.
pub fn expanduser(v: &str, env: &BTreeMap<String, String>) -> String {
    let Some(rest) = v.strip_prefix('~') else {
        return v.to_string();
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        match env.get("HOME") {
            Some(h) => Some(h.clone()),
            None => nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.dir.to_string_lossy().into_owned()),
        }
    } else {
        nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .map(|u| u.dir.to_string_lossy().into_owned())
    };
    match home {
        Some(h) => {
            let h = if h == "/" {
                String::new()
            } else {
                h.trim_end_matches('/').to_string()
            };
            let joined = format!("{h}{tail}");
            if joined.is_empty() {
                "/".to_string()
            } else {
                joined
            }
        }
        None => v.to_string(),
    }
}

/// `os.path.normpath` (POSIX).
pub fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let initial = if p.starts_with("//") && !p.starts_with("///") {
        2
    } else if p.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && parts.is_empty()) || parts.last() == Some(&"..") {
            parts.push(comp);
        } else if !parts.is_empty() {
            parts.pop();
        }
    }
    let joined = parts.join("/");
    let out = format!("{}{joined}", "/".repeat(initial));
    if out.is_empty() { ".".into() } else { out }
}

/// `os.path.join(cwd, p)` when `p` is relative.
pub fn join(cwd: &Path, p: &str) -> String {
    if p.starts_with('/') {
        return p.to_string();
    }
    let base = cwd.to_string_lossy();
    if base.is_empty() || base.ends_with('/') {
        format!("{base}{p}")
    } else {
        format!("{base}/{p}")
    }
}

/// `os.path.abspath` against `cwd`.
pub fn abspath(p: &str, cwd: &Path) -> String {
    normpath(&join(cwd, p))
}

/// supervisord's `normalize_path`: `normpath(abspath(expanduser(v)))`.
pub fn normalize(v: &str, cwd: &Path, env: &BTreeMap<String, String>) -> PathBuf {
    PathBuf::from(abspath(&expanduser(v, env), cwd))
}

/// `os.path.dirname` (POSIX).
pub fn dirname(p: &str) -> String {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let head = &p[..i];
    if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// `os.path.isdir` with relative paths taken from `cwd`.
pub fn isdir(p: &str, cwd: &Path) -> bool {
    Path::new(&join(cwd, p)).is_dir()
}

/// `existing_dirpath`: the (user-expanded) path, whose directory part must exist.
pub fn existing_dirpath(
    v: &str,
    cwd: &Path,
    env: &BTreeMap<String, String>,
) -> Result<String, String> {
    let nv = expanduser(v, env);
    let dir = dirname(&nv);
    if dir.is_empty() || isdir(&dir, cwd) {
        Ok(nv)
    } else {
        Err(format!(
            "The directory named as part of the path {v} does not exist"
        ))
    }
}

/// `existing_directory`: the (user-expanded) path, which must be a directory.
pub fn existing_directory(
    v: &str,
    cwd: &Path,
    env: &BTreeMap<String, String>,
) -> Result<String, String> {
    let nv = expanduser(v, env);
    if isdir(&nv, cwd) {
        Ok(nv)
    } else {
        Err(format!("{v} is not an existing directory"))
    }
}

/// `tempfile.gettempdir()`: the first of `$TMPDIR`, `$TEMP`, `$TMP`, `/tmp`, `/var/tmp`,
/// `/usr/tmp` that is a directory, else the cwd.
pub fn temp_dir(env: &BTreeMap<String, String>, cwd: &Path) -> String {
    let mut candidates: Vec<String> = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(|k| env.get(*k).cloned())
        .collect();
    candidates.extend(
        ["/tmp", "/var/tmp", "/usr/tmp"]
            .iter()
            .map(std::string::ToString::to_string),
    );
    for c in candidates {
        if isdir(&c, cwd) {
            return abspath(&c, cwd);
        }
    }
    cwd.to_string_lossy().into_owned()
}

/// The places searched for a config file when `-c` is not given, in order.
pub fn config_search_paths(argv0: &Path) -> Vec<PathBuf> {
    let exe = argv0.to_string_lossy();
    let here = dirname(&dirname(&exe));
    let j = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{}/{b}", a.trim_end_matches('/'))
        }
    };
    vec![
        PathBuf::from(j(&here, "etc/supervisord.conf")),
        PathBuf::from(j(&here, "supervisord.conf")),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// The first existing search path (relative ones taken from `cwd`), as written in the
/// search list.
pub fn find_config_file(argv0: &Path, cwd: &Path) -> Option<PathBuf> {
    config_search_paths(argv0)
        .into_iter()
        .find(|p| cwd.join(p).exists())
}

/// supervisord's message when no config file is found.
pub fn no_config_message(argv0: &Path) -> String {
    let list: Vec<String> = config_search_paths(argv0)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_like_python() {
        for (i, o) in [
            ("", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("a/./b/", "a/b"),
            ("/a/../../b", "/b"),
            ("../a", "../a"),
            ("a/../..", ".."),
            ("//a//b", "//a/b"),
            ("/a/b/..", "/a"),
        ] {
            assert_eq!(normpath(i), o, "{i}");
        }
    }

    #[test]
    fn dirname_like_python() {
        for (i, o) in [
            ("/a/b", "/a"),
            ("a", ""),
            ("/a", "/"),
            ("a//b", "a"),
            ("//a", "//"),
            ("a/b/", "a/b"),
        ] {
            assert_eq!(dirname(i), o, "{i}");
        }
    }

    #[test]
    fn expanduser_uses_home() {
        let env: BTreeMap<String, String> = [("HOME".to_string(), "/home/u".to_string())].into();
        assert_eq!(expanduser("~/x", &env), "/home/u/x");
        assert_eq!(expanduser("~", &env), "/home/u");
        assert_eq!(expanduser("a/~", &env), "a/~");
        assert_eq!(expanduser("~root/x", &env), "/root/x");
    }

    #[test]
    fn search_paths_follow_supervisord() {
        let p = config_search_paths(Path::new("/usr/local/bin/procd"));
        assert_eq!(p[0], PathBuf::from("/usr/local/etc/supervisord.conf"));
        assert_eq!(p[1], PathBuf::from("/usr/local/supervisord.conf"));
        assert_eq!(p[5], PathBuf::from("/etc/supervisor/supervisord.conf"));
        let p = config_search_paths(Path::new("procd"));
        assert_eq!(p[0], PathBuf::from("etc/supervisord.conf"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/supervisord.conf"), "").unwrap();
        assert_eq!(
            find_config_file(Path::new("/nonexistent/bin/x"), dir.path()),
            Some(PathBuf::from("etc/supervisord.conf"))
        );
        std::fs::write(dir.path().join("supervisord.conf"), "").unwrap();
        assert_eq!(
            find_config_file(Path::new("/nonexistent/bin/x"), dir.path()),
            Some(PathBuf::from("supervisord.conf"))
        );
        assert!(
            no_config_message(Path::new("/x/bin/procd"))
                .starts_with("No config file found at default paths (/x/etc/supervisord.conf, ")
        );
    }
}
