//! `ps`: the container's processes. (Owned by the cgroups work.)

use std::path::Path;

pub fn ps(_root: &Path, _id: &str, _format: &str, _args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("ps is not implemented yet")
}
