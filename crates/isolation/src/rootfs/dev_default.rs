//! The /dev every container gets unless the config binds /dev itself (runc's `needsSetupDev`):
//! a tmpfs when no mount targets /dev, devpts at /dev/pts and a tmpfs at /dev/shm when the
//! config has none, the six standard devices, /dev/ptmx -> pts/ptmx and the fd/stdio/core links.

use super::devices::create_device;
use super::error::{ctx, Result};
use super::mount::mount_fs_at;
use super::paths::{self, clean, Kind};
use super::{sys, Ctx};
use spec_translate::{Device, Plan};
use std::os::fd::{AsFd, AsRawFd};

const MS: fn(libc::c_ulong) -> u64 = |x| x as u64;

/// null, zero, full, random, urandom, tty: 0666 root-owned character devices (runc's list).
pub fn default_devices() -> Vec<Device> {
    [
        ("/dev/null", 1, 3),
        ("/dev/zero", 1, 5),
        ("/dev/full", 1, 7),
        ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9),
        ("/dev/tty", 5, 0),
    ]
    .into_iter()
    .map(|(p, major, minor)| Device {
        path: p.into(),
        kind: 'c',
        major,
        minor,
        file_mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

fn has_mount_at(plan: &Plan, dest: &str) -> bool {
    plan.mounts.iter().any(|m| clean(&m.destination) == dest)
}

/// True when the config bind-mounts something at /dev: then /dev is the config's business.
pub fn dev_is_bound(plan: &Plan) -> bool {
    plan.mounts
        .iter()
        .any(|m| m.is_bind && clean(&m.destination) == "/dev")
}

/// Before the config's mounts: a tmpfs on /dev if none of them targets /dev.
pub fn before_mounts(c: &Ctx, plan: &Plan) -> Result<()> {
    if has_mount_at(plan, "/dev") {
        return Ok(());
    }
    let fd = paths::create_in_root(c.root.as_fd(), "/dev", Kind::Dir)
        .map_err(ctx(|| "/dev: create mount point".to_string()))?;
    mount_fs_at(
        fd.as_fd(),
        "tmpfs",
        "tmpfs",
        MS(libc::MS_NOSUID | libc::MS_STRICTATIME),
        "mode=755,size=65536k",
    )
    .map_err(|e| e.within("/dev"))
}

/// After the config's mounts: pts, shm, devices, ptmx and symlinks.
pub fn after_mounts(c: &Ctx, plan: &Plan) -> Result<()> {
    if dev_is_bound(plan) {
        return Ok(());
    }
    if !has_mount_at(plan, "/dev/pts") {
        // gid=5 (tty) only where gid 5 exists for sure: outside a user namespace.
        let data = if c.userns {
            "newinstance,ptmxmode=0666,mode=0620"
        } else {
            "newinstance,ptmxmode=0666,mode=0620,gid=5"
        };
        let fd = paths::create_in_root(c.root.as_fd(), "/dev/pts", Kind::Dir)
            .map_err(ctx(|| "/dev/pts: create mount point".to_string()))?;
        mount_fs_at(
            fd.as_fd(),
            "devpts",
            "devpts",
            MS(libc::MS_NOSUID | libc::MS_NOEXEC),
            data,
        )
        .map_err(|e| e.within("/dev/pts"))?;
    }
    if !has_mount_at(plan, "/dev/shm") {
        let fd = paths::create_in_root(c.root.as_fd(), "/dev/shm", Kind::Dir)
            .map_err(ctx(|| "/dev/shm: create mount point".to_string()))?;
        mount_fs_at(
            fd.as_fd(),
            "shm",
            "tmpfs",
            MS(libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV),
            "mode=1777,size=65536k",
        )
        .map_err(|e| e.within("/dev/shm"))?;
    }
    for d in default_devices() {
        if !plan.devices.iter().any(|p| clean(&p.path) == d.path) {
            create_device(c, &d)?;
        }
    }
    for (i, d) in plan.devices.iter().enumerate() {
        create_device(c, d).map_err(|e| e.within(format!("linux.devices[{i}]")))?;
    }
    let dev =
        paths::open_in_root(c.root.as_fd(), "/dev").map_err(ctx(|| "/dev: open".to_string()))?;
    // ptmx of the container's own devpts instance.
    match sys::unlinkat(dev.as_raw_fd(), c"ptmx", 0) {
        Ok(()) => {}
        Err(e) if sys::errno_is(&e, libc::ENOENT) => {}
        Err(e) => return Err(super::RootfsError::io("/dev/ptmx: remove", e)),
    }
    sys::symlinkat(c"pts/ptmx", dev.as_raw_fd(), c"ptmx")
        .map_err(ctx(|| "/dev/ptmx: symlink".to_string()))?;
    let mut links = vec![
        (c"/proc/self/fd", c"fd"),
        (c"/proc/self/fd/0", c"stdin"),
        (c"/proc/self/fd/1", c"stdout"),
        (c"/proc/self/fd/2", c"stderr"),
    ];
    if std::path::Path::new("/proc/kcore").exists() {
        links.push((c"/proc/kcore", c"core"));
    }
    for (target, name) in links {
        match sys::symlinkat(target, dev.as_raw_fd(), name) {
            Ok(()) => {}
            Err(e) if sys::errno_is(&e, libc::EEXIST) => {}
            Err(e) => {
                return Err(super::RootfsError::io(
                    format!("/dev/{}: symlink", name.to_string_lossy()),
                    e,
                ))
            }
        }
    }
    Ok(())
}
