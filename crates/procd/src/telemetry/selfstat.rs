//! procd's own resource use from `/proc/self`, read at scrape time (Prometheus' standard `process_*`).

/// The `process_*` values; a field is `None` where `/proc` could not be read.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SelfStat {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub start_time_seconds: Option<f64>,
}

pub(super) fn read() -> SelfStat {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .unwrap_or(100) as f64;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .filter(|p| *p > 0)
        .unwrap_or(4096) as u64;
    let mut out = SelfStat::default();
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name, which is in parentheses and may contain spaces.
        if let Some((_, rest)) = stat.rsplit_once(") ") {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // rest[0] is field 3 (state): utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
            let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
            if let (Some(u), Some(s)) = (field(14), field(15)) {
                out.cpu_seconds = Some((u + s) as f64 / ticks);
            }
            out.virtual_bytes = field(23);
            out.resident_bytes = field(24).map(|p| p * page);
            if let (Some(start), Some(boot)) = (field(22), boot_time()) {
                out.start_time_seconds = Some(boot + start as f64 / ticks);
            }
        }
    }
    out.open_fds = open_fds();
    out.max_fds = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft);
    out
}

/// The number of open descriptors. Linux 6.2 and later give it as the size of `/proc/self/fd`, without
/// listing the directory (with 10,000 programs a listing was a sixth of a scrape); older kernels report
/// 0 there, and the directory is listed (less the descriptor that lists it).
fn open_fds() -> Option<u64> {
    match std::fs::metadata("/proc/self/fd") {
        Ok(m) if m.len() > 0 => Some(m.len()),
        _ => std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|d| d.count().saturating_sub(1) as u64),
    }
}

/// The system's boot time (`btime` in `/proc/stat`), in seconds since the epoch.
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let btime = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(btime as f64)
}
