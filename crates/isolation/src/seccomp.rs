//! Installing compiled seccomp filters, and handing a NOTIFY listener to its agent.
//!
//! Ordering (the caller's job, as runc does it): install as late as possible before execve;
//! after `PR_SET_NO_NEW_PRIVS` when the process asks for it, and while CAP_SYS_ADMIN is still
//! held (before dropping capabilities) when it does not, since without no_new_privs the kernel
//! requires CAP_SYS_ADMIN to attach a filter.

use std::fmt;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::sys::socket::{
    connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr,
};
use spec_translate::seccomp::{SeccompPlan, SECCOMP_FILTER_FLAG_NEW_LISTENER};

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// The name runc (and the runtime spec) gives the listener fd in `ContainerProcessState.fds`.
pub const SECCOMP_FD_NAME: &str = "seccompFd";

#[derive(Debug)]
pub enum SeccompError {
    /// The program does not fit a `sock_fprog` (the compiler already refuses > 4096).
    TooLong(usize),
    /// seccomp(2) refused the filter.
    Install {
        errno: nix::errno::Errno,
        flags: u32,
    },
    /// The container state handed to `send_listener` is not the JSON we expect.
    State(String),
    /// Connecting or sending to `listenerPath` failed.
    Listener {
        path: String,
        errno: nix::errno::Errno,
    },
}

impl fmt::Display for SeccompError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeccompError::TooLong(n) => {
                write!(f, "seccomp: filter of {n} instructions is too long")
            }
            SeccompError::Install { errno, flags } => {
                let hint = match errno {
                    nix::errno::Errno::EACCES => {
                        ": the process has neither no_new_privs nor CAP_SYS_ADMIN"
                    }
                    nix::errno::Errno::EINVAL => ": the kernel rejects the filter or its flags",
                    _ => "",
                };
                write!(
                    f,
                    "seccomp: installing the filter (flags {flags:#x}) failed: {errno}{hint}"
                )
            }
            SeccompError::State(why) => {
                write!(f, "seccomp: container state for the listener: {why}")
            }
            SeccompError::Listener { path, errno } => {
                write!(
                    f,
                    "seccomp: sending the listener fd to {path} failed: {errno}"
                )
            }
        }
    }
}

impl std::error::Error for SeccompError {}

/// Attaches `plan`'s filter to the calling thread (SECCOMP_SET_MODE_FILTER with the plan's
/// flags). Returns the notification listener when the profile uses SCMP_ACT_NOTIFY.
///
/// Makes no allocation, so it is safe between fork and exec.
pub fn install(plan: &SeccompPlan) -> Result<Option<OwnedFd>, SeccompError> {
    let len =
        u16::try_from(plan.program.len()).map_err(|_| SeccompError::TooLong(plan.program.len()))?;
    let prog = libc::sock_fprog {
        len,
        // SockFilter is #[repr(C)] with the layout of sock_filter.
        filter: plan.program.as_ptr() as *mut libc::sock_filter,
    };
    let flags = plan.flags
        | if plan.uses_notify {
            SECCOMP_FILTER_FLAG_NEW_LISTENER
        } else {
            0
        };
    // SAFETY: `prog` points at `len` valid instructions for the duration of the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(SeccompError::Install {
            errno: nix::errno::Errno::last(),
            flags,
        });
    }
    if plan.uses_notify {
        // SAFETY: with NEW_LISTENER the return value is a new fd we now own.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }))
    } else {
        Ok(None)
    }
}

/// The `ContainerProcessState` JSON runc sends to a seccomp agent: the container's state
/// (`state_json`, as `nucleus state` prints it) wrapped with the fd names, pid and metadata.
pub fn container_process_state(
    state_json: &[u8],
    metadata: Option<&str>,
) -> Result<Vec<u8>, SeccompError> {
    let state: serde_json::Value = serde_json::from_slice(state_json)
        .map_err(|e| SeccompError::State(format!("not JSON: {e}")))?;
    let pid = state
        .get("pid")
        .and_then(|p| p.as_i64())
        .ok_or_else(|| SeccompError::State("no pid".into()))?;
    let version = state
        .get("ociVersion")
        .cloned()
        .unwrap_or_else(|| serde_json::Value::from("1.0.2"));
    let mut msg = serde_json::json!({
        "ociVersion": version,
        "fds": [SECCOMP_FD_NAME],
        "pid": pid,
        "state": state,
    });
    if let Some(m) = metadata.filter(|m| !m.is_empty()) {
        msg["metadata"] = serde_json::Value::from(m);
    }
    serde_json::to_vec(&msg).map_err(|e| SeccompError::State(e.to_string()))
}

