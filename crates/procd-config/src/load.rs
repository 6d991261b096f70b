//! `load`: reads the main file and its `[include]`s, then builds the typed [`Config`]:
//! `[supervisord]` (with command-line overrides), HTTP servers, rpcinterfaces, groups
//! (in `programs.rs`) and the optional `[supervisorctl]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::ctx::Ctx;
use crate::error::{ConfigError, ConfigErrors, Message};
use crate::expand::{self, ExpVal, Names};
use crate::ini::Ini;
use crate::model::*;
pub use crate::options::{LoadOptions, SupervisordOverrides};
use crate::source::{ini_errors, read_text};
use crate::{ctl, paths, programs, shlex, users, values};

/// A loaded config plus the messages supervisord would log about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The typed, validated configuration.
    pub config: Config,
    /// Warnings first, then infos (supervisord's order).
    pub messages: Vec<Message>,
    /// Likely mistakes supervisord accepts silently (unknown options and sections, commands that cannot
    /// be split): `procd --check` prints them and procd logs them as warnings at start.
    pub lints: Vec<crate::Lint>,
}

/// Loads and validates a supervisord config file.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, ConfigErrors> {
    let shown = path.to_path_buf();
    let abs = PathBuf::from(paths::abspath(&path.to_string_lossy(), &opts.cwd));
    let text = read_text(&abs, &shown)?;
    let mut ini = Ini::new();
    ini.read_str(&text, &abs).map_err(ini_errors)?;
    let mut cx = Ctx::new(ini, opts, abs.clone());
    read_includes(&mut cx)?;
    if !cx.ini.has_section("supervisord") {
        return Err(ConfigErrors::single(
            abs,
            ".ini file does not include supervisord section",
        ));
    }
    let lints = crate::lint::lint(&cx.ini);
    let supervisord = supervisord_options(&mut cx);
    let rpcinterfaces = rpcinterfaces(&mut cx);
    let mut groups = programs::process_groups(&mut cx);
    crate::readiness::resolve(&mut cx, &mut groups);
    let (inet_servers, unix_servers) = servers(&mut cx);
    let supervisorctl = if cx.ini.has_section("supervisorctl") {
        ctl::from_ini(&cx.ini, &cx.here, &opts.env, &opts.cwd).ok()
    } else {
        None
    };
    let default_url = unix_servers
        .first()
        .map(|u| format!("unix://{}", u.file.display()))
        .or_else(|| {
            inet_servers.first().map(|i| {
                let host = if i.host.is_empty() {
                    "localhost"
                } else {
                    i.host.as_str()
                };
                format!("http://{host}:{}", i.port)
            })
        });
    for g in &mut groups {
        for p in &mut g.processes {
            let p = Arc::make_mut(p);
            if p.serverurl.as_deref().is_none_or(str::is_empty) {
                p.serverurl = default_url.clone();
            }
        }
    }
    if !cx.errors.is_empty() {
        return Err(ConfigErrors {
            errors: cx.errors,
            lints,
        });
    }
    let mut messages: Vec<Message> = cx
        .warnings
        .into_iter()
        .map(|text| Message {
            level: LogLevel::Warn,
            text,
        })
        .collect();
    messages.extend(cx.infos.into_iter().map(|text| Message {
        level: LogLevel::Info,
        text,
    }));
    let config = Config {
        path: PathBuf::from(paths::normpath(&abs.to_string_lossy())),
        supervisord,
        unix_servers,
        inet_servers,
        supervisorctl,
        groups,
        rpcinterfaces,
    };
    Ok(Loaded {
        config,
        messages,
        lints,
    })
}

