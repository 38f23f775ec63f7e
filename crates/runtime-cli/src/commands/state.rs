//! `state`: the OCI state document, pretty-printed as runc does.

use crate::state;
use anyhow::Result;
use std::path::Path;

pub fn state(root: &Path, id: &str) -> Result<()> {
    let (lock, st) = state::open(root, id)?;
    let json = match st {
        Some(st) => st.oci_json(st.status(&lock.dir)),
        None => {
            serde_json::json!({"ociVersion": spec_translate::OCI_VERSION, "id": id, "pid": 0, "status": state::Status::Creating.as_str(), "bundle": "", "annotations": {}})
        }
    };
    print!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}
