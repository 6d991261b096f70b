//! procd's end-to-end test package. The harness is `procd-testkit` (shared with the procd and procctl
//! test suites); this lib re-exports it under the names these tests use, and holds the fuzzer.

pub use procd_testkit::e2e::{
    CtlOutput, Daemon, Fixture, Kind, py_script, python, run_supervisorctl, run_with_timeout,
};
pub use procd_testkit::mask::{self, mask};
pub use procd_testkit::rpc::{Endpoint, HttpReply, build_request, http_request, xmlrpc};
pub use procd_testkit::{Fault, MethodCall, Value, wait_until};

pub mod fuzz;

/// Where things are: the workspace, procd's binary, the Python helper scripts.
pub mod env {
    pub use procd_testkit::bins::reference_python as python;
    pub use procd_testkit::bins::{procd_bin, workspace_root};
    pub use procd_testkit::e2e::py_script;
}
