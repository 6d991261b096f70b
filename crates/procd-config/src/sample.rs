//! An annotated example configuration covering every section procd understands
//! (what `procd --sample-config` / `echo_supervisord_conf` print).

/// A commented sample `supervisord.conf`.
pub const SAMPLE_CONFIG: &str = r#"; procd sample configuration (supervisord.conf dialect, compatible with Supervisor 4.3)
;
; How this file is read:
;  - Lines starting with ';' or '#' are comments. A ';' or '#' later on a line starts a
;    comment only when a space or tab comes right before it: "a=b ;note" is "b",
;    "a=b;c" is "b;c". This also cuts commands: write "sh -c 'x;y'" without spaces.
;  - "key = value" and "key: value" both work; key names ignore case.
;  - A value continues on following lines that are indented further.
;  - Values are %-formatted: %(here)s is this file's directory, %(ENV_HOME)s an
;    environment variable, %(program_name)s, %(process_num)02d and friends exist in
;    program sections. A literal percent sign must be written %%.
;  - There is no shell expansion: "~" and "$HOME" stay as typed (except that "~" is
;    expanded in log file paths). Quotes are only removed inside environment=.
;  - Settings commented out below show their default value, except those whose note
;    starts with "example": they have no default (or a different one) and show what a
;    value looks like. Uncommenting any other line changes nothing.

; The control socket supervisorctl talks to.
[unix_http_server]
file=/tmp/supervisor.sock     ; path of the socket file
;chmod=0700                   ; permission bits of the socket file
;chown=nobody:nogroup         ; example; owner (and group) of the socket file
;username=user                ; example; require basic auth (username and password together)
;password=123                 ; example; plain text, or {SHA} followed by a hex SHA-1 digest

; An optional TCP listener (same API and web UI). Keep it on localhost or put auth on it.
;[inet_http_server]
;port=127.0.0.1:9001          ; example (required); "*:9001" or ":9001" = all interfaces
;username=user                ; example
;password=123                 ; example

; The daemon itself.
[supervisord]
logfile=/tmp/supervisord.log  ; main log; relative paths start from the launch directory
;logfile_maxbytes=50MB        ; rotate at this size (KB, MB, GB suffixes); 0 = never
;logfile_backups=10           ; rotated files to keep; 0 = none
;loglevel=info                ; critical, error, warn, info, debug, trace or blather
pidfile=/tmp/supervisord.pid  ; written after start-up, removed at exit
;nodaemon=false               ; true = stay in the foreground
;silent=false                 ; true = no log output on stdout in the foreground
;minfds=1024                  ; raise the open file limit to at least this
;minprocs=200                 ; raise the process limit to at least this
;umask=022                    ; applied when daemonizing
;user=supervisord             ; example; switch to this user after start-up (needs root)
;identifier=supervisor        ; name reported over the API
;directory=/tmp               ; example; change to this directory when daemonizing
;nocleanup=false              ; true = keep old AUTO child logs at start-up
;childlogdir=/tmp             ; example; where AUTO child logs go (default: $TMPDIR, else /tmp)
;environment=KEY="value"      ; example; extra environment for every program
;strip_ansi=false             ; true = remove terminal escape codes from child logs

; Needed by supervisorctl and the web UI: it exposes the supervisor.* API.
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

; Client settings.
[supervisorctl]
serverurl=unix:///tmp/supervisor.sock ; or http://127.0.0.1:9001 for the TCP listener
;username=chris               ; example; must match the server section
;password=123                 ; example
;prompt=supervisor            ; the shell prompt is "supervisor> "
;history_file=~/.sc_history   ; example; keep command history between sessions

