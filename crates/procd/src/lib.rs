//! procd daemon library: everything with side effects lives here, in modules that own one concern each.

pub mod logs;
