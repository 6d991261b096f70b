//! Public API tests of `load`: typed values, defaults, overrides, messages and error
//! collection, on config files written to a temp dir.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use procd_config::*;
use proptest::prelude::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    fn opts(&self) -> LoadOptions {
        let env: BTreeMap<String, String> =
            [("HOME", "/home/t"), ("PATH", "/bin"), ("TMPDIR", "/tmp")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into();
        LoadOptions {
            env,
            cwd: self.path().to_path_buf(),
            host_node_name: "node1".into(),
            overrides: SupervisordOverrides::default(),
        }
    }

    #[track_caller]
    fn load(&self, text: &str) -> Loaded {
        let p = self.write("supervisord.conf", text);
        load(&p, &self.opts()).unwrap_or_else(|e| panic!("load failed:\n{e}"))
    }

    #[track_caller]
    fn errors(&self, text: &str) -> Vec<ConfigError> {
        let p = self.write("supervisord.conf", text);
        match load(&p, &self.opts()) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e.errors,
        }
    }
}

#[test]
fn defaults_of_supervisord_and_program() {
    let f = Fixture::new();
    let l = f.load("[supervisord]\n[program:cat]\ncommand=/bin/cat -n\n");
    let s = &l.config.supervisord;
    assert_eq!(s.logfile, LogTarget::Path(f.path().join("supervisord.log")));
    assert_eq!(s.pidfile, f.path().join("supervisord.pid"));
    assert_eq!(
        (s.logfile_maxbytes, s.logfile_backups, s.loglevel),
        (50 * 1024 * 1024, 10, LogLevel::Info)
    );
    assert_eq!((s.umask, s.minfds, s.minprocs), (0o22, 1024, 200));
    assert_eq!(s.childlogdir, PathBuf::from("/tmp"));
    assert_eq!(s.identifier, "supervisor");
    assert!(!s.nodaemon && !s.silent && !s.nocleanup && !s.strip_ansi);
    let g = &l.config.groups[0];
    assert_eq!(
        (g.name.as_str(), g.priority, &g.kind),
        ("cat", 999, &GroupKind::Program)
    );
    let p = &g.processes[0];
    assert_eq!(p.argv, vec!["/bin/cat", "-n"]);
    assert_eq!(p.namespec(), "cat");
    assert_eq!(
        (p.autostart, p.startsecs, p.startretries, p.autorestart),
        (true, 1, 3, AutoRestart::Unexpected)
    );
    assert_eq!(
        (p.exitcodes.clone(), p.stopsignal.number(), p.stopwaitsecs),
        (vec![0], 15, 10)
    );
    assert_eq!(p.stdout.file, LogTarget::Auto);
    assert_eq!(p.stderr.maxbytes, 50 * 1024 * 1024);
    assert_eq!(p.serverurl, None);
    assert!(l.messages.is_empty());
}

#[test]
fn collects_every_error_with_location() {
    let f = Fixture::new();
    let errs = f.errors(
        "[supervisord]\nloglevel=loud\n[program:a]\ncommand=/bin/cat\nstartsecs=abc\nautostart=maybe\n[program:b]\ncommand=/bin/echo %(nope)s\n",
    );
    let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 4, "{texts:#?}");
    assert!(
        texts[0]
            .ends_with("supervisord.conf:2: [supervisord] loglevel: bad logging level name 'loud'"),
        "{}",
        texts[0]
    );
    assert!(texts.iter().any(|t| {
        t.ends_with(":5: [program:a] startsecs: invalid literal for int() with base 10: 'abc'")
    }));
    assert!(
        texts
            .iter()
            .any(|t| t.ends_with(":6: [program:a] autostart: not a valid boolean value: 'maybe'"))
    );
    let e = errs
        .iter()
        .find(|e| e.section.as_deref() == Some("program:b"))
        .unwrap();
    assert_eq!(e.line, Some(8));
    assert!(e.message.starts_with("Format string '/bin/echo %(nope)s' for 'program:b.command' contains names ('nope') which cannot be expanded. Available names: ENV_HOME, ENV_PATH, ENV_TMPDIR, group_name, here, host_node_name, numprocs, process_num, program_name"), "{}", e.message);
}

#[test]
fn parse_errors_and_missing_sections() {
    let f = Fixture::new();
    let e = f.errors("[supervisord]\nbad line\nalso bad\n");
    assert_eq!(
        e.iter().map(|x| x.line).collect::<Vec<_>>(),
        vec![Some(2), Some(3)]
    );
    let e = f.errors("x=1\n");
    assert!(e[0].message.starts_with("File contains no section headers"));
    let e = f.errors("[program:x]\ncommand=a\n");
    assert_eq!(
        e[0].message,
        ".ini file does not include supervisord section"
    );
    let missing = load(&f.path().join("nope.conf"), &f.opts()).unwrap_err();
    assert_eq!(
        missing.errors[0].message,
        "could not find config file nope.conf".replace(
            "nope.conf",
            &f.path().join("nope.conf").display().to_string()
        )
    );
}

