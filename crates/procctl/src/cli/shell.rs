//! The interactive shell: `status` first, then a `<prompt>> ` loop. On a terminal it uses rustyline with
//! history and tab completion of actions, groups and process names; otherwise it reads lines from stdin,
//! writing the prompt to stdout as supervisorctl does.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History};
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use tokio::runtime::Runtime;

use crate::cli::controller::Controller;
use crate::client::Client;
use crate::types::ProcessInfo;

/// Actions offered by tab completion (supervisorctl's vocabulary).
const VOCAB: &[&str] = &[
    "help", "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
    "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
    "update", "version",
];

/// History entries kept (readline keeps every entry; rustyline needs a bound).
const HISTORY_SIZE: usize = 10_000;

/// Characters that end a word for completion (readline's defaults without `:`, `*` and `-`).
const DELIMS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

/// What completion needs from the controller: the client and the runtime to query process names.
struct CompletionState {
    client: Option<Arc<Client>>,
    rt: Arc<Runtime>,
    cache: Option<Vec<ProcessInfo>>,
}

impl CompletionState {
    fn infos(&mut self) -> Vec<ProcessInfo> {
        if self.cache.is_none()
            && let Some(client) = &self.client
        {
            self.cache = self.rt.block_on(client.get_all_process_info()).ok();
        }
        self.cache.clone().unwrap_or_default()
    }
}

