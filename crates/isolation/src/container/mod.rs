//! Building a container's init: the runtime side of the parent/child protocol.
//!
//! ```text
//!  nucleus create (parent)                      container init (child)
//!  ───────────────────────                      ──────────────────────
//!  clone(CLONE_NEW* ...)  ───────────────────▶  blocks in recv()
//!  write uid/gid maps, place in cgroup
//!  Proceed{state} ───────────────────────────▶  setns/unshare the rest, hostname, sysctl
//!                                               mounts, /dev, devices        (rootfs::prepare)
//!                       ◀─── RunCreateRuntimeHooks
//!  prestart + createRuntime hooks
//!  HooksDone ────────────────────────────────▶  createContainer hooks, pivot_root, masked
//!                                               paths, console, rlimits, user, capabilities
//!                       ◀─── Ready
//!  write state.json, exit                       open(exec.fifo, O_WRONLY) ... blocks
//!  ...                                          ...
//!  nucleus start: read exec.fifo  ───────────▶  startContainer hooks, seccomp, execve()
//! ```
//! When namespaces must be joined by path (other than pid), the child first enters them and
//! then unshares the new ones, forking once more if a new pid namespace is needed.

mod init;
mod spawn;

use crate::error::{Error, Result};
use crate::sync::{self, Msg};
use spec_translate::Plan;
use std::os::fd::OwnedFd;
use std::path::Path;

/// What the caller (the CLI) decides, beyond the plan itself.
pub struct CreateOptions<'a> {
    pub id: &'a str,
    /// The container's state directory (holds exec.fifo).
    pub state_dir: &'a Path,
    pub console_socket: Option<&'a Path>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// Put the new init (host pid) into the container's cgroup. Called before it runs any
    /// configured code.
    pub place_in_cgroup: &'a dyn Fn(i32) -> std::result::Result<(), String>,
    /// The container's cgroup v2 directory (on a hybrid host, its unified twin): the init is
    /// cloned straight into it with clone3(CLONE_INTO_CGROUP) where the kernel allows.
    pub cgroup_dir: Option<&'a Path>,
}

/// A created container: the init's host pid, waiting on the exec fifo.
#[derive(Debug)]
pub struct Created {
    pub pid: i32,
    /// Seccomp notify listener, if the profile uses SCMP_ACT_NOTIFY.
    pub seccomp_listener: Option<OwnedFd>,
}

/// The OCI state document the hooks receive on stdin.
pub fn hook_state(plan: &Plan, id: &str, status: &str, pid: i32) -> String {
    serde_json::json!({
        "ociVersion": plan.oci_version,
        "id": id,
        "status": status,
        "pid": pid,
        "bundle": plan.bundle,
        "annotations": plan.annotations,
    })
    .to_string()
}

/// Build the container up to the point where it waits for `start`.
///
/// On error the child (if any) is killed and reaped; the caller removes the cgroup and the
/// state directory.
pub fn create(plan: &Plan, opts: &CreateOptions) -> Result<Created> {
    crate::fifo::make(opts.state_dir)?;
    let (parent_end, child_end) = sync::pair()?;
    let console = opts
        .console_socket
        .map(crate::console::connect)
        .transpose()?;
    if plan.process.terminal && console.is_none() {
        return Err(Error::new(
            "process.terminal is true but no --console-socket was given",
        ));
    }
    // Opened here, on the host and before any user namespace, so the init can hold it.
    let fifo = crate::fifo::InitEnd::open(opts.state_dir)?;
    let child = spawn::spawn(plan, opts, &parent_end, child_end, console, fifo)?;
    let pid = child.pid;
    match drive(plan, opts, &parent_end, &child) {
        Ok(listener) => Ok(Created {
            pid: child.init_pid(),
            seccomp_listener: listener,
        }),
        Err(e) => {
            child.kill_and_reap();
            let _ = pid;
            Err(e)
        }
    }
}

/// The parent's half of the protocol, after clone.
fn drive(
    plan: &Plan,
    opts: &CreateOptions,
    ch: &sync::Channel,
    child: &spawn::Child,
) -> Result<Option<OwnedFd>> {
    let mut listener = None;
    loop {
        let (m, fd) = ch.recv()?;
        match m {
            Msg::InitPid { pid } => child.set_init_pid(pid),
            Msg::RunCreateRuntimeHooks => {
                let state = hook_state(plan, opts.id, "creating", child.init_pid());
                let r = crate::hooks::run_all("prestart", &plan.hooks.prestart, &state).and_then(
                    |_| crate::hooks::run_all("createRuntime", &plan.hooks.create_runtime, &state),
                );
                if let Err(e) = r {
                    let _ = ch.send(&Msg::Error { msg: e.msg.clone() });
                    return Err(e);
                }
                ch.send(&Msg::HooksDone)?;
            }
            Msg::SeccompListener => {
                if let (Some(fd), Some(sp)) = (&fd, &plan.seccomp) {
                    if let Some(path) = &sp.listener_path {
                        let state = hook_state(plan, opts.id, "creating", child.init_pid());
                        crate::seccomp::send_listener(
                            path,
                            std::os::fd::AsFd::as_fd(fd),
                            state.as_bytes(),
                            sp.listener_metadata.as_deref(),
                        )
                        .map_err(|e| Error::new(e.to_string()))?;
                    }
                }
                listener = fd;
            }
            Msg::Ready => return Ok(listener),
            Msg::Error { msg } => return Err(Error::new(msg)),
            other => return Err(Error::new(format!("protocol error: unexpected {other:?}"))),
        }
    }
}
