//! Child and main log files.