; A program: one or more processes started from the same command.
;[program:theprogramname]
;command=/bin/cat              ; example (required); no shell: "sh -c '...'" for pipes
;process_name=%(program_name)s ; must contain %(process_num) when numprocs > 1
;numprocs=1                    ; how many copies to run
;numprocs_start=0              ; first value of %(process_num)
;directory=/tmp                ; example; working directory of the child
;umask=022                     ; example; umask of the child (default: inherited)
;priority=999                  ; lower numbers start first and stop last
;autostart=true                ; start together with the daemon
;startsecs=1                   ; must stay up this long to count as started
;startretries=3                ; failed starts allowed before giving up (FATAL)
;autorestart=unexpected        ; true, false, or unexpected (exit code not in exitcodes)
;exitcodes=0                   ; exit codes that count as expected
;stopsignal=TERM               ; TERM, HUP, INT, QUIT, KILL, USR1 or USR2 (or a number)
;stopwaitsecs=10               ; wait this long after stopsignal before SIGKILL
;stopasgroup=false             ; send stopsignal to the whole process group
;killasgroup=false             ; send SIGKILL to the whole process group (default: stopasgroup)
;user=chrism                   ; example; run the child as this user (daemon must be root)
;redirect_stderr=false         ; true = stderr goes to the stdout log
;stdout_logfile=AUTO           ; a path, AUTO (file in childlogdir) or NONE
;stdout_logfile_maxbytes=50MB  ; rotate at this size; 0 = never
;stdout_logfile_backups=10     ; rotated files to keep
;stdout_capture_maxbytes=0     ; >0 enables the capture-mode protocol
;stdout_events_enabled=false   ; emit PROCESS_LOG_STDOUT events
;stdout_syslog=false           ; also send output to syslog
;stderr_logfile=AUTO           ; same settings for stderr
;stderr_logfile_maxbytes=50MB
;stderr_logfile_backups=10
;stderr_capture_maxbytes=0
;stderr_events_enabled=false
;stderr_syslog=false
;environment=A="1",B="2"       ; example; extra environment for this program
;serverurl=AUTO                ; SUPERVISOR_SERVER_URL given to the child

; An event listener pool: takes every [program:x] option except redirect_stderr=true.
;[eventlistener:theeventlistenername]
;command=/bin/eventlistener    ; example (required); reads events on stdin
;events=PROCESS_STATE          ; example (required); event types, comma separated
;buffer_size=10                ; events queued while the listener is busy
;result_handler=supervisor.dispatchers:default_handler
;priority=100                  ; example; default: the pool -1 (starts first), its processes 999
;numprocs=1
;stdout_logfile=AUTO           ; receives the READY/RESULT protocol chatter

; A FastCGI program: the daemon opens the socket and hands it to every process on stdin.
;[fcgi-program:thefcgiprogramname]
;command=/usr/bin/php-cgi       ; example (required)
;socket=unix:///tmp/%(program_name)s.sock ; example (required); or tcp://localhost:9002
;socket_backlog=128            ; example; listen() backlog (default: the system maximum)
;socket_owner=chrism:wheel     ; example; unix sockets only
;socket_mode=0700              ; unix sockets only
;process_name=%(program_name)s_%(process_num)02d ; example
;numprocs=5                    ; example

; A group: several programs managed as one name ("group:program" in commands).
;[group:thegroupname]
;programs=progname1,progname2  ; example (required); [program:x] or [fcgi-program:x] names
;priority=999                  ; start and stop order of the group

