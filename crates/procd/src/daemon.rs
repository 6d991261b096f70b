//! procd's life: load the configuration, set up logging and servers, daemonize, run the supervisor actor,
//! reload on SIGHUP, shut down in order. supervisord's start-up order is kept so errors reach the terminal
//! before procd goes to the background.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use procd_config::{Config, LoadOptions, LogTarget, SupervisordOverrides};
use procd_core::Level;

use crate::cli::Cli;
use crate::http::{self, BoundServer, Credentials, Limits, ListenerKind, ServerConfig};
use crate::logger::Logger;
use crate::logs::{MainLog, MainTarget};
use crate::notify::{Notifier, NotifyEnv};
use crate::rpc::RpcBackend;
use crate::supervisor::{Exit, Loader, Supervisor};
use crate::sys;

/// Exit status for usage and configuration errors, as supervisord.
const EXIT_USAGE: i32 = 2;

/// Runs procd with parsed flags; returns the process exit status.
pub fn run(cli: Cli) -> i32 {
    let argv0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| OsString::from("procd"));
    let argv0 = PathBuf::from(argv0);
    if cli.supervisor_stdout_listener {
        return crate::listeners::supervisor_stdout(
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        );
    }
    if cli.manpage {
        return match crate::cli::manpage() {
            Ok(page) => {
                use std::io::Write as _;
                let _ = std::io::stdout().write_all(&page);
                0
            }
            Err(e) => {
                eprintln!("Error: {e}");
                1
            }
        };
    }
    // Read before daemonizing: WATCHDOG_PID names the process systemd started.
    let notify_env = NotifyEnv::from_process();
    if cli.sample_config {
        print!("{}", procd_config::SAMPLE_CONFIG);
        return 0;
    }
    if !cli.positional.is_empty() {
        let list: Vec<String> = cli.positional.iter().map(|a| format!("'{a}'")).collect();
        return usage(
            &argv0,
            &format!(
                "positional arguments are not supported: [{}]",
                list.join(", ")
            ),
        );
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let path = match &cli.configuration {
        Some(p) => cwd.join(p),
        None => match procd_config::find_config_file(&argv0, &cwd) {
            Some(p) => p,
            None => return usage(&argv0, &procd_config::no_config_message(&argv0)),
        },
    };
    let mut opts = LoadOptions::from_process();
    opts.overrides = overrides(&cli);
    let loader = make_loader(path.clone(), opts);
    let (config, messages) = match loader.load() {
        Ok(loaded) => loaded,
        Err(failure) => {
            for e in &failure.errors {
                eprintln!("Error: {e}");
            }
            // The likely cause of an error is often among them (`comand=` -> no command).
            for m in &failure.lints {
                eprintln!("{} {}", m.level.tag(), m.text);
            }
            eprintln!("For help, use {} -h", argv0.display());
            return EXIT_USAGE;
        }
    };
    if cli.check {
        for m in &messages {
            eprintln!("{} {}", m.level.tag(), m.text);
        }
        let warnings = messages
            .iter()
            .filter(|m| m.level == procd_config::LogLevel::Warn)
            .count();
        match warnings {
            0 => println!("{}: configuration is valid", path.display()),
            1 => println!("{}: configuration is valid, with 1 warning", path.display()),
            n => println!(
                "{}: configuration is valid, with {n} warnings",
                path.display()
            ),
        }
        return 0;
    }
    if cli.print_config {
        println!("{}", procd_config::print_config_json(&config));
        return 0;
    }
    match start(config, messages, loader, &notify_env) {
        Ok(code) => code,
        Err(msg) => usage(&argv0, &msg),
    }
}

fn usage(argv0: &Path, msg: &str) -> i32 {
    eprintln!("Error: {msg}");
    eprintln!("For help, use {} -h", argv0.display());
    EXIT_USAGE
}

fn overrides(cli: &Cli) -> SupervisordOverrides {
    SupervisordOverrides {
        nodaemon: cli.nodaemon,
        silent: cli.silent,
        nocleanup: cli.nocleanup,
        strip_ansi: cli.strip_ansi,
        user: cli.user.clone(),
        umask: cli.umask.clone(),
        directory: cli.directory.clone(),
        logfile: cli.logfile.clone(),
        logfile_maxbytes: cli.logfile_maxbytes.clone(),
        logfile_backups: cli.logfile_backups.clone(),
        loglevel: cli.loglevel.clone(),
        pidfile: cli.pidfile.clone(),
        identifier: cli.identifier.clone(),
        childlogdir: cli.childlogdir.clone(),
        minfds: cli.minfds.clone(),
        minprocs: cli.minprocs.clone(),
        profile_options: cli.profile_options.clone(),
    }
}

/// Loads the configuration file the same way at start, on `reloadConfig` and on reload.
struct ConfigLoader {
    path: PathBuf,
    opts: LoadOptions,
}

/// Why a configuration could not be loaded: its errors, and the warnings found on the way.
struct LoadFailure {
    errors: Vec<String>,
    lints: Vec<procd_config::Message>,
}

