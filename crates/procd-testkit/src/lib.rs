//! Test support shared by every procd test package (`procd`, `procctl`, `tests/`): one place for
//! the daemon guard that kills what it started, condition waits with deadlines, TCP ports, the
//! `/proc` process walker, an XML-RPC client, the main-log reader, output masking, where the binaries
//! and the reference supervisor 4.3.0 live, and the end-to-end config fixture.
//!
//! Rules it encodes: tests wait on conditions, never on fixed sleeps ([`wait_until`]); a port is
//! reserved race-free and read back from the kernel ([`port`]); nothing a test starts survives it
//! ([`DaemonProcess`]).

pub mod bins;
pub mod daemon;
pub mod e2e;
pub mod mainlog;
pub mod mask;
pub mod port;
pub mod procs;
pub mod rpc;
pub mod wait;

pub use daemon::{DaemonProcess, Teardown};
pub use procd_protocol::{Fault, MethodCall, Value};
pub use wait::wait_until;
