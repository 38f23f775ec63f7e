//! Running OCI hooks: the state JSON on stdin, `timeout` honoured, failures named.

use crate::error::{Error, Result};
use spec_translate::Hook;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

/// Run each hook in order; the first failure stops the list.
pub fn run_all(kind: &str, hooks: &[Hook], state: &str) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state).map_err(|e| Error::new(format!("{kind} hook #{i} ({}): {e}", h.path)))?;
    }
    Ok(())
}

fn run_one(h: &Hook, state: &str) -> Result<()> {
    let mut cmd = Command::new(&h.path);
    if let Some((argv0, rest)) = h.args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.env_clear();
    for kv in &h.env {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| Error::io("start", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine: ignore EPIPE.
        let _ = stdin.write_all(state.as_bytes());
    }
    let status = match h.timeout {
        None => child.wait().map_err(|e| Error::io("wait", e))?,
        Some(secs) => wait_timeout(&mut child, secs)?,
    };
    if status.success() {
        Ok(())
    } else if let Some(sig) = status.signal() {
        Err(Error::new(format!("killed by signal {sig}")))
    } else {
        Err(Error::new(format!(
            "exit status {}",
            status.code().unwrap_or(-1)
        )))
    }
}

/// Wait with a deadline using a pidfd, so no thread and no polling loop is needed.
fn wait_timeout(child: &mut std::process::Child, secs: u32) -> Result<std::process::ExitStatus> {
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
    if pidfd < 0 {
        return Err(Error::last_os("pidfd_open"));
    }
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    let mut pfd = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs as u64);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::new(format!("timed out after {secs}s")));
        }
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if r > 0 {
            return child.wait().map_err(|e| Error::io("wait", e));
        }
    }
}