/// `[include] files=`: globbed relative to the main file's directory, each match read in
/// sorted order, `%(here)s` replaced per file. Included files cannot include further.
fn read_includes(cx: &mut Ctx<'_>) -> Result<(), ConfigErrors> {
    if !cx.ini.has_section("include") {
        return Ok(());
    }
    let here = cx.here.clone();
    cx.ini.expand_here(&here);
    let Some(files) = cx.raw("include", "files") else {
        return Err(ConfigErrors::single(
            cx.main_file.clone(),
            ".ini file has [include] section, but no files setting",
        ));
    };
    let mut names = cx.environ.clone();
    names.insert("here".into(), ExpVal::Str(here.clone()));
    names.insert(
        "host_node_name".into(),
        ExpVal::Str(cx.opts.host_node_name.clone()),
    );
    let files = expand::expand(&files, &names, "include.files").map_err(|m| {
        let span = cx.ini.get("include", "files").map(|v| v.span.clone());
        ConfigErrors {
            errors: vec![ConfigError {
                file: span
                    .as_ref()
                    .map_or_else(|| cx.main_file.clone(), |s| s.file.clone()),
                line: span.map(|s| s.line),
                section: Some("include".into()),
                option: Some("files".into()),
                message: m,
            }],
            lints: Vec::new(),
        }
    })?;
    for pattern in files
        .split(crate::ini::py_isspace)
        .filter(|s| !s.is_empty())
    {
        let pattern = paths::join(Path::new(&here), pattern);
        let matches = crate::pyglob::glob(&pattern);
        if matches.is_empty() {
            cx.warnings
                .push(format!("No file matches via include \"{pattern}\""));
            continue;
        }
        for filename in matches {
            cx.infos
                .push(format!("Included extra file \"{filename}\" during parsing"));
            let Ok(bytes) = std::fs::read(&filename) else {
                continue;
            };
            let text = String::from_utf8(bytes).map_err(|e| {
                ConfigErrors::single(
                    PathBuf::from(&filename),
                    format!("file is not valid UTF-8: {e}"),
                )
            })?;
            cx.ini
                .read_str(&text, Path::new(&filename))
                .map_err(ini_errors)?;
            let dir = paths::dirname(&paths::abspath(&filename, cx.cwd()));
            cx.ini.expand_here(&dir);
        }
    }
    Ok(())
}

/// Validates a command-line override like a config value, recording
/// `invalid value for -x '<v>': <msg>`.
fn override_value<T>(
    cx: &mut Ctx<'_>,
    flag: &str,
    raw: &Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let v = raw.as_ref()?;
    match parse(v) {
        Ok(t) => Some(t),
        Err(msg) => {
            cx.global_error(format!(
                "invalid value for {flag} {}: {msg}",
                crate::pyrepr::repr(v)
            ));
            None
        }
    }
}

