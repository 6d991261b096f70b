//! `stdout_syslog` / `stderr_syslog`: child output lines to the local syslog at `LOG_INFO`, as supervisord's
//! `SyslogHandler` sends them (one message per line, prefixed with the program name).
//!
//! No `openlog` here: the main log's [`super::syslog::Syslog`] may have set the ident; otherwise libc uses the
//! program's name and the `LOG_USER` facility, like Python's `syslog.syslog` without `openlog`.

use std::ffi::CString;

/// Sends one message at `LOG_INFO`. NUL bytes are dropped (C strings cannot carry them).
pub fn send_info(message: &str) {
    let Ok(msg) = CString::new(message.replace('\0', "")) else {
        return;
    };
    // SAFETY: a static "%s" format and one valid NUL-terminated string argument that outlives the call.
    unsafe {
        libc::syslog(
            libc::LOG_INFO | libc::LOG_USER,
            c"%s".as_ptr(),
            msg.as_ptr(),
        );
    };
}
