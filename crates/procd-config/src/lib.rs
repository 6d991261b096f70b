//! procd-config: supervisord 4.3.0's configuration dialect.
//!
//! Pipeline: [`ini`] (ConfigParser-compatible reader with file:line spans) →
//! `[include]` ([`pyglob`]) → [`expand`] (`%(name)s` formatting) → typed values
//! (`values`, `users`, `paths`, [`shlex`]) → [`model::Config`]. [`load`] reports every
//! problem at once; [`load_ctl`] reads only `[supervisorctl]` for the client.

#![warn(missing_docs)]

mod ctl;
mod ctx;
pub mod envfile;
pub mod error;
pub mod events;
pub mod expand;
pub mod ini;
mod json;
pub mod known;
mod lint;
mod load;
pub mod model;
mod options;
pub mod paths;
pub mod policies;
mod programs;
pub mod pyglob;
pub mod pyrepr;
mod ranking;
pub mod readiness;
mod sample;
pub mod shlex;
mod source;
pub mod users;
pub mod values;

pub use ctl::load_ctl;
pub use error::{ConfigError, ConfigErrors, Message};
pub use events::{ABSTRACT_EVENT_TYPES, EVENT_TYPES};
pub use json::print_config_json;
pub use lint::Lint;
pub use load::{LoadOptions, Loaded, SupervisordOverrides, load};
pub use model::*;
pub use paths::{config_search_paths, find_config_file, no_config_message};
pub use sample::SAMPLE_CONFIG;
