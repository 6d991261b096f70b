//! procd-protocol
