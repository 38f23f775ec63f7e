//! The error type of the steps that run between clone and exec: what was being done, and why
//! it failed. One line, so that it can cross the socketpair and end up in a runc-style log.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub msg: String,
}

impl Error {
    pub fn new(msg: impl Into<String>) -> Self {
        Error { msg: msg.into() }
    }
    /// `what: <strerror(errno)>` for the calling thread's last OS error.
    pub fn last_os(what: impl fmt::Display) -> Self {
        Error::new(format!("{what}: {}", std::io::Error::last_os_error()))
    }
    pub fn io(what: impl fmt::Display, e: std::io::Error) -> Self {
        Error::new(format!("{what}: {e}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Turn a -1 return into an [`Error`] naming the call.
pub fn check(ret: libc::c_int, what: impl FnOnce() -> String) -> Result<libc::c_int> {
    if ret < 0 {
        Err(Error::last_os(what()))
    } else {
        Ok(ret)
    }
}
