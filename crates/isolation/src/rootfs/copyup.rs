//! `tmpcopyup` (podman `--read-only` uses it for /tmp, /run, /var/tmp): a tmpfs that starts
//! with a copy of what the image had at the destination.
//!
//! The tmpfs is created detached (fsopen/fsmount), filled from the destination directory
//! through descriptors only (never following a symlink of the image: links are copied as
//! links), then attached onto the destination with move_mount.

use super::error::{ctx, Result};
use super::sys::{self, MountAttr};
use spec_translate::Mount;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

const MS: fn(libc::c_ulong) -> u64 = |x| x as u64;

/// Mount attributes for fsmount from the per-mount MS_* flags (ro is applied after the copy).
fn fsmount_attrs(flags: u64) -> u64 {
    let mut a = 0;
    for (ms, at) in [
        (MS(libc::MS_NOSUID), sys::MOUNT_ATTR_NOSUID),
        (MS(libc::MS_NODEV), sys::MOUNT_ATTR_NODEV),
        (MS(libc::MS_NOEXEC), sys::MOUNT_ATTR_NOEXEC),
        (MS(libc::MS_NODIRATIME), sys::MOUNT_ATTR_NODIRATIME),
        (MS(libc::MS_NOATIME), sys::MOUNT_ATTR_NOATIME),
        (MS(libc::MS_STRICTATIME), sys::MOUNT_ATTR_STRICTATIME),
    ] {
        if flags & ms != 0 {
            a |= at;
        }
    }
    a
}

/// A detached filesystem of type `fstype`, configured from mount(2)-style `data`.
pub fn detached_fs(
    fstype: &str,
    source: &str,
    data: &str,
    sb_ro: bool,
    attrs: u64,
) -> io::Result<OwnedFd> {
    let fs = sys::fsopen(&sys::cstr(fstype)?)?;
    sys::fsconfig(
        fs.as_fd(),
        sys::FSCONFIG_SET_STRING,
        Some(c"source"),
        Some(&sys::cstr(source)?),
    )?;
    for opt in data.split(',').filter(|o| !o.is_empty()) {
        match opt.split_once('=') {
            Some((k, v)) => sys::fsconfig(
                fs.as_fd(),
                sys::FSCONFIG_SET_STRING,
                Some(&sys::cstr(k)?),
                Some(&sys::cstr(v)?),
            )?,
            None => sys::fsconfig(
                fs.as_fd(),
                sys::FSCONFIG_SET_FLAG,
                Some(&sys::cstr(opt)?),
                None,
            )?,
        }
    }
    if sb_ro {
        sys::fsconfig(fs.as_fd(), sys::FSCONFIG_SET_FLAG, Some(c"ro"), None)?;
    }
    sys::fsconfig(fs.as_fd(), sys::FSCONFIG_CMD_CREATE, None, None)?;
    sys::fsmount(fs.as_fd(), attrs)
}

/// Mount the tmpfs of `m` on `dest` with the content `dest` had. Returns the mount.
pub fn tmpfs_copyup(dest: BorrowedFd<'_>, m: &Mount, data: &str) -> Result<OwnedFd> {
    let mnt = detached_fs("tmpfs", &m.source, data, false, fsmount_attrs(m.flags))
        .map_err(ctx(|| "create tmpfs".to_string()))?;
    let src = sys::openat(
        dest.as_raw_fd(),
        c".",
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
    )
    .map_err(ctx(|| "open for copy-up".to_string()))?;
    let dst = sys::openat(mnt.as_raw_fd(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0)
        .map_err(ctx(|| "open tmpfs".to_string()))?;
    copy_attrs(src.as_fd(), dst.as_raw_fd(), c".", false)
        .map_err(ctx(|| "copy-up attributes".to_string()))?;
    copy_dir(src.as_fd(), dst.as_fd()).map_err(ctx(|| "copy-up".to_string()))?;
    if m.flags & MS(libc::MS_RDONLY) != 0 {
        let attr = MountAttr {
            attr_set: sys::MOUNT_ATTR_RDONLY,
            ..Default::default()
        };
        sys::setattr_fd(mnt.as_fd(), false, &attr).map_err(ctx(|| "make read-only".to_string()))?;
    }
    sys::move_mount_fd(mnt.as_fd(), dest).map_err(ctx(|| "attach tmpfs".to_string()))?;
    Ok(mnt)
}

/// Owner and mode of `src` onto `name` in `dst_dir` (symlinks: owner only).
fn copy_attrs(src: BorrowedFd<'_>, dst_dir: i32, name: &CStr, symlink: bool) -> io::Result<()> {
    let st = sys::fstat(src)?;
    sys::fchownat(
        dst_dir,
        name,
        st.st_uid,
        st.st_gid,
        libc::AT_SYMLINK_NOFOLLOW,
    )?;
    if !symlink {
        sys::fchmodat(dst_dir, name, st.st_mode & 0o7777)?;
    }
    Ok(())
}

fn entries(dir: BorrowedFd<'_>) -> io::Result<Vec<CString>> {
    // A fresh descriptor: closedir() closes what fdopendir() took.
    let fd = sys::openat(dir.as_raw_fd(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let raw = std::os::fd::IntoRawFd::into_raw_fd(fd);
    // SAFETY: raw is an open directory descriptor we own; fdopendir takes it over.
    let d = unsafe { libc::fdopendir(raw) };
    if d.is_null() {
        // SAFETY: fdopendir failed, so we still own raw.
        drop(unsafe { OwnedFd::from_raw_fd(raw) });
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    loop {
        // SAFETY: d is a valid DIR*.
        let e = unsafe { libc::readdir64(d) };
        if e.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let name = unsafe { CStr::from_ptr((*e).d_name.as_ptr()) };
        if name != c"." && name != c".." {
            out.push(name.to_owned());
        }
    }
    // SAFETY: d is valid and not used afterwards.
    unsafe { libc::closedir(d) };
    Ok(out)
}

fn copy_dir(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<()> {
    for name in entries(src)? {
        let node = sys::openat(src.as_raw_fd(), &name, libc::O_PATH | libc::O_NOFOLLOW, 0)?;
        let st = sys::fstat(node.as_fd())?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {
                sys::mkdirat(dst.as_raw_fd(), &name, 0o700)?;
                let s = sys::openat(
                    src.as_raw_fd(),
                    &name,
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                    0,
                )?;
                let d = sys::openat(
                    dst.as_raw_fd(),
                    &name,
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                    0,
                )?;
                copy_dir(s.as_fd(), d.as_fd())?;
                copy_attrs(node.as_fd(), dst.as_raw_fd(), &name, false)?;
            }
            libc::S_IFREG => {
                let s = sys::openat(src.as_raw_fd(), &name, libc::O_RDONLY | libc::O_NOFOLLOW, 0)?;
                let d = sys::openat(
                    dst.as_raw_fd(),
                    &name,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
                    0o600,
                )?;
                io::copy(&mut File::from(s), &mut File::from(d))?;
                copy_attrs(node.as_fd(), dst.as_raw_fd(), &name, false)?;
            }
            libc::S_IFLNK => {
                let target = sys::readlink_fd(node.as_fd())?;
                sys::symlinkat(&sys::cstr(&target)?, dst.as_raw_fd(), &name)?;
                copy_attrs(node.as_fd(), dst.as_raw_fd(), &name, true)?;
            }
            _ => {
                sys::mknodat(dst.as_raw_fd(), &name, st.st_mode, st.st_rdev)?;
                copy_attrs(node.as_fd(), dst.as_raw_fd(), &name, false)?;
            }
        }
    }
    Ok(())
}