#[test]
fn numprocs_expansions_and_sorting() {
    let f = Fixture::new();
    let l = f.load(
        "[supervisord]\n[program:w]\ncommand=/bin/w %(process_num)d/%(numprocs)d %(ENV_X)s\nprocess_name=%(program_name)s_%(process_num)02d\nnumprocs=3\nnumprocs_start=8\nenvironment=X=\"x%(process_num)d\"\n",
    );
    let names: Vec<String> = l.config.groups[0]
        .processes
        .iter()
        .map(|p| p.namespec())
        .collect();
    assert_eq!(names, ["w:w_08", "w:w_09", "w:w_10"]);
    assert_eq!(l.config.groups[0].processes[2].command, "/bin/w 10/3 x10");
    assert_eq!(
        l.config.groups[0].processes[0].environment,
        vec![("X".to_string(), "x8".to_string())]
    );
}

#[test]
fn absurd_numprocs_is_an_error_with_its_location_not_a_million_processes() {
    let f = Fixture::new();
    let started = std::time::Instant::now();
    let errs = f.errors(
        "[supervisord]\n[program:w]\ncommand=/bin/w\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs=1000000\n",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    let text = errs[0].to_string();
    assert!(
        text.ends_with(
            "supervisord.conf:5: [program:w] numprocs: numprocs=1000000 is more than procd's limit \
             of 10000 processes per section (supervisord has no limit, but could not run that many \
             either)"
        ),
        "{text}"
    );
    // Rejected before any expansion (expanding took 13 s and 779 MB).
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The limit itself is allowed.
    let l = f.load(
        "[supervisord]\n[program:w]\ncommand=/bin/w\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs=10000\n",
    );
    assert_eq!(l.config.groups[0].processes.len(), 10_000);
}

#[test]
fn groups_listeners_and_fcgi() {
    let f = Fixture::new();
    let l = f.load(
        "[supervisord]\n[group:g]\nprograms=b,a\npriority=5\n[program:a]\ncommand=a\n[program:b]\ncommand=b\n\
         [eventlistener:l]\ncommand=l\nevents=tick_5,PROCESS_STATE\n\
         [fcgi-program:f]\ncommand=f\nsocket=tcp://127.0.0.1:9000\n",
    );
    let summary: Vec<(String, i32)> = l
        .config
        .groups
        .iter()
        .map(|g| (g.name.clone(), g.priority))
        .collect();
    assert_eq!(
        summary,
        [
            ("l".to_string(), -1),
            ("g".to_string(), 5),
            ("f".to_string(), 999)
        ]
    );
    match &l.config.groups[0].kind {
        GroupKind::EventListener(p) => {
            assert_eq!(p.events, ["TICK_5", "PROCESS_STATE"]);
            assert_eq!(
                (p.buffer_size, p.result_handler.as_str()),
                (10, "supervisor.dispatchers:default_handler")
            );
        }
        k => panic!("{k:?}"),
    }
    let g = &l.config.groups[1];
    assert_eq!(
        g.processes.iter().map(|p| p.namespec()).collect::<Vec<_>>(),
        ["g:b", "g:a"]
    );
    match &l.config.groups[2].kind {
        GroupKind::Fcgi(s) => {
            assert_eq!(s.url, "tcp://127.0.0.1:9000");
            assert_eq!(
                s.kind,
                FcgiSocketKind::Tcp {
                    host: "127.0.0.1".into(),
                    port: 9000
                }
            );
            assert_eq!(s.mode, None);
        }
        k => panic!("{k:?}"),
    }
    assert!(EVENT_TYPES.contains(&"PROCESS_GROUP_REMOVED") && EVENT_TYPES.len() == 27);
}

#[test]
fn servers_serverurl_rpc_and_ctl() {
    let f = Fixture::new();
    let l = f.load(
        "[inet_http_server]\nport=*:9001\n[inet_http_server:second]\nport=localhost:9002\nusername=u\npassword=p\n\
         [unix_http_server]\nfile=%(here)s/s.sock\nchown=root:root\n[supervisord]\n\
         [rpcinterface:supervisor]\nsupervisor.rpcinterface_factory=supervisor.rpcinterface:make_main_rpcinterface\n\
         [rpcinterface:twiddler]\nsupervisor.rpcinterface_factory=supervisor_twiddler.rpcinterface:make\nx=1\n\
         [supervisorctl]\nprompt=p\n[program:a]\ncommand=a\n[program:b]\ncommand=b\nserverurl=http://h:1\n",
    );
    let c = &l.config;
    assert_eq!(c.inet_servers.len(), 2);
    assert_eq!(
        (c.inet_servers[0].host.as_str(), c.inet_servers[0].port),
        ("", 9001)
    );
    assert_eq!(c.inet_servers[1].username.as_deref(), Some("u"));
    let sock = f.path().join("s.sock");
    assert_eq!(c.unix_servers[0].file, sock);
    assert_eq!(
        (c.unix_servers[0].chmod, c.unix_servers[0].chown),
        (0o700, Some((Some(0), Some(0))))
    );
    assert_eq!(
        c.groups[0].processes[0].serverurl,
        Some(format!("unix://{}", sock.display()))
    );
    assert_eq!(
        c.groups[1].processes[0].serverurl.as_deref(),
        Some("http://h:1")
    );
    assert_eq!(
        c.rpcinterfaces[1].extras.get("x").map(String::as_str),
        Some("1")
    );
    assert_eq!(l.messages.len(), 1);
    assert_eq!(l.messages[0].level, LogLevel::Warn);
    assert!(
        l.messages[0]
            .text
            .contains("supervisor_twiddler.rpcinterface:make")
    );
    assert_eq!(
        c.supervisorctl.as_ref().map(|s| s.prompt.as_str()),
        Some("p")
    );
    let json: serde_json::Value = serde_json::from_str(&print_config_json(c)).unwrap();
    assert_eq!(json["groups"][0]["processes"][0]["stdout_logfile"], "auto");
    assert_eq!(json["groups"][0]["processes"][0]["stopsignal"], 15);
    assert_eq!(json["groups"][0]["processes"][0]["process_prio"], 999);
}

#[test]
fn command_line_overrides_win_and_are_validated() {
    let f = Fixture::new();
    let p = f.write(
        "supervisord.conf",
        "[supervisord]\nloglevel=debug\numask=077\nlogfile=syslog\n",
    );
    let mut opts = f.opts();
    opts.overrides = SupervisordOverrides {
        nodaemon: true,
        loglevel: Some("warn".into()),
        umask: Some("002".into()),
        identifier: Some("me".into()),
        pidfile: Some("run.pid".into()),
        ..Default::default()
    };
    let s = load(&p, &opts).unwrap().config.supervisord;
    assert_eq!(
        (s.loglevel, s.umask, s.nodaemon, s.identifier.as_str()),
        (LogLevel::Warn, 0o2, true, "me")
    );
    assert_eq!(s.logfile, LogTarget::Syslog);
    assert_eq!(s.pidfile, f.path().join("run.pid"));
    opts.overrides.minfds = Some("lots".into());
    let e = load(&p, &opts).unwrap_err();
    assert_eq!(
        e.errors[0].message,
        "invalid value for -a 'lots': invalid literal for int() with base 10: 'lots'"
    );
}

#[test]
fn includes_report_messages() {
    let f = Fixture::new();
    f.write("conf.d/b.conf", "[program:b]\ncommand=%(here)s/b\n");
    f.write("conf.d/a.conf", "[program:a]\ncommand=a\n");
    let l = f.load("[supervisord]\n[include]\nfiles=conf.d/*.conf none/*.conf\n");
    let texts: Vec<String> = l
        .messages
        .iter()
        .map(|m| format!("{} {}", m.level.tag(), m.text))
        .collect();
    let d = f.path().display();
    assert_eq!(
        texts,
        [
            format!("WARN No file matches via include \"{d}/none/*.conf\""),
            format!("INFO Included extra file \"{d}/conf.d/a.conf\" during parsing"),
            format!("INFO Included extra file \"{d}/conf.d/b.conf\" during parsing"),
        ]
    );
    assert_eq!(
        l.config.groups[1].processes[0].command,
        format!("{d}/conf.d/b")
    );
}

#[test]
fn log_levels_have_tags_and_numbers() {
    let table = [
        (LogLevel::Critical, "CRIT", 50),
        (LogLevel::Error, "ERRO", 40),
        (LogLevel::Warn, "WARN", 30),
        (LogLevel::Info, "INFO", 20),
        (LogLevel::Debug, "DEBG", 10),
        (LogLevel::Trace, "TRAC", 5),
        (LogLevel::Blather, "BLAT", 3),
    ];
    for (l, tag, n) in table {
        assert_eq!((l.tag(), l.number()), (tag, n));
        assert_eq!(LogLevel::from_description(l.description()), Some(l));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn load_never_panics(body in "[\\[\\]a-z_:=%()0-9 ;#\n]{0,300}") {
        let f = Fixture::new();
        let p = f.write("supervisord.conf", &format!("[supervisord]\n[program:p]\n{body}"));
        let _ = load(&p, &f.opts());
    }
}

#[test]
fn large_config_loads() {
    let f = Fixture::new();
    let mut text = String::from("[supervisord]\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "[program:p{i}]\ncommand=/bin/sleep %(process_num)d\nprocess_name=%(program_name)s-%(process_num)d\nnumprocs=2\nenvironment=A=\"{i}\"\n"
        ));
    }
    let started = std::time::Instant::now();
    let l = f.load(&text);
    eprintln!("1000 programs loaded in {:?}", started.elapsed());
    assert_eq!(l.config.groups.len(), 1000);
    assert_eq!(
        l.config
            .groups
            .iter()
            .map(|g| g.processes.len())
            .sum::<usize>(),
        2000
    );
}

