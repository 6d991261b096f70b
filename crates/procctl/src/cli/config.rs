//! Reading the `[supervisorctl]` section: where the config file is searched, and a minimal reader of the
//! INI dialect for the few options supervisorctl uses. Kept behind `load_ctl` so the full
//! `procd-config` reader can replace it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Values of the `[supervisorctl]` section (None when not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CtlConfig {
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: Option<String>,
    pub history_file: Option<String>,
}

/// Candidate config paths in supervisorctl's search order.
pub fn search_paths(argv0: &Path) -> Vec<PathBuf> {
    let here = argv0.parent().and_then(Path::parent).unwrap_or_else(|| Path::new(""));
    vec![
        here.join("etc").join("supervisord.conf"),
        here.join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// Finds the config file (explicit path, else the first existing search path) and reads its
/// `[supervisorctl]` section. `Ok(None)` when no file was given and none was found.
/// `Err` is the message supervisorctl prints after `Error: `.
pub fn load_ctl(explicit: Option<&Path>, argv0: &Path, cwd: &Path) -> Result<Option<CtlConfig>, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match search_paths(argv0).into_iter().find(|p| cwd.join(p).exists()) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let abs = normalize(&path, cwd);
    if !abs.exists() {
        return Err(format!("could not find config file {}", path.display()));
    }
    let text = std::fs::read(&abs).map_err(|_| format!("could not read config file {}", path.display()))?;
    let text = String::from_utf8_lossy(&text);
    let here = abs.parent().map(|p| p.display().to_string()).unwrap_or_default();
    parse_ctl(&text, &here, cwd).map(Some)
}

/// `os.path.normpath(os.path.abspath(os.path.expanduser(p)))`.
pub fn normalize(path: &Path, cwd: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    let expanded = match text.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(format!("{}{rest}", Path::new(&home).display())),
            None => path.to_path_buf(),
        },
        _ => path.to_path_buf(),
    };
    let joined = if expanded.is_absolute() { expanded } else { cwd.join(expanded) };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

fn parse_ctl(text: &str, here: &str, cwd: &Path) -> Result<CtlConfig, String> {
    let sections = parse_ini(text)?;
    let Some(section) = sections.get("supervisorctl") else {
        return Err(".ini file does not include supervisorctl section".to_string());
    };
    let defaults = sections.get("DEFAULT");
    let raw = |key: &str| section.get(key).or_else(|| defaults.and_then(|d| d.get(key))).cloned();
    let mut env: HashMap<String, String> = std::env::vars().map(|(k, v)| (format!("ENV_{k}"), v)).collect();
    let plain = |key: &str, env: &HashMap<String, String>| -> Result<Option<String>, String> {
        raw(key).map(|v| expand(&v, env, &format!("supervisorctl.{key}"))).transpose()
    };
    let prompt = plain("prompt", &env)?;
    let username = plain("username", &env)?;
    let password = plain("password", &env)?;
    env.insert("here".to_string(), here.to_string());
    let serverurl = plain("serverurl", &env)?.map(|url| match url.strip_prefix("unix://") {
        Some(p) => format!("unix://{}", normalize(Path::new(p), cwd).display()),
        None => url,
    });
    let history_file = plain("history_file", &env)?
        .filter(|h| !h.is_empty())
        .map(|h| normalize(Path::new(&h), cwd).display().to_string());
    Ok(CtlConfig { serverurl, username, password, prompt, history_file })
}

type Sections = HashMap<String, HashMap<String, String>>;

/// A small ConfigParser: `[section]`, `key = value` or `key: value`, full-line `#`/`;` comments,
/// inline comments after whitespace, indented continuation lines, case-insensitive keys,
/// repeated sections merged.
fn parse_ini(text: &str) -> Result<Sections, String> {
    let mut sections: Sections = HashMap::new();
    let mut current: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (lineno, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented {
            if let (Some(sec), Some(key)) = (&current, &last_key) {
                if let Some(v) = sections.get_mut(sec).and_then(|s| s.get_mut(key)) {
                    v.push('\n');
                    v.push_str(strip_inline_comment(trimmed));
                    continue;
                }
            }
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.split_once(']')).map(|(n, _)| n) {
            sections.entry(name.to_string()).or_default();
            current = Some(name.to_string());
            last_key = None;
            continue;
        }
        let Some(sec) = &current else {
            return Err(format!("File contains no section headers.\nline: {}\n{:?}", lineno + 1, line));
        };
        let Some(pos) = trimmed.find(['=', ':']) else {
            return Err(format!("Source contains parsing errors\n\t[line {:2}]: {:?}", lineno + 1, line));
        };
        let key = trimmed[..pos].trim().to_lowercase();
        let value = strip_inline_comment(trimmed[pos + 1..].trim()).to_string();
        sections.entry(sec.clone()).or_default().insert(key.clone(), value);
        last_key = Some(key);
    }
    Ok(sections)
}

fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if (*b == b';' || *b == b'#') && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return value[..i].trim_end();
        }
    }
    value
}

/// Python `%`-interpolation of `%(name)s` and `%%`.
fn expand(value: &str, names: &HashMap<String, String>, option: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
        } else if let Some((name, r)) = after.strip_prefix('(').and_then(|a| a.split_once(")s")) {
            match names.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    let mut avail: Vec<&str> = names.keys().map(String::as_str).collect();
                    avail.sort_unstable();
                    return Err(format!(
                        "Format string '{value}' for '{option}' contains names ('{name}') which cannot be expanded. Available names: {}",
                        avail.join(", ")
                    ));
                }
            }
            rest = r;
        } else {
            return Err(format!("Format string '{value}' for '{option}' is badly formatted: incomplete format"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_section_with_expansions() {
        let text = "[supervisorctl]\nserverurl = unix://%(here)s/../run/s.sock ; comment\nPrompt: box\nusername=u;p\n\
                    [DEFAULT]\npassword = pw\n";
        let c = parse_ctl(text, "/etc/x", Path::new("/")).unwrap();
        assert_eq!(c.serverurl.as_deref(), Some("unix:///etc/run/s.sock"));
        assert_eq!(c.prompt.as_deref(), Some("box"));
        assert_eq!(c.username.as_deref(), Some("u;p"));
        assert_eq!(c.password.as_deref(), Some("pw"));
        assert_eq!(c.history_file, None);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_ctl("[supervisord]\nx=1\n", "/", Path::new("/")),
            Err(".ini file does not include supervisorctl section".into())
        );
        let e = parse_ctl("[supervisorctl]\nprompt=%(nope)s\n", "/", Path::new("/")).unwrap_err();
        assert!(e.contains("contains names ('nope') which cannot be expanded"), "{e}");
        assert_eq!(expand("100%%", &HashMap::new(), "x"), Ok("100%".into()));
    }

    #[test]
    fn search_order_and_normalize() {
        let p = search_paths(Path::new("/opt/app/bin/supervisorctl"));
        assert_eq!(p[0], Path::new("/opt/app/etc/supervisord.conf"));
        assert_eq!(p[1], Path::new("/opt/app/supervisord.conf"));
        assert_eq!(p[5], Path::new("/etc/supervisor/supervisord.conf"));
        assert_eq!(normalize(Path::new("a/../b/./c"), Path::new("/w")), Path::new("/w/b/c"));
    }
}
