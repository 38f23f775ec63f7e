//! `linux.seccomp` → the seccomp compiler's input. (Owned by the seccomp work.)

use crate::error::{Result, TranslateError};

/// The compiler input for one container. Filled in by the seccomp work.
#[derive(Debug, Clone)]
pub struct SeccompPlan {}

/// Until the compiler lands, a seccomp section is refused: never run a container unconfined
/// that asked to be confined.
pub fn translate(_s: &oci_spec::runtime::LinuxSeccomp) -> Result<SeccompPlan> {
    Err(TranslateError::new("linux.seccomp", "seccomp is not supported by this build of nucleus"))
}