#[test]
fn policy_extension_keys() {
    let f = Fixture::new();
    let l = f.load(
        "[supervisord]\n[program:web]\ncommand=/bin/true\n\
         environment_file=/etc/default/web, -%(here)s/local.env\n\
         stdout_log_timestamp=rfc3339\nstdout_log_format=json\nstderr_log_timestamp=epoch\n\
         restart_delay=500ms\nrestart_max_delay=30s\nrestart_steps=5\nrestart_reset_after=1min\n\
         restart_forever=true\nkill_mode=cgroup\n\
         [program:grp]\ncommand=/bin/true\nkill_mode=group\n\
         [program:plain]\ncommand=/bin/true\nstopasgroup=true\nkill_mode=process\n",
    );
    let procs: Vec<&ProcessConfig> = l
        .config
        .groups
        .iter()
        .flat_map(|g| g.processes.iter().map(AsRef::as_ref))
        .collect();
    let web = procs.iter().find(|p| p.name == "web").unwrap();
    assert_eq!(
        web.environment_files,
        vec![
            EnvFile {
                path: "/etc/default/web".into(),
                optional: false
            },
            EnvFile {
                path: f.path().join("local.env"),
                optional: true
            },
        ]
    );
    assert_eq!(web.stdout.timestamp, Some(LogTimestamp::Rfc3339));
    assert_eq!(web.stdout.format, LogFormat::Json);
    assert_eq!(web.stderr.timestamp, Some(LogTimestamp::Epoch));
    assert_eq!(web.stderr.format, LogFormat::Text);
    let ms = std::time::Duration::from_millis;
    assert_eq!(
        web.restart,
        RestartBackoff {
            delay: Some(ms(500)),
            max_delay: Some(ms(30_000)),
            steps: 5,
            reset_after: Some(ms(60_000)),
            forever: true,
        }
    );
    assert_eq!(web.kill_mode, Some(KillMode::Cgroup));
    assert!(
        web.extra.is_empty(),
        "extension keys are known: {:?}",
        web.extra
    );
    let grp = procs.iter().find(|p| p.name == "grp").unwrap();
    assert!(grp.stopasgroup && grp.killasgroup);
    let plain = procs.iter().find(|p| p.name == "plain").unwrap();
    assert!(!plain.stopasgroup && !plain.killasgroup);
    assert_eq!(plain.restart, RestartBackoff::default());
    assert_eq!(plain.stdout.timestamp, None);
}

