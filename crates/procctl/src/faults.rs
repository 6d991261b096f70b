//! supervisord fault codes as plain integers (the form they take inside result structs and `match`
//! patterns), taken from `procd_protocol::FaultCode`.

use procd_protocol::FaultCode;

pub const UNKNOWN_METHOD: i32 = FaultCode::UnknownMethod.code();
pub const INCORRECT_PARAMETERS: i32 = FaultCode::IncorrectParameters.code();
pub const BAD_ARGUMENTS: i32 = FaultCode::BadArguments.code();
pub const SIGNATURE_UNSUPPORTED: i32 = FaultCode::SignatureUnsupported.code();
pub const SHUTDOWN_STATE: i32 = FaultCode::ShutdownState.code();
pub const BAD_NAME: i32 = FaultCode::BadName.code();
pub const BAD_SIGNAL: i32 = FaultCode::BadSignal.code();
pub const NO_FILE: i32 = FaultCode::NoFile.code();
pub const NOT_EXECUTABLE: i32 = FaultCode::NotExecutable.code();
pub const FAILED: i32 = FaultCode::Failed.code();
pub const ABNORMAL_TERMINATION: i32 = FaultCode::AbnormalTermination.code();
pub const SPAWN_ERROR: i32 = FaultCode::SpawnError.code();
pub const ALREADY_STARTED: i32 = FaultCode::AlreadyStarted.code();
pub const NOT_RUNNING: i32 = FaultCode::NotRunning.code();
pub const SUCCESS: i32 = FaultCode::Success.code();
pub const ALREADY_ADDED: i32 = FaultCode::AlreadyAdded.code();
pub const STILL_RUNNING: i32 = FaultCode::StillRunning.code();
pub const CANT_REREAD: i32 = FaultCode::CantReread.code();
