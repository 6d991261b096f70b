//! The typed supervisord API: the structs its methods return, its method table with signatures, parameter
//! checking, and namespec (`group:process`) handling.

mod call;
#[cfg(test)]
mod captured_tests;
mod config_info;
mod fields;
mod methods;
mod namespec;
mod params;
mod process_info;

pub use call::{Call, Stream, SupervisorCall};
pub use config_info::{ConfigInfo, StreamConfigInfo};
pub use fields::FromValueError;
pub use methods::{METHODS, MethodSpec, Param, ParamType, find_method};
pub use namespec::{make_namespec, split_namespec};
pub use params::{Params, check_call, parse_params};
pub use process_info::{ProcessInfo, ReloadResult, ResultStruct, StateInfo, TailChunk};

/// What `getAPIVersion` (and its alias `getVersion`) must return; supervisorctl refuses anything else.
pub const API_VERSION: &str = "3.0";

/// The supervisord release procd mimics, returned by `getSupervisorVersion`.
pub const SUPERVISOR_VERSION: &str = "4.3.0";

/// Clamps to the XML-RPC int range, as supervisord does for timestamps.
pub fn capped_int(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_int_clamps() {
        assert_eq!(capped_int(5), 5);
        assert_eq!(capped_int(-5), -5);
        assert_eq!(capped_int(i64::from(i32::MAX) + 1), i32::MAX);
        assert_eq!(capped_int(i64::MIN), i32::MIN);
    }
}
