//! `start`: release a created container's init, then run the poststart hooks.

use crate::state::{self, Status};
use anyhow::{bail, Result};
use std::path::Path;

pub fn start(root: &Path, id: &str) -> Result<()> {
    let (lock, st) = state::open(root, id)?;
    let Some(st) = st else {
        bail!("container {id} is still being created")
    };
    match st.status(&lock.dir) {
        Status::Created => {}
        Status::Stopped => bail!("cannot start a container that has stopped"),
        Status::Running => bail!("cannot start an already running container"),
        Status::Paused => bail!("cannot start a paused container"),
        Status::Creating => bail!("container {id} is still being created"),
    }
    isolation::fifo::release(&lock.dir)?;
    if !st.poststart.is_empty() {
        let json = st.oci_json(Status::Running).to_string();
        if let Err(e) = isolation::hooks::run_all("poststart", &st.poststart, &json) {
            // The spec: a failing poststart hook is logged, the container keeps running.
            crate::logging::warn(&e.msg);
        }
    }
    Ok(())
}
