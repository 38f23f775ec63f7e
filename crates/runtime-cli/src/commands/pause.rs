//! `pause` / `resume`: freeze and thaw the container's cgroup.
//!
//! The cgroup library waits until the kernel reports the cgroup really frozen (or thawed), so
//! when `pause` returns no process of the container runs any more. The status `paused` is read
//! back from the freezer by `State::status`, nothing extra is recorded.

use crate::state::{self, Status};
use anyhow::{anyhow, bail, Result};
use std::path::Path;

/// runc: only a created or running container can be paused ("container not running").
pub fn pause(root: &Path, id: &str) -> Result<()> {
    let (lock, st) = state::open(root, id)?;
    let Some(st) = st else {
        bail!("container not running")
    };
    match st.status(&lock.dir) {
        Status::Created | Status::Running => {}
        _ => bail!("container not running"),
    }
    let Some(cg) = &st.cgroup else {
        bail!("container {id} has no cgroup to freeze")
    };
    cg.freeze().map_err(|e| anyhow!("{e}"))
}

/// runc: only a paused container can be resumed ("container not paused").
pub fn resume(root: &Path, id: &str) -> Result<()> {
    let (lock, st) = state::open(root, id)?;
    let Some(st) = st else {
        bail!("container not paused")
    };
    if st.status(&lock.dir) != Status::Paused {
        bail!("container not paused");
    }
    let Some(cg) = &st.cgroup else {
        bail!("container not paused")
    };
    cg.thaw().map_err(|e| anyhow!("{e}"))
}
