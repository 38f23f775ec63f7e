//! `exec`: a new process inside a running container, forked straight from the (single-threaded)
//! runtime: no re-exec of nucleus, no helper binary.
//!
//! ```text
//!  nucleus exec (parent)                         exec'd process (child of fork)
//!  ─────────────────────                         ──────────────────────────────
//!  pidfd of the init, start time checked
//!  open /proc/INIT/ns/* (those not ours)
//!  non-dumpable; setns(pid, time) for children
//!  fork() ─────────────────────────────────────▶ blocks in recv()
//!  back to our own pid/time namespaces           (born in the container's pid namespace)
//!  place the child in the container's cgroup
//!  Proceed ────────────────────────────────────▶ oom score, LSM label, rlimits (host /proc)
//!                                                setns: owned-elsewhere, user, the rest
//!                                                pty in the container's devpts → console
//!                                                cwd (resolved in the container's root)
//!                                                no_new_privs, seccomp, Landlock, user, caps
//!                                                fds ≥ 3+preserve CLOEXEC, execve()
//!  EOF on the socketpair (CLOEXEC) = exec'd  ◀── or Error{msg}, then _exit(127)
//! ```
//!
//! CVE-2019-5736: the child is non-dumpable from its birth (inherited from the parent across
//! fork) until execve resets it, so nothing in the container can open its /proc/PID/exe or
//! ptrace it while it still runs runtime code; the binary it runs is the sealed copy anyway.
//! CVE-2024-21626: every fd but stdio, the preserved ones and the socketpair is closed first
//! thing in the child, the cwd is entered only after joining the container's mount namespace
//! and checked to be reachable from its root.

mod child;
pub(crate) mod finish;
mod namespaces;

use crate::error::{Error, Result};
use crate::sync::{self, Msg};
use spec_translate::landlock::LandlockPolicy;
use spec_translate::{Plan, Process};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

pub use child::{apparmor_enabled, selinux_enabled};
pub use namespaces::proc_start_time;

/// Make sure fds 3..3+n are open (the caller's `--preserve-fds`), with /dev/null where the
/// caller left a gap. Call before opening anything else: every fd the runtime opens afterwards
/// gets a higher number, so none of them can be mistaken for a preserved one and handed to
/// the container.
pub fn reserve_preserved_fds(n: u32) -> Result<()> {
    for fd in 3..3 + n as i32 {
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0 {
            continue;
        }
        let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if null < 0 {
            return Err(Error::last_os("open /dev/null"));
        }
        if null != fd {
            let r = unsafe { libc::dup3(null, fd, libc::O_CLOEXEC) };
            unsafe { libc::close(null) };
            if r < 0 {
                return Err(Error::last_os(format!("reserve fd {fd}")));
            }
        }
    }
    Ok(())
}

/// Everything the exec'd process needs; the CLI builds it from the container's state.
pub struct ExecOptions<'a> {
    /// The container id (names the session keyring, as for the init).
    pub id: &'a str,
    /// Host pid of the container's init and its start time (field 22 of /proc/PID/stat) as
    /// recorded in the state: a recycled pid is refused.
    pub init_pid: i32,
    pub init_start_time: u64,
    /// The process to start (already translated and validated).
    pub process: &'a Process,
    /// The container's own plan, translated from its config.json: seccomp, personality.
    pub container: &'a Plan,
    /// Landlock policies to apply in order (`spec_translate::landlock::for_exec`).
    pub landlock: &'a [LandlockPolicy],
    /// A connected socket that receives the pty master when `process.terminal` is true.
    pub console: Option<OwnedFd>,
    /// Pass fds 3..3+N to the process.
    pub preserve_fds: u32,
    /// Put the new process (host pid) into the container's cgroup, before it joins anything.
    pub place_in_cgroup: &'a dyn Fn(i32) -> std::result::Result<(), String>,
    /// The container's OCI state (for a seccomp notify agent).
    pub state_json: &'a str,
}

/// A started process: it has exec'd the user's program. The caller is its parent.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
}

