//! procd-core
