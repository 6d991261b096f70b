//! procctl integration tests against the real supervisord 4.3.0: byte-for-byte comparisons with the real
//! supervisorctl, the interactive shell, log streaming, the extensions and the client library.

mod fixture;
mod golden;
mod library;
mod shell;
mod streams;
