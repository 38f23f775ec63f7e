//! `exec`: run a process in a running container. (Owned by the exec work.)

use crate::cli::{Cli, ExecArgs};

pub fn exec(_cli: &Cli, _a: &ExecArgs) -> anyhow::Result<i32> {
    anyhow::bail!("exec is not implemented yet")
}
