//! One command line through the shell: parsed, checked against the action table, run, and retried
//! once with credentials the user types when the server asks for them (HTTP 401). Sits above both
//! the [`Controller`] and the actions it runs, so neither needs the other's module.

use crate::cli::actions;
use crate::cli::controller::{Controller, Parsed, Raised, exit, parseline};
use crate::error::ClientError;

impl Controller {
    pub(crate) fn report(&mut self, raised: &Raised) {
        let line = format!(
            "error: {}: file: {} line: 0",
            raised.describe(),
            self.settings.progname
        );
        self.output(&line);
        self.exitstatus = exit::GENERIC;
    }

    /// Runs one command line. Returns true when the shell should stop (quit, exit, EOF).
    pub fn onecmd(&mut self, line: &str) -> bool {
        match parseline(line) {
            Parsed::Empty => false,
            Parsed::Unknown(line) => {
                self.unknown(&line);
                false
            }
            Parsed::Command { name, arg, line } => {
                if actions::is_action(&name) {
                    self.dispatch_with_auth(&name, &arg, &line)
                } else {
                    self.unknown(&line);
                    false
                }
            }
        }
    }

    fn unknown(&mut self, line: &str) {
        self.output(&format!("*** Unknown syntax: {line}"));
        self.exitstatus = exit::GENERIC;
    }

    fn dispatch_with_auth(&mut self, name: &str, arg: &str, line: &str) -> bool {
        match actions::dispatch(self, name, arg) {
            Ok(stop) => stop,
            Err(Raised::Client(ClientError::Status { status: 401, .. })) => {
                self.output("Server requires authentication");
                if self.settings.interactive {
                    let Some(user) = self.input.read_line_after(&mut self.out, "Username:") else {
                        self.report(&Raised::Eof);
                        return false;
                    };
                    self.out.flush();
                    let pass = self.input.read_password("Password:").unwrap_or_default();
                    self.output("");
                    self.settings.username = Some(user);
                    self.settings.password = Some(pass);
                    self.reset_client();
                    return self.onecmd(line);
                }
                self.exitstatus = exit::GENERIC;
                // supervisorctl runs the command a second time here; it fails the same way.
                match actions::dispatch(self, name, arg) {
                    Ok(stop) => stop,
                    Err(e) => {
                        self.report(&e);
                        false
                    }
                }
            }
            Err(e) => {
                self.report(&e);
                false
            }
        }
    }
}
