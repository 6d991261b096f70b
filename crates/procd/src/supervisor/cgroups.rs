//! `kill_mode = cgroup` in the actor: each such process runs in its own cgroup v2 ([`sys::cgroup`]);
//! whatever it leaves behind is killed with `cgroup.kill`.
//!
//! * Start-up: the instance's root cgroup is created once, when a program asks for `kill_mode = cgroup`.
//!   Where cgroup v2 is not usable the reason is logged (ERROR) and becomes the spawn error of every such
//!   program, so it never runs without the isolation it asked for.
//! * Spawn: the child joins its cgroup before `execve`.
//! * Stop: the stop signal goes to the process (or its group, with `stopasgroup`) as usual; when the
//!   SIGKILL after `stopwaitsecs` is due, the whole cgroup gets `cgroup.kill`.
//! * Exit: when the main process has been reaped (stopped or exited on its own), anything left in its
//!   cgroup (daemonized grandchildren) is killed at once, so a stop leaves nothing behind and a restart
//!   never meets its predecessor's children. The process counts as stopped when its main process has been
//!   reaped; `cgroup.kill` delivers SIGKILL, which cannot be caught, to every member synchronously.

use std::os::fd::OwnedFd;

use procd_config::KillMode;
use procd_core::Level;

use super::{ProcId, Supervisor};
use crate::sys::cgroup::{self, CgroupRoot};

impl Supervisor {
    fn uses_cgroup(&self, id: ProcId) -> bool {
        self.procs
            .get(&id)
            .is_some_and(|p| p.config.kill_mode == Some(KillMode::Cgroup))
    }

    /// The instance's root cgroup, created on first use (the error is the spawn error).
    pub(super) fn cgroup_root(&mut self) -> Result<&CgroupRoot, String> {
        if self.cgroups.is_none() {
            let opts = &self.config.supervisord;
            let root = CgroupRoot::open(&opts.identifier, &opts.pidfile);
            if let Err(e) = &root {
                self.log(Level::Error, e);
            }
            self.cgroups = Some(root);
        }
        match self.cgroups.as_ref() {
            Some(Ok(root)) => Ok(root),
            Some(Err(e)) => Err(e.clone()),
            None => Err("kill_mode=cgroup: no cgroup".to_owned()),
        }
    }

    /// At start-up: sets up cgroup v2 if any program asks for it, so a problem is reported at once.
    pub(super) fn init_cgroups(&mut self) {
        let wanted = self
            .procs
            .values()
            .any(|p| p.config.kill_mode == Some(KillMode::Cgroup));
        if wanted {
            let _ = self.cgroup_root();
        }
    }

    /// For a spawn: the `cgroup.procs` file the child joins (`None` without `kill_mode = cgroup`).
    pub(super) fn cgroup_for_spawn(&mut self, id: ProcId) -> Result<Option<OwnedFd>, String> {
        if !self.uses_cgroup(id) {
            return Ok(None);
        }
        let Some(cfg) = self.procs.get(&id).map(|p| &p.config) else {
            return Ok(None);
        };
        let (group, name) = (cfg.group.clone(), cfg.name.clone());
        let root = self.cgroup_root()?;
        let dir = root.process(&group, &name);
        root.prepare(&group, &name)
            .map(Some)
            .map_err(|e| format!("kill_mode=cgroup: cannot use cgroup {}: {e}", dir.display()))
    }

    /// Kills everything left in a `kill_mode = cgroup` process's cgroup (after `stopwaitsecs`, and when
    /// its main process has been reaped).
    pub(super) fn kill_cgroup(&mut self, id: ProcId, why: &str) {
        if !self.uses_cgroup(id) {
            return;
        }
        let Some(cfg) = self.procs.get(&id).map(|p| &p.config) else {
            return;
        };
        let (group, name) = (cfg.group.clone(), cfg.name.clone());
        let Some(Ok(root)) = self.cgroups.as_ref() else {
            return;
        };
        let dir = root.process(&group, &name);
        if !cgroup::populated(&dir) {
            return;
        }
        let left = cgroup::pids(&dir);
        match cgroup::kill(&dir) {
            Ok(()) => self.log(
                Level::Info,
                format!(
                    "killed {} process(es) left in the cgroup of {name} {why}: {left:?}",
                    left.len()
                ),
            ),
            Err(e) => self.log(
                Level::Error,
                format!("could not kill the cgroup {}: {e}", dir.display()),
            ),
        }
    }

    /// At shutdown: removes the instance's empty cgroups (a crash leaves them for the next start to
    /// inspect).
    pub(super) fn remove_cgroups(&mut self) {
        let Some(Ok(root)) = self.cgroups.take() else {
            return;
        };
        for dir in root.process_cgroups() {
            cgroup::remove(&dir);
            if let Some(group) = dir.parent() {
                cgroup::remove(group);
            }
        }
        cgroup::remove(root.path());
    }
}
