//! `logfile=syslog` and `*_syslog=true`: lines to the local syslog daemon through libc's `syslog(3)`.

use std::ffi::CString;

use procd_core::Level;

use crate::logs::SyslogSink;

/// A syslog connection opened with `openlog(ident, LOG_PID, LOG_USER)`.
#[derive(Debug)]
pub struct Syslog {
    /// `openlog` keeps the pointer, so the string must live as long as the connection.
    _ident: CString,
}

impl Syslog {
    pub fn open(ident: &str) -> Self {
        let ident = CString::new(ident.replace('\0', "")).unwrap_or_default();
        // SAFETY: `ident` is a valid NUL-terminated string kept alive in the returned value for as long as
        // syslog may use it; openlog has no other preconditions.
        unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, libc::LOG_USER) };
        Syslog { _ident: ident }
    }
}

fn priority(level: Level) -> libc::c_int {
    match level {
        Level::Critical => libc::LOG_CRIT,
        Level::Error => libc::LOG_ERR,
        Level::Warn => libc::LOG_WARNING,
        Level::Info => libc::LOG_INFO,
        Level::Debug | Level::Trace | Level::Blather => libc::LOG_DEBUG,
    }
}

impl SyslogSink for Syslog {
    fn send(&mut self, level: Level, line: &str) {
        let Ok(msg) = CString::new(line.trim_end_matches('\n').replace('\0', "")) else {
            return;
        };
        // SAFETY: the format string is a static "%s" and `msg` a valid NUL-terminated string, so syslog
        // reads exactly one string argument.
        unsafe { libc::syslog(priority(level), c"%s".as_ptr(), msg.as_ptr()) };
    }
}