#[test]
fn policy_extension_errors_name_section_and_option() {
    let f = Fixture::new();
    let errors = f.errors(
        "[supervisord]\n[program:a]\ncommand=/bin/true\nenvironment_file=relative.env\n\
         stdout_log_timestamp=unix\nstderr_log_format=xml\nrestart_delay=soon\nkill_mode=mixed\n\
         [program:b]\ncommand=/bin/true\nrestart_delay=10\nrestart_max_delay=5\n\
         [program:c]\ncommand=/bin/true\nrestart_steps=3\n",
    );
    let got: Vec<(Option<usize>, Option<&str>, &str)> = errors
        .iter()
        .map(|e| (e.line, e.option.as_deref(), e.message.as_str()))
        .collect();
    for want in [
        (
            Some(4),
            Some("environment_file"),
            "environment_file 'relative.env' is not an absolute path",
        ),
        (
            Some(5),
            Some("stdout_log_timestamp"),
            "invalid log timestamp 'unix' (rfc3339, iso8601, epoch or none)",
        ),
        (
            Some(6),
            Some("stderr_log_format"),
            "invalid log format 'xml' (text or json)",
        ),
        (Some(7), Some("restart_delay"), "not a duration: 'soon'"),
        (
            Some(8),
            Some("kill_mode"),
            "invalid kill_mode 'mixed' (process, group or cgroup)",
        ),
        (
            Some(12),
            Some("restart_max_delay"),
            "restart_max_delay must not be less than restart_delay",
        ),
        (
            Some(15),
            Some("restart_steps"),
            "restart_steps needs restart_max_delay (the delay the steps grow to)",
        ),
    ] {
        assert!(got.contains(&want), "missing {want:?} in {got:?}");
    }
}
