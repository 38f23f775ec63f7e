//! Idmapped bind mounts (`idmap` / `ridmap`): mount_setattr(MOUNT_ATTR_IDMAP) on the detached
//! tree with a user namespace that carries the mapping.
//!
//! With mappings on the mount, a throw-away user namespace is made for them: a forked helper
//! unshares CLONE_NEWUSER and waits while we write its maps and open its namespace file. With
//! no mappings, the caller's own user namespace (the container's) is used.

use super::error::{ctx, Result, RootfsError};
use super::sys::{self, MountAttr};
use spec_translate::{IdMap, MountIdMap};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

pub fn apply(tree: BorrowedFd<'_>, map: &MountIdMap) -> Result<()> {
    let ns = if map.uid_mappings.is_empty() {
        sys::open(c"/proc/self/ns/user", libc::O_RDONLY)
            .map_err(ctx(|| "open /proc/self/ns/user".to_string()))?
    } else {
        helper_userns(&map.uid_mappings, &map.gid_mappings)?
    };
    let attr = MountAttr {
        attr_set: sys::MOUNT_ATTR_IDMAP,
        userns_fd: ns.as_raw_fd() as u64,
        ..Default::default()
    };
    sys::setattr_fd(tree, map.recursive, &attr).map_err(ctx(|| "make idmapped mount".to_string()))
}

fn map_text(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// A user namespace with the given maps, as an open /proc/PID/ns/user descriptor.
pub fn helper_userns(uid: &[IdMap], gid: &[IdMap]) -> Result<OwnedFd> {
    let e = |what: &'static str| ctx(move || format!("idmap helper: {what}"));
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|x| RootfsError::io("idmap helper: pipe", x.into()))?;
    let (go_r, go_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|x| RootfsError::io("idmap helper: pipe", x.into()))?;
    // SAFETY: the child only makes raw syscalls (close, unshare, write, read, _exit).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(RootfsError::io(
            "idmap helper: fork",
            std::io::Error::last_os_error(),
        ));
    }
    if pid == 0 {
        // SAFETY: raw syscalls on descriptors this process holds; _exit never returns.
        unsafe {
            libc::close(go_w.as_raw_fd());
            libc::close(ready_r.as_raw_fd());
            let ok: u8 = (libc::unshare(libc::CLONE_NEWUSER) == 0) as u8;
            libc::write(
                ready_w.as_raw_fd(),
                &ok as *const u8 as *const libc::c_void,
                1,
            );
            let mut b = 0u8;
            libc::read(go_r.as_raw_fd(), &mut b as *mut u8 as *mut libc::c_void, 1);
            libc::_exit(0);
        }
    }
    drop(ready_w);
    drop(go_r);
    let result = (|| {
        let mut ok = [0u8];
        std::fs::File::from(ready_r)
            .read_exact(&mut ok)
            .map_err(e("wait for child"))?;
        if ok[0] != 1 {
            return Err(RootfsError::new(
                "idmap helper: unshare(CLONE_NEWUSER) failed",
            ));
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{pid}/uid_map"))
            .and_then(|mut f| f.write_all(map_text(uid).as_bytes()))
            .map_err(e("write uid_map"))?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{pid}/gid_map"))
            .and_then(|mut f| f.write_all(map_text(gid).as_bytes()))
            .map_err(e("write gid_map"))?;
        sys::open(
            &sys::cstr(&format!("/proc/{pid}/ns/user")).map_err(e("ns path"))?,
            libc::O_RDONLY,
        )
        .map_err(e("open user namespace"))
    })();
    drop(go_w); // lets the helper exit
    let mut status = 0;
    // SAFETY: pid is our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    result
}
