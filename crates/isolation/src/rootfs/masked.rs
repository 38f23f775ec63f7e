//! After pivot_root: `linux.maskedPaths`, `linux.readonlyPaths` and `root.readonly`.
//! Paths are resolved inside the new root (RESOLVE_IN_ROOT), missing ones are skipped as runc
//! does, and every mount is made with the new mount API onto the resolved descriptor, so none
//! of this needs /proc to be mounted.

use super::copyup::detached_fs;
use super::error::{ctx, Result};
use super::mount::clone_tree;
use super::paths;
use super::sys::{self, MountAttr};
use std::os::fd::{AsFd, OwnedFd};

fn root() -> Result<OwnedFd> {
    sys::open(c"/", libc::O_PATH | libc::O_DIRECTORY).map_err(ctx(|| "open /".to_string()))
}

/// Files get /dev/null bound over them, directories an empty read-only tmpfs.
pub fn mask_paths(list: &[String]) -> Result<()> {
    let root = root()?;
    for p in list {
        let fd = match paths::open_in_root(root.as_fd(), p) {
            Ok(fd) => fd,
            Err(e) if sys::errno_is(&e, libc::ENOENT) => continue,
            Err(e) => return Err(super::RootfsError::io(format!("maskedPaths {p}: open"), e)),
        };
        let st = sys::fstat(fd.as_fd()).map_err(ctx(|| format!("maskedPaths {p}: stat")))?;
        let mnt = if sys::is_dir(&st) {
            detached_fs("tmpfs", "tmpfs", "", true, sys::MOUNT_ATTR_RDONLY)
                .map_err(ctx(|| format!("maskedPaths {p}: create tmpfs")))?
        } else {
            clone_tree("/dev/null", false).map_err(|e| e.within(format!("maskedPaths {p}")))?
        };
        sys::move_mount_fd(mnt.as_fd(), fd.as_fd())
            .map_err(ctx(|| format!("maskedPaths {p}: mount")))?;
    }
    Ok(())
}

/// A read-only bind of each path onto itself. Only `ro` is added: nosuid/nodev/noexec the
/// path already had are kept (runc keeps them too), nothing is cleared.
pub fn readonly_paths(list: &[String]) -> Result<()> {
    let root = root()?;
    for p in list {
        let fd = match paths::open_in_root(root.as_fd(), p) {
            Ok(fd) => fd,
            Err(e) if sys::errno_is(&e, libc::ENOENT) => continue,
            Err(e) => {
                return Err(super::RootfsError::io(
                    format!("readonlyPaths {p}: open"),
                    e,
                ))
            }
        };
        let what = || format!("readonlyPaths {p}");
        let flags = sys::OPEN_TREE_CLONE | libc::AT_RECURSIVE as u32 | libc::AT_EMPTY_PATH as u32;
        let tree =
            sys::open_tree(std::os::fd::AsRawFd::as_raw_fd(&fd), c"", flags).map_err(ctx(what))?;
        let attr = MountAttr {
            attr_set: sys::MOUNT_ATTR_RDONLY,
            ..Default::default()
        };
        sys::setattr_fd(tree.as_fd(), false, &attr).map_err(ctx(what))?;
        sys::move_mount_fd(tree.as_fd(), fd.as_fd()).map_err(ctx(what))?;
    }
    Ok(())
}

/// `root.readonly`: `/` read-only, its other flags untouched (so locked flags stay as they are).
pub fn readonly_root() -> Result<()> {
    let root = root()?;
    let attr = MountAttr {
        attr_set: sys::MOUNT_ATTR_RDONLY,
        ..Default::default()
    };
    sys::setattr_fd(root.as_fd(), false, &attr).map_err(ctx(|| "make / read-only".to_string()))
}
