//! One `mounts[]` entry: binds through open_tree/move_mount, filesystems through mount(2) onto
//! the `/proc/self/fd/N` of the destination descriptor, then propagation and recursive
//! attributes through mount_setattr. Destinations are always resolved in the rootfs.

use super::error::{ctx, Result, RootfsError};
use super::paths::{self, Kind};
use super::sys::{self, MountAttr};
use super::{cgroup, copyup, idmap, Ctx};
use spec_translate::Mount;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Files under /proc that may be mounted over: the ones lxcfs emulates (same list as runc).
const PROC_ALLOWED: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
];

const MS: fn(libc::c_ulong) -> u64 = |x| x as u64;

pub fn mount_entry(c: &Ctx, m: &Mount) -> Result<()> {
    if m.is_bind {
        return bind_entry(c, m);
    }
    match m.fstype.as_str() {
        "cgroup" | "cgroup2" => cgroup::mount_cgroup(c, m),
        _ => fs_entry(c, m),
    }
}

/// Create and open the destination, then apply runc's rule for /proc.
pub fn open_dest(c: &Ctx, m: &Mount, kind: Kind) -> Result<OwnedFd> {
    let fd = paths::create_in_root(c.root.as_fd(), &m.destination, kind)
        .map_err(ctx(|| format!("{}: create mount point", m.destination)))?;
    check_proc_dest(c, fd.as_fd(), m)?;
    Ok(fd)
}

/// Only a proc filesystem may go on /proc, and nothing under /proc except the lxcfs files.
/// The check runs on where the destination really resolved to, so a symlink such as
/// `/foo -> /proc/self/attr` is caught too.
fn check_proc_dest(c: &Ctx, fd: BorrowedFd<'_>, m: &Mount) -> Result<()> {
    let real = paths::path_in_root(fd, &c.root_path)
        .map_err(ctx(|| {
            format!("{}: read back the mount point", m.destination)
        }))?
        .ok_or_else(|| {
            RootfsError::new(format!(
                "{}: mount point resolves outside the rootfs",
                m.destination
            ))
        })?;
    if real == "/proc" {
        let ok = if m.is_bind {
            std::fs::File::open(&m.source)
                .ok()
                .and_then(|f| sys::fstatfs(f.as_fd()).ok())
                .is_some_and(|s| s.f_type == libc::PROC_SUPER_MAGIC)
        } else {
            m.fstype == "proc"
        };
        if !ok {
            return Err(RootfsError::new(format!(
                "{}: cannot be mounted because it is not of type proc",
                m.destination
            )));
        }
    } else if real.starts_with("/proc/") && !PROC_ALLOWED.contains(&real.as_str()) {
        return Err(RootfsError::new(format!(
            "{}: cannot be mounted because it is inside /proc ({real})",
            m.destination
        )));
    }
    Ok(())
}

fn bind_entry(c: &Ctx, m: &Mount) -> Result<()> {
    let src_is_dir = std::fs::metadata(&m.source)
        .map_err(ctx(|| {
            format!("{}: bind source {}", m.destination, m.source)
        }))?
        .is_dir();
    let dest = open_dest(c, m, if src_is_dir { Kind::Dir } else { Kind::File })?;
    let tree = clone_tree(&m.source, m.flags & MS(libc::MS_REC) != 0)
        .map_err(|e| e.within(&m.destination))?;
    if let Some(map) = &m.idmap {
        idmap::apply(tree.as_fd(), map).map_err(|e| e.within(&m.destination))?;
    }
    apply_bind_flags(tree.as_fd(), m.flags)
        .map_err(ctx(|| format!("{}: set bind mount flags", m.destination)))?;
    sys::move_mount_fd(tree.as_fd(), dest.as_fd()).map_err(ctx(|| {
        format!("{}: attach bind mount of {}", m.destination, m.source)
    }))?;
    set_propagation_and_rec(tree.as_fd(), m)
}

/// A detached copy of the mount tree at `source` (host path), recursive for rbind.
pub fn clone_tree(source: &str, recursive: bool) -> Result<OwnedFd> {
    let mut flags = sys::OPEN_TREE_CLONE;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    let src = sys::cstr(source).map_err(ctx(|| format!("bind source {source}")))?;
    sys::open_tree(libc::AT_FDCWD, &src, flags).map_err(ctx(|| format!("clone mount of {source}")))
}

