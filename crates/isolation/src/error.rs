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
        Error::io(what, std::io::Error::last_os_error())
    }
    pub fn io(what: impl fmt::Display, e: std::io::Error) -> Self {
        Error::new(format!("{what}: {}", errno_text(&e)))
    }
}

/// An OS error worded as runc (Go's syscall package) words it: "no such file or directory",
/// not Rust's "No such file or directory (os error 2)". Clients match these words: Docker
/// turns a create error naming the command plus "no such file or directory" into exit 127,
/// "permission denied" into 126, and it compares case-sensitively.
pub fn errno_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let Some(code) = e.raw_os_error() else {
        return text;
    };
    let bare = text
        .strip_suffix(&format!(" (os error {code})"))
        .unwrap_or(&text);
    let mut chars = bare.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => bare.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_like_go() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(errno_text(&e), "no such file or directory");
        let e = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(Error::io("open /x", e).msg, "open /x: permission denied");
        let e = std::io::Error::other("Custom text");
        assert_eq!(errno_text(&e), "Custom text");
    }
}