/// Completion candidates for `text` (the word at the cursor) given the line before the cursor.
fn candidates(line: &str, text: &str, infos: &mut dyn FnMut() -> Vec<ProcessInfo>) -> Vec<String> {
    let actions = || {
        VOCAB
            .iter()
            .filter(|a| a.starts_with(text))
            .map(|a| format!("{a} "))
            .collect::<Vec<_>>()
    };
    if line.trim().is_empty() {
        return actions();
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() == 1 && !line.ends_with(' ') {
        return actions();
    }
    match words[0] {
        // supervisorctl tests `action in ('help')`, a substring test.
        a if "help".contains(a) => actions(),
        "add" | "remove" | "update" => {
            let mut groups: Vec<String> = Vec::new();
            for info in infos() {
                if !groups.contains(&info.group) {
                    groups.push(info.group);
                }
            }
            groups
                .into_iter()
                .filter(|g| g.starts_with(text))
                .map(|g| format!("{g} "))
                .collect()
        }
        "clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop" | "tail" => {
            let mut procs: Vec<String> = Vec::new();
            for info in infos() {
                if text.contains(':') || info.name != info.group {
                    procs.push(format!("{}:{}", info.group, info.name));
                    let star = format!("{}:*", info.group);
                    if !procs.contains(&star) {
                        procs.push(star);
                    }
                } else {
                    procs.push(info.name);
                }
            }
            procs
                .into_iter()
                .filter(|p| p.starts_with(text))
                .map(|p| format!("{p} "))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The shell completion scripts' entry point (see `extras::COMPLETE_ENV`): prints, one per line, what
/// the interactive shell would offer for `text` after the action words `words` (actions, or process and
/// group names asked from the running server). Nothing is printed when the server cannot be reached.
pub fn print_completions(ctl: &mut Controller, words: &[String], text: &str) {
    let mut line = words.join(" ");
    if !line.is_empty() {
        line.push(' ');
    }
    line.push_str(text);
    let client = ctl.client().ok();
    let rt = ctl.runtime();
    let mut infos = || {
        client
            .as_ref()
            .and_then(|c| rt.block_on(c.get_all_process_info()).ok())
            .unwrap_or_default()
    };
    for candidate in candidates(&line, text, &mut infos) {
        ctl.out.line(candidate.trim_end());
    }
}

struct ShellHelper {
    state: Arc<Mutex<CompletionState>>,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(|c| DELIMS.contains(c)).map_or(0, |i| i + 1);
        let text = &before[start..];
        let mut fetch = || self.state.lock().map(|mut s| s.infos()).unwrap_or_default();
        let mut seen = Vec::new();
        for c in candidates(before, text, &mut fetch) {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        Ok((
            start,
            seen.into_iter()
                .map(|c| Pair {
                    display: c.trim_end().to_string(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// Runs the shell until quit/exit/EOF/Ctrl-C. supervisorctl always exits 0 afterwards.
pub fn run(ctl: &mut Controller) {
    let stop = ctl.onecmd("status");
    if stop {
        return;
    }
    ctl.out.flush();
    if std::io::stdin().is_terminal() {
        run_terminal(ctl);
    } else {
        run_piped(ctl);
    }
    ctl.out.flush();
}

fn prompt(ctl: &Controller) -> String {
    format!("{}> ", ctl.settings.prompt)
}

fn run_piped(ctl: &mut Controller) {
    loop {
        let p = prompt(ctl);
        let line = ctl
            .input
            .read_line_after(&mut ctl.out, &p)
            .unwrap_or_else(|| "EOF".to_string());
        let stop = ctl.onecmd(&line);
        ctl.out.flush();
        if stop {
            return;
        }
    }
}

fn run_terminal(ctl: &mut Controller) {
    let state = Arc::new(Mutex::new(CompletionState {
        client: None,
        rt: ctl.runtime(),
        cache: None,
    }));
    // List all candidates on a second tab, as readline does, instead of cycling through them.
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(HISTORY_SIZE)
        .map(rustyline::config::Builder::build);
    let Ok(config) = config else {
        return run_piped(ctl);
    };
    let mut editor: Editor<ShellHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(_) => return run_piped(ctl),
    };
    editor.set_helper(Some(ShellHelper {
        state: Arc::clone(&state),
    }));
    let history = ctl.settings.history_file.clone();
    if let Some(h) = &history {
        let _ = editor.history_mut().load(std::path::Path::new(h));
    }
    loop {
        if let Ok(mut s) = state.lock() {
            s.client = ctl.client().ok();
            s.cache = None;
        }
        ctl.out.flush();
        match editor.readline(&prompt(ctl)) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let stop = ctl.onecmd(&line);
                ctl.out.flush();
                if stop {
                    break;
                }
            }
            Err(ReadlineError::Eof) => {
                ctl.onecmd("EOF");
                break;
            }
            Err(ReadlineError::Interrupted) => {
                ctl.output("");
                break;
            }
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = save_history(std::path::Path::new(h), editor.history().iter());
    }
}

/// Writes the history as GNU readline's `write_history_file` does: one entry per line, no header, so
/// the file stays usable by supervisorctl (rustyline's own format starts with `#V2` and escapes).
fn save_history<'a>(
    path: &std::path::Path,
    entries: impl Iterator<Item = &'a String>,
) -> std::io::Result<()> {
    let mut text = String::new();
    for entry in entries {
        text.push_str(entry);
        text.push('\n');
    }
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str) -> ProcessInfo {
        crate::types::test_info(group, name, procd_protocol::ProcessState::Stopped, "")
    }

    #[test]
    fn history_is_saved_as_plain_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h");
        let entries = ["status".to_string(), "tail -f a\\b".to_string()];
        save_history(&path, entries.iter()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "status\ntail -f a\\b\n"
        );
        let mut h = DefaultHistory::new();
        h.load(&path).unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            entries.iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn completes_like_supervisorctl() {
        let mut infos = || vec![info("good", "good"), info("grp", "a"), info("grp", "b")];
        assert_eq!(candidates("", "", &mut infos).len(), VOCAB.len());
        assert_eq!(
            candidates("st", "st", &mut infos),
            ["start ", "status ", "stop "]
        );
        assert_eq!(
            candidates("start ", "", &mut infos),
            ["good ", "grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(
            candidates("stop g", "g", &mut infos),
            ["good ", "grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(
            candidates("stop grp:", "grp:", &mut infos),
            ["grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(candidates("add ", "", &mut infos), ["good ", "grp "]);
        assert_eq!(
            candidates("help re", "re", &mut infos),
            ["reload ", "remove ", "reread ", "restart "]
        );
        assert!(candidates("version ", "", &mut infos).is_empty());
    }
}
