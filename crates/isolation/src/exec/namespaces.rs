//! The init's namespaces, opened on the host through a pid whose identity is checked (start
//! time, then a pidfd that tells whether it exited while we were opening its files).

use crate::error::{check, Error, Result};
use crate::namespaces::{open_ns, setns};
use spec_translate::NsKind;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// ioctl(NS_GET_USERNS): an fd for the user namespace that owns a namespace.
const NS_GET_USERNS: libc::c_ulong = 0xb701;

/// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or None if
/// it does not exist.
pub fn proc_start_time(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The container's init, held by a pidfd.
pub(super) struct Init {
    pid: i32,
    start: u64,
    pidfd: OwnedFd,
}

impl Init {
    pub fn open(pid: i32, start: u64) -> Result<Init> {
        let gone = || Error::new(format!("the container's init (pid {pid}) is not running"));
        if pid <= 0 {
            return Err(gone());
        }
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(gone());
        }
        let init = Init {
            pid,
            start,
            pidfd: unsafe { OwnedFd::from_raw_fd(fd as RawFd) },
        };
        init.check_alive()?;
        Ok(init)
    }

    /// The same process as recorded, and not exited: files opened under /proc/PID before this
    /// check were the init's.
    pub fn check_alive(&self) -> Result<()> {
        let mut p = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let exited = unsafe { libc::poll(&mut p, 1, 0) } > 0;
        if exited || proc_start_time(self.pid) != Some(self.start) {
            return Err(Error::new(format!(
                "the container's init (pid {}) is not running",
                self.pid
            )));
        }
        Ok(())
    }

    /// Open every namespace of the init that is not also ours (joining one's own user
    /// namespace is an error, and the others would be no-ops).
    pub fn namespaces(&self) -> Result<Joins> {
        let mut j = Joins::default();
        let mut others = Vec::new();
        for kind in NsKind::ALL {
            let name = kind.proc_name();
            let theirs = format!("/proc/{}/ns/{name}", self.pid);
            let Some(their_id) = ns_id(&theirs) else {
                continue; // the kernel lacks this kind
            };
            if ns_id(&format!("/proc/self/ns/{name}")) == Some(their_id) {
                continue;
            }
            let fd = open_ns(kind, Path::new(&theirs))?;
            match kind {
                NsKind::User => j.user = Some(fd),
                NsKind::Pid => j.pid = Some(fd),
                NsKind::Time => j.time = Some(fd),
                k => others.push((k, fd)),
            }
        }
        // The mount namespace last: everything else is open already, nothing path-based
        // depends on the host's view after it.
        others.sort_by_key(|(k, _)| (*k == NsKind::Mount, *k));
        for (k, fd) in others {
            if j.user.is_some() && !owned_by(&fd, j.user.as_ref()) {
                // Owned by another user namespace (a netns joined by path at create): enter
                // it while we still hold the host's capabilities.
                j.early.push((k, fd));
            } else {
                j.late.push((k, fd));
            }
        }
        Ok(j)
    }
}

/// (dev, ino) of a namespace file.
fn ns_id(path: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn fd_id(fd: RawFd) -> Option<(u64, u64)> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some((st.st_dev, st.st_ino))
}

/// Is the namespace `fd` owned by the user namespace `user`?
fn owned_by(fd: &OwnedFd, user: Option<&OwnedFd>) -> bool {
    let Some(user) = user else { return false };
    let owner = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_USERNS) };
    if owner < 0 {
        return true; // cannot tell: keep the documented order (user first)
    }
    let owner = unsafe { OwnedFd::from_raw_fd(owner) };
    fd_id(owner.as_raw_fd()) == fd_id(user.as_raw_fd())
}

/// The namespaces to join, in order: `early`, `user`, `late` (in the child); `pid` and `time`
/// apply to children, so the parent enters them for its next child only.
#[derive(Default)]
pub(super) struct Joins {
    pub early: Vec<(NsKind, OwnedFd)>,
    pub user: Option<OwnedFd>,
    pub late: Vec<(NsKind, OwnedFd)>,
    pid: Option<OwnedFd>,
    time: Option<OwnedFd>,
}

/// The parent's own pid/time namespaces for children, to return to after fork.
pub(super) struct Restore(Vec<(NsKind, OwnedFd)>);

impl Joins {
    /// Every fd this holds (the child keeps them open until it has joined, then drops them).
    pub fn raw_fds(&self) -> Vec<RawFd> {
        self.early
            .iter()
            .chain(self.late.iter())
            .map(|(_, f)| f.as_raw_fd())
            .chain(
                self.user
                    .iter()
                    .chain(&self.pid)
                    .chain(&self.time)
                    .map(|f| f.as_raw_fd()),
            )
            .collect()
    }

    /// Join, in the child: the namespaces owned elsewhere, the user namespace (then become its
    /// root, as the init did), the rest.
    pub fn join(&self) -> Result<()> {
        for (k, fd) in &self.early {
            setns(fd, *k)?;
        }
        if let Some(u) = &self.user {
            setns(u, NsKind::User)?;
            check(unsafe { libc::setresgid(0, 0, 0) }, || {
                "setgid 0 in the container's user namespace".into()
            })?;
            check(unsafe { libc::setresuid(0, 0, 0) }, || {
                "setuid 0 in the container's user namespace".into()
            })?;
        }
        for (k, fd) in &self.late {
            setns(fd, *k)?;
        }
        Ok(())
    }

    /// Enter the init's pid and time namespaces for our next child.
    pub fn enter_for_children(&self) -> Result<Restore> {
        let mut back = Vec::new();
        for (kind, fd) in [(NsKind::Pid, &self.pid), (NsKind::Time, &self.time)] {
            let Some(fd) = fd else { continue };
            let ours = open_ns(
                kind,
                Path::new(&format!("/proc/self/ns/{}_for_children", kind.proc_name())),
            )?;
            if let Err(e) = setns(fd, kind) {
                let _ = Restore(back).leave();
                return Err(e);
            }
            back.push((kind, ours));
        }
        Ok(Restore(back))
    }
}

impl Restore {
    pub fn leave(self) -> Result<()> {
        let mut first = Ok(());
        for (k, fd) in self.0 {
            if let Err(e) = setns(&fd, k) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}
