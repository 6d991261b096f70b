//! Where the programs under test and the reference implementation live.
//!
//! The reference is supervisor 4.3.0 (and superlance) in a Python venv: `PROCD_TEST_PYTHON` (its
//! interpreter) and `PROCD_TEST_PYTHON_BIN_DIR` (its `bin` dir), else the workspace's `.venv`, which
//! `tests/run-all.sh` creates. Tests that need it are compiled in with each package's `reference`
//! feature (see the README: plain `cargo test` ignores them, `tests/run-all.sh` runs them), and fail
//! loudly here when the venv is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The procd binary: `$PROCD_BIN`, else `procd` in the target dir of the running test executable
/// (built with `cargo build -p procd` when missing).
pub fn procd_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("PROCD_BIN") {
            return PathBuf::from(bin);
        }
        // A test executable lives in <target>/<profile>/deps/.
        let bin = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("procd")))
            .unwrap_or_else(|| workspace_root().join("target/debug/procd"));
        if !bin.is_file() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "procd", "--bin", "procd"])
                .current_dir(workspace_root())
                .status();
            assert!(
                matches!(status, Ok(s) if s.success()),
                "could not build procd (cargo build -p procd): {status:?}"
            );
        }
        assert!(bin.is_file(), "procd binary not found at {}", bin.display());
        bin
    })
    .clone()
}

/// The reference venv's `bin` dir: `$PROCD_TEST_PYTHON_BIN_DIR`, else `<workspace>/.venv/bin`.
pub fn reference_bin_dir() -> PathBuf {
    std::env::var_os("PROCD_TEST_PYTHON_BIN_DIR")
        .map_or_else(|| workspace_root().join(".venv/bin"), PathBuf::from)
}

/// A program of the reference venv (`supervisord`, `supervisorctl`, `memmon`, ...); panics when it is
/// missing, naming what to do.
#[track_caller]
pub fn reference(name: &str) -> PathBuf {
    let p = reference_bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} not found: this test compares with the reference supervisor 4.3.0; run tests/run-all.sh \
         (it installs the venv) or set PROCD_TEST_PYTHON_BIN_DIR to a venv's bin dir",
        p.display()
    );
    p
}

/// The reference Python interpreter (with supervisor 4.3.0 importable): `$PROCD_TEST_PYTHON`, else the
/// venv's `python`.
#[track_caller]
pub fn reference_python() -> PathBuf {
    match std::env::var_os("PROCD_TEST_PYTHON") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "PROCD_TEST_PYTHON={} does not exist (run tests/run-all.sh)",
                p.display()
            );
            p
        }
        None => reference("python"),
    }
}

/// The reference supervisord 4.3.0.
#[track_caller]
pub fn supervisord() -> PathBuf {
    reference("supervisord")
}

/// The reference supervisorctl 4.3.0.
#[track_caller]
pub fn supervisorctl() -> PathBuf {
    reference("supervisorctl")
}
