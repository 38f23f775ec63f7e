//! Landlock: the container's own filesystem, network and IPC restrictions (`process.landlock` or
//! the `run.oci.landlock` annotation, parsed by `spec_translate::landlock`).
//!
//! [`apply`] runs in the process about to exec the workload: the container init after
//! pivot_root (paths are opened inside the container's root) and right before seccomp and exec,
//! and every `exec`'d process after it has joined the container (for exec, apply each policy
//! `spec_translate::landlock::for_exec` returns, in order).
//!
//! Ordering matters, because the policy is in force from the moment it is applied:
//! - Everything the runtime itself still has to open or write must be done before: the exec
//!   FIFO, the console, `/proc/self/attr/*` (AppArmor/SELinux labels), `/proc/self/oom_score_adj`,
//!   sysctls. Fds opened before stay usable.
//! - The kernel needs no_new_privs or CAP_SYS_ADMIN at that moment. Apply it after setting
//!   no_new_privs, or (when `noNewPrivileges` is false) before dropping capabilities, as runc
//!   does for seccomp; otherwise [`LandlockError::Conditions`] explains it.
//! - It restricts the calling thread only (ABI < 8), so the process must be single-threaded.
//!
//! Best effort by default: rights the kernel's ABI lacks are dropped and listed in
//! [`LandlockReport::dropped`] for the caller to log. With `disableBestEffort` they are an error
//! instead. A failed `apply` leaves the process unrestricted (nothing is enforced until the last
//! step), and the caller fails the container.

mod abi;
mod enforce;
mod error;
mod fit;

#[cfg(test)]
mod tests;

pub use abi::{abi_version, supported, Status, KNOWN_ABI};
pub use error::LandlockError;
pub use spec_translate::landlock::LandlockPolicy;

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandlockReport {
    /// The kernel's Landlock ABI version (0: Landlock unusable).
    pub kernel_abi: i32,
    /// The ABI the policy was fitted to: min(kernel, [`KNOWN_ABI`]).
    pub abi_used: i32,
    /// True when a Landlock domain now restricts the process; false when best effort left
    /// nothing to enforce (no Landlock on this kernel, or only rights it lacks).
    pub enforced: bool,
    /// One line per right that best effort dropped, naming the field; for the caller to log.
    pub dropped: Vec<String>,
}

/// Restrict the calling process with `policy`. See the module documentation for when to call it.
pub fn apply(policy: &LandlockPolicy) -> Result<LandlockReport, LandlockError> {
    apply_up_to(policy, KNOWN_ABI)
}

/// [`apply`] as if the kernel knew at most ABI `cap`: the tests use it to exercise best effort
/// and `disableBestEffort` against rights this kernel does have.
pub(crate) fn apply_up_to(
    policy: &LandlockPolicy,
    cap: i32,
) -> Result<LandlockReport, LandlockError> {
    let status = Status::current();
    let kernel_abi = status.abi();
    let abi_used = kernel_abi.min(cap).min(KNOWN_ABI);
    let fitted = fit::fit(policy, abi_used, status.unavailable_reason())?;
    let mut dropped = fitted.dropped;
    let enforced = enforce::enforce(&fitted.policy, &mut dropped)?;
    Ok(LandlockReport {
        kernel_abi,
        abi_used,
        enforced,
        dropped,
    })
}
