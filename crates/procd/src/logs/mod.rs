//! Child and main log files, with plain synchronous file I/O (the async pumps live in the supervisor).
//!
//! * [`rotating`]: an append-only log file that rotates by size like supervisord's handlers.
//! * [`read`]: supervisord's `readFile`/`tailFile` semantics for the read/tail RPCs.
//! * [`lines`]: `*_log_timestamp` / `*_log_format=json`: child output stamped or wrapped line by line.
//! * [`openfiles`]: a bounded set of open child log files, for a tight descriptor limit.
//! * [`mainlog`]: the main log (line format, level filter, file/syslog/stdout targets, reopen, clear).

pub mod lines;
pub mod mainlog;
pub mod openfiles;
pub mod read;
pub mod rotating;

pub use mainlog::{MainLog, MainTarget, SyslogSink, format_line};
pub use openfiles::{Closable, OpenFiles};
pub use read::{ReadError, Tail, decode_lossy, read_file, tail_file};
pub use rotating::{RotatingFile, WriteOutcome};
