//! procd's end-to-end compatibility proof: the same fixtures run under procd and under the reference
//! supervisord 4.3.0, driven by the real supervisorctl and by Python's xmlrpc.client, with the answers
//! compared after masking pids, times and temp paths.

mod common;
mod ctl;
mod deploy;
mod rpc;
mod security;
