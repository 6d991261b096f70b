//! Reading a config file into text, and the reader's errors into config errors, with supervisord's
//! wording; shared by the full loader and by `[supervisorctl]`-only loading.

use std::path::Path;

use crate::error::{ConfigError, ConfigErrors};
use crate::ini::IniErrorKind;

/// Reads a file as text; errors use supervisord's wording.
pub(crate) fn read_text(path: &Path, shown: &Path) -> Result<String, ConfigErrors> {
    if !path.exists() {
        return Err(ConfigErrors::single(
            shown.to_path_buf(),
            format!("could not find config file {}", shown.display()),
        ));
    }
    let bytes = std::fs::read(path).map_err(|_| {
        ConfigErrors::single(
            shown.to_path_buf(),
            format!("could not read config file {}", shown.display()),
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        ConfigErrors::single(shown.to_path_buf(), format!("file is not valid UTF-8: {e}"))
    })
}

/// Converts reader errors to config errors.
pub(crate) fn ini_errors(errs: Vec<crate::ini::IniError>) -> ConfigErrors {
    ConfigErrors {
        errors: errs
            .into_iter()
            .map(|e| ConfigError {
                file: e.file.clone(),
                line: Some(e.line),
                section: None,
                option: None,
                message: match e.kind {
                    IniErrorKind::MissingSectionHeader => {
                        format!(
                            "File contains no section headers: {}",
                            crate::pyrepr::repr(&e.text)
                        )
                    }
                    IniErrorKind::Parsing => {
                        format!(
                            "Source contains parsing errors: {}",
                            crate::pyrepr::repr(&e.text)
                        )
                    }
                },
            })
            .collect(),
        lints: Vec::new(),
    }
}