fn supervisord_options(cx: &mut Ctx<'_>) -> SupervisordOptions {
    const S: &str = "supervisord";
    let here = cx.here_names();
    let cwd = cx.cwd().to_path_buf();
    let env = cx.env().clone();
    let ov = cx.opts.overrides.clone();
    let int_u64 = values::unsigned::<u64>;
    let minfds = cx.typed(S, "minfds", &here, 1024, int_u64);
    let minprocs = cx.typed(S, "minprocs", &here, 200, int_u64);
    let directory = cx.typed(S, "directory", &here, None, |v| {
        paths::existing_directory(v, &cwd, &env).map(Some)
    });
    let user = cx.get(S, "user", &here).ok().flatten();
    let umask = cx
        .typed_str(S, "umask", &here, "022", values::octal)
        .unwrap_or(0o22);
    let logfile = cx.typed_str(S, "logfile", &here, "supervisord.log", |v| {
        paths::existing_dirpath(v, &cwd, &env)
    });
    let logfile_maxbytes = cx
        .typed_str(S, "logfile_maxbytes", &here, "50MB", values::byte_size)
        .unwrap_or(50 << 20);
    let logfile_backups = cx.typed(S, "logfile_backups", &here, 10, values::unsigned::<u32>);
    let loglevel = cx
        .typed_str(S, "loglevel", &here, "info", values::log_level)
        .unwrap_or(LogLevel::Info);
    let pidfile = cx.typed_str(S, "pidfile", &here, "supervisord.pid", |v| {
        paths::existing_dirpath(v, &cwd, &env)
    });
    let identifier = cx
        .get(S, "identifier", &here)
        .ok()
        .flatten()
        .unwrap_or_else(|| "supervisor".into());
    let nodaemon = cx
        .typed_str(S, "nodaemon", &here, "false", values::boolean)
        .unwrap_or(false);
    let silent = cx
        .typed_str(S, "silent", &here, "false", values::boolean)
        .unwrap_or(false);
    let tempdir = paths::temp_dir(&env, &cwd);
    let childlogdir = cx.typed_str(S, "childlogdir", &here, &tempdir, |v| {
        paths::existing_directory(v, &cwd, &env)
    });
    let nocleanup = cx
        .typed_str(S, "nocleanup", &here, "false", values::boolean)
        .unwrap_or(false);
    let strip_ansi = cx
        .typed_str(S, "strip_ansi", &here, "false", values::boolean)
        .unwrap_or(false);
    let environment = supervisord_environment(cx);
    for (k, v) in &environment {
        cx.environ
            .insert(format!("ENV_{k}"), ExpVal::Str(v.clone()));
    }

    // Command-line flags win over the file (both are validated).
    let o_user = ov.user.clone();
    let o_umask = override_value(cx, "-m", &ov.umask, values::octal);
    let o_dir = override_value(cx, "-d", &ov.directory, |v| {
        paths::existing_directory(v, &cwd, &env)
    });
    let o_logfile = override_value(cx, "-l", &ov.logfile, |v| {
        paths::existing_dirpath(v, &cwd, &env)
    });
    let o_maxbytes = override_value(cx, "-y", &ov.logfile_maxbytes, values::byte_size);
    let o_backups = override_value(cx, "-z", &ov.logfile_backups, values::unsigned::<u32>);
    let o_level = override_value(cx, "-e", &ov.loglevel, values::log_level);
    let o_pidfile = override_value(cx, "-j", &ov.pidfile, |v| {
        paths::existing_dirpath(v, &cwd, &env)
    });
    let o_childlogdir = override_value(cx, "-q", &ov.childlogdir, |v| {
        paths::existing_directory(v, &cwd, &env)
    });
    let o_minfds = override_value(cx, "-a", &ov.minfds, int_u64);
    let o_minprocs = override_value(cx, "--minprocs", &ov.minprocs, int_u64);

    let user = match o_user.or(user) {
        Some(name) => match users::user_spec(&name) {
            Ok(u) => Some(u),
            Err(msg) => {
                cx.error(S, Some("user"), msg);
                None
            }
        },
        None => None,
    };
    let logfile = o_logfile
        .or(logfile)
        .unwrap_or_else(|| "supervisord.log".into());
    let logfile = if logfile == "syslog" {
        LogTarget::Syslog
    } else {
        LogTarget::Path(paths::normalize(&logfile, &cwd, &env))
    };
    let pidfile = o_pidfile
        .or(pidfile)
        .unwrap_or_else(|| "supervisord.pid".into());
    SupervisordOptions {
        logfile,
        logfile_maxbytes: o_maxbytes.unwrap_or(logfile_maxbytes),
        logfile_backups: o_backups.unwrap_or(logfile_backups),
        loglevel: o_level.unwrap_or(loglevel),
        pidfile: paths::normalize(&pidfile, &cwd, &env),
        umask: o_umask.unwrap_or(umask),
        nodaemon: ov.nodaemon || nodaemon,
        silent: ov.silent || silent,
        minfds: o_minfds.unwrap_or(minfds),
        minprocs: o_minprocs.unwrap_or(minprocs),
        nocleanup: ov.nocleanup || nocleanup,
        childlogdir: PathBuf::from(o_childlogdir.or(childlogdir).unwrap_or(tempdir)),
        user,
        directory: o_dir.or(directory).map(PathBuf::from),
        strip_ansi: ov.strip_ansi || strip_ansi,
        environment,
        identifier: ov.identifier.clone().unwrap_or(identifier),
        profile_options: ov.profile_options.as_deref().map(values::profile_options),
    }
}

/// `[supervisord] environment=`: supervisord 4.3.0 expands it twice (so `%%` breaks);
/// procd does the same but keeps the once-expanded text when the second pass fails.
fn supervisord_environment(cx: &mut Ctx<'_>) -> Vec<(String, String)> {
    const S: &str = "supervisord";
    let here = cx.here_names();
    let Ok(Some(once)) = cx.get(S, "environment", &here) else {
        return Vec::new();
    };
    let mut names: Names = cx.names(&here);
    names.insert(
        "host_node_name".into(),
        ExpVal::Str(cx.opts.host_node_name.clone()),
    );
    let twice = expand::expand(&once, &names, "environment").unwrap_or(once);
    match shlex::key_value_pairs(&twice) {
        Ok(pairs) => pairs,
        Err(msg) => {
            cx.error(S, Some("environment"), msg);
            Vec::new()
        }
    }
}

