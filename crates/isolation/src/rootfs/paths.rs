//! Safe path resolution inside the rootfs.
//!
//! Every container path is resolved by the kernel with openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS) against a descriptor of the rootfs: `..` stops at the rootfs and
//! absolute symlinks restart at the rootfs, so a symlink such as `/etc -> /host` or a
//! destination such as `/../../etc` can never name a host path (the CVE-2021-30465 pattern).
//! Mounts are then made onto the returned descriptor, never onto a re-resolved path string.

use super::sys;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub const IN_ROOT: u64 = sys::RESOLVE_IN_ROOT | sys::RESOLVE_NO_MAGICLINKS;
const MAX_SYMLINKS: usize = 40;

/// What to create when the destination is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// Open `path` (O_PATH, final symlink followed) inside the tree rooted at `root`.
pub fn open_in_root(root: BorrowedFd<'_>, path: &str) -> io::Result<OwnedFd> {
    let c = sys::cstr(path)?;
    sys::openat2(root.as_raw_fd(), &c, libc::O_PATH, 0, IN_ROOT)
}

/// Like [`open_in_root`] but refusing any symlink on the way (ELOOP).
pub fn open_in_root_no_symlinks(root: BorrowedFd<'_>, path: &str) -> io::Result<OwnedFd> {
    let c = sys::cstr(path)?;
    sys::openat2(
        root.as_raw_fd(),
        &c,
        libc::O_PATH,
        0,
        IN_ROOT | sys::RESOLVE_NO_SYMLINKS,
    )
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

fn join(base: &str, name: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// Open `path` inside `root`, creating what is missing: directories (0755) on the way and the
/// last component as `kind` (an empty 0644 file or a 0755 directory). Dangling symlinks are
/// followed (inside the root) and their targets created, as runc does for e.g.
/// `/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf`.
pub fn create_in_root(root: BorrowedFd<'_>, path: &str, kind: Kind) -> io::Result<OwnedFd> {
    let fd = match open_in_root(root, path) {
        Ok(fd) => fd,
        Err(e) if sys::errno_is(&e, libc::ENOENT) => create_slow(root, path, kind)?,
        Err(e) => return Err(e),
    };
    let st = sys::fstat(fd.as_fd())?;
    match (kind, sys::is_dir(&st)) {
        (Kind::Dir, false) => Err(io::Error::other("exists and is not a directory")),
        (Kind::File, true) => Err(io::Error::other("exists and is a directory")),
        _ => Ok(fd),
    }
}

fn create_slow(root: BorrowedFd<'_>, path: &str, kind: Kind) -> io::Result<OwnedFd> {
    // `done` only ever holds components that exist and are not symlinks, so the kernel's
    // in-root resolution of it is the same as ours.
    let mut done = String::from("/");
    let mut pending: VecDeque<String> = components(path).map(str::to_string).collect();
    let mut links = 0;
    let mut steps = 0;
    while let Some(c) = pending.pop_front() {
        // Bounds the loop even if something keeps racing us (EEXIST yet ENOENT).
        steps += 1;
        if steps > 4096 {
            return Err(io::Error::from_raw_os_error(libc::ELOOP));
        }
        let last = pending.is_empty();
        let cand = join(&done, &c);
        let ccand = sys::cstr(&cand)?;
        match sys::openat2(
            root.as_raw_fd(),
            &ccand,
            libc::O_PATH | libc::O_NOFOLLOW,
            0,
            IN_ROOT,
        ) {
            Ok(fd) => {
                let st = sys::fstat(fd.as_fd())?;
                if sys::is_symlink(&st) {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(io::Error::from_raw_os_error(libc::ELOOP));
                    }
                    let target = sys::readlink_fd(fd.as_fd())?;
                    for t in components(&target).collect::<Vec<_>>().into_iter().rev() {
                        pending.push_front(t.to_string());
                    }
                    if target.starts_with('/') {
                        done = String::from("/");
                    }
                    continue;
                }
                if !last && !sys::is_dir(&st) {
                    return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
                }
                done = cand;
            }
            Err(e) if sys::errno_is(&e, libc::ENOENT) => {
                let parent = sys::openat2(
                    root.as_raw_fd(),
                    &sys::cstr(&done)?,
                    libc::O_PATH | libc::O_DIRECTORY,
                    0,
                    IN_ROOT,
                )?;
                let name = sys::cstr(&c)?;
                let made = if last && kind == Kind::File {
                    sys::openat(
                        parent.as_raw_fd(),
                        &name,
                        libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW,
                        0o644,
                    )
                    .map(drop)
                } else {
                    sys::mkdirat(parent.as_raw_fd(), &name, 0o755)
                };
                match made {
                    Ok(()) => {}
                    Err(e) if sys::errno_is(&e, libc::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                // Re-examine the component we just made (or found racing us) on the next turn.
                pending.push_front(c);
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    open_in_root(root, &done)
}

/// The path of `fd` relative to `root_path` (the rootfs on the host), read back from the
/// kernel; `None` when the descriptor is somehow outside the rootfs.
pub fn path_in_root(fd: BorrowedFd<'_>, root_path: &str) -> io::Result<Option<String>> {
    let real = sys::readlinkat(libc::AT_FDCWD, &sys::fd_path(fd))?;
    if root_path == "/" {
        return Ok(Some(real));
    }
    Ok(match real.strip_prefix(root_path) {
        Some("") => Some("/".to_string()),
        Some(rest) if rest.starts_with('/') => Some(rest.to_string()),
        _ => None,
    })
}

/// Lexically clean an absolute container path: `//dev/./pts/` → `/dev/pts`. `..` is kept as a
/// component (only used for comparing config destinations, never for opening).
pub fn clean(path: &str) -> String {
    let v: Vec<&str> = components(path).collect();
    format!("/{}", v.join("/"))
}
