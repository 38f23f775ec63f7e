//! Pure translation of an OCI `config.json` into a [`Plan`] that the `isolation` crate executes.
//!
//! Nothing in this crate makes a syscall: every check that can be made on the JSON alone is made
//! here, so bad input is refused before anything exists on the host.

pub mod error;
pub mod hooks;
pub mod landlock;
pub mod mounts;
pub mod namespaces;
pub mod plan;
pub mod process;
pub mod resources;
pub mod seccomp;
mod translate;

pub use error::TranslateError;
pub use plan::*;
pub use translate::{load_spec, parse_spec, translate};

/// The runtime-spec version nucleus implements.
pub const OCI_VERSION: &str = "1.2.0";
