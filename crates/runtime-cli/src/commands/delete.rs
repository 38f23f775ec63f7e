//! `delete`: poststop hooks, then remove the cgroup and the state directory.

use crate::state::{self, State, Status};
use anyhow::{bail, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

pub fn delete(root: &Path, id: &str, force: bool) -> Result<()> {
    let (lock, st) = match state::open(root, id) {
        Ok(x) => x,
        // runc: `delete --force` of a missing container succeeds.
        Err(e) if force && e.to_string().contains("does not exist") => return Ok(()),
        Err(e) => return Err(e),
    };
    let Some(st) = st else {
        // A create that died half-way: we hold the lock, so nobody is still building it.
        std::fs::remove_dir_all(&lock.dir)?;
        return Ok(());
    };
    match st.status(&lock.dir) {
        Status::Stopped => {}
        Status::Created => stop(&st, true),
        s if force => {
            let _ = s;
            stop(&st, true)
        }
        s => bail!(
            "cannot delete container {id} that is not stopped: {}",
            s.as_str()
        ),
    }
    destroy(&st, &lock.dir);
    Ok(())
}

/// Kill the container's processes and wait until the init is gone.
pub fn stop(st: &State, all: bool) {
    if let Some(cg) = &st.cgroup {
        if all {
            let _ = cg.kill_all(libc::SIGKILL);
            let _ = cg.thaw();
        }
    }
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, st.pid, 0) };
    if pidfd < 0 || !st.alive() {
        return;
    }
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            std::ptr::null::<u8>(),
            0,
        )
    };
    let mut pfd = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    unsafe { libc::poll(&mut pfd, 1, 10_000) };
    // The pidfd is readable once the process exited; it may linger as a zombie of its
    // parent, which is fine: nothing of it runs.
}

/// Everything after the processes are gone: poststop hooks, cgroup, state.
pub fn destroy(st: &State, dir: &Path) {
    if let Some(cg) = &st.cgroup {
        // Processes the init left behind (no pid namespace, or a sibling that escaped the
        // kill) keep the cgroup busy: kill them and wait for them to leave, as runc does.
        if cg.pids().is_ok_and(|p| !p.is_empty()) {
            let _ = cg.kill_all(libc::SIGKILL);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while cg.pids().is_ok_and(|p| !p.is_empty()) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        if let Err(e) = cg.destroy() {
            crate::logging::warn(&format!("remove cgroup: {e}"));
        }
    }
    if !st.poststop.is_empty() {
        let json = st.oci_json(Status::Stopped).to_string();
        if let Err(e) = isolation::hooks::run_all("poststop", &st.poststop, &json) {
            crate::logging::warn(&e.msg);
        }
    }
    if let Err(e) = std::fs::remove_dir_all(dir) {
        crate::logging::warn(&format!("remove state directory {}: {e}", dir.display()));
    }
}
