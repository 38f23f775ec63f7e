//! cgroups v1, hybrid and v2.
//!
//! [`Cgroup`] is plain data (it goes into state.json): the host mode and the resolved
//! directories. Every operation re-reads the kernel's files, so a `Cgroup` loaded back from
//! state works in a later `nucleus` invocation.
//!
//! What `linux.resources` means as file writes is decided by `spec_translate::resources`; this
//! module executes those writes, creates and removes the directories, moves processes, freezes,
//! kills, reads stats and watches OOM kills.

mod devices_bpf;
mod freezer;
mod fs;
pub mod mode;
mod oom;
pub mod path;
mod stats;
mod v1;
mod v2;

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests_fake_v2;
#[cfg(test)]
mod tests_real;

pub use devices_bpf::{build_program as build_device_program, Insn};
pub use mode::{detect, Mode};
pub use oom::OomWatcher;
pub use path::{systemd_driver_unavailable, Hierarchies};
pub use spec_translate::resources::LinuxResources;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One-line error naming the file or setting at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupError {
    pub message: String,
}

impl CgroupError {
    pub fn new(message: impl Into<String>) -> CgroupError {
        CgroupError {
            message: message.into(),
        }
    }
}

impl fmt::Display for CgroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CgroupError {}

impl From<spec_translate::TranslateError> for CgroupError {
    fn from(e: spec_translate::TranslateError) -> CgroupError {
        let field = if e.field.is_empty() {
            String::new()
        } else {
            format!("{}: ", e.field)
        };
        CgroupError::new(format!("{field}{}", e.reason))
    }
}

/// A container's cgroup: where it lives in every hierarchy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Cgroup {
    pub mode: Mode,
    /// v1 (and hybrid): controller → directory. Co-mounted controllers share a directory.
    #[serde(default)]
    pub v1: BTreeMap<String, PathBuf>,
    /// v2: the cgroup; hybrid: its twin in the unified tree (hugetlb, cgroup.kill, events).
    #[serde(default)]
    pub unified: Option<PathBuf>,
}

impl Cgroup {
    /// Resolve `linux.cgroupsPath` (absolute, relative, or absent → the id) on this host.
    /// The systemd `slice:prefix:name` form is refused: no systemd driver exists.
    pub fn resolve(cgroups_path: Option<&str>, id: &str) -> Result<Cgroup, CgroupError> {
        Self::resolve_in(&Hierarchies::discover()?, cgroups_path, id)
    }

    /// [`Cgroup::resolve`] against given hierarchies (tests point them at a fake tree).
    pub fn resolve_in(
        h: &Hierarchies,
        cgroups_path: Option<&str>,
        id: &str,
    ) -> Result<Cgroup, CgroupError> {
        let inner = path::inner_path(cgroups_path, id)?;
        let v1 =
            h.v1.iter()
                .map(|(c, mnt)| (c.clone(), path::v1_dir(h, c, mnt, &inner)))
                .collect::<BTreeMap<_, _>>();
        let unified = h
            .unified
            .as_ref()
            .map(|mnt| path::unified_dir(h, mnt, &inner));
        if h.mode != Mode::V2 && v1.is_empty() {
            return Err(CgroupError::new("no cgroup v1 controllers are mounted"));
        }
        Ok(Cgroup {
            mode: h.mode,
            v1,
            unified,
        })
    }

