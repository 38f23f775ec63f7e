//! Root filesystem: mounts, /dev, devices, masked and read-only paths, pivot_root.
//!
//! Called in the container's init, already inside its new mount namespace, in this order:
//! [`prepare`] (before pivot_root; paths relative to `plan.rootfs`), then the createContainer
//! hooks, then [`pivot`], then [`finish`] and, for a terminal, [`setup_console`].
//!
//! Every container path (mount destinations, device paths, masked/readonly paths, cwd) is
//! resolved by the kernel inside the rootfs ([`paths`]), never by string joining.

// MS_* are c_ulong while the plan carries u64: the casts are no-ops on 64-bit targets only.
#![allow(clippy::unnecessary_cast)]

mod cgroup;
mod console;
mod copyup;
mod dev_default;
mod devices;
mod error;
mod idmap;
mod masked;
mod mount;
pub mod mountinfo;
mod paths;
mod pivot;
mod sys;

#[cfg(test)]
mod tests;

pub use console::setup_console;
pub use dev_default::default_devices;
pub use error::RootfsError;
pub use pivot::pivot;

use error::ctx;
use spec_translate::{NsKind, Plan};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// What every step needs: the rootfs, opened once after it became a mount point.
pub(crate) struct Ctx {
    /// O_PATH descriptor of the rootfs mount: the root of every in-root resolution.
    pub root: OwnedFd,
    /// The rootfs path on the host, symlinks resolved (to read back where a path landed).
    pub root_path: String,
    /// The container has a user namespace: no mknod, locked mount flags.
    pub userns: bool,
    /// The container has its own cgroup namespace (fresh cgroup mounts show only its subtree).
    pub cgroupns: bool,
}

/// Mount propagation of `/`, the rootfs made a mount point, every `mounts[]` entry in order,
/// then the default /dev and the devices.
pub fn prepare(plan: &Plan) -> Result<(), RootfsError> {
    let propagation = if plan.rootfs_propagation == 0 {
        (libc::MS_SLAVE | libc::MS_REC) as u64
    } else {
        plan.rootfs_propagation
    };
    sys::mount(None, c"/", None, propagation, None)
        .map_err(ctx(|| format!("set propagation {propagation:#x} on /")))?;

    let root_path = std::fs::canonicalize(&plan.rootfs)
        .map_err(ctx(|| format!("rootfs {}", plan.rootfs.display())))?;
    let root_path = root_path
        .to_str()
        .ok_or_else(|| RootfsError::new("rootfs path is not UTF-8"))?
        .to_string();
    let croot = sys::cstr(&root_path).map_err(ctx(|| "rootfs path".to_string()))?;

    if propagation & libc::MS_SHARED as u64 != 0 {
        // pivot_root refuses a new root whose parent mount is shared: make the mount that
        // holds the rootfs directory private (runc's rootfsParentMountPrivate).
        let mp = mountinfo::read_self()
            .map_err(ctx(|| "read /proc/self/mountinfo".to_string()))?
            .into_iter()
            .map(|m| m.mount_point)
            .filter(|mp| mp == "/" || root_path == *mp || root_path.starts_with(&format!("{mp}/")))
            .max_by_key(|mp| mp.len())
            .unwrap_or_else(|| "/".to_string());
        let cmp = sys::cstr(&mp).map_err(ctx(|| mp.clone()))?;
        sys::mount(None, &cmp, None, libc::MS_PRIVATE as u64, None).map_err(ctx(|| {
            format!("make {mp} (parent mount of the rootfs) private")
        }))?;
    }
    sys::mount(
        Some(&croot),
        &croot,
        None,
        (libc::MS_BIND | libc::MS_REC) as u64,
        None,
    )
    .map_err(ctx(|| format!("bind {root_path} onto itself")))?;
    let root = sys::open(&croot, libc::O_PATH | libc::O_DIRECTORY)
        .map_err(ctx(|| format!("open {root_path}")))?;

    let c = Ctx {
        root,
        root_path,
        userns: plan.namespaces.has_userns(),
        cgroupns: plan.namespaces.creates(NsKind::Cgroup)
            || plan.namespaces.joins(NsKind::Cgroup).is_some(),
    };
    dev_default::before_mounts(&c, plan)?;
    for (i, m) in plan.mounts.iter().enumerate() {
        mount::mount_entry(&c, m).map_err(|e| e.within(format!("mounts[{i}]")))?;
    }
    dev_default::after_mounts(&c, plan)
}

/// After pivot: masked paths, read-only paths, then `root.readonly`.
pub fn finish(plan: &Plan) -> Result<(), RootfsError> {
    // An explicit linux.rootfsPropagation also applies to the new `/` itself (runc does the
    // same after pivot_root): the bind of the rootfs was made private for pivot_root's sake.
    if plan.rootfs_propagation != 0 {
        let p = plan.rootfs_propagation;
        sys::mount(None, c"/", None, p, None)
            .map_err(ctx(|| format!("set propagation {p:#x} on the new /")))?;
    }
    masked::mask_paths(&plan.masked_paths)?;
    masked::readonly_paths(&plan.readonly_paths)?;
    if plan.rootfs_readonly {
        masked::readonly_root()?;
    }
    Ok(())
}

/// Open `path` (O_PATH, symlinks followed but never out of `root`) inside `root`. For checking
/// `process.cwd`: `fstat` the result, or `fchdir` to it after reopening.
pub fn resolve_in_root(root: &Path, path: &str) -> Result<OwnedFd, RootfsError> {
    let r = root
        .to_str()
        .ok_or_else(|| RootfsError::new(format!("{}: not UTF-8", root.display())))?;
    let rfd = sys::open(
        &sys::cstr(r).map_err(ctx(|| r.to_string()))?,
        libc::O_PATH | libc::O_DIRECTORY,
    )
    .map_err(ctx(|| format!("open {r}")))?;
    paths::open_in_root(rfd.as_fd(), path).map_err(ctx(|| format!("{path}: resolve in {r}")))
}
