//! Device nodes: mknod with the configured mode and owner, or, inside a user namespace (where
//! mknod is refused) and whenever mknod gets EPERM, a bind mount of the host's node of the same
//! path over an empty file, as runc does.

use super::error::{ctx, Result, RootfsError};
use super::mount::clone_tree;
use super::paths::{self, Kind};
use super::{sys, Ctx};
use spec_translate::Device;
use std::os::fd::{AsFd, AsRawFd};

fn split(path: &str) -> (&str, &str) {
    let p = path.trim_end_matches('/');
    match p.rsplit_once('/') {
        Some(("", name)) => ("/", name),
        Some((dir, name)) => (dir, name),
        None => ("/", p),
    }
}

pub fn create_device(c: &Ctx, d: &Device) -> Result<()> {
    let (dir, name) = split(&d.path);
    if name.is_empty() || name == ".." || name == "." {
        return Err(RootfsError::new(format!(
            "{}: not a device file name",
            d.path
        )));
    }
    let parent = paths::create_in_root(c.root.as_fd(), dir, Kind::Dir)
        .map_err(ctx(|| format!("{}: create parent directory", d.path)))?;
    let cname = sys::cstr(name).map_err(ctx(|| d.path.clone()))?;
    if c.userns {
        return bind_device(c, d);
    }
    let kind = match d.kind {
        'c' | 'u' => libc::S_IFCHR,
        'b' => libc::S_IFBLK,
        'p' => libc::S_IFIFO,
        k => {
            return Err(RootfsError::new(format!(
                "{}: unknown device type {k:?}",
                d.path
            )))
        }
    };
    let dev = libc::makedev(d.major as u32, d.minor as u32);
    match sys::mknodat(parent.as_raw_fd(), &cname, kind | d.file_mode, dev) {
        Ok(()) => {}
        // Already there (the image has it, or the config lists it twice): keep it, as runc.
        Err(e) if sys::errno_is(&e, libc::EEXIST) => return Ok(()),
        Err(e) if sys::errno_is(&e, libc::EPERM) => return bind_device(c, d),
        Err(e) => return Err(RootfsError::io(format!("{}: mknod", d.path), e)),
    }
    // mknod honours the umask; set the exact mode, then the owner.
    sys::fchmodat(parent.as_raw_fd(), &cname, d.file_mode)
        .map_err(ctx(|| format!("{}: chmod", d.path)))?;
    sys::fchownat(
        parent.as_raw_fd(),
        &cname,
        d.uid,
        d.gid,
        libc::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(ctx(|| format!("{}: chown", d.path)))
}

fn bind_device(c: &Ctx, d: &Device) -> Result<()> {
    let dest = paths::create_in_root(c.root.as_fd(), &d.path, Kind::File)
        .map_err(ctx(|| format!("{}: create bind target", d.path)))?;
    let tree = clone_tree(&d.path, false).map_err(|e| e.within(&d.path))?;
    sys::move_mount_fd(tree.as_fd(), dest.as_fd())
        .map_err(ctx(|| format!("{}: bind host device", d.path)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn split() {
        assert_eq!(super::split("/dev/null"), ("/dev", "null"));
        assert_eq!(super::split("/dev/cpu/0/cpuid"), ("/dev/cpu/0", "cpuid"));
        assert_eq!(super::split("/x"), ("/", "x"));
    }
}
