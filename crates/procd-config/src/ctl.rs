//! `[supervisorctl]` as supervisorctl reads it: only the given file (no `[include]`),
//! `serverurl`/`history_file` with `%(here)s`, defaults when absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigErrors;
use crate::expand::{self, ExpVal, Names};
use crate::ini::Ini;
use crate::model::CtlConfig;
use crate::paths;

const SECTION: &str = "supervisorctl";

/// Builds the client settings from an already read INI.
pub(crate) fn from_ini(
    ini: &Ini,
    here: &str,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Result<CtlConfig, ConfigErrors> {
    let environ: Names = env
        .iter()
        .map(|(k, v)| (format!("ENV_{k}"), ExpVal::Str(v.clone())))
        .collect();
    let mut with_here = environ.clone();
    with_here.insert("here".into(), ExpVal::Str(here.to_string()));
    let mut errors = Vec::new();
    let mut get = |key: &str, names: &Names| -> Option<String> {
        let v = ini.get(SECTION, key)?;
        match expand::expand(&v.value, names, &format!("{SECTION}.{key}")) {
            Ok(x) => Some(x),
            Err(message) => {
                errors.push(crate::error::ConfigError {
                    file: v.span.file.clone(),
                    line: Some(v.span.line),
                    section: Some(SECTION.into()),
                    option: Some(key.into()),
                    message,
                });
                None
            }
        }
    };
    let defaults = CtlConfig::default();
    let mut serverurl = get("serverurl", &with_here).unwrap_or(defaults.serverurl);
    if let Some(path) = serverurl.strip_prefix("unix://") {
        serverurl = format!("unix://{}", paths::normalize(path, cwd, env).display());
    }
    let prompt = get("prompt", &environ).unwrap_or(defaults.prompt);
    let username = get("username", &environ);
    let password = get("password", &environ);
    let history_file = get("history_file", &with_here)
        .filter(|h| !h.is_empty())
        .map(|h| paths::normalize(&h, cwd, env));
    if !errors.is_empty() {
        return Err(ConfigErrors {
            errors,
            lints: Vec::new(),
        });
    }
    Ok(CtlConfig {
        serverurl,
        username,
        password,
        prompt,
        history_file,
    })
}

/// supervisorctl's config: `path` (or the first file of the default search list); no file
/// at all gives the defaults. A file without `[supervisorctl]` is an error.
pub fn load_ctl(path: Option<&Path>, argv0: &Path, cwd: &Path) -> Result<CtlConfig, ConfigErrors> {
    let path: PathBuf = match path {
        Some(p) => p.to_path_buf(),
        None => match paths::find_config_file(argv0, cwd) {
            Some(p) => p,
            None => return Ok(CtlConfig::default()),
        },
    };
    let env: BTreeMap<String, String> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let abs = PathBuf::from(paths::abspath(
        &paths::expanduser(&path.to_string_lossy(), &env),
        cwd,
    ));
    let text = crate::source::read_text(&abs, &path)?;
    let mut ini = Ini::new();
    ini.read_str(&text, &abs)
        .map_err(crate::source::ini_errors)?;
    if !ini.has_section(SECTION) {
        return Err(ConfigErrors::single(
            abs,
            ".ini file does not include supervisorctl section",
        ));
    }
    let here = paths::dirname(&abs.to_string_lossy());
    from_ini(&ini, &here, &env, cwd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_section_and_defaults() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("c.conf");
        std::fs::write(&f, "[supervisorctl]\nserverurl=unix://%(here)s/../x.sock\nprompt = mine\nhistory_file=~/.h\n")
            .unwrap();
        let c = load_ctl(Some(&f), Path::new("x"), d.path()).unwrap();
        let parent = d.path().parent().unwrap();
        assert_eq!(c.serverurl, format!("unix://{}/x.sock", parent.display()));
        assert_eq!(c.prompt, "mine");
        assert!(c.history_file.is_some());
        assert_eq!(c.username, None);

        std::fs::write(&f, "[supervisord]\n").unwrap();
        let e = load_ctl(Some(&f), Path::new("x"), d.path()).unwrap_err();
        assert_eq!(
            e.errors[0].message,
            ".ini file does not include supervisorctl section"
        );

        std::fs::write(&f, "[supervisorctl]\n").unwrap();
        assert_eq!(
            load_ctl(Some(&f), Path::new("x"), d.path()).unwrap(),
            CtlConfig::default()
        );

        let e = load_ctl(
            Some(&d.path().join("missing.conf")),
            Path::new("x"),
            d.path(),
        )
        .unwrap_err();
        assert!(
            e.errors[0]
                .message
                .starts_with("could not find config file")
        );
    }
}
