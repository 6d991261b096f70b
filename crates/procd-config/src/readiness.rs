//! procd's start-order extensions: `depends_on=`, `ready_check=`, `ready_timeout=`, `ready_interval=`
//! (docs/extensions.md). Values are parsed per process; names in `depends_on=` are resolved once every
//! group is known, and the whole graph is checked (unknown names, cycles, conditions that can never
//! hold), every problem reported with its file and line.

use std::collections::HashMap;
use std::time::Duration;

use procd_core::deps::{Condition, find_cycle};

use crate::ctx::Ctx;
use crate::ini::py_strip;
use crate::model::{AutoRestart, DependsOn, GroupConfig, ReadyCheck};
use crate::values::list_of_strings;

/// The option names, for the list of keys procd knows.
pub const KEYS: [&str; 4] = [
    "depends_on",
    "ready_check",
    "ready_timeout",
    "ready_interval",
];

/// `depends_on = db, cache:ready, migrate:completed, workers:*` -> (name, condition) pairs; a trailing
/// `:started`, `:ready` or `:completed` is the condition (default `started`).
pub fn depends_on(v: &str) -> Result<Vec<DependsOn>, String> {
    let mut out = Vec::new();
    for item in list_of_strings(v) {
        if item.is_empty() {
            continue;
        }
        let (name, condition) = match item.rsplit_once(':') {
            Some((name, c)) if Condition::parse(c).is_some() => (
                name.to_string(),
                Condition::parse(c).unwrap_or(Condition::Started),
            ),
            _ => (item.clone(), Condition::Started),
        };
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(format!("invalid depends_on entry {item:?}"));
        }
        out.push(DependsOn {
            name,
            condition,
            targets: Vec::new(),
        });
    }
    Ok(out)
}

/// `ready_check=` value.
pub fn ready_check(v: &str) -> Result<ReadyCheck, String> {
    let v = py_strip(v);
    let bad = |why: &str| {
        format!(
            "malformed ready_check {v:?}: {why} (expected tcp://HOST:PORT, http://HOST[:PORT]/PATH, \
             exec:COMMAND, log:REGEX or notify)"
        )
    };
    if v == "notify" {
        return Ok(ReadyCheck::Notify);
    }
    if let Some(rest) = v.strip_prefix("tcp://") {
        let (host, port) = host_port(rest, None).map_err(|m| bad(&m))?;
        return Ok(ReadyCheck::Tcp { host, port });
    }
    if let Some(rest) = v.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = host_port(authority, Some(80)).map_err(|m| bad(&m))?;
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the path contains white space"));
        }
        return Ok(ReadyCheck::Http {
            host,
            port,
            path: path.to_string(),
        });
    }
    if v.starts_with("https://") {
        return Err(bad("https is not supported"));
    }
    if let Some(command) = v.strip_prefix("exec:") {
        let argv = crate::shlex::split(command).map_err(|e| bad(&e))?;
        if argv.is_empty() {
            return Err(bad("the command is empty"));
        }
        return Ok(ReadyCheck::Exec {
            command: py_strip(command).to_string(),
            argv,
        });
    }
    if let Some(pattern) = v.strip_prefix("log:") {
        if pattern.is_empty() {
            return Err(bad("the pattern is empty"));
        }
        regex_lite::Regex::new(pattern).map_err(|e| bad(&format!("bad regex: {e}")))?;
        return Ok(ReadyCheck::Log {
            pattern: pattern.to_string(),
        });
    }
    Err(bad("unknown kind"))
}

fn host_port(s: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed [ in the host".to_string())?;
        (host, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err("the host is missing or invalid".into());
    }
    let port = match (port, default_port) {
        (Some(p), _) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| format!("port {p:?} is not in 1-65535"))?,
        (None, Some(d)) => d,
        (None, None) => return Err("the port is missing".into()),
    };
    Ok((host.to_lowercase(), port))
}

/// The liveness options, for the list of keys procd knows.
pub const LIVENESS_KEYS: [&str; 5] = [
    "liveness_check",
    "liveness_interval",
    "liveness_timeout",
    "liveness_failures",
    "liveness_action",
];

/// `liveness_check=` value: a tcp, http or exec check.
pub fn liveness_check(v: &str) -> Result<ReadyCheck, String> {
    let check = ready_check(v).map_err(|m| m.replacen("ready_check", "liveness_check", 1))?;
    match check {
        ReadyCheck::Tcp { .. } | ReadyCheck::Http { .. } | ReadyCheck::Exec { .. } => Ok(check),
        _ => Err(format!(
            "liveness_check {:?} must be tcp://HOST:PORT, http://HOST[:PORT]/PATH or exec:COMMAND",
            py_strip(v)
        )),
    }
}

