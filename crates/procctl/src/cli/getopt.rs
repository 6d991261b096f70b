//! Command-line option parsing with the exact rules and error texts of Python's `getopt.getopt`, which
//! supervisorctl uses: options stop at the first non-option word, long options may be abbreviated to a
//! unique prefix, and a repeated option is a conflict.

/// Options the command line set (None when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliOptions {
    /// `-h` / `--help`: print the usage and exit 0.
    pub help: bool,
    /// `-c FILE` / `--configuration=FILE`: the config file whose `[supervisorctl]` section is read
    /// (default: the first of supervisorctl's search paths that exists).
    pub configuration: Option<String>,
    /// `-i` / `--interactive`: start the shell after running the command given.
    pub interactive: bool,
    /// `-s URL` / `--serverurl=URL`: overrides `serverurl=`.
    pub serverurl: Option<String>,
    /// `-u USER` / `--username=USER`: overrides `username=`.
    pub username: Option<String>,
    /// `-p PASS` / `--password=PASS`: overrides `password=`.
    pub password: Option<String>,
    /// `-r FILE` / `--history-file=FILE`: overrides `history_file=`.
    pub history_file: Option<String>,
    /// The action and its arguments (everything after the options).
    pub args: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Opt {
    Help,
    Config,
    Interactive,
    ServerUrl,
    Username,
    Password,
    History,
}

impl Opt {
    fn takes_value(self) -> bool {
        !matches!(self, Opt::Help | Opt::Interactive)
    }
}

const SHORT: &[(char, Opt)] = &[
    ('h', Opt::Help),
    ('?', Opt::Help),
    ('c', Opt::Config),
    ('i', Opt::Interactive),
    ('s', Opt::ServerUrl),
    ('u', Opt::Username),
    ('p', Opt::Password),
    ('r', Opt::History),
];

const LONG: &[(&str, Opt)] = &[
    ("help", Opt::Help),
    ("configuration", Opt::Config),
    ("interactive", Opt::Interactive),
    ("serverurl", Opt::ServerUrl),
    ("username", Opt::Username),
    ("password", Opt::Password),
    ("history_file", Opt::History),
];

/// Parses argv (without the program name). `Err` is the message for `Error: <msg>` / exit 2.
pub fn parse(args: &[String]) -> Result<CliOptions, String> {
    let mut seen: Vec<(String, Opt, Option<String>)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let (full, opt) = match_long(name)?;
            let value = if opt.takes_value() {
                match inline {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        Some(
                            args.get(i)
                                .cloned()
                                .ok_or_else(|| format!("option --{full} requires argument"))?,
                        )
                    }
                }
            } else {
                if inline.is_some() {
                    return Err(format!("option --{full} must not have an argument"));
                }
                None
            };
            seen.push((format!("--{full}"), opt, value));
            i += 1;
            continue;
        }
        if arg.starts_with('-') && arg.len() > 1 {
            let chars = arg[1..].char_indices();
            for (pos, c) in chars {
                let opt = SHORT
                    .iter()
                    .find(|(k, _)| *k == c)
                    .map(|(_, o)| *o)
                    .ok_or_else(|| format!("option -{c} not recognized"))?;
                if opt.takes_value() {
                    let rest = &arg[1 + pos + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i)
                            .cloned()
                            .ok_or_else(|| format!("option -{c} requires argument"))?
                    } else {
                        rest.to_string()
                    };
                    seen.push((format!("-{c}"), opt, Some(value)));
                    break;
                }
                seen.push((format!("-{c}"), opt, None));
            }
            i += 1;
            continue;
        }
        break;
    }
    let mut out = CliOptions {
        args: args[i.min(args.len())..].to_vec(),
        ..CliOptions::default()
    };
    for (flag, opt, value) in seen {
        if opt == Opt::Help {
            // Help is acted upon as soon as it is met, before any conflict check of later options.
            out.help = true;
            return Ok(out);
        }
        if opt == Opt::ServerUrl
            && let Some(v) = &value
        {
            check_url(&flag, v)?;
        }
        let slot_taken = match opt {
            Opt::Interactive => std::mem::replace(&mut out.interactive, true),
            Opt::Config => set(&mut out.configuration, value),
            Opt::ServerUrl => set(&mut out.serverurl, value),
            Opt::Username => set(&mut out.username, value),
            Opt::Password => set(&mut out.password, value),
            Opt::History => set(&mut out.history_file, value),
            Opt::Help => false,
        };
        if slot_taken {
            return Err(format!("conflicting command line option '{flag}'"));
        }
    }
    Ok(out)
}

