//! supervisord fault codes as plain integers, the form in which they appear inside result structs.

pub const UNKNOWN_METHOD: i32 = 1;
pub const INCORRECT_PARAMETERS: i32 = 2;
pub const BAD_ARGUMENTS: i32 = 3;
pub const SIGNATURE_UNSUPPORTED: i32 = 4;
pub const SHUTDOWN_STATE: i32 = 6;
pub const BAD_NAME: i32 = 10;
pub const BAD_SIGNAL: i32 = 11;
pub const NO_FILE: i32 = 20;
pub const NOT_EXECUTABLE: i32 = 21;
pub const FAILED: i32 = 30;
pub const ABNORMAL_TERMINATION: i32 = 40;
pub const SPAWN_ERROR: i32 = 50;
pub const ALREADY_STARTED: i32 = 60;
pub const NOT_RUNNING: i32 = 70;
pub const SUCCESS: i32 = 80;
pub const ALREADY_ADDED: i32 = 90;
pub const STILL_RUNNING: i32 = 91;
pub const CANT_REREAD: i32 = 92;