/// `liveness_action=`: `restart`, `stop` or `log`.
pub fn liveness_action(v: &str) -> Result<crate::model::LivenessAction, String> {
    use crate::model::LivenessAction::*;
    match py_strip(v).to_ascii_lowercase().as_str() {
        "restart" => Ok(Restart),
        "stop" => Ok(Stop),
        "log" => Ok(Log),
        other => Err(format!(
            "liveness_action {other:?} is not one of restart, stop, log"
        )),
    }
}

/// Reads the liveness options of one process (`None` without `liveness_check=`); problems are recorded.
pub(crate) fn liveness(
    cx: &mut Ctx<'_>,
    section: &str,
    names: &crate::expand::Names,
) -> Option<crate::model::Liveness> {
    let interval = cx.typed(
        section,
        "liveness_interval",
        names,
        Duration::from_secs(10),
        duration,
    );
    let timeout = cx.typed(
        section,
        "liveness_timeout",
        names,
        Duration::from_secs(5),
        duration,
    );
    let failures = cx.typed(section, "liveness_failures", names, 3, |v| {
        crate::values::unsigned::<u32>(v).and_then(|n| {
            if n == 0 {
                Err("liveness_failures must be at least 1".to_string())
            } else {
                Ok(n)
            }
        })
    });
    let action = cx.typed(
        section,
        "liveness_action",
        names,
        crate::model::LivenessAction::Restart,
        liveness_action,
    );
    let check = match cx.get(section, "liveness_check", names) {
        Ok(Some(v)) => liveness_check(&v)
            .map_err(|m| cx.error(section, Some("liveness_check"), m))
            .ok()?,
        _ => return None,
    };
    Some(crate::model::Liveness {
        check,
        interval,
        timeout,
        failures,
        action,
    })
}

/// `ready_timeout=` / `ready_interval=`: seconds (`30`, `2.5`) or with a unit (`500ms`, `10s`, `2m`);
/// more than zero.
pub fn duration(v: &str) -> Result<Duration, String> {
    let v = py_strip(v);
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    let n: f64 = py_strip(num)
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n > 0.0)
        .ok_or_else(|| {
            format!("{v:?} is not a positive duration (seconds, or a number with ms, s or m)")
        })?;
    let d = Duration::from_secs_f64(n * scale);
    if d < Duration::from_millis(1) {
        return Err(format!("{v:?} is shorter than 1 ms"));
    }
    Ok(d)
}

