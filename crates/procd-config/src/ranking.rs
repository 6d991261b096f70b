//! The configuration's groups and programs as procd-core's ordering and reload diff see them: named,
//! ranked by `priority=`, groups listing their programs. `reloadConfig` diffs the running groups'
//! configs against the new ones, and `getAllConfigInfo` lists the last-read configuration in
//! `procd_core::order::config_info_order`.

use std::sync::Arc;

use procd_core::{GroupLike, Named, Ranked};

use crate::model::{GroupConfig, ProcessConfig};

impl Named for GroupConfig {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Ranked for GroupConfig {
    fn priority(&self) -> i32 {
        self.priority
    }
}

impl GroupLike for GroupConfig {
    type Proc = Arc<ProcessConfig>;
    fn processes(&self) -> &[Arc<ProcessConfig>] {
        &self.processes
    }
}

impl Named for ProcessConfig {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Ranked for ProcessConfig {
    fn priority(&self) -> i32 {
        self.priority
    }
}
