//! procctl client library
