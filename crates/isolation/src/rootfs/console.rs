//! /dev/console for `process.terminal`: the pty slave bound over an empty file.

use super::error::{ctx, Result};
use super::mount::clone_tree;
use super::paths::{self, Kind};
use super::sys;
use std::os::fd::AsFd;

/// Bind `pty_slave_path` (a path valid in the current root, e.g. `/dev/pts/0`) over
/// /dev/console, creating /dev/console as an empty file first. Call after `pivot`.
pub fn setup_console(pty_slave_path: &str) -> Result<()> {
    let root =
        sys::open(c"/", libc::O_PATH | libc::O_DIRECTORY).map_err(ctx(|| "open /".to_string()))?;
    let dest = paths::create_in_root(root.as_fd(), "/dev/console", Kind::File)
        .map_err(ctx(|| "/dev/console: create".to_string()))?;
    let tree = clone_tree(pty_slave_path, false).map_err(|e| e.within("/dev/console"))?;
    sys::move_mount_fd(tree.as_fd(), dest.as_fd())
        .map_err(ctx(|| format!("/dev/console: bind {pty_slave_path}")))
}