/// `procd --check`'s warnings (unknown options and sections, commands that cannot be split) as main-log
/// messages.
fn lint_messages(lints: &[procd_config::Lint]) -> Vec<procd_config::Message> {
    lints
        .iter()
        .map(|l| procd_config::Message {
            level: procd_config::LogLevel::Warn,
            text: l.to_string(),
        })
        .collect()
}

impl ConfigLoader {
    /// The configuration and the messages to log about it: procd's warnings about likely mistakes
    /// first, then supervisord's own warnings and infos.
    fn load(&self) -> Result<(Config, Vec<procd_config::Message>), LoadFailure> {
        match procd_config::load(&self.path, &self.opts) {
            Ok(l) => {
                let mut messages = lint_messages(&l.lints);
                messages.extend(l.messages);
                Ok((l.config, messages))
            }
            Err(e) => Err(LoadFailure {
                errors: e.errors.iter().map(ToString::to_string).collect(),
                lints: lint_messages(&e.lints),
            }),
        }
    }
}

fn make_loader(path: PathBuf, opts: LoadOptions) -> Arc<ConfigLoader> {
    Arc::new(ConfigLoader { path, opts })
}

/// Everything after a valid configuration: privileges, limits, logging, servers, daemonizing, the loop.
fn start(
    config: Config,
    messages: Vec<procd_config::Message>,
    loader: Arc<ConfigLoader>,
    notify_env: &NotifyEnv,
) -> Result<i32, String> {
    let opts = &config.supervisord;
    // Dropping privileges first, as supervisord does, so log files and sockets belong to the user.
    let uid_note = sys::daemon::setuid_daemon(opts.user.as_ref().map(|u| u.uid))?;
    let mut limit_notes = sys::rlimits::raise_limits(opts.minfds, opts.minprocs)?;
    let fd_need = crate::fdbudget::need(&config);
    let (raised, hard_nofile) = sys::rlimits::raise_nofile_for(fd_need.total);
    limit_notes.extend(raised);
    // What the soft limit now allows decides how the configuration is fitted into it.
    let limit = sys::rlimits::soft_nofile().unwrap_or(hard_nofile);
    let fd_plan = crate::fdbudget::plan(&fd_need, limit);
    let fd_plan_note = crate::fdbudget::plan_message(&fd_need, &fd_plan, limit);
    let fd_shortfall = crate::fdbudget::shortfall_message(&fd_need, &fd_plan, hard_nofile);

    let target = match &opts.logfile {
        LogTarget::Path(p) => Some(MainTarget::File {
            path: p.clone(),
            maxbytes: opts.logfile_maxbytes,
            backups: opts.logfile_backups,
        }),
        LogTarget::Syslog => Some(MainTarget::Syslog(Box::new(sys::syslog::Syslog::open(
            &opts.identifier,
        )))),
        LogTarget::None | LogTarget::Auto => None,
    };
    let mirror = opts.nodaemon && !opts.silent;
    let main_log =
        MainLog::new(opts.loglevel, target, mirror).map_err(|e| match &opts.logfile {
            LogTarget::Path(p) => format!(
                "could not open the main log {}: {}",
                p.display(),
                sys::describe_os_error(&e)
            ),
            _ => format!("could not open the main log: {e}"),
        })?;
    let logger = Logger::new(main_log);

    if let Some(note) = uid_note {
        log_note(&logger, note);
    }
    for note in limit_notes {
        logger.log(Level::Info, &note);
    }
    if let Some(msg) = fd_plan_note {
        logger.log(Level::Warn, &msg);
    }
    if let Some(msg) = fd_shortfall {
        logger.log(Level::Warn, &msg);
        eprintln!("procd: {msg}");
    }
    log_messages(&logger, &messages);
    if !opts.nocleanup {
        clear_auto_child_logs(&opts.childlogdir, &opts.identifier);
    }

    let servers = bind_servers(&config, &logger)?;

    if !opts.nodaemon {
        let notes = sys::daemon::daemonize(opts.directory.as_deref(), opts.umask)
            .map_err(|e| format!("could not daemonize: {e}"))?;
        for note in notes {
            log_note(&logger, note);
        }
    }
    let notifier = match Notifier::open(notify_env) {
        Ok(n) => n.map(Arc::new),
        Err(e) => {
            logger.log(
                Level::Warn,
                &format!("cannot use NOTIFY_SOCKET for systemd notifications: {e}"),
            );
            None
        }
    };
    if let Some(n) = &notifier
        && !opts.nodaemon
    {
        n.main_pid(std::process::id());
    }
    match sys::daemon::write_pidfile(&opts.pidfile) {
        Ok(_) => {}
        Err(msg) => logger.log(Level::Critical, &msg),
    }
    let pidfile = opts.pidfile.clone();

    sys::memory::fixed_mmap_threshold();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .thread_stack_size(512 * 1024)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the runtime: {e}"))?;
    let code = runtime.block_on(serve_and_supervise(
        config,
        servers,
        logger.clone(),
        loader,
        notifier,
        fd_plan,
    ));
    sys::daemon::remove_pidfile(&pidfile);
    Ok(code)
}

