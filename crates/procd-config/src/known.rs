//! Every section and option name procd knows: supervisord 4.3.0's, and procd's own extensions.
//!
//! `procd --check` and the start-up warnings (the `lint` module) report any other option or section as a
//! probable typo. **To add an extension key, add one line to [`EXTENSION_KEYS`]**: the key and the
//! sections it is read in. Nothing else needs to change for `--check` to accept it.

/// The kinds of section supervisord reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// `[supervisord]`: the daemon's own options.
    Supervisord,
    /// `[unix_http_server]` (supervisord accepts any name starting with it).
    UnixHttpServer,
    /// `[inet_http_server]` (any name starting with it).
    InetHttpServer,
    /// `[supervisorctl]`: the client's options.
    Supervisorctl,
    /// `[include]`: `files=` globs of further config files.
    Include,
    /// `[group:x]`
    Group,
    /// `[program:x]`
    Program,
    /// `[eventlistener:x]`
    EventListener,
    /// `[fcgi-program:x]`
    FcgiProgram,
    /// `[rpcinterface:x]`: every key besides the factory is passed to the factory, so none is unknown.
    RpcInterface,
    /// `[ctlplugin:x]`: the same for supervisorctl's plugins.
    CtlPlugin,
}

/// Program, event listener and FastCGI sections: the sections that define processes.
pub const PROCESS_SECTIONS: &[SectionKind] = &[
    SectionKind::Program,
    SectionKind::EventListener,
    SectionKind::FcgiProgram,
];

/// procd's extension keys, one line each: the key and the sections it is read in. supervisord ignores
/// them; `procd --check` accepts them. Document each in `docs/extensions.md`.
pub const EXTENSION_KEYS: &[(&str, &[SectionKind])] = &[
    // Dependencies and readiness (`readiness.rs`).
    ("depends_on", PROCESS_SECTIONS),
    ("ready_check", PROCESS_SECTIONS),
    ("ready_timeout", PROCESS_SECTIONS),
    ("ready_interval", PROCESS_SECTIONS),
    ("liveness_check", PROCESS_SECTIONS),
    ("liveness_interval", PROCESS_SECTIONS),
    ("liveness_timeout", PROCESS_SECTIONS),
    ("liveness_failures", PROCESS_SECTIONS),
    ("liveness_action", PROCESS_SECTIONS),
    // Service policies (`policies.rs`).
    ("environment_file", PROCESS_SECTIONS),
    ("stdout_log_timestamp", PROCESS_SECTIONS),
    ("stdout_log_format", PROCESS_SECTIONS),
    ("stderr_log_timestamp", PROCESS_SECTIONS),
    ("stderr_log_format", PROCESS_SECTIONS),
    ("restart_delay", PROCESS_SECTIONS),
    ("restart_max_delay", PROCESS_SECTIONS),
    ("restart_steps", PROCESS_SECTIONS),
    ("restart_reset_after", PROCESS_SECTIONS),
    ("restart_forever", PROCESS_SECTIONS),
    ("kill_mode", PROCESS_SECTIONS),
    // Probe endpoints (`/healthz`, `/readyz`, `/metrics`) without the server's credentials.
    (
        "health_auth",
        &[SectionKind::UnixHttpServer, SectionKind::InetHttpServer],
    ),
];

/// Section names that stand alone (no `:name` part), with their kind.
pub const PLAIN_SECTIONS: &[(&str, SectionKind)] = &[
    ("supervisord", SectionKind::Supervisord),
    ("unix_http_server", SectionKind::UnixHttpServer),
    ("inet_http_server", SectionKind::InetHttpServer),
    ("supervisorctl", SectionKind::Supervisorctl),
    ("include", SectionKind::Include),
];

/// Section prefixes that take a name (`[program:web]`), with their kind.
pub const NAMED_SECTIONS: &[(&str, SectionKind)] = &[
    ("group", SectionKind::Group),
    ("program", SectionKind::Program),
    ("eventlistener", SectionKind::EventListener),
    ("fcgi-program", SectionKind::FcgiProgram),
    ("rpcinterface", SectionKind::RpcInterface),
    ("ctlplugin", SectionKind::CtlPlugin),
];

/// Options supervisord reads in every process section.
pub const PROCESS_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "environment",
    "directory",
    "umask",
    "serverurl",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
];

/// Options only `[fcgi-program:x]` reads.
pub const FCGI_KEYS: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];

/// Options only `[eventlistener:x]` reads.
pub const LISTENER_KEYS: &[&str] = &["events", "buffer_size", "result_handler"];

const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "strip_ansi",
    "environment",
    "identifier",
    "directory",
    "user",
];

const SERVER_AUTH_KEYS: &[&str] = &["username", "password"];

impl SectionKind {
    /// The kind of a section by its name, `None` for a section supervisord ignores.
    pub fn of(section: &str) -> Option<SectionKind> {
        if let Some((prefix, _)) = section.split_once(':')
            && let Some(&(_, kind)) = NAMED_SECTIONS.iter().find(|(p, _)| *p == prefix)
        {
            return Some(kind);
        }
        if section.starts_with("unix_http_server") {
            return Some(SectionKind::UnixHttpServer);
        }
        if section.starts_with("inet_http_server") {
            return Some(SectionKind::InetHttpServer);
        }
        PLAIN_SECTIONS
            .iter()
            .find(|(name, _)| *name == section)
            .map(|&(_, kind)| kind)
    }