fn set(slot: &mut Option<String>, value: Option<String>) -> bool {
    let taken = slot.is_some();
    *slot = value;
    taken
}

fn match_long(name: &str) -> Result<(&'static str, Opt), String> {
    if let Some((n, o)) = LONG.iter().find(|(n, _)| *n == name) {
        return Ok((n, *o));
    }
    let matches: Vec<_> = LONG.iter().filter(|(n, _)| n.starts_with(name)).collect();
    match matches.as_slice() {
        [] => Err(format!("option --{name} not recognized")),
        [(n, o)] => Ok((n, *o)),
        _ => Err(format!("option --{name} not a unique prefix")),
    }
}

/// supervisorctl accepts any value with a scheme and something after it as a URL.
fn check_url(flag: &str, value: &str) -> Result<(), String> {
    let ok = value.split_once(':').is_some_and(|(scheme, rest)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.trim_start_matches('/').is_empty()
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid value for {flag} '{value}': value '{value}' is not a URL"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<CliOptions, String> {
        parse(
            &args
                .iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn stops_at_first_word() {
        let o = p(&["-c", "f.conf", "-s", "unix:///x", "tail", "-f", "a"]).unwrap();
        assert_eq!(o.configuration.as_deref(), Some("f.conf"));
        assert_eq!(o.serverurl.as_deref(), Some("unix:///x"));
        assert_eq!(o.args, ["tail", "-f", "a"]);
        let o = p(&["-icf", "--", "-x"]).unwrap();
        assert!(o.interactive);
        assert_eq!(o.configuration.as_deref(), Some("f"));
        assert_eq!(o.args, ["-x"]);
    }

    #[test]
    fn long_options_and_prefixes() {
        let o = p(&[
            "--server=http://h:1",
            "--user",
            "bob",
            "--history_file=h",
            "status",
        ])
        .unwrap();
        assert_eq!(o.serverurl.as_deref(), Some("http://h:1"));
        assert_eq!(o.username.as_deref(), Some("bob"));
        assert_eq!(o.history_file.as_deref(), Some("h"));
        assert_eq!(p(&["--h"]), Err("option --h not a unique prefix".into()));
        assert_eq!(p(&["--nope"]), Err("option --nope not recognized".into()));
        assert_eq!(
            p(&["--interactive=1"]),
            Err("option --interactive must not have an argument".into())
        );
        assert_eq!(
            p(&["--password"]),
            Err("option --password requires argument".into())
        );
    }

    #[test]
    fn errors_match_getopt() {
        assert_eq!(p(&["-x"]), Err("option -x not recognized".into()));
        assert_eq!(p(&["-s"]), Err("option -s requires argument".into()));
        assert_eq!(
            p(&["-c", "a", "-c", "b"]),
            Err("conflicting command line option '-c'".into())
        );
        assert_eq!(
            p(&["-i", "-i"]),
            Err("conflicting command line option '-i'".into())
        );
        assert_eq!(
            p(&["-s", "foo"]),
            Err("invalid value for -s 'foo': value 'foo' is not a URL".into())
        );
        assert!(p(&["-h", "-x"]).is_err(), "getopt errors come before help");
        assert!(p(&["-?", "-c", "a", "-c", "b"]).unwrap().help);
    }
}
