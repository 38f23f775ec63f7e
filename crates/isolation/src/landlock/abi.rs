//! What this kernel's Landlock offers: the ABI version and the rights it knows.

use serde_json::json;
use spec_translate::landlock::{FsRight, NetRight, ScopeRight};

/// The newest ABI both the `landlock` crate and our rights table know. Rights are only ever
/// resolved against min(kernel ABI, this), so a newer kernel cannot change a policy's meaning.
pub const KNOWN_ABI: i32 = 10;

/// Landlock's state on this kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Usable, with this ABI version (as the kernel reports it).
    Available(i32),
    /// Built in but not enabled at boot (EOPNOTSUPP): add `landlock` to the `lsm=` boot option.
    Disabled,
    /// Not built into this kernel (ENOSYS).
    NotBuilt,
}

impl Status {
    pub fn current() -> Status {
        // SAFETY: the version query takes no attribute (NULL, size 0) and creates no fd.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                1u32, // LANDLOCK_CREATE_RULESET_VERSION
            )
        };
        if v >= 1 {
            return Status::Available(i32::try_from(v).unwrap_or(i32::MAX));
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EOPNOTSUPP) => Status::Disabled,
            _ => Status::NotBuilt,
        }
    }

    /// Kernel ABI version; 0 when Landlock is unusable.
    pub fn abi(self) -> i32 {
        match self {
            Status::Available(v) => v,
            _ => 0,
        }
    }

    /// Why Landlock cannot be used, for error messages; `None` when it can.
    pub fn unavailable_reason(self) -> Option<&'static str> {
        match self {
            Status::Available(_) => None,
            Status::Disabled => Some(
                "Landlock is built into this kernel but not enabled at boot (lsm= lacks landlock)",
            ),
            Status::NotBuilt => Some("this kernel has no Landlock support"),
        }
    }
}

/// The Landlock ABI version of the running kernel; 0 when Landlock is unusable.
pub fn abi_version() -> i32 {
    Status::current().abi()
}

/// For `nucleus features`: the ABI version and the rights, in the policy's own spelling, that
/// this kernel (and nucleus) can enforce.
pub fn supported() -> serde_json::Value {
    let status = Status::current();
    let abi = status.abi().min(KNOWN_ABI);
    let fs: Vec<&str> = FsRight::ALL
        .iter()
        .filter(|r| r.min_abi() <= abi)
        .map(|r| r.name())
        .collect();
    let net: Vec<&str> = NetRight::ALL
        .iter()
        .filter(|r| r.min_abi() <= abi)
        .map(|r| r.name())
        .collect();
    let scoped: Vec<&str> = ScopeRight::ALL
        .iter()
        .filter(|r| r.min_abi() <= abi)
        .map(|r| r.name())
        .collect();
    json!({
        "enabled": matches!(status, Status::Available(_)),
        "abi": status.abi(),
        "handledAccessFS": fs,
        "handledAccessNet": net,
        "scoped": scoped,
    })
}
