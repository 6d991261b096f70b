//! procd daemon library
