//! `events`: stats and OOM events as JSON lines. (Owned by the cgroups work.)

use std::path::Path;

pub fn events(_root: &Path, _id: &str, _stats: bool, _interval: &str) -> anyhow::Result<()> {
    anyhow::bail!("events is not implemented yet")
}
