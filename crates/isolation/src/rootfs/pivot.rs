//! Switching the process root to the rootfs.
//!
//! pivot_root: runc's trick that needs no directory for the old root: with both roots open,
//! `pivot_root(".", ".")` stacks the old root on top of the new one at `/`; after fchdir to the
//! old root it is made rslave (so the detach below cannot propagate to the host) and lazily
//! unmounted, which uncovers the new root.
//!
//! no_pivot (for ramdisk roots where pivot_root fails): MS_MOVE the rootfs onto `/` and chroot.
//! Unlike runc, the host mounts outside the rootfs are not unmounted first; they are no longer
//! reachable by path after the chroot.

use super::error::{ctx, Result};
use super::sys;
use spec_translate::Plan;
use std::os::fd::AsFd;

pub fn pivot(plan: &Plan, no_pivot: bool) -> Result<()> {
    let rootfs = plan
        .rootfs
        .to_str()
        .ok_or_else(|| super::RootfsError::new("rootfs path is not UTF-8"))?;
    let new = sys::cstr(rootfs).map_err(ctx(|| "rootfs path".to_string()))?;
    if no_pivot {
        sys::chdir(&new).map_err(ctx(|| format!("chdir {rootfs}")))?;
        sys::mount(Some(c"."), c"/", None, libc::MS_MOVE as u64, None)
            .map_err(ctx(|| "move rootfs onto /".to_string()))?;
        sys::chroot(c".").map_err(ctx(|| "chroot".to_string()))?;
    } else {
        let old_fd = sys::open(c"/", libc::O_DIRECTORY | libc::O_RDONLY)
            .map_err(ctx(|| "open /".to_string()))?;
        let new_fd = sys::open(&new, libc::O_DIRECTORY | libc::O_RDONLY)
            .map_err(ctx(|| format!("open {rootfs}")))?;
        sys::fchdir(new_fd.as_fd()).map_err(ctx(|| format!("chdir {rootfs}")))?;
        sys::pivot_root(c".", c".").map_err(ctx(|| "pivot_root".to_string()))?;
        sys::fchdir(old_fd.as_fd()).map_err(ctx(|| "chdir to the old root".to_string()))?;
        sys::mount(
            None,
            c".",
            None,
            (libc::MS_SLAVE | libc::MS_REC) as u64,
            None,
        )
        .map_err(ctx(|| "make the old root rslave".to_string()))?;
        sys::umount2(c".", libc::MNT_DETACH).map_err(ctx(|| "detach the old root".to_string()))?;
    }
    sys::chdir(c"/").map_err(ctx(|| "chdir /".to_string()))
}