    /// Whether any option is accepted (the section passes its options on to Python code).
    pub fn takes_any_key(self) -> bool {
        matches!(self, SectionKind::RpcInterface | SectionKind::CtlPlugin)
    }

    /// The options supervisord 4.3.0 reads in this kind of section.
    pub fn supervisor_keys(self) -> Vec<&'static str> {
        match self {
            SectionKind::Supervisord => SUPERVISORD_KEYS.to_vec(),
            SectionKind::UnixHttpServer => {
                [&["file", "chmod", "chown"][..], SERVER_AUTH_KEYS].concat()
            }
            SectionKind::InetHttpServer => [&["port"][..], SERVER_AUTH_KEYS].concat(),
            SectionKind::Supervisorctl => vec![
                "serverurl",
                "username",
                "password",
                "prompt",
                "history_file",
            ],
            SectionKind::Include => vec!["files"],
            SectionKind::Group => vec!["programs", "priority"],
            SectionKind::Program => PROCESS_KEYS.to_vec(),
            SectionKind::EventListener => [PROCESS_KEYS, LISTENER_KEYS].concat(),
            SectionKind::FcgiProgram => [PROCESS_KEYS, FCGI_KEYS].concat(),
            SectionKind::RpcInterface => vec!["supervisor.rpcinterface_factory"],
            SectionKind::CtlPlugin => vec!["supervisor.ctl_factory"],
        }
    }

    /// supervisord's options plus procd's extensions for this kind of section.
    pub fn known_keys(self) -> Vec<&'static str> {
        let mut keys = self.supervisor_keys();
        keys.extend(
            EXTENSION_KEYS
                .iter()
                .filter(|(_, kinds)| kinds.contains(&self))
                .map(|&(key, _)| key),
        );
        keys
    }
}

/// Whether `key` is an option supervisord reads in a process section.
pub fn is_supervisor_process_key(key: &str) -> bool {
    PROCESS_KEYS.contains(&key) || FCGI_KEYS.contains(&key) || LISTENER_KEYS.contains(&key)
}

/// Whether `key` is an option procd reads in some process section: supervisord's or an extension
/// (anything else is kept as `extra` and warned about by `--check`).
pub fn is_process_key(key: &str) -> bool {
    is_supervisor_process_key(key)
        || EXTENSION_KEYS
            .iter()
            .any(|(k, kinds)| *k == key && kinds.iter().any(|kind| PROCESS_SECTIONS.contains(kind)))
}

/// The closest candidate to `word`, if it is close enough to be a likely typo: at most one edit for
/// words up to 4 characters, two for up to 10, three beyond (an edit is an insertion, deletion,
/// substitution or swap of neighbours).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = match word.chars().count() {
        0..=4 => 1,
        5..=10 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus transpositions of neighbours).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("autorestrat", "autorestart"), 1);
        assert_eq!(edit_distance("progam", "program"), 1);
        assert_eq!(edit_distance("comand", "command"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let keys = SectionKind::Program.known_keys();
        assert_eq!(
            suggest("autorestrat", keys.iter().copied()),
            Some("autorestart")
        );
        assert_eq!(
            suggest("stdout_logfile_maxbyte", keys.iter().copied()),
            Some("stdout_logfile_maxbytes")
        );
        assert_eq!(suggest("comand", keys.iter().copied()), Some("command"));
        assert_eq!(suggest("frobnicate", keys.iter().copied()), None);
        assert_eq!(suggest("usr", keys.iter().copied()), Some("user"));
        assert_eq!(suggest("x", keys.iter().copied()), None);
    }

    #[test]
    fn section_kinds() {
        assert_eq!(SectionKind::of("program:web"), Some(SectionKind::Program));
        assert_eq!(
            SectionKind::of("inet_http_server2"),
            Some(SectionKind::InetHttpServer)
        );
        assert_eq!(
            SectionKind::of("supervisord"),
            Some(SectionKind::Supervisord)
        );
        assert_eq!(SectionKind::of("progam:web"), None);
        assert_eq!(SectionKind::of("program"), None);
        assert!(SectionKind::FcgiProgram.known_keys().contains(&"socket"));
        assert!(!SectionKind::Program.known_keys().contains(&"socket"));
    }

    #[test]
    fn policy_keys_are_listed() {
        for key in crate::policies::POLICY_KEYS {
            assert!(
                EXTENSION_KEYS
                    .iter()
                    .any(|(k, kinds)| k == key && *kinds == PROCESS_SECTIONS),
                "{key} belongs in EXTENSION_KEYS"
            );
        }
    }

    #[test]
    fn documented_extension_keys_are_listed() {
        // Every `key` named in a `###` heading of docs/extensions.md is accepted by `--check`.
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/extensions.md"),
        )
        .expect("docs/extensions.md");
        let mut seen = 0;
        for heading in docs.lines().filter(|l| l.starts_with("### ")) {
            for (i, part) in heading.split('`').enumerate() {
                if i % 2 == 1 {
                    seen += 1;
                    assert!(
                        EXTENSION_KEYS.iter().any(|(k, _)| k == &part),
                        "docs/extensions.md documents `{part}`: add it to EXTENSION_KEYS"
                    );
                }
            }
        }
        assert!(seen > 0, "no keys found in docs/extensions.md");
    }

    #[test]
    fn extension_keys_are_not_supervisor_keys() {
        for (key, kinds) in EXTENSION_KEYS {
            for kind in *kinds {
                assert!(
                    !kind.supervisor_keys().contains(key),
                    "{key} is supervisord's own key in {kind:?}"
                );
            }
        }
    }
}