    /// Every distinct directory of this cgroup (v1 directories, then the unified one).
    pub fn dirs(&self) -> Vec<&Path> {
        let mut out: Vec<&Path> = Vec::new();
        for d in self
            .v1
            .values()
            .map(PathBuf::as_path)
            .chain(self.unified.as_deref())
        {
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    /// The v2 directory (for CLONE_INTO_CGROUP: open it O_PATH|O_DIRECTORY). `None` on v1/hybrid,
    /// where the process must also join v1 hierarchies with [`Cgroup::add_pid`].
    pub fn v2_dir(&self) -> Option<&Path> {
        if self.mode == Mode::V2 {
            self.unified.as_deref()
        } else {
            None
        }
    }

    /// Create the directories. v1: every controller (cpuset gets its parent's cpus/mems);
    /// v2: the tree, with the parents' controllers enabled in their `cgroup.subtree_control`.
    /// On failure whatever was created is removed again.
    pub fn create(&self) -> Result<(), CgroupError> {
        let r = match self.mode {
            Mode::V2 => v2::create(self.unified()?),
            Mode::V1 | Mode::Hybrid => v1::create(self),
        };
        if r.is_err() {
            let _ = self.destroy();
        }
        r
    }

    /// Write the limits of `r` (used by create and by `update`).
    pub fn apply(&self, r: &LinuxResources) -> Result<(), CgroupError> {
        match self.mode {
            Mode::V2 => v2::apply(self.unified()?, r),
            Mode::V1 | Mode::Hybrid => v1::apply(self, r),
        }
    }

    /// Move `pid` (a whole process) into the cgroup in every hierarchy.
    pub fn add_pid(&self, pid: i32) -> Result<(), CgroupError> {
        for d in self.dirs() {
            fs::write(d, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Freeze every process and wait until the kernel reports the cgroup frozen.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        freezer::set(self, true)
    }

    /// Thaw and wait until the kernel reports the cgroup thawed.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        freezer::set(self, false)
    }

    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        freezer::is_frozen(self)
    }

    /// Pids of every process in the cgroup and below it.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let dir = self.procs_dir()?;
        let mut out = Vec::new();
        fs::procs_recursive(dir, &mut out)?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Signal every process. SIGKILL uses `cgroup.kill` where the kernel has it (v2, and the
    /// unified twin on hybrid hosts); otherwise the cgroup is frozen, each pid signalled, and
    /// thawed, so no process can fork past the loop.
    pub fn kill_all(&self, sig: i32) -> Result<(), CgroupError> {
        if sig == libc::SIGKILL {
            if let Some(u) = &self.unified {
                if u.join("cgroup.kill").exists() {
                    fs::write(u, "cgroup.kill", "1")?;
                    // Processes that only joined v1 hierarchies are signalled below as well.
                    if self.mode == Mode::V2 {
                        return Ok(());
                    }
                }
            }
        }
        let frozen = self.freeze().is_ok();
        let result = self.pids().map(|pids| {
            for pid in pids {
                // ESRCH: already gone, which is what we want.
                unsafe { libc::kill(pid, sig) };
            }
        });
        if frozen {
            self.thaw()?;
        }
        result
    }

    /// runc's `events --stats` "data" object: cpu, memory, pids, blkio, hugetlb.
    pub fn stats(&self) -> Result<serde_json::Value, CgroupError> {
        stats::collect(self)
    }

    /// Number of OOM kills in this cgroup so far (v2 `memory.events` oom_kill, v1
    /// `memory.oom_control` oom_kill). `None` when the kernel does not count them.
    pub fn oom_kill_count(&self) -> Result<Option<u64>, CgroupError> {
        oom::kill_count(self)
    }

    /// Start watching OOM events (v1: eventfd on memory.oom_control; v2: inotify on
    /// memory.events).
    pub fn oom_watcher(&self) -> Result<OomWatcher, CgroupError> {
        OomWatcher::new(self)
    }

    /// Remove every directory, children first. Retries for a short while on EBUSY (exiting
    /// processes leave the cgroup asynchronously). A missing directory is not an error.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        let mut first_err = None;
        for d in self.dirs() {
            if let Err(e) = remove_tree(d) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn unified(&self) -> Result<&Path, CgroupError> {
        self.unified
            .as_deref()
            .ok_or_else(|| CgroupError::new("no cgroup2 tree is mounted"))
    }

    /// The directory whose `cgroup.procs` lists the container's processes.
    fn procs_dir(&self) -> Result<&Path, CgroupError> {
        if self.mode == Mode::V2 {
            return self.unified();
        }
        ["pids", "freezer", "memory", "cpu", "devices"]
            .iter()
            .find_map(|c| self.v1.get(*c))
            .or_else(|| self.v1.values().next())
            .map(PathBuf::as_path)
            .ok_or_else(|| CgroupError::new("no cgroup v1 controllers are mounted"))
    }
}

fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for ent in rd.flatten() {
            if ent.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&ent.path())?;
            }
        }
    }
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => {
                return Err(CgroupError::new(format!(
                    "cannot remove cgroup {}: {}",
                    dir.display(),
                    e
                )))
            }
        }
    }
}
