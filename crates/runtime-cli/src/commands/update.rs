//! `update`: change resource limits of a live container. (Owned by the cgroups work.)

use crate::cli::UpdateArgs;
use std::path::Path;

pub fn update(_root: &Path, _a: &UpdateArgs) -> anyhow::Result<()> {
    anyhow::bail!("update is not implemented yet")
}