; More files to read, relative to this file's directory; globs are allowed.
; Included files cannot include further files.
;[include]
;files = relative/directory/*.ini ; example (required)
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LoadOptions, load};

    #[test]
    fn sample_loads() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("supervisord.conf");
        std::fs::write(&path, SAMPLE_CONFIG).unwrap();
        let mut opts = LoadOptions::from_process();
        opts.cwd = d.path().to_path_buf();
        let loaded = load(&path, &opts).unwrap();
        let c = &loaded.config;
        assert_eq!(c.unix_servers.len(), 1);
        assert_eq!(c.rpcinterfaces.len(), 1);
        assert_eq!(
            c.supervisorctl.as_ref().map(|s| s.serverurl.as_str()),
            Some("unix:///tmp/supervisor.sock")
        );
        assert!(c.groups.is_empty());
        assert!(loaded.messages.is_empty());
    }

    /// The sample with every section header and the lines chosen by `keep` uncommented (inline notes
    /// stay), with example names that exist on this machine.
    fn uncommented(keep: impl Fn(&str) -> bool) -> String {
        let mut text = String::new();
        for line in SAMPLE_CONFIG.lines() {
            match line.strip_prefix(';') {
                Some(rest) if rest.starts_with('[') => text.push_str(rest),
                Some(rest)
                    if rest.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && keep(rest) =>
                {
                    text.push_str(rest);
                }
                _ => text.push_str(line),
            }
            text.push('\n');
        }
        let me = nix::unistd::User::from_uid(nix::unistd::getuid())
            .unwrap()
            .unwrap()
            .name;
        let group = nix::unistd::Group::from_gid(nix::unistd::getgid())
            .unwrap()
            .unwrap()
            .name;
        text.replace("user=supervisord", &format!("user={me}"))
            .replace("user=chrism", &format!("user={me}"))
            .replace(
                "socket_owner=chrism:wheel",
                &format!("socket_owner={me}:{group}"),
            )
            .replace("chown=nobody:nogroup", &format!("chown={me}"))
            .replace("relative/directory/*.ini", "conf.d/*.ini")
            .replace("programs=progname1,progname2", "programs=theprogramname")
    }

    /// The note after a setting (`key=value ; note`).
    fn note(line: &str) -> &str {
        line.split_once(" ;").map_or("", |(_, n)| n.trim())
    }

    #[test]
    fn commented_values_are_the_defaults() {
        let load_text = |text: String| {
            let d = tempfile::tempdir().unwrap();
            let path = d.path().join("supervisord.conf");
            std::fs::write(&path, text).unwrap();
            let mut opts = LoadOptions::from_process();
            opts.cwd = d.path().to_path_buf();
            // Fixed: the one default that depends on the environment.
            opts.env.insert("TMPDIR".into(), "/tmp".into());
            let mut c = load(&path, &opts).unwrap_or_else(|e| panic!("{e}")).config;
            c.path = std::path::PathBuf::new();
            c
        };
        let examples_only = load_text(uncommented(|l| note(l).starts_with("example")));
        let with_defaults = load_text(uncommented(|_| true));
        assert_eq!(
            examples_only, with_defaults,
            "a commented setting without an \"example\" note is not the default"
        );
    }

    #[test]
    fn sample_with_every_section_enabled_loads() {
        // Uncomment every section header and option line (keeping their inline notes).
        let mut text = String::new();
        for line in SAMPLE_CONFIG.lines() {
            let uncommented = line.strip_prefix(';');
            match uncommented {
                Some(rest)
                    if rest.starts_with('[')
                        || rest.chars().next().is_some_and(|c| c.is_ascii_lowercase()) =>
                {
                    text.push_str(rest);
                }
                _ => text.push_str(line),
            }
            text.push('\n');
        }
        let me = nix::unistd::User::from_uid(nix::unistd::getuid())
            .unwrap()
            .unwrap()
            .name;
        let group = nix::unistd::Group::from_gid(nix::unistd::getgid())
            .unwrap()
            .unwrap()
            .name;
        let text = text
            .replace("user=supervisord", &format!("user={me}"))
            .replace("user=chrism", &format!("user={me}"))
            .replace(
                "socket_owner=chrism:wheel",
                &format!("socket_owner={me}:{group}"),
            )
            .replace("chown=nobody:nogroup", &format!("chown={me}"))
            .replace("relative/directory/*.ini", "conf.d/*.ini")
            .replace("programs=progname1,progname2", "programs=theprogramname");
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("supervisord.conf");
        std::fs::write(&path, text).unwrap();
        let mut opts = LoadOptions::from_process();
        opts.cwd = d.path().to_path_buf();
        let loaded = load(&path, &opts).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = loaded
            .config
            .groups
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["theeventlistenername", "thefcgiprogramname", "thegroupname"]
        );
        assert_eq!(loaded.config.inet_servers.len(), 1);
        assert_eq!(loaded.config.groups[1].processes.len(), 5);
        assert!(
            loaded
                .messages
                .iter()
                .any(|m| m.text.starts_with("No file matches via include"))
        );
    }
}