/// Resolves every `depends_on=` name to process namespecs and checks the graph.
pub(crate) fn resolve(cx: &mut Ctx<'_>, groups: &mut [GroupConfig]) {
    // Every process with its position, for lookups and the cycle search.
    let mut all: Vec<(usize, usize)> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for p in 0..group.processes.len() {
            all.push((g, p));
        }
    }
    if all
        .iter()
        .all(|&(g, p)| groups[g].processes[p].depends_on.is_empty())
    {
        return;
    }
    let index: HashMap<(usize, usize), usize> =
        all.iter().enumerate().map(|(i, &gp)| (gp, i)).collect();
    let namespec = |g: usize, p: usize| groups[g].processes[p].namespec();
    let section_of = |cx: &Ctx<'_>, g: usize, p: usize| {
        let pn = &groups[g].processes[p].program_name;
        ["program", "fcgi-program", "eventlistener"]
            .iter()
            .map(|k| format!("{k}:{pn}"))
            .find(|s| cx.ini.has_section(s))
            .unwrap_or_else(|| format!("program:{pn}"))
    };
    let lookup = |name: &str| -> Vec<(usize, usize)> {
        let procs_of = |g: usize| (0..groups[g].processes.len()).map(move |p| (g, p));
        if let Some((gname, pname)) = name.split_once(':') {
            let Some(g) = groups.iter().position(|gr| gr.name == gname) else {
                return Vec::new();
            };
            if pname == "*" {
                return procs_of(g).collect();
            }
            return procs_of(g)
                .filter(|&(g, p)| groups[g].processes[p].name == pname)
                .collect();
        }
        let by_program: Vec<_> = all
            .iter()
            .copied()
            .filter(|&(g, p)| groups[g].processes[p].program_name == name)
            .collect();
        if !by_program.is_empty() {
            return by_program;
        }
        let by_process: Vec<_> = all
            .iter()
            .copied()
            .filter(|&(g, p)| groups[g].processes[p].name == name)
            .collect();
        if !by_process.is_empty() {
            return by_process;
        }
        groups
            .iter()
            .position(|gr| gr.name == name)
            .map(|g| procs_of(g).collect())
            .unwrap_or_default()
    };

    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
    let mut resolved: Vec<(usize, usize, Vec<DependsOn>)> = Vec::new();
    for (i, &(g, p)) in all.iter().enumerate() {
        let proc_ = &groups[g].processes[p];
        if proc_.depends_on.is_empty() {
            continue;
        }
        let section = section_of(cx, g, p);
        let mut deps = proc_.depends_on.clone();
        for d in &mut deps {
            let found = lookup(&d.name);
            if found.is_empty() {
                cx.error(
                    &section,
                    Some("depends_on"),
                    format!(
                        "depends_on names {}, which is not a program, process or group",
                        d.name
                    ),
                );
                continue;
            }
            for &(tg, tp) in &found {
                let target = &groups[tg].processes[tp];
                if d.condition == Condition::Completed && target.autorestart == AutoRestart::Always
                {
                    cx.error(
                        &section,
                        Some("depends_on"),
                        format!(
                            "depends_on {}:completed can never hold: {} has autorestart=true",
                            d.name,
                            namespec(tg, tp)
                        ),
                    );
                }
                if (tg, tp) == (g, p) {
                    cx.error(
                        &section,
                        Some("depends_on"),
                        format!("depends_on cycle: {0} -> {0}", namespec(g, p)),
                    );
                    continue;
                }
                edges[i].push(index[&(tg, tp)]);
                d.targets.push(namespec(tg, tp));
            }
        }
        resolved.push((g, p, deps));
    }
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle
            .iter()
            .map(|&n| namespec(all[n].0, all[n].1))
            .collect();
        let (g, p) = all[cycle[0]];
        let section = section_of(cx, g, p);
        cx.error(
            &section,
            Some("depends_on"),
            format!("depends_on cycle: {}", names.join(" -> ")),
        );
    }
    for (g, p, deps) in resolved {
        std::sync::Arc::make_mut(&mut groups[g].processes[p]).depends_on = deps;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_entries() {
        let got =
            depends_on("db, cache:ready, migrate:completed, workers:*, web:web_01, w:*:ready")
                .unwrap();
        let pairs: Vec<(&str, Condition)> =
            got.iter().map(|d| (d.name.as_str(), d.condition)).collect();
        assert_eq!(
            pairs,
            vec![
                ("db", Condition::Started),
                ("cache", Condition::Ready),
                ("migrate", Condition::Completed),
                ("workers:*", Condition::Started),
                ("web:web_01", Condition::Started),
                ("w:*", Condition::Ready),
            ]
        );
        assert_eq!(depends_on("").unwrap(), vec![]);
        assert!(depends_on(":ready").is_err());
        assert!(depends_on("a b").is_err());
    }

    #[test]
    fn ready_check_kinds() {
        let ok: &[(&str, ReadyCheck)] = &[
            ("notify", ReadyCheck::Notify),
            (
                "tcp://127.0.0.1:5432",
                ReadyCheck::Tcp {
                    host: "127.0.0.1".into(),
                    port: 5432,
                },
            ),
            (
                "tcp://[::1]:80",
                ReadyCheck::Tcp {
                    host: "::1".into(),
                    port: 80,
                },
            ),
            (
                "http://LocalHost:8080/healthz?x=1",
                ReadyCheck::Http {
                    host: "localhost".into(),
                    port: 8080,
                    path: "/healthz?x=1".into(),
                },
            ),
            (
                "http://localhost",
                ReadyCheck::Http {
                    host: "localhost".into(),
                    port: 80,
                    path: "/".into(),
                },
            ),
            (
                "exec:pg_isready -h 'my host'",
                ReadyCheck::Exec {
                    command: "pg_isready -h 'my host'".into(),
                    argv: vec!["pg_isready".into(), "-h".into(), "my host".into()],
                },
            ),
            (
                r"log:listening on \d+",
                ReadyCheck::Log {
                    pattern: r"listening on \d+".into(),
                },
            ),
        ];
        for (v, want) in ok {
            assert_eq!(ready_check(v).as_ref(), Ok(want), "{v}");
        }
        assert_eq!(
            ready_check("tcp://[::1]:80").unwrap().label(),
            "tcp://[::1]:80"
        );
        for bad in [
            "tcp://host",
            "tcp://:80",
            "tcp://h:0",
            "tcp://h:99999",
            "http://h:x/",
            "https://h/",
            "exec:",
            "exec:'unbalanced",
            "log:",
            "log:(",
            "notify=1",
            "udp://h:1",
            "",
        ] {
            let err = ready_check(bad).unwrap_err();
            assert!(err.starts_with("malformed ready_check"), "{bad}: {err}");
        }
    }

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        for (v, want) in [
            ("30", ms(30_000)),
            ("2.5", ms(2_500)),
            ("500ms", ms(500)),
            ("10s", ms(10_000)),
            ("2m", ms(120_000)),
            (" 1 ", ms(1_000)),
        ] {
            assert_eq!(duration(v), Ok(want), "{v}");
        }
        for bad in ["0", "-1", "x", "1h", "", "0.0001ms", "inf"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }
}
