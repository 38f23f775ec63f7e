//! `start`: release a created container's init, then run the poststart hooks.

use crate::state::{self, Status};
use anyhow::{bail, Result};
use std::path::Path;

pub fn start(root: &Path, id: &str) -> Result<()> {
    let (lock, st) = state::open(root, id)?;
    let Some(st) = st else {
        bail!("container {id} is still being created")
    };
    st.status(&lock.dir).check_startable(id)?;
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
