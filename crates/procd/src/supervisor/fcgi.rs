//! FastCGI sockets: a `[fcgi-program:x]` group's processes share one listening socket as their fd 0,
//! created at the first spawn and closed when the last process holding it has been reaped.

use std::os::fd::OwnedFd;

use procd_core::Level;

use super::Supervisor;
use super::types::ProcId;
use crate::sys;

/// A FastCGI group's socket and how many of its processes hold it.
#[derive(Debug)]
pub(super) struct FcgiSocket {
    pub config: procd_config::FcgiSocketConfig,
    pub fd: Option<OwnedFd>,
    pub users: usize,
}

impl Supervisor {
    /// A FastCGI process takes a reference on its group's socket, creating it on first use.
    pub(super) fn acquire_fcgi(&mut self, id: ProcId) -> Result<Option<OwnedFd>, String> {
        let Some(group_name) = self.procs.get(&id).map(|p| p.config.group.clone()) else {
            return Ok(None);
        };
        let Some(group) = self.group_pos(&group_name).map(|i| &mut self.groups[i]) else {
            return Ok(None);
        };
        let Some(sock) = group.fcgi.as_mut() else {
            return Ok(None);
        };
        let already = self.procs.get(&id).is_some_and(|p| p.holds_fcgi);
        if sock.fd.is_none() {
            self.logger
                .log(Level::Info, &format!("Creating socket {}", sock.config.url));
            sock.fd = Some(sys::fcgi::create(&sock.config).map_err(|e| e.to_string())?);
        }
        let fd = match sock.fd.as_ref().map(OwnedFd::try_clone) {
            Some(Ok(fd)) => fd,
            Some(Err(e)) => {
                return Err(format!(
                    "Could not create FastCGI socket {}: {e}",
                    sock.config.url
                ));
            }
            None => return Ok(None),
        };
        if !already {
            sock.users += 1;
        }
        if let Some(proc) = self.procs.get_mut(&id) {
            proc.holds_fcgi = true;
        }
        Ok(Some(fd))
    }

    /// Drops a process's reference on its group's FastCGI socket; the last one closes it.
    pub(super) fn release_fcgi(&mut self, id: ProcId) {
        let Some(proc) = self.procs.get_mut(&id) else {
            return;
        };
        if !std::mem::take(&mut proc.holds_fcgi) {
            return;
        }
        let group_name = proc.config.group.clone();
        let Some(sock) = self
            .groups
            .iter_mut()
            .find(|g| g.name == group_name)
            .and_then(|g| g.fcgi.as_mut())
        else {
            return;
        };
        sock.users = sock.users.saturating_sub(1);
        if sock.users == 0 && sock.fd.take().is_some() {
            if let procd_config::FcgiSocketKind::Unix { path } = &sock.config.kind {
                let _ = std::fs::remove_file(path);
            }
            self.logger
                .log(Level::Info, &format!("Closing socket {}", sock.config.url));
        }
    }
}
