//! The parent/child protocol: typed messages over a SOCK_SEQPACKET socketpair.
//!
//! One message is one packet of JSON, so framing is the kernel's job. The parent and the
//! container's init take turns; every step that needs the other side is a request/response
//! pair, and any failure is sent as `Error` before the sender exits.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Msg {
    /// Parent → child: the id maps are written and the child is in its cgroup; go on.
    /// Carries the OCI state JSON the hooks get on stdin (it knows the host pid).
    Proceed { state: String },
    /// Child → parent (slow path): I have unshared my user namespace; write my id maps.
    MapIds,
    /// Parent → child: the id maps are written.
    IdsMapped,
    /// Child → parent: namespaces and mounts exist; run prestart and createRuntime hooks.
    RunCreateRuntimeHooks,
    /// Parent → child: hooks done.
    HooksDone,
    /// Child → parent: a pty master for `--console-socket` is being passed (SCM_RIGHTS).
    ConsoleReady,
    /// Child → parent: a seccomp listener fd follows (SCM_RIGHTS).
    SeccompListener,
    /// Child → parent: everything is built; the child now waits on the exec fifo.
    Ready,
    /// Child (intermediate) → parent: the real init's host pid, when a second fork was needed.
    InitPid { pid: i32 },
    /// Either side: the step failed; the sender exits after sending.
    Error { msg: String },
}

pub struct Channel {
    fd: OwnedFd,
}

pub fn pair() -> Result<(Channel, Channel)> {
    let mut fds = [0; 2];
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(Error::last_os("socketpair"));
    }
    unsafe {
        Ok((
            Channel {
                fd: OwnedFd::from_raw_fd(fds[0]),
            },
            Channel {
                fd: OwnedFd::from_raw_fd(fds[1]),
            },
        ))
    }
}

impl Channel {
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn send(&self, m: &Msg) -> Result<()> {
        self.send_with_fd(m, None)
    }

    /// Send a message, optionally with one fd attached (SCM_RIGHTS).
    pub fn send_with_fd(&self, m: &Msg, fd: Option<RawFd>) -> Result<()> {
        let buf = serde_json::to_vec(m).map_err(|e| Error::new(format!("encode message: {e}")))?;
        crate::scm::send(
            self.raw(),
            &buf,
            fd,
            "send to the other side of the runtime",
        )
    }

    /// Receive one message. EOF means the other side died without a word.
    pub fn recv(&self) -> Result<(Msg, Option<OwnedFd>)> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut _,
            iov_len: buf.len(),
        };
        let mut cmsg_buf = [0u64; 8];
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsg_buf.as_mut_ptr() as *mut _;
        msg.msg_controllen = std::mem::size_of_val(&cmsg_buf) as _;
        let n = loop {
            let r = unsafe { libc::recvmsg(self.raw(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
            if r >= 0 {
                break r as usize;
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::io("receive from the other side of the runtime", e));
            }
        };
        if n == 0 {
            return Err(Error::new(
                "the container process exited before it was ready",
            ));
        }
        let mut fd = None;
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let raw = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const i32);
                    fd = Some(OwnedFd::from_raw_fd(raw));
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let m: Msg = serde_json::from_slice(&buf[..n])
            .map_err(|e| Error::new(format!("decode message: {e}")))?;
        Ok((m, fd))
    }

    /// Receive and insist on a particular reply; an `Error` from the other side becomes ours.
    pub fn expect(&self, want: &Msg) -> Result<()> {
        match self.recv()?.0 {
            Msg::Error { msg } => Err(Error::new(msg)),
            m if &m == want => Ok(()),
            m => Err(Error::new(format!(
                "protocol error: expected {want:?}, got {m:?}"
            ))),
        }
    }
}
