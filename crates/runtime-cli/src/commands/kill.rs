//! `kill`: signal the init, or every process of the container with `--all`.

use crate::state::{self, Status};
use anyhow::{anyhow, bail, Result};
use std::path::Path;

pub fn kill(root: &Path, id: &str, signal: Option<&str>, all: bool) -> Result<()> {
    let sig = crate::signals::parse(signal.unwrap_or("SIGTERM")).map_err(|e| anyhow!(e))?;
    let (lock, st) = state::open(root, id)?;
    let Some(st) = st else {
        bail!("container not running")
    };
    let status = st.status(&lock.dir);
    if status == Status::Stopped {
        if all {
            // runc tolerates --all on a stopped container whose cgroup may still hold processes.
            if let Some(cg) = &st.cgroup {
                cg.kill_all(sig).map_err(|e| anyhow!("{e}"))?;
            }
            return Ok(());
        }
        bail!("container not running");
    }
    if all {
        if let Some(cg) = &st.cgroup {
            return cg.kill_all(sig).map_err(|e| anyhow!("{e}"));
        }
    }
    st.signal(sig)
}
