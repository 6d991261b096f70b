//! Choosing processes by name the way `status` and `fg`-style commands do.

use crate::cli::controller::Controller;
use crate::types::ProcessInfo;
use procd_protocol::api::split_namespec;

/// Filters process infos by names as `status` does; prints the error lines for unknown names.
pub fn select<'a>(
    ctl: &mut Controller,
    all: &'a [ProcessInfo],
    names: &[&str],
    errors_to_stderr: bool,
) -> (Vec<&'a ProcessInfo>, bool) {
    if names.is_empty() || names.contains(&"all") {
        return (all.iter().collect(), false);
    }
    let mut matching = Vec::new();
    let mut bad = false;
    for name in names {
        let (group, process) = split_namespec(name);
        let (group, process) = (group.as_str(), process.as_deref());
        let before = matching.len();
        matching.extend(
            all.iter()
                .filter(|i| i.group == group && process.is_none_or(|p| i.name == p)),
        );
        if matching.len() == before {
            let msg = match process {
                None => format!("{group}: ERROR (no such group)"),
                Some(_) => format!("{name}: ERROR (no such process)"),
            };
            if errors_to_stderr {
                crate::cli::output::eprint_line(&msg);
            } else {
                ctl.output(&msg);
            }
            bad = true;
        }
    }
    (matching, bad)
}
