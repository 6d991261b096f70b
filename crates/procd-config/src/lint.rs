//! Warnings about what supervisord silently accepts but is almost always a mistake: unknown options
//! (`autorestrat=`), unknown sections (`[progam:web]`, whose program then never exists) and commands
//! that cannot be split into arguments (an unbalanced quote, often made by a ` ;` that configparser
//! took as the start of a comment). Each names file and line and suggests the known name a typo is
//! closest to. supervisord starts with all of these, so they are warnings, not errors.

use crate::ini::{Ini, Span};
use crate::known::{NAMED_SECTIONS, PLAIN_SECTIONS, PROCESS_SECTIONS, SectionKind, suggest};

/// One warning, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// Where the unknown option or section header is.
    pub span: Span,
    /// The warning, with a suggestion when a known name is close (`unknown option comand (did you
    /// mean command?)` style).
    pub text: String,
}

impl std::fmt::Display for Lint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.span.file.display(),
            self.span.line,
            self.text
        )
    }
}

/// Every warning about the sections and options read so far, in file order of the sections.
pub(crate) fn lint(ini: &Ini) -> Vec<Lint> {
    let mut out = Vec::new();
    for section in ini.sections() {
        let Some(span) = ini.section_span(&section) else {
            continue;
        };
        let Some(kind) = SectionKind::of(&section) else {
            let hint = suggest_section(&section)
                .map(|s| format!(" (did you mean [{s}]?)"))
                .unwrap_or_default();
            out.push(Lint {
                span,
                text: format!("unknown section [{section}] is ignored{hint}"),
            });
            continue;
        };
        if !kind.takes_any_key() {
            let known = kind.known_keys();
            for (key, value) in ini.own_options(&section) {
                if known.contains(&key.as_str()) {
                    continue;
                }
                let hint = suggest(&key, known.iter().copied())
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                out.push(Lint {
                    span: value.span,
                    text: format!("[{section}] unknown option '{key}' is ignored{hint}"),
                });
            }
        }
        if PROCESS_SECTIONS.contains(&kind) {
            lint_command(ini, &section, &mut out);
        }
    }
    out.sort_by(|a, b| (&a.span.file, a.span.line).cmp(&(&b.span.file, b.span.line)));
    out
}

/// The closest known section name for an unknown one: `progam:web` → `program:web`.
fn suggest_section(section: &str) -> Option<String> {
    if let Some((prefix, name)) = section.split_once(':') {
        return suggest(prefix, NAMED_SECTIONS.iter().map(|(p, _)| *p))
            .map(|p| format!("{p}:{name}"));
    }
    if let Some(plain) = suggest(section, PLAIN_SECTIONS.iter().map(|(p, _)| *p)) {
        return Some(plain.to_string());
    }
    // `[program]` without a name.
    NAMED_SECTIONS
        .iter()
        .find(|(p, _)| *p == section)
        .map(|(p, _)| format!("{p}:NAME"))
}

/// `command=` that `shlex` cannot split (the process would fail to spawn with `can't parse command`),
/// or whose line lost quoted text to an inline comment.
fn lint_command(ini: &Ini, section: &str, out: &mut Vec<Lint>) {
    let Some(command) = ini.get(section, "command") else {
        return;
    };
    let comments = ini.inline_comments(section, "command");
    let cut = comments.iter().find(|c| c.text.starts_with(';'));
    let note = |c: &&crate::ini::InlineComment| {
        format!(
            "; note that ` {}` on line {} was read as a comment (a `;` or `#` after whitespace starts one)",
            c.text, c.span.line
        )
    };
    match crate::shlex::split(&command.value) {
        Err(msg) => out.push(Lint {
            span: command.span.clone(),
            text: format!(
                "[{section}] command cannot be split into arguments ({msg}): the program will fail to start{}",
                comments.first().map(note).unwrap_or_default()
            ),
        }),
        Ok(_) => {
            if let Some(c) = cut.filter(|c| c.text.contains(['\'', '"'])) {
                out.push(Lint {
                    span: c.span.clone(),
                    text: format!(
                        "[{section}] command is cut short by an inline comment: `{}` is ignored and the command is `{}`",
                        c.text, command.value
                    ),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn lints(text: &str) -> Vec<String> {
        let mut ini = Ini::new();
        ini.read_str(text, Path::new("/etc/s.conf")).expect("ini");
        lint(&ini).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn misspelled_keys_and_sections() {
        let got = lints(
            "[supervisord]\nlogfile=x\nlogfle=y\n\n[progam:web]\ncommand=a\n\n[program:api]\ncommand=b\nautorestrat=true\nfrobnicate=1\n[program]\n[supervisor]\n",
        );
        assert_eq!(
            got,
            [
                "/etc/s.conf:3: [supervisord] unknown option 'logfle' is ignored (did you mean 'logfile'?)",
                "/etc/s.conf:5: unknown section [progam:web] is ignored (did you mean [program:web]?)",
                "/etc/s.conf:10: [program:api] unknown option 'autorestrat' is ignored (did you mean 'autorestart'?)",
                "/etc/s.conf:11: [program:api] unknown option 'frobnicate' is ignored",
                "/etc/s.conf:12: unknown section [program] is ignored (did you mean [program:NAME]?)",
                "/etc/s.conf:13: unknown section [supervisor] is ignored (did you mean [supervisord]?)",
            ]
        );
    }

    #[test]
    fn known_names_are_quiet() {
        let got = lints(
            "[DEFAULT]\nanything=1\n[supervisord]\nloglevel=info\n[inet_http_server2]\nport=1\n\
             [rpcinterface:x]\nsupervisor.rpcinterface_factory=a:b\nretries=1\n\
             [fcgi-program:f]\ncommand=a\nsocket=tcp://x:1\n[eventlistener:e]\ncommand=a\nevents=TICK_5\n\
             [program:p]\ncommand=/bin/cat ; the program (relative uses PATH, can take args)\n",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn commands_that_cannot_be_split() {
        let got = lints(
            "[program:a]\ncommand=sh -c 'echo unbalanced\n\
             [program:b]\ncommand=sh -c \"sleep 1 ; echo b\"\n\
             [program:c]\ncommand=sh -c 'echo c' ; echo 'd'\n",
        );
        assert_eq!(
            got,
            [
                "/etc/s.conf:2: [program:a] command cannot be split into arguments (No closing quotation): the program will fail to start",
                "/etc/s.conf:4: [program:b] command cannot be split into arguments (No closing quotation): the program will fail to start; note that ` ; echo b\"` on line 4 was read as a comment (a `;` or `#` after whitespace starts one)",
                "/etc/s.conf:6: [program:c] command is cut short by an inline comment: `; echo 'd'` is ignored and the command is `sh -c 'echo c'`",
            ]
        );
    }
}