/// Start `opts.process` inside the container. Returns once the program has been exec'd; an
/// error says what failed (the child, if any, has been reaped).
pub fn spawn(opts: ExecOptions) -> Result<Spawned> {
    if opts.process.terminal && opts.console.is_none() {
        return Err(Error::new(
            "process.terminal is true but there is no console socket to send the pty to",
        ));
    }
    let init = namespaces::Init::open(opts.init_pid, opts.init_start_time)?;
    let ns = init.namespaces()?;
    init.check_alive()?;
    let (parent_end, child_end) = sync::pair()?;

    // Non-dumpable from birth: the kernel copies the flag to the child at fork.
    let was_dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let restore = match ns.enter_for_children() {
        Ok(r) => r,
        Err(e) => {
            unsafe { libc::prctl(libc::PR_SET_DUMPABLE, was_dumpable, 0, 0, 0) };
            return Err(e);
        }
    };
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        drop(parent_end);
        child::run(&opts, child_end, ns);
    }
    let fork_err = (pid < 0).then(|| Error::last_os("fork the exec process"));
    let back = restore.leave();
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, was_dumpable, 0, 0, 0) };
    if let Some(e) = fork_err {
        return Err(e);
    }
    drop(child_end);
    drop(ns);
    let child = Child(pid);
    back?;
    drive(&opts, &parent_end, pid)?;
    std::mem::forget(child);
    Ok(Spawned { pid })
}

/// Kills and reaps the half-started child unless forgotten.
struct Child(i32);

impl Drop for Child {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            let mut st = 0;
            while libc::waitpid(self.0, &mut st, 0) < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
    }
}

/// Parent side after fork: cgroup, go, then wait for exec (EOF) or an error.
fn drive(opts: &ExecOptions, ch: &sync::Channel, pid: i32) -> Result<()> {
    (opts.place_in_cgroup)(pid).map_err(Error::new)?;
    ch.send(&Msg::Proceed {
        state: opts.state_json.to_string(),
    })?;
    loop {
        if at_eof(ch)? {
            // The child's end is close-on-exec: it is gone because the program runs.
            return Ok(());
        }
        let (m, fd) = ch.recv()?;
        match m {
            Msg::SeccompListener => {
                let sp = opts.container.seccomp.as_ref();
                if let (Some(fd), Some(path)) = (&fd, sp.and_then(|s| s.listener_path.as_ref())) {
                    crate::seccomp::send_listener(
                        path,
                        fd.as_fd(),
                        opts.state_json.as_bytes(),
                        sp.and_then(|s| s.listener_metadata.as_deref()),
                    )
                    .map_err(|e| Error::new(e.to_string()))?;
                }
            }
            Msg::Error { msg } => return Err(Error::new(msg)),
            other => return Err(Error::new(format!("protocol error: unexpected {other:?}"))),
        }
    }
}

/// True when the other side has closed the socketpair (peeks; consumes nothing).
fn at_eof(ch: &sync::Channel) -> Result<bool> {
    let mut b = [0u8; 1];
    loop {
        let n = unsafe { libc::recv(ch.raw(), b.as_mut_ptr().cast(), 1, libc::MSG_PEEK) };
        if n >= 0 {
            return Ok(n == 0);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::io("wait for the exec process", e));
        }
    }
}

/// A connected pair of stream sockets: one end for `ExecOptions::console`, the other for the
/// caller to receive the pty master on (foreground `exec -t` without `--console-socket`).
pub fn console_pair() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(Error::last_os("socketpair for the console"));
    }
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Receive one fd sent with SCM_RIGHTS (runc's console-socket format: the payload names the
/// pty). Returns the fd, close-on-exec.
pub fn recv_fd(sock: &OwnedFd) -> Result<OwnedFd> {
    let mut name = [0u8; 4096];
    let mut iov = libc::iovec {
        iov_base: name.as_mut_ptr().cast(),
        iov_len: name.len(),
    };
    let mut cmsg_buf = [0u64; 8];
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg_buf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg_buf) as _;
    loop {
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::io("receive the pty master", e));
        }
    }
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_level != libc::SOL_SOCKET || (*c).cmsg_type != libc::SCM_RIGHTS
        {
            return Err(Error::new("the console socket carried no pty master"));
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const i32);
        Ok(OwnedFd::from_raw_fd(fd))
    }
}