fn rpcinterfaces(cx: &mut Ctx<'_>) -> Vec<RpcInterfaceConfig> {
    const KEY: &str = "supervisor.rpcinterface_factory";
    let none = Names::new();
    let mut out = Vec::new();
    for section in cx.ini.sections() {
        let Some(name) = section.strip_prefix("rpcinterface:") else {
            continue;
        };
        let name = name.to_string();
        let factory = match cx.get(&section, KEY, &none) {
            Ok(Some(f)) => f,
            Ok(None) => {
                cx.error(
                    &section,
                    None,
                    format!("section [{section}] does not specify a {KEY}"),
                );
                continue;
            }
            Err(()) => continue,
        };
        let mut extras = BTreeMap::new();
        for key in cx.ini.options(&section) {
            if key != KEY
                && let Ok(Some(v)) = cx.get(&section, &key, &none)
            {
                extras.insert(key, v);
            }
        }
        if factory != MAIN_RPCINTERFACE_FACTORY {
            cx.warnings.push(format!(
                "[{section}]: rpcinterface factory {factory} cannot be loaded by procd; namespace '{name}' is not available"
            ));
        }
        out.push(RpcInterfaceConfig {
            name,
            factory,
            extras,
        });
    }
    out
}

/// `health_auth` (procd extension): whether the probe endpoints need the server's credentials.
fn health_auth(cx: &mut Ctx<'_>, section: &str) -> bool {
    let none = Names::new();
    match cx.get(section, "health_auth", &none) {
        Ok(Some(v)) => values::boolean(&v).unwrap_or_else(|m| {
            cx.error(section, Some("health_auth"), m);
            true
        }),
        _ => true,
    }
}

/// `username`/`password`: both or neither.
fn auth(cx: &mut Ctx<'_>, section: &str) -> (Option<String>, Option<String>) {
    let none = Names::new();
    let username = cx.get(section, "username", &none).ok().flatten();
    let password = cx.get(section, "password", &none).ok().flatten();
    if username.is_some() != password.is_some() {
        cx.error(
            section,
            None,
            format!(
                "Section [{section}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
            ),
        );
    }
    (username, password)
}

fn servers(cx: &mut Ctx<'_>) -> (Vec<InetServerConfig>, Vec<UnixServerConfig>) {
    let none = Names::new();
    let here = cx.here_names();
    let mut inet = Vec::new();
    let mut unix = Vec::new();
    let sections = cx.ini.sections();
    for section in sections
        .iter()
        .filter(|s| s.starts_with("inet_http_server"))
    {
        let (username, password) = auth(cx, section);
        let health_auth = health_auth(cx, section);
        match cx.get(section, "port", &none) {
            Ok(Some(port)) => match values::inet_address(&port) {
                Ok((host, port)) => inet.push(InetServerConfig {
                    section: section.clone(),
                    host,
                    port,
                    username,
                    password,
                    health_auth,
                }),
                Err(m) => cx.error(section, Some("port"), m),
            },
            Ok(None) => cx.error(
                section,
                None,
                format!("section [{section}] has no port value"),
            ),
            Err(()) => {}
        }
    }
    for section in sections
        .iter()
        .filter(|s| s.starts_with("unix_http_server"))
    {
        let file = match cx.get(section, "file", &here) {
            Ok(Some(f)) => Some(paths::normalize(
                crate::ini::py_strip(&f),
                cx.cwd(),
                cx.env(),
            )),
            Ok(None) => {
                cx.error(
                    section,
                    None,
                    format!("section [{section}] has no file value"),
                );
                None
            }
            Err(()) => None,
        };
        let (username, password) = auth(cx, section);
        let health_auth = health_auth(cx, section);
        let chown = match cx.get(section, "chown", &none) {
            Ok(Some(v)) => match users::user_group(&v) {
                Ok((u, g)) => Some((Some(u), g)),
                Err(_) => {
                    cx.error(
                        section,
                        Some("chown"),
                        format!("Invalid sockchown value {v}"),
                    );
                    None
                }
            },
            _ => None,
        };
        let chmod = match cx.get(section, "chmod", &none) {
            Ok(Some(v)) => values::octal(&v).unwrap_or_else(|_| {
                cx.error(section, Some("chmod"), format!("Invalid chmod value {v}"));
                0o700
            }),
            _ => 0o700,
        };
        if let Some(file) = file {
            unix.push(UnixServerConfig {
                section: section.clone(),
                file,
                chmod,
                chown,
                username,
                password,
                health_auth,
            });
        }
    }
    (inet, unix)
}
