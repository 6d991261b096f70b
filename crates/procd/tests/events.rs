//! End-to-end tests of procd's event system with real listeners: `supervisor.childutils` listeners,
//! the protocol's failure paths, superlance's memmon/httpok/crashmail, a shell listener that stops
//! procd, a differential run against supervisord 4.3.0, FastCGI sockets, and TICK timers that only
//! run while someone subscribes.
//!
//! Listeners record what they receive to files; every wait has a deadline.

mod common;
#[path = "events/diff.rs"]
mod diff;
#[path = "events/fcgi.rs"]
mod fcgi;
#[path = "events/protocol.rs"]
mod protocol;
#[path = "events/stdout.rs"]
mod stdout;
#[path = "events/superlance.rs"]
mod superlance;
#[path = "events/support.rs"]
mod support;
#[path = "events/ticks.rs"]
mod ticks;
