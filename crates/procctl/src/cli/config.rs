//! Reading the `[supervisorctl]` section, through `procd-config` (search order, INI dialect, `%(here)s`
//! and `%(ENV_X)s` expansion, path normalization are all handled there).

use std::path::Path;

pub use procd_config::CtlConfig;

/// Loads the client config: the explicit file, else the first file of the search path, else defaults.
/// `Err` is the message supervisorctl prints after `Error: ` (the first problem found).
pub fn load_ctl(explicit: Option<&Path>, argv0: &Path, cwd: &Path) -> Result<CtlConfig, String> {
    procd_config::load_ctl(explicit, argv0, cwd).map_err(|e| match e.errors.first() {
        Some(first) => first.message.clone(),
        None => e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bare() {
        let d = tempfile::tempdir().expect("tempdir");
        let f = d.path().join("c.conf");
        std::fs::write(&f, "[supervisord]\n").expect("write");
        assert_eq!(
            load_ctl(Some(&f), Path::new("x"), d.path()),
            Err(".ini file does not include supervisorctl section".to_string())
        );
        std::fs::write(&f, "[supervisorctl]\nprompt=p\n").expect("write");
        assert_eq!(
            load_ctl(Some(&f), Path::new("x"), d.path()).map(|c| c.prompt),
            Ok("p".to_string())
        );
    }
}