fn log_note(logger: &Logger, note: sys::daemon::DaemonNote) {
    match note {
        sys::daemon::DaemonNote::Info(t) => logger.log(Level::Info, &t),
        sys::daemon::DaemonNote::Critical(t) => logger.log(Level::Critical, &t),
    }
}

fn log_messages(logger: &Logger, messages: &[procd_config::Message]) {
    for m in messages {
        logger.log(m.level, &m.text);
    }
}

/// Removes AUTO child logs of an earlier run (`<name>-<channel>---<identifier>-*.log[.N]`).
fn clear_auto_child_logs(dir: &Path, identifier: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let marker = format!("---{identifier}-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_auto = name.contains(&marker)
            && (name.contains("-stdout---") || name.contains("-stderr---"))
            && (name.ends_with(".log")
                || name
                    .rsplit_once(".log.")
                    .is_some_and(|(_, n)| n.parse::<u32>().is_ok()));
        if is_auto {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn credentials(
    username: &Option<String>,
    password: &Option<String>,
    health_auth: bool,
) -> Option<Credentials> {
    match (username, password) {
        (Some(u), Some(p)) => Some(Credentials {
            username: u.clone(),
            password: p.clone(),
            health_auth,
        }),
        _ => None,
    }
}

/// Binds every `[unix_http_server]` and `[inet_http_server]` before daemonizing.
fn bind_servers(config: &Config, logger: &Logger) -> Result<Vec<BoundServer>, String> {
    let mut wanted = Vec::new();
    for s in &config.unix_servers {
        wanted.push(ServerConfig {
            kind: ListenerKind::Unix {
                path: s.file.clone(),
                chmod: s.chmod,
                chown: s.chown,
            },
            name: s.section.clone(),
            auth: credentials(&s.username, &s.password, s.health_auth),
        });
    }
    for s in &config.inet_servers {
        wanted.push(ServerConfig {
            kind: ListenerKind::Tcp {
                host: s.host.clone(),
                port: s.port,
            },
            name: s.section.clone(),
            auth: credentials(&s.username, &s.password, s.health_auth),
        });
    }
    let has_main_ns = config.rpcinterfaces.iter().any(|r| r.name == "supervisor");
    let mut bound = Vec::new();
    for w in wanted {
        let name = w.name.clone();
        let open = w.auth.is_none();
        bound.push(http::bind(w).map_err(|e| e.to_string())?);
        if has_main_ns {
            logger.log(Level::Info, "RPC interface 'supervisor' initialized");
        }
        if open {
            logger.log(
                Level::Critical,
                &format!("Server '{name}' running without any HTTP authentication checking"),
            );
        }
    }
    Ok(bound)
}

async fn serve_and_supervise(
    config: Config,
    servers: Vec<BoundServer>,
    logger: Logger,
    loader: Arc<ConfigLoader>,
    notifier: Option<Arc<Notifier>>,
    fd_plan: crate::fdbudget::Plan,
) -> i32 {
    let has_main_ns = config.rpcinterfaces.iter().any(|r| r.name == "supervisor");
    let reread = Arc::clone(&loader);
    let loader_fn: Loader = Arc::new(move || {
        reread
            .load()
            .map(|(c, _)| c)
            .map_err(|e| e.errors.join("\n"))
    });
    let mut sup = Supervisor::new(Arc::new(config), logger.clone(), loader_fn);
    sup.set_fd_plan(fd_plan);
    if let Some(n) = notifier {
        let handle = sup.handle();
        handle.telemetry().set_notifier(Arc::clone(&n));
        n.spawn_tasks(Arc::clone(handle.telemetry()), handle.clone());
    }
    let backend = RpcBackend::new(sup.handle(), logger.clone(), has_main_ns);
    let server = match http::serve(servers, Arc::new(backend), Limits::default()) {
        Ok(s) => s,
        Err(e) => {
            logger.log(Level::Critical, &format!("could not serve: {e}"));
            return 1;
        }
    };
    loop {
        match sup.run().await {
            Ok(Exit::Shutdown) => break,
            Ok(Exit::Restart) => match loader.load() {
                Ok((config, messages)) => {
                    log_messages(&logger, &messages);
                    // Like supervisord, which clears them each time its main loop starts: the stopped
                    // programs' AUTO logs go, and the re-added programs get fresh ones.
                    let opts = &config.supervisord;
                    if !opts.nocleanup {
                        clear_auto_child_logs(&opts.childlogdir, &opts.identifier);
                    }
                    sup.reset(Arc::new(config));
                }
                Err(failure) => {
                    for e in failure.errors {
                        logger.log(
                            Level::Critical,
                            &format!("could not reload the configuration: {e}"),
                        );
                    }
                    break;
                }
            },
            Err(e) => {
                logger.log(Level::Critical, &format!("supervisor loop failed: {e}"));
                break;
            }
        }
    }
    // Calls that reach the actor's queue after its loop ended would wait for an answer that never comes
    // (and hold the graceful HTTP shutdown until its deadline): dropping the actor drops them, and their
    // callers answer SHUTDOWN_STATE at once.
    drop(sup);
    server.shutdown(Duration::from_secs(5)).await;
    0
}
