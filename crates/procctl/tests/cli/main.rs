//! procctl integration tests against the real supervisord 4.3.0 and procd: byte-for-byte comparisons with the real
//! supervisorctl, the interactive shell, log streaming, the extensions and the client library.

#[macro_use]
mod fixture;

mod alias;
mod check;
mod golden;
mod idle;
mod library;
mod pty;
mod readiness;
mod shell;
mod streams;