/// The bind remount step: with any flag beyond bind/rec/remount, runc remounts with exactly
/// those flags, which clears ro/nosuid/nodev/noexec that were not asked for. Atime is only
/// touched when an atime option was given. If the kernel refuses to clear a flag that is
/// locked (a mount inherited into a user namespace), keep the locked flags and retry, as runc
/// does.
pub fn apply_bind_flags(tree: BorrowedFd<'_>, flags: u64) -> std::io::Result<()> {
    let extra = flags & !MS(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
    if extra == 0 {
        return Ok(());
    }
    let mut attr = MountAttr::default();
    for (ms, at) in [
        (MS(libc::MS_RDONLY), sys::MOUNT_ATTR_RDONLY),
        (MS(libc::MS_NOSUID), sys::MOUNT_ATTR_NOSUID),
        (MS(libc::MS_NODEV), sys::MOUNT_ATTR_NODEV),
        (MS(libc::MS_NOEXEC), sys::MOUNT_ATTR_NOEXEC),
        (MS(libc::MS_NODIRATIME), sys::MOUNT_ATTR_NODIRATIME),
        (256, sys::MOUNT_ATTR_NOSYMFOLLOW),
    ] {
        if flags & ms != 0 {
            attr.attr_set |= at;
        } else {
            attr.attr_clr |= at;
        }
    }
    let atime = if flags & MS(libc::MS_STRICTATIME) != 0 {
        Some(sys::MOUNT_ATTR_STRICTATIME)
    } else if flags & MS(libc::MS_NOATIME) != 0 {
        Some(sys::MOUNT_ATTR_NOATIME)
    } else if flags & MS(libc::MS_RELATIME) != 0 {
        Some(sys::MOUNT_ATTR_RELATIME)
    } else {
        None
    };
    if let Some(a) = atime {
        attr.attr_set |= a;
        attr.attr_clr |= sys::MOUNT_ATTR__ATIME;
    }
    match sys::setattr_fd(tree, false, &attr) {
        Err(e) if sys::errno_is(&e, libc::EPERM) => {
            let st = sys::fstatvfs(tree)?;
            let mut locked = 0;
            for (st_flag, at) in [
                (libc::ST_RDONLY, sys::MOUNT_ATTR_RDONLY),
                (libc::ST_NOSUID, sys::MOUNT_ATTR_NOSUID),
                (libc::ST_NODEV, sys::MOUNT_ATTR_NODEV),
                (libc::ST_NOEXEC, sys::MOUNT_ATTR_NOEXEC),
                (libc::ST_NODIRATIME, sys::MOUNT_ATTR_NODIRATIME),
            ] {
                if st.f_flag & st_flag != 0 {
                    locked |= at;
                }
            }
            attr.attr_clr &= !locked;
            if attr.attr_clr & sys::MOUNT_ATTR__ATIME != 0
                && st.f_flag & (libc::ST_NOATIME | libc::ST_RELATIME) != 0
            {
                // Locked atime cannot change either; leave it as it is.
                attr.attr_clr &= !sys::MOUNT_ATTR__ATIME;
                attr.attr_set &= !sys::MOUNT_ATTR__ATIME;
            }
            sys::setattr_fd(tree, false, &attr)
        }
        other => other,
    }
}

/// Propagation options in order, then the `r*` options, on the mount `fd` refers to.
pub fn set_propagation_and_rec(fd: BorrowedFd<'_>, m: &Mount) -> Result<()> {
    for &p in &m.propagation {
        let rec = p & MS(libc::MS_REC) != 0;
        let attr = MountAttr {
            propagation: p & !MS(libc::MS_REC),
            ..Default::default()
        };
        sys::setattr_fd(fd, rec, &attr)
            .map_err(ctx(|| format!("{}: set propagation {p:#x}", m.destination)))?;
    }
    if m.rec_attr_set != 0 || m.rec_attr_clr != 0 {
        let attr = MountAttr {
            attr_set: m.rec_attr_set,
            attr_clr: m.rec_attr_clr,
            ..Default::default()
        };
        sys::setattr_fd(fd, true, &attr).map_err(ctx(|| {
            format!("{}: set recursive mount attributes", m.destination)
        }))?;
    }
    Ok(())
}

/// Split the `tmpcopyup` token (carried in `data` by spec-translate) from the real data.
fn take_tmpcopyup(data: &str) -> (bool, String) {
    let mut copyup = false;
    let rest: Vec<&str> = data
        .split(',')
        .filter(|o| {
            let t = *o == spec_translate::mounts::TMPCOPYUP;
            copyup |= t;
            !t && !o.is_empty()
        })
        .collect();
    (copyup, rest.join(","))
}

fn fs_entry(c: &Ctx, m: &Mount) -> Result<()> {
    let (copyup, data) = take_tmpcopyup(&m.data);
    let dest = open_dest(c, m, Kind::Dir)?;
    if m.fstype == "proc" || m.fstype == "sysfs" {
        // As runc: these go on an ordinary directory reached without any symlink.
        paths::open_in_root_no_symlinks(c.root.as_fd(), &m.destination).map_err(ctx(|| {
            format!(
                "{}: {} must be mounted on an ordinary directory",
                m.destination, m.fstype
            )
        }))?;
    }
    if copyup {
        let mnt =
            copyup::tmpfs_copyup(dest.as_fd(), m, &data).map_err(|e| e.within(&m.destination))?;
        return set_propagation_and_rec(mnt.as_fd(), m);
    }
    mount_fs_at(dest.as_fd(), &m.source, &m.fstype, m.flags, &data)
        .or_else(|e| fallback_bind(c, m, dest.as_fd(), e))?;
    let top = paths::open_in_root(c.root.as_fd(), &m.destination)
        .map_err(ctx(|| format!("{}: reopen after mount", m.destination)))?;
    set_propagation_and_rec(top.as_fd(), m)
}

/// mount(2) of a filesystem onto the directory `dest` refers to.
pub fn mount_fs_at(
    dest: BorrowedFd<'_>,
    source: &str,
    fstype: &str,
    flags: u64,
    data: &str,
) -> Result<()> {
    let what = || format!("mount {fstype} from {source:?}");
    let src = sys::cstr(source).map_err(ctx(what))?;
    let typ = sys::cstr(fstype).map_err(ctx(what))?;
    let d = sys::cstr(data).map_err(ctx(what))?;
    sys::mount(
        Some(&src),
        &sys::fd_path(dest),
        Some(&typ),
        flags,
        if data.is_empty() { None } else { Some(&d) },
    )
    .map_err(ctx(what))
}

/// In a user namespace without its own network or IPC namespace the kernel refuses sysfs and
/// mqueue; runc then binds the host's instead, and so do we.
fn fallback_bind(c: &Ctx, m: &Mount, dest: BorrowedFd<'_>, e: RootfsError) -> Result<()> {
    let host = match m.fstype.as_str() {
        "sysfs" => "/sys",
        "mqueue" => "/dev/mqueue",
        _ => return Err(e.within(&m.destination)),
    };
    if !c.userns || e.errno() != Some(libc::EPERM) {
        return Err(e.within(&m.destination));
    }
    let tree = clone_tree(host, true).map_err(|e| e.within(&m.destination))?;
    apply_bind_flags(tree.as_fd(), m.flags | MS(libc::MS_BIND))
        .map_err(ctx(|| format!("{}: set bind mount flags", m.destination)))?;
    sys::move_mount_fd(tree.as_fd(), dest).map_err(ctx(|| {
        format!("{}: attach bind mount of {host}", m.destination)
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpcopyup_token() {
        assert_eq!(take_tmpcopyup("tmpcopyup"), (true, String::new()));
        assert_eq!(
            take_tmpcopyup("mode=755,tmpcopyup,size=1k"),
            (true, "mode=755,size=1k".into())
        );
        assert_eq!(take_tmpcopyup("mode=755"), (false, "mode=755".into()));
        assert_eq!(take_tmpcopyup(""), (false, String::new()));
    }
}
