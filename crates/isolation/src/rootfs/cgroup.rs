//! The `cgroup` mount (usually `/sys/fs/cgroup`, read-only).
//!
//! Unified host (/sys/fs/cgroup is cgroup2): mount cgroup2 there; if the kernel refuses (a user
//! namespace without a cgroup namespace) bind the container's own cgroup directory instead.
//!
//! v1 / hybrid host (this project's machines): as runc 1.1 does, a tmpfs at the destination,
//! then one directory per v1 hierarchy: with a cgroup namespace a fresh cgroup mount of that
//! hierarchy (the namespace limits the view), without one a bind of the container's own cgroup
//! directory of that hierarchy. Co-mounted controllers (`cpu,cpuacct`) get symlinks (`cpu`,
//! `cpuacct`). The hybrid `unified` cgroup2 is not shown, as runc 1.1 does not show it either.
//! The tmpfs is made read-only at the end when the mount asked for `ro`.
//!
//! The container's cgroup is read from /proc/self/cgroup, so the caller must already be in its
//! final cgroup when `prepare` runs.

use super::error::{ctx, Result, RootfsError};
use super::mount::{apply_bind_flags, clone_tree, mount_fs_at, open_dest, set_propagation_and_rec};
use super::paths::{self, Kind};
use super::sys::{self, MountAttr};
use super::{mountinfo, Ctx};
use spec_translate::Mount;
use std::os::fd::{AsFd, AsRawFd};

const MS: fn(libc::c_ulong) -> u64 = |x| x as u64;

pub fn mount_cgroup(c: &Ctx, m: &Mount) -> Result<()> {
    let host = std::fs::File::open("/sys/fs/cgroup")
        .and_then(|f| sys::fstatfs(f.as_fd()))
        .map_err(ctx(|| "statfs /sys/fs/cgroup".to_string()))?;
    if host.f_type == libc::CGROUP2_SUPER_MAGIC || m.fstype == "cgroup2" {
        v2(c, m)
    } else {
        v1(c, m)
    }
}

/// `0::/path` from /proc/self/cgroup for cgroup2, or the `(controllers, path)` v1 lines.
fn self_cgroups() -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(ctx(|| "read /proc/self/cgroup".to_string()))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, ctrl, path) = (it.next()?, it.next()?, it.next()?);
            Some((ctrl.to_string(), path.to_string()))
        })
        .collect())
}

fn bind_host_dir(c: &Ctx, dest_path: &str, host: &str, flags: u64) -> Result<()> {
    let dest = paths::create_in_root(c.root.as_fd(), dest_path, Kind::Dir)
        .map_err(ctx(|| format!("{dest_path}: create mount point")))?;
    let tree = clone_tree(host, true).map_err(|e| e.within(dest_path))?;
    apply_bind_flags(tree.as_fd(), flags | MS(libc::MS_BIND))
        .map_err(ctx(|| format!("{dest_path}: set bind mount flags")))?;
    sys::move_mount_fd(tree.as_fd(), dest.as_fd())
        .map_err(ctx(|| format!("{dest_path}: attach bind mount of {host}")))
}

fn v2(c: &Ctx, m: &Mount) -> Result<()> {
    let dest = open_dest(c, m, Kind::Dir)?;
    // Never pass options to cgroup2 unless the config asked: they would change the one cgroup2
    // superblock of the whole machine.
    match mount_fs_at(dest.as_fd(), "cgroup2", "cgroup2", m.flags, &m.data) {
        Ok(()) => {}
        Err(e) if matches!(e.errno(), Some(libc::EPERM) | Some(libc::EBUSY)) => {
            let path = self_cgroups()?
                .into_iter()
                .find(|(ctrl, _)| ctrl.is_empty())
                .map(|(_, p)| p)
                .unwrap_or_else(|| "/".into());
            let host = unified_host_mount()?;
            bind_host_dir(
                c,
                &m.destination,
                &format!("{}{}", host.trim_end_matches('/'), path),
                m.flags,
            )?;
        }
        Err(e) => return Err(e.within(&m.destination)),
    }
    let top = paths::open_in_root(c.root.as_fd(), &m.destination)
        .map_err(ctx(|| format!("{}: reopen after mount", m.destination)))?;
    set_propagation_and_rec(top.as_fd(), m)
}

