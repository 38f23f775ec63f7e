//! Why a Landlock policy could not be applied. One line each, naming the field or the kernel
//! condition at fault.

use std::fmt;

#[derive(Debug)]
pub enum LandlockError {
    /// `disableBestEffort` is set and this kernel has no usable Landlock at all.
    Unavailable { reason: String },
    /// `disableBestEffort` is set and this kernel's ABI lacks some of the rights asked for.
    /// `missing` holds "field: right (ABI n)" entries.
    Unsupported {
        kernel_abi: i32,
        missing: Vec<String>,
    },
    /// A `pathBeneath` path cannot be opened inside the container.
    Path {
        field: String,
        path: String,
        source: std::io::Error,
    },
    /// `disableBestEffort` is set and a rule gives directory-only rights to a path that is not a
    /// directory (the kernel refuses them).
    NotADirectory {
        field: String,
        path: String,
        rights: Vec<&'static str>,
    },
    /// `landlock_restrict_self` said EPERM: the process has neither no_new_privs nor
    /// CAP_SYS_ADMIN in its user namespace.
    Conditions,
    /// Any other failure of the Landlock system calls.
    Kernel { step: String, message: String },
}

impl fmt::Display for LandlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LandlockError::Unavailable { reason } => {
                write!(f, "landlock: disableBestEffort is set but {reason}")
            }
            LandlockError::Unsupported { kernel_abi, missing } => write!(
                f,
                "landlock: disableBestEffort is set but this kernel (Landlock ABI {kernel_abi}) lacks {}",
                missing.join(", ")
            ),
            LandlockError::Path { field, path, source } => {
                write!(f, "landlock: {field}: cannot open {path} inside the container: {source}")
            }
            LandlockError::NotADirectory { field, path, rights } => write!(
                f,
                "landlock: {field}: {path} is not a directory, so {} cannot apply to it (disableBestEffort is set)",
                rights.join(", ")
            ),
            LandlockError::Conditions => write!(
                f,
                "landlock: the kernel refused to restrict the process (EPERM): Landlock needs \
                 no_new_privs (set process.noNewPrivileges to true) or CAP_SYS_ADMIN at the time \
                 the policy is applied"
            ),
            LandlockError::Kernel { step, message } => write!(f, "landlock: {step}: {message}"),
        }
    }
}

impl std::error::Error for LandlockError {}
