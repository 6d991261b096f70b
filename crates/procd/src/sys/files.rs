//! File operations std does not expose.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Renames `src` to `dst` only if `dst` does not exist (`renameat2(RENAME_NOREPLACE)`): fails with
/// `AlreadyExists` instead of replacing it. `Unsupported` where the kernel or filesystem lacks the flag
/// (before Linux 3.15; some network filesystems).
pub fn rename_noreplace(src: &Path, dst: &Path) -> io::Result<()> {
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
    };
    let (src, dst) = (c(src)?, c(dst)?);
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call; renameat2 only
    // reads them. The raw system call is used because not every libc (musl before 1.2.4) wraps it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            src.as_ptr(),
            libc::AT_FDCWD,
            dst.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS) => Err(io::Error::new(io::ErrorKind::Unsupported, err)),
        _ => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_only_onto_a_free_name() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"a").unwrap();
        rename_noreplace(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"a");
        std::fs::write(&a, b"new").unwrap();
        let err = rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"a", "the target is untouched");
        let missing = dir.path().join("missing");
        let err = rename_noreplace(&missing, &dir.path().join("c")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