fn unified_host_mount() -> Result<String> {
    let mi = mountinfo::read_self().map_err(ctx(|| "read /proc/self/mountinfo".to_string()))?;
    mi.into_iter()
        .find(|e| e.fstype == "cgroup2")
        .map(|e| e.mount_point)
        .ok_or_else(|| RootfsError::new("no cgroup2 mount on the host"))
}

fn v1(c: &Ctx, m: &Mount) -> Result<()> {
    let dest = open_dest(c, m, Kind::Dir)?;
    let tmpfs_flags = m.flags & !MS(libc::MS_RDONLY);
    mount_fs_at(dest.as_fd(), "tmpfs", "tmpfs", tmpfs_flags, "mode=755")
        .map_err(|e| e.within(&m.destination))?;
    let tmpfs = paths::open_in_root(c.root.as_fd(), &m.destination)
        .map_err(ctx(|| format!("{}: reopen after mount", m.destination)))?;

    let mounts = mountinfo::read_self().map_err(ctx(|| "read /proc/self/mountinfo".to_string()))?;
    let base = m.destination.trim_end_matches('/');
    for (ctrl, path) in self_cgroups()? {
        if ctrl.is_empty() {
            continue; // the hybrid cgroup2 line
        }
        let wanted: Vec<&str> = ctrl.split(',').collect();
        let Some(hier) = mounts
            .iter()
            .find(|e| e.fstype == "cgroup" && wanted.iter().all(|w| e.has_super_option(w)))
        else {
            continue; // a hierarchy the host does not mount: nothing to show
        };
        let name = hier
            .mount_point
            .rsplit('/')
            .next()
            .unwrap_or(&ctrl)
            .to_string();
        let sub = format!("{base}/{name}");
        if c.cgroupns {
            let d = paths::create_in_root(c.root.as_fd(), &sub, Kind::Dir)
                .map_err(ctx(|| format!("{sub}: create mount point")))?;
            mount_fs_at(d.as_fd(), "cgroup", "cgroup", m.flags, &ctrl)
                .map_err(|e| e.within(&sub))?;
        } else {
            let rel = path
                .strip_prefix(hier.root.trim_end_matches('/'))
                .unwrap_or(&path);
            let host = format!("{}{}", hier.mount_point.trim_end_matches('/'), rel);
            bind_host_dir(c, &sub, &host, m.flags)?;
        }
        if wanted.len() > 1 {
            let dir = paths::open_in_root(c.root.as_fd(), base)
                .map_err(ctx(|| format!("{base}: reopen")))?;
            for w in wanted {
                let link = w.strip_prefix("name=").unwrap_or(w);
                if link == name {
                    continue;
                }
                let (t, l) = (sys::cstr(&name), sys::cstr(link));
                if let (Ok(t), Ok(l)) = (t, l) {
                    match sys::symlinkat(&t, dir.as_raw_fd(), &l) {
                        Ok(()) => {}
                        Err(e) if sys::errno_is(&e, libc::EEXIST) => {}
                        Err(e) => {
                            return Err(RootfsError::io(
                                format!("{base}/{link}: symlink to {name}"),
                                e,
                            ))
                        }
                    }
                }
            }
        }
    }
    if m.flags & MS(libc::MS_RDONLY) != 0 {
        let attr = MountAttr {
            attr_set: sys::MOUNT_ATTR_RDONLY,
            ..Default::default()
        };
        sys::setattr_fd(tmpfs.as_fd(), false, &attr)
            .map_err(ctx(|| format!("{}: make read-only", m.destination)))?;
    }
    set_propagation_and_rec(tmpfs.as_fd(), m)
}
