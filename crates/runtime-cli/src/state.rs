//! Container state under `--root`: one directory per container, `state.json` inside, a flock
//! on the directory to serialise concurrent calls on one id.
//!
//! The init is identified by pid AND start time (field 22 of /proc/PID/stat), so a recycled
//! pid is never mistaken for the container and never signalled.

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct State {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    /// Start time of `pid` in clock ticks since boot.
    pub start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    pub annotations: std::collections::BTreeMap<String, String>,
    pub cgroup: Option<isolation::cgroups::Cgroup>,
    pub poststart: Vec<spec_translate::Hook>,
    pub poststop: Vec<spec_translate::Hook>,
    /// The config the container was created from (exec takes its defaults from here).
    pub config: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    /// `start` is only for a created container; the others get runc's words.
    pub fn check_startable(self, id: &str) -> Result<()> {
        match self {
            Status::Created => Ok(()),
            Status::Stopped => bail!("cannot start a container that has stopped"),
            Status::Running => bail!("cannot start an already running container"),
            Status::Paused => bail!("cannot start a paused container"),
            Status::Creating => bail!("container {id} is still being created"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// Container ids as runc allows them: no path tricks can reach outside `--root`.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'));
    if !ok {
        bail!("invalid container id {id:?}: use letters, digits, '_', '+', '-', '.'");
    }
    Ok(())
}

pub fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Start time of a process, or None if it does not exist.
pub fn proc_start_time(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn proc_state_char(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    rest.chars().next()
}

/// An exclusive lock on a container directory, held until dropped.
pub struct Locked {
    _fd: OwnedFd,
    pub dir: PathBuf,
}

pub fn lock_dir(dir: &Path) -> std::io::Result<Locked> {
    let f = std::fs::File::open(dir)?;
    let fd = OwnedFd::from(f);
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Locked {
        _fd: fd,
        dir: dir.to_path_buf(),
    })
}

/// Make and lock the state directory of a new container (`container with id exists: ID` if
/// the id is taken). Shared by native and gVisor creates.
pub fn new_container_dir(root: &Path, id: &str) -> Result<(PathBuf, Locked)> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("create state root {}", root.display()))?;
    let dir = container_dir(root, id);
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container with id exists: {id}")
        }
        Err(e) => bail!("create state directory {}: {e}", dir.display()),
    }
    match lock_dir(&dir) {
        Ok(lock) => Ok((dir, lock)),
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            Err(anyhow!("lock new state directory: {e}"))
        }
    }
}

/// Open an existing container: lock it and read its state.
pub fn open(root: &Path, id: &str) -> Result<(Locked, Option<State>)> {
    validate_id(id)?;
    let dir = container_dir(root, id);
    let lock = match lock_dir(&dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("container \"{id}\" does not exist")
        }
        Err(e) => return Err(anyhow!("lock state of container {id}: {e}")),
    };
    if !dir.exists() {
        // Deleted while we waited for the lock.
        bail!("container \"{id}\" does not exist");
    }
    let st = read_state(&dir)?;
    Ok((lock, st))
}

pub fn read_state(dir: &Path) -> Result<Option<State>> {
    match std::fs::read(dir.join(STATE_FILE)) {
        Ok(b) => {
            Ok(Some(serde_json::from_slice(&b).with_context(|| {
                format!("corrupt state in {}", dir.display())
            })?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("read state in {}: {e}", dir.display())),
    }
}

pub fn write_state(dir: &Path, st: &State) -> Result<()> {
    let tmp = dir.join(".state.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(st)?).context("write state")?;
    std::fs::rename(&tmp, dir.join(STATE_FILE)).context("write state")?;
    Ok(())
}

impl State {
    /// Is the recorded init still the same living process?
    pub fn alive(&self) -> bool {
        self.pid > 0
            && proc_start_time(self.pid) == Some(self.start_time)
            && proc_state_char(self.pid) != Some('Z')
    }

    pub fn status(&self, dir: &Path) -> Status {
        if crate::gvisor::owns(dir) {
            return crate::gvisor::status(self, dir);
        }
        if !self.alive() {
            return Status::Stopped;
        }
        if let Some(cg) = &self.cgroup {
            if cg.is_frozen().unwrap_or(false) {
                return Status::Paused;
            }
        }
        if dir.join(isolation::fifo::FIFO_NAME).exists() {
            Status::Created
        } else {
            Status::Running
        }
    }

    /// The OCI state document, as `runc state` prints it.
    pub fn oci_json(&self, status: Status) -> serde_json::Value {
        let pid = if status == Status::Stopped {
            0
        } else {
            self.pid
        };
        serde_json::json!({
            "ociVersion": self.oci_version,
            "id": self.id,
            "pid": pid,
            "status": status.as_str(),
            "bundle": self.bundle,
            "rootfs": self.rootfs,
            "created": self.created,
            "annotations": self.annotations,
            "owner": self.owner,
        })
    }

    /// Signal the init through a pidfd opened after checking the start time, so a pid
    /// recycled between the check and the kill cannot be hit.
    pub fn signal(&self, sig: i32) -> Result<()> {
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid, 0) };
        if pidfd < 0 {
            bail!("container not running");
        }
        let pidfd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(pidfd as i32) };
        if !self.alive() {
            bail!("container not running");
        }
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                pidfd.as_raw_fd(),
                sig,
                std::ptr::null::<u8>(),
                0,
            )
        };
        if r < 0 {
            bail!("send signal {sig}: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }
}
