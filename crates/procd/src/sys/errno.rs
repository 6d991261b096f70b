//! Errno names as Python's `errno.errorcode` prints them (`ENOENT`), usable in a forked child.

use std::fmt::{self, Write};

use nix::errno::Errno;

/// Fixed-size, allocation-free text buffer, so the forked child can format messages safely.
pub(crate) struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    pub(crate) const fn new() -> Self {
        StackBuf {
            buf: [0; 64],
            len: 0,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        let end = self.len.checked_add(bytes.len()).ok_or(fmt::Error)?;
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// Writes the symbolic name of `errno` (or its number when unknown) into `out` without allocating.
pub(crate) fn write_errno_name(out: &mut StackBuf, errno: i32) {
    let e = Errno::from_raw(errno);
    // Both writes fit easily in 64 bytes; a failure would only shorten the message.
    let _ = if e == Errno::UnknownErrno {
        write!(out, "{errno}")
    } else {
        write!(out, "{e:?}")
    };
}

/// An I/O error in plain words with its errno name: `No such file or directory (ENOENT)` (std writes
/// `No such file or directory (os error 2)`).
pub fn describe_os_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => {
            let words = text
                .strip_suffix(&format!(" (os error {code})"))
                .unwrap_or(&text);
            format!("{words} ({})", errno_name(code))
        }
        None => text,
    }
}

/// The symbolic name of an errno value (`2` -> `ENOENT`), or its decimal number when unknown,
/// like Python's `errno.errorcode.get(code, code)`.
pub fn errno_name(errno: i32) -> String {
    let mut buf = StackBuf::new();
    write_errno_name(&mut buf, errno);
    String::from_utf8_lossy(buf.as_bytes()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::errno_name;

    #[test]
    fn names_match_python_errorcode() {
        for (code, name) in [
            (2, "ENOENT"),
            (13, "EACCES"),
            (8, "ENOEXEC"),
            (20, "ENOTDIR"),
            (1, "EPERM"),
        ] {
            assert_eq!(errno_name(code), name);
        }
        assert_eq!(errno_name(99_999), "99999");
    }
}
