//! procd-config
