//! What the caller of [`crate::load`] passes besides the file: supervisord's command-line overrides,
//! the environment and the working directory. Shared by the loader and its context, below both.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Raw values of supervisord's command-line flags; they override the config file and are
/// validated the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupervisordOverrides {
    /// `-n`
    pub nodaemon: bool,
    /// `-s`
    pub silent: bool,
    /// `-k`
    pub nocleanup: bool,
    /// `-t`
    pub strip_ansi: bool,
    /// `-u`
    pub user: Option<String>,
    /// `-m`
    pub umask: Option<String>,
    /// `-d`
    pub directory: Option<String>,
    /// `-l`
    pub logfile: Option<String>,
    /// `-y`
    pub logfile_maxbytes: Option<String>,
    /// `-z`
    pub logfile_backups: Option<String>,
    /// `-e`
    pub loglevel: Option<String>,
    /// `-j`
    pub pidfile: Option<String>,
    /// `-i`
    pub identifier: Option<String>,
    /// `-q`
    pub childlogdir: Option<String>,
    /// `-a`
    pub minfds: Option<String>,
    /// `--minprocs`
    pub minprocs: Option<String>,
    /// `--profile_options`
    pub profile_options: Option<String>,
}

/// What `load` needs from the outside world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// supervisord's environment (source of `%(ENV_X)s`).
    pub env: BTreeMap<String, String>,
    /// Directory relative paths are resolved against.
    pub cwd: PathBuf,
    /// `%(host_node_name)s`.
    pub host_node_name: String,
    /// supervisord's command-line options that override `[supervisord]` keys (`-n`, `-l`, `-u`, ...).
    pub overrides: SupervisordOverrides,
}

impl LoadOptions {
    /// From the running process: its environment, cwd and host name.
    pub fn from_process() -> Self {
        LoadOptions {
            env: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            host_node_name: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            overrides: SupervisordOverrides::default(),
        }
    }
}
