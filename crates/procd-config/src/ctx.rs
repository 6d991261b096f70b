//! The loading context: the merged INI state plus the error and message sinks, and the
//! typed getters every section reader uses (`saneget` with expansion, then a value
//! parser). Problems are recorded and a default is returned, so loading goes on and
//! reports every error at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::expand::{self, ExpVal, Names};
use crate::ini::{Ini, Span};
use crate::options::LoadOptions;

pub(crate) struct Ctx<'a> {
    pub ini: Ini,
    pub opts: &'a LoadOptions,
    /// The main config file (absolute).
    pub main_file: PathBuf,
    /// Directory of the main config file (`%(here)s`).
    pub here: String,
    /// `ENV_*` names: supervisord's environment, later plus `[supervisord] environment=`.
    pub environ: Names,
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(ini: Ini, opts: &'a LoadOptions, main_file: PathBuf) -> Self {
        let here = crate::paths::dirname(&main_file.to_string_lossy());
        let environ = opts
            .env
            .iter()
            .map(|(k, v)| (format!("ENV_{k}"), ExpVal::Str(v.clone())))
            .collect();
        Ctx {
            ini,
            opts,
            main_file,
            here,
            environ,
            errors: Vec::new(),
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }

    pub(crate) fn cwd(&self) -> &Path {
        &self.opts.cwd
    }

    pub(crate) fn env(&self) -> &BTreeMap<String, String> {
        &self.opts.env
    }

    /// `{here}` as extra names.
    pub(crate) fn here_names(&self) -> Names {
        [("here".to_string(), ExpVal::Str(self.here.clone()))].into()
    }

    fn span(&self, section: &str, key: &str) -> Option<Span> {
        self.ini.get(section, key).map(|v| v.span.clone())
    }

    fn section_file(&self, section: &str) -> PathBuf {
        self.ini
            .section_file(section)
            .map_or_else(|| self.main_file.clone(), Path::to_path_buf)
    }

    /// Records a problem with an option (located by its span when it was set).
    pub(crate) fn error(&mut self, section: &str, key: Option<&str>, message: impl Into<String>) {
        // An option's own line, else the section's header line.
        let span = key
            .and_then(|k| self.span(section, k))
            .or_else(|| self.ini.section_span(section));
        let file = span
            .as_ref()
            .map_or_else(|| self.section_file(section), |s| s.file.clone());
        self.errors.push(ConfigError {
            file,
            line: span.map(|s| s.line),
            section: Some(section.to_string()),
            option: key.map(str::to_string),
            message: message.into(),
        });
    }

    /// A problem not tied to a section.
    pub(crate) fn global_error(&mut self, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.main_file.clone(),
            line: None,
            section: None,
            option: None,
            message: message.into(),
        });
    }

    /// The raw (unexpanded) value.
    pub(crate) fn raw(&self, section: &str, key: &str) -> Option<String> {
        self.ini.get(section, key).map(|v| v.value.clone())
    }

    /// All names for an option: `ENV_*` overlaid with `extra`.
    pub(crate) fn names(&self, extra: &Names) -> Names {
        let mut all = self.environ.clone();
        all.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        all
    }

    /// `saneget`: the expanded value, `Ok(None)` when absent, `Err(())` when expansion failed
    /// (already recorded).
    pub(crate) fn get(
        &mut self,
        section: &str,
        key: &str,
        extra: &Names,
    ) -> Result<Option<String>, ()> {
        let Some(raw) = self.raw(section, key) else {
            return Ok(None);
        };
        // Without a `%` the expansion is the text itself: skip building the names (the whole
        // environment, for each option of each program).
        if !raw.contains('%') {
            return Ok(Some(raw));
        }
        let names = self.names(extra);
        match expand::expand(&raw, &names, &format!("{section}.{key}")) {
            Ok(v) => Ok(Some(v)),
            Err(msg) => {
                self.error(section, Some(key), msg);
                Err(())
            }
        }
    }

    /// Expands `raw` with exactly `names` (supervisord's direct `expand` calls), recording
    /// a failure against `section`/`key`.
    pub(crate) fn expand_with(
        &mut self,
        section: &str,
        key: &str,
        raw: &str,
        names: &Names,
        label: &str,
    ) -> Option<String> {
        match expand::expand(raw, names, label) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.error(section, Some(key), msg);
                None
            }
        }
    }

    /// A typed option: parsed with `parse`, else `default` (also on error, after recording it).
    pub(crate) fn typed<T>(
        &mut self,
        section: &str,
        key: &str,
        extra: &Names,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        match self.get(section, key, extra) {
            Ok(Some(v)) => match parse(&v) {
                Ok(t) => t,
                Err(msg) => {
                    self.error(section, Some(key), msg);
                    default
                }
            },
            _ => default,
        }
    }

    /// Like [`Ctx::typed`], for options whose default is a config string run through the
    /// same parser (`get(section, 'x', '50MB')` in supervisord).
    pub(crate) fn typed_str<T>(
        &mut self,
        section: &str,
        key: &str,
        extra: &Names,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.get(section, key, extra) {
            Ok(Some(v)) => match parse(&v) {
                Ok(t) => Some(t),
                Err(msg) => {
                    self.error(section, Some(key), msg);
                    None
                }
            },
            Ok(None) => parse(default).ok(),
            Err(()) => None,
        }
    }
}
