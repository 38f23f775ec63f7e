//! Terminals: a pty allocated in the container's own devpts, its master sent to the caller's
//! `--console-socket` with SCM_RIGHTS (as runc does), the slave made the controlling terminal.

use crate::error::{check, Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Connect to the caller's console socket (done on the host, before pivot_root).
pub fn connect(path: &Path) -> Result<OwnedFd> {
    let s = std::os::unix::net::UnixStream::connect(path)
        .map_err(|e| Error::io(format!("connect to console socket {}", path.display()), e))?;
    Ok(OwnedFd::from(s))
}

pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    pub slave_path: String,
}

/// Open a new pty through `/dev/ptmx` of the current root (the container's, after pivot_root).
pub fn open_pty(size: Option<(u16, u16)>) -> Result<Pty> {
    let m = unsafe {
        libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if m < 0 {
        return Err(Error::last_os("open /dev/ptmx in the container"));
    }
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    let unlock: libc::c_int = 0;
    check(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) },
        || "unlock pty".into(),
    )?;
    let mut n: libc::c_uint = 0;
    check(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) },
        || "get pty number".into(),
    )?;
    // TIOCGPTPEER opens the slave from the master: no path lookup an attacker could race.
    let s = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if s < 0 {
        return Err(Error::last_os("open pty slave"));
    }
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        check(
            unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
            || "set console size".into(),
        )?;
    }
    Ok(Pty {
        master,
        slave,
        slave_path: format!("/dev/pts/{n}"),
    })
}

/// Send `fd` over the unix socket `sock` with `name` as payload (runc's utils.SendFd format).
pub fn send_fd(sock: RawFd, name: &str, fd: RawFd) -> Result<()> {
    crate::scm::send(
        sock,
        name.as_bytes(),
        Some(fd),
        "send pty master to the console socket",
    )
}

/// Make the slave our controlling terminal and our stdio.
pub fn become_session_leader(slave: &OwnedFd) -> Result<()> {
    check(unsafe { libc::setsid() }, || "setsid".into())?;
    check(
        unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) },
        || "make the pty the controlling terminal".into(),
    )?;
    for fd in 0..3 {
        check(unsafe { libc::dup2(slave.as_raw_fd(), fd) }, || {
            "dup pty onto stdio".into()
        })?;
    }
    Ok(())
}
