//! clone(): one process with every new namespace in the common case; the slow path for
//! configs that join namespaces by path.

use super::CreateOptions;
use crate::error::{Error, Result};
use crate::namespaces::{flags_of, open_ns, setns, write_id_maps, write_time_offsets};
use crate::sync::{Channel, Msg};
use spec_translate::{NsKind, Plan};
use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::path::Path;

/// The process `clone` returned, and the container's init (the same process unless a second
/// fork was needed to create a pid namespace after joining others).
pub struct Child {
    pub pid: i32,
    init: Cell<i32>,
}

impl Child {
    pub fn init_pid(&self) -> i32 {
        self.init.get()
    }
    pub fn set_init_pid(&self, pid: i32) {
        self.init.set(pid);
    }
    pub fn kill_and_reap(&self) {
        unsafe {
            if self.init_pid() != self.pid {
                libc::kill(self.init_pid(), libc::SIGKILL);
            }
            libc::kill(self.pid, libc::SIGKILL);
            let mut st = 0;
            libc::waitpid(self.pid, &mut st, 0);
        }
    }
}

/// How the child gets its namespaces.
pub(super) struct NsSetup {
    /// Namespaces to join from inside the child, user first (slow path only).
    pub joins: Vec<(NsKind, OwnedFd)>,
    /// True when clone() itself created every new namespace.
    pub fast: bool,
}

/// clone() the init. With a cgroup v2 directory, clone3(CLONE_INTO_CGROUP) makes the child
/// born inside its cgroup (no window where it runs elsewhere, one write fewer); kernels or
/// setups that refuse it fall back to clone() and the caller's cgroup.procs write.
fn clone_child(flags: i32, cgroup_dir: Option<&Path>) -> i32 {
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    let dir =
        cgroup_dir.and_then(|d| std::ffi::CString::new(d.as_os_str().as_encoded_bytes()).ok());
    if let Some(dir) = dir {
        let fd = unsafe {
            libc::open(
                dir.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd >= 0 {
            let args = CloneArgs {
                flags: flags as u32 as u64 | CLONE_INTO_CGROUP,
                exit_signal: libc::SIGCHLD as u64,
                cgroup: fd as u64,
                ..Default::default()
            };
            let pid = unsafe {
                libc::syscall(
                    libc::SYS_clone3,
                    &args as *const CloneArgs,
                    std::mem::size_of::<CloneArgs>(),
                )
            } as i32;
            if pid != 0 {
                // Parent (or failure): the child, if any, has its own copy of the fd.
                unsafe { libc::close(fd) };
            }
            if pid >= 0 {
                return pid;
            }
        }
    }
    unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        ) as i32
    }
}

/// Enter `kind` of `fd` for our future children only, returning how to come back.
fn for_children(kind: NsKind, enter: impl FnOnce() -> Result<()>) -> Result<OwnedFd> {
    let back = open_ns(
        kind,
        Path::new(&format!("/proc/self/ns/{}_for_children", kind.proc_name())),
    )?;
    enter()?;
    Ok(back)
}

pub(super) fn spawn(
    plan: &Plan,
    opts: &CreateOptions,
    parent_end: &Channel,
    child_end: Channel,
    console: Option<OwnedFd>,
    fifo: crate::fifo::InitEnd,
) -> Result<Child> {
    let ns = &plan.namespaces;
    // Open every namespace to join now, on the host: a bad path fails before anything exists.
    let mut joins = Vec::new();
    for (k, p) in &ns.join {
        joins.push((*k, open_ns(*k, p)?));
    }
    // pid and time namespaces apply to children: the parent sets them up for its next child
    // and returns to its own right after clone.
    let mut restore = Vec::new();
    if let Some(i) = joins.iter().position(|(k, _)| *k == NsKind::Pid) {
        let (_, fd) = joins.remove(i);
        restore.push((
            NsKind::Pid,
            for_children(NsKind::Pid, || setns(&fd, NsKind::Pid))?,
        ));
    }
    if ns.creates(NsKind::Time) {
        restore.push((
            NsKind::Time,
            for_children(NsKind::Time, || {
                crate::namespaces::unshare(NsKind::Time.clone_flag())?;
                write_time_offsets(&plan.time_offsets)
            })?,
        ));
    }
    let fast = joins.is_empty();
    let flags = if fast {
        flags_of(
            ns.create
                .iter()
                .copied()
                .filter(|k| !matches!(k, NsKind::Cgroup | NsKind::Time)),
        )
    } else {
        0
    };

    let pid = clone_child(flags, opts.cgroup_dir);
    if pid == 0 {
        let _ = parent_end; // the child never uses the parent's end; it is CLOEXEC and closed at exec
        super::init::run(
            plan,
            opts,
            child_end,
            console,
            fifo,
            NsSetup { joins, fast },
        );
    }
    let clone_err = if pid < 0 {
        Some(Error::last_os("clone the container process"))
    } else {
        None
    };
    for (k, fd) in restore {
        setns(&fd, k)?;
    }
    if let Some(e) = clone_err {
        return Err(e);
    }
    drop(child_end);
    drop(console);
    drop(fifo);
    let child = Child {
        pid,
        init: Cell::new(pid),
    };
    if let Err(e) = start_child(plan, opts, parent_end, &child, fast) {
        child.kill_and_reap();
        return Err(e);
    }
    Ok(child)
}

/// Parent side, right after clone: id maps, cgroup, then let the child go.
fn start_child(
    plan: &Plan,
    opts: &CreateOptions,
    ch: &Channel,
    child: &Child,
    fast: bool,
) -> Result<()> {
    (opts.place_in_cgroup)(child.pid).map_err(Error::new)?;
    if plan.namespaces.creates(NsKind::User) && fast {
        write_id_maps(child.pid, &plan.uid_mappings, &plan.gid_mappings)?;
    }
    let state = super::hook_state(plan, opts.id, "creating", child.pid);
    ch.send(&Msg::Proceed { state })?;
    if plan.namespaces.creates(NsKind::User) && !fast {
        // The child unshares its user namespace after joining the others; map it then.
        match ch.recv()?.0 {
            Msg::MapIds => {}
            Msg::Error { msg } => return Err(Error::new(msg)),
            m => {
                return Err(Error::new(format!(
                    "protocol error: expected a map request, got {m:?}"
                )))
            }
        }
        write_id_maps(child.pid, &plan.uid_mappings, &plan.gid_mappings)?;
        ch.send(&Msg::IdsMapped)?;
    }
    Ok(())
}
