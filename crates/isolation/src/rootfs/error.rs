//! The error of every rootfs step: what was being done, and the OS error if there was one.

use std::fmt;
use std::io;

#[derive(Debug)]
pub struct RootfsError {
    /// What failed, naming the path or config entry, e.g. `mounts[3] /proc: mount proc`.
    pub context: String,
    pub source: Option<io::Error>,
}

impl RootfsError {
    pub fn new(context: impl Into<String>) -> Self {
        RootfsError {
            context: context.into(),
            source: None,
        }
    }
    pub fn io(context: impl Into<String>, e: io::Error) -> Self {
        RootfsError {
            context: context.into(),
            source: Some(e),
        }
    }
    /// The errno, when the failure came from a syscall.
    pub fn errno(&self) -> Option<i32> {
        self.source.as_ref().and_then(|e| e.raw_os_error())
    }
    /// Prefix the context (used to name the config entry a lower step worked for).
    pub fn within(mut self, outer: impl fmt::Display) -> Self {
        self.context = format!("{outer}: {}", self.context);
        self
    }
}

impl fmt::Display for RootfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(e) => write!(f, "{}: {}", self.context, e),
            None => write!(f, "{}", self.context),
        }
    }
}

impl std::error::Error for RootfsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

pub type Result<T> = std::result::Result<T, RootfsError>;

/// `map_err` helper: `.map_err(ctx(|| format!(...)))`.
pub fn ctx<F: FnOnce() -> String>(f: F) -> impl FnOnce(io::Error) -> RootfsError {
    move |e| RootfsError::io(f(), e)
}
