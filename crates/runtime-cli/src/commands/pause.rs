//! `pause` / `resume`: freeze and thaw the container's cgroup. (Owned by the cgroups work.)

use std::path::Path;

pub fn pause(_root: &Path, _id: &str) -> anyhow::Result<()> {
    anyhow::bail!("pause is not implemented yet")
}

pub fn resume(_root: &Path, _id: &str) -> anyhow::Result<()> {
    anyhow::bail!("resume is not implemented yet")
}