/// Connects to the agent's unix socket at `listener_path` and sends, in one message, the
/// container process state JSON with `listener_fd` attached (SCM_RIGHTS), as runc does.
pub fn send_listener(
    listener_path: &Path,
    listener_fd: BorrowedFd<'_>,
    state_json: &[u8],
    metadata: Option<&str>,
) -> Result<(), SeccompError> {
    let msg = container_process_state(state_json, metadata)?;
    let fail = |errno| SeccompError::Listener {
        path: listener_path.display().to_string(),
        errno,
    };
    let sock = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(fail)?;
    let addr = UnixAddr::new(listener_path).map_err(fail)?;
    connect(sock.as_raw_fd(), &addr).map_err(fail)?;
    let fds = [listener_fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(&msg)];
    let sent =
        sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None).map_err(fail)?;
    if sent != msg.len() {
        return Err(fail(nix::errno::Errno::EMSGSIZE));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Real installs, each in a forked child (a filter cannot be removed). The child reports
    //! through its exit code: 0 = every check held, otherwise the number of the failed check.
    use super::*;
    use seccomp_bpf::{Action, ArgCmp, CmpOp, Profile, Rule, Target};
    use std::os::fd::AsFd;

    fn plan(default_action: Action, rules: Vec<Rule>) -> SeccompPlan {
        let profile = Profile {
            default_action,
            architectures: vec![],
            rules,
        };
        SeccompPlan {
            program: seccomp_bpf::compile(&profile, Target::native().unwrap()).unwrap(),
            flags: 0,
            uses_notify: false,
            listener_path: None,
            listener_metadata: None,
            profile,
        }
    }

    fn rule(names: &[&str], action: Action) -> Rule {
        Rule {
            names: names.iter().map(|s| s.to_string()).collect(),
            action,
            args: vec![],
        }
    }

    /// Runs `child` in a forked process, returns its wait status.
    fn in_child(child: impl FnOnce() -> i32) -> nix::sys::wait::WaitStatus {
        // SAFETY: the child only runs `child` and _exits; glibc keeps malloc usable after fork.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            nix::unistd::ForkResult::Child => {
                let code =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(100);
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).expect("waitpid")
            }
        }
    }

    fn nnp() {
        assert_eq!(
            unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
            0
        );
    }

    fn errno_of(rc: libc::c_long) -> i32 {
        if rc == -1 {
            nix::errno::Errno::last_raw()
        } else {
            0
        }
    }

    use nix::sys::wait::WaitStatus;

    #[test]
    fn errno_rules_apply_in_a_real_process() {
        let p = plan(
            Action::Allow,
            vec![
                rule(&["getppid"], Action::Errno(77)),
                rule(&["unshare"], Action::Errno(13)),
            ],
        );
        let st = in_child(move || {
            nnp();
            if install(&p).is_err() {
                return 1;
            }
            if errno_of(unsafe { libc::syscall(libc::SYS_getppid) }) != 77 {
                return 2;
            }
            if errno_of(unsafe { libc::syscall(libc::SYS_unshare, 0) }) != 13 {
                return 3;
            }
            if errno_of(unsafe { libc::syscall(libc::SYS_getpid) }) != 0 {
                return 4;
            }
            0
        });
        assert!(matches!(st, WaitStatus::Exited(_, 0)), "{st:?}");
    }

    #[test]
    fn docker_profile_in_a_real_process() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/configs/docker-default.json"
        );
        let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let s = serde_json::from_value(raw["linux"]["seccomp"].clone()).unwrap();
        let p = spec_translate::seccomp::translate(&s).unwrap();
        let st = in_child(move || {
            nnp();
            if install(&p).is_err() {
                return 1;
            }
            // errno must be read right after each call, so each call goes through errno_of.
            let checks: [(i32, i32, i32); 6] = [
                (
                    2,
                    errno_of(unsafe { libc::syscall(libc::SYS_unshare, libc::CLONE_NEWNS) }),
                    libc::EPERM,
                ),
                (
                    3,
                    errno_of(unsafe { libc::syscall(libc::SYS_mount, 0, 0, 0, 0, 0) }),
                    libc::EPERM,
                ),
                (
                    4,
                    errno_of(unsafe { libc::syscall(libc::SYS_kcmp, 0, 0, 0, 0, 0) }),
                    libc::EPERM,
                ),
                (
                    5,
                    errno_of(unsafe { libc::syscall(libc::SYS_personality, 0xffff_ffffu64) }),
                    0,
                ),
                (
                    6,
                    errno_of(unsafe { libc::syscall(libc::SYS_clone3, 0, 0) }),
                    libc::ENOSYS,
                ),
                (7, errno_of(unsafe { libc::syscall(libc::SYS_getppid) }), 0),
            ];
            for (code, got, want) in checks {
                if got != want {
                    return code;
                }
            }
            0
        });
        assert!(matches!(st, WaitStatus::Exited(_, 0)), "{st:?}");
    }

    #[test]
    fn kill_process_and_trap_deliver_sigsys() {
        for action in [Action::KillProcess, Action::Trap] {
            let p = plan(Action::Allow, vec![rule(&["getppid"], action)]);
            let st = in_child(move || {
                // SIGSYS dumps core by default: leave no core file behind.
                let no_core = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
                nnp();
                if install(&p).is_err() {
                    return 1;
                }
                unsafe { libc::syscall(libc::SYS_getppid) };
                2
            });
            assert!(
                matches!(
                    st,
                    WaitStatus::Signaled(_, nix::sys::signal::Signal::SIGSYS, _)
                ),
                "{action:?}: {st:?}"
            );
        }
    }

    #[test]
    fn argument_rules_apply_in_a_real_process() {
        let mut r = rule(&["personality"], Action::Errno(55));
        r.args = vec![ArgCmp {
            index: 0,
            op: CmpOp::Gt,
            value: 0x1_0000_0000,
            value_two: 0,
        }];
        let p = plan(Action::Allow, vec![r]);
        let st = in_child(move || {
            nnp();
            if install(&p).is_err() {
                return 1;
            }
            // personality's argument is an unsigned long: the high word reaches the filter.
            if errno_of(unsafe { libc::syscall(libc::SYS_personality, 0x2_0000_0000u64) }) != 55 {
                return 2;
            }
            if errno_of(unsafe { libc::syscall(libc::SYS_personality, 0xffff_ffffu64) }) != 0 {
                return 3;
            }
            0
        });
        assert!(matches!(st, WaitStatus::Exited(_, 0)), "{st:?}");
    }

    #[test]
    fn without_nnp_or_cap_sys_admin_install_fails_clearly() {
        let p = plan(Action::Allow, vec![rule(&["getppid"], Action::Errno(1))]);
        let st = in_child(move || {
            // Drop CAP_SYS_ADMIN from the effective set only; no no_new_privs.
            let _ = caps::drop(
                None,
                caps::CapSet::Effective,
                caps::Capability::CAP_SYS_ADMIN,
            );
            match install(&p) {
                Err(
                    e @ SeccompError::Install {
                        errno: nix::errno::Errno::EACCES,
                        ..
                    },
                ) if e.to_string().contains("no_new_privs") => 0,
                _ => 1,
            }
        });
        assert!(matches!(st, WaitStatus::Exited(_, 0)), "{st:?}");
    }

    #[test]
    fn notify_listener_reaches_the_agent_and_answers() {
        let dir =
            std::env::temp_dir().join(format!("nucleus-seccomp-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sock_path = dir.join("agent.sock");
        let agent = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
        let mut p = plan(
            Action::Allow,
            vec![rule(&["mkdirat", "mkdir"], Action::Notify)],
        );
        p.uses_notify = true;
        let target = dir.join("made-by-child");
        let (sp, tp) = (sock_path.clone(), target.clone());
        // SAFETY: see in_child.
        let child = match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let code = (|| {
                    nnp();
                    let Ok(Some(fd)) = install(&p) else { return 1 };
                    let state = format!(
                        r#"{{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":{},"bundle":"/b"}}"#,
                        std::process::id()
                    );
                    if send_listener(&sp, fd.as_fd(), state.as_bytes(), Some("meta-data")).is_err()
                    {
                        return 2;
                    }
                    drop(fd);
                    let c = std::ffi::CString::new(tp.to_str().unwrap()).unwrap();
                    // The agent answers with errno 42 instead of creating the directory.
                    if errno_of(unsafe { libc::mkdir(c.as_ptr(), 0o755) } as libc::c_long) != 42 {
                        return 3;
                    }
                    0
                })();
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => child,
        };
        let (conn, _) = agent.accept().unwrap();
        let mut buf = vec![0u8; 4096];
        let mut fds = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = nix::sys::socket::recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut fds),
            MsgFlags::empty(),
        )
        .unwrap();
        let n = msg.bytes;
        let mut listener = None;
        for c in msg.cmsgs().unwrap() {
            if let nix::sys::socket::ControlMessageOwned::ScmRights(v) = c {
                listener = v.first().copied();
            }
        }
        let listener =
            unsafe { OwnedFd::from_raw_fd(listener.expect("an fd came with the message")) };
        let state: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
        assert_eq!(state["fds"], serde_json::json!(["seccompFd"]));
        assert_eq!(state["metadata"], "meta-data");
        assert_eq!(state["pid"].as_i64(), Some(child.as_raw() as i64));
        assert_eq!(state["state"]["id"], "c1");
        assert_eq!(state["ociVersion"], "1.2.0");
        // Answer one notification.
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV as _,
                &mut req,
            )
        };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        assert_eq!(req.pid as i32, child.as_raw());
        let resp = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: -42,
            flags: 0,
        };
        let rc = unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND as _,
                &resp,
            )
        };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        let st = nix::sys::wait::waitpid(child, None).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(st, WaitStatus::Exited(_, 0)), "{st:?}");
        assert!(!target.exists());
        drop(conn);
    }

    #[test]
    fn process_state_matches_runc() {
        let s = container_process_state(
            br#"{"ociVersion":"1.0.2","id":"x","status":"created","pid":7,"bundle":"/b"}"#,
            None,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&s).unwrap();
        assert_eq!(v["pid"], 7);
        assert!(v.get("metadata").is_none());
        assert!(container_process_state(b"{}", None)
            .unwrap_err()
            .to_string()
            .contains("no pid"));
    }
}
