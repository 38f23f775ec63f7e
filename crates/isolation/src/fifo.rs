//! The exec fifo: how a created container waits for `start` without any daemon.
//!
//! `create` makes `STATE_DIR/exec.fifo`; the container's init opens it for writing, which blocks
//! in the kernel until `start` opens it for reading. `start` then reads one byte and removes the
//! fifo, so "fifo present" also means "created, not yet started".

use crate::error::{Error, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

pub const FIFO_NAME: &str = "exec.fifo";

pub fn make(state_dir: &Path) -> Result<()> {
    let p = cstr(&state_dir.join(FIFO_NAME))?;
    if unsafe { libc::mkfifo(p.as_ptr(), 0o600) } < 0 {
        return Err(Error::last_os("create exec fifo"));
    }
    Ok(())
}

fn cstr(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::new("path contains a NUL byte"))
}

/// The init's end: the fifo opened O_RDWR before pivot_root. O_RDWR never blocks on a fifo,
/// and because the init then holds a reader, `start` can open the write side without
/// blocking and fail at once (ENXIO) when no init is waiting. The init blocks in read(2)
/// until `start` writes one byte: no path lookup happens after pivot_root, so neither the
/// container's /proc nor a Landlock policy can get in the way.
pub struct InitEnd {
    fd: OwnedFd,
}

impl InitEnd {
    pub fn open(state_dir: &Path) -> Result<InitEnd> {
        let p = cstr(&state_dir.join(FIFO_NAME))?;
        let fd = unsafe { libc::open(p.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(Error::last_os("open exec fifo"));
        }
        Ok(InitEnd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Block until `start`.
    pub fn wait_for_start(self) -> Result<()> {
        let mut b = [0u8; 1];
        loop {
            let r = unsafe { libc::read(self.fd.as_raw_fd(), b.as_mut_ptr() as *mut _, 1) };
            if r == 1 {
                return Ok(());
            }
            if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(Error::last_os("wait on exec fifo"));
        }
    }
}

/// `start`'s side: release the waiting init. Never blocks: ENXIO means no init holds the fifo.
pub fn release(state_dir: &Path) -> Result<()> {
    let path = state_dir.join(FIFO_NAME);
    let p = cstr(&path)?;
    let fd = unsafe {
        libc::open(
            p.as_ptr(),
            libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ENOENT) => Error::new("cannot start a container that has already started"),
            Some(libc::ENXIO) => Error::new("cannot start a container that has stopped"),
            _ => Error::io("open exec fifo", e),
        });
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if unsafe { libc::write(fd.as_raw_fd(), b"0".as_ptr() as *const _, 1) } != 1 {
        return Err(Error::last_os("write exec fifo"));
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}
