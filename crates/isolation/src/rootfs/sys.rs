//! Thin wrappers over the mount-related syscalls, returning `io::Result`.
//!
//! The new mount API (open_tree, move_mount, mount_setattr, fsopen/fsconfig/fsmount) and
//! openat2 are called through `libc::syscall` with our own copies of the uapi structs: libc
//! marks `open_how` non-exhaustive, and the layouts are fixed kernel ABI.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_IN_ROOT: u64 = 0x10;

pub const OPEN_TREE_CLONE: u32 = 0x1;
pub const OPEN_TREE_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const FSOPEN_CLOEXEC: u32 = 0x1;
pub const FSMOUNT_CLOEXEC: u32 = 0x1;
pub const FSCONFIG_SET_FLAG: u32 = 0;
pub const FSCONFIG_SET_STRING: u32 = 1;
pub const FSCONFIG_CMD_CREATE: u32 = 6;

pub use spec_translate::mounts::{
    MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME,
    MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME,
};
pub const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `struct mount_attr` (MOUNT_ATTR_SIZE_VER0).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

fn check(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn fd_from(r: libc::c_long) -> io::Result<OwnedFd> {
    let r = check(r)?;
    // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// A C string from a Rust string; a NUL inside is an `InvalidInput` error, never a panic.
pub fn cstr(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{s:?} contains a NUL byte"),
        )
    })
}

/// The `/proc/self/fd/N` path naming `fd`, for the syscalls that only take paths.
pub fn fd_path(fd: BorrowedFd<'_>) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a formatted number")
}

pub fn openat2(
    dirfd: RawFd,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve,
    };
    // EAGAIN means a concurrent rename raced the lookup; a retry or two settles it.
    for _ in 0..16 {
        // SAFETY: `how` is a valid open_how of the size we pass; path is NUL-terminated.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd,
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        match fd_from(r) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            other => return other,
        }
    }
    Err(io::Error::from_raw_os_error(libc::EAGAIN))
}

pub fn open(path: &CStr, flags: i32) -> io::Result<OwnedFd> {
    // SAFETY: path is NUL-terminated.
    fd_from(unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) } as libc::c_long)
}

pub fn openat(dirfd: RawFd, path: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: path is NUL-terminated.
    fd_from(
        unsafe { libc::openat(dirfd, path.as_ptr(), flags | libc::O_CLOEXEC, mode) }
            as libc::c_long,
    )
}

pub fn open_tree(dirfd: RawFd, path: &CStr, flags: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with a NUL-terminated path.
    fd_from(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dirfd,
            path.as_ptr(),
            flags | OPEN_TREE_CLOEXEC,
        )
    })
}

/// Attach the detached (or move the attached) mount `from` onto the file `to`.
pub fn move_mount_fd(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: plain syscall; both paths are empty strings.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            c"".as_ptr(),
            to.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
    .map(drop)
}

pub fn mount_setattr(dirfd: RawFd, path: &CStr, at_flags: u32, attr: &MountAttr) -> io::Result<()> {
    // SAFETY: attr points to a mount_attr of the size we pass.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path.as_ptr(),
            at_flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// mount_setattr on the mount `fd` refers to; `recursive` adds AT_RECURSIVE.
pub fn setattr_fd(fd: BorrowedFd<'_>, recursive: bool, attr: &MountAttr) -> io::Result<()> {
    let mut at = libc::AT_EMPTY_PATH as u32;
    if recursive {
        at |= libc::AT_RECURSIVE as u32;
    }
    mount_setattr(fd.as_raw_fd(), c"", at, attr)
}

pub fn fsopen(fstype: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with a NUL-terminated name.
    fd_from(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

pub fn fsconfig(
    fd: BorrowedFd<'_>,
    cmd: u32,
    key: Option<&CStr>,
    value: Option<&CStr>,
) -> io::Result<()> {
    let k = key.map_or(std::ptr::null(), |k| k.as_ptr());
    let v = value.map_or(std::ptr::null(), |v| v.as_ptr());
    // SAFETY: plain syscall; key/value are NUL-terminated or null as the command wants.
    check(unsafe { libc::syscall(libc::SYS_fsconfig, fd.as_raw_fd(), cmd, k, v, 0) }).map(drop)
}

pub fn fsmount(fd: BorrowedFd<'_>, attr_flags: u64) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall.
    fd_from(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fd.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            attr_flags as libc::c_uint,
        )
    })
}

/// mount(2). `None` passes NULL.
pub fn mount(
    src: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
    data: Option<&CStr>,
) -> io::Result<()> {
    let p = |c: Option<&CStr>| c.map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is NUL-terminated or null.
    let r = unsafe {
        libc::mount(
            p(src),
            target.as_ptr(),
            p(fstype),
            flags as libc::c_ulong,
            p(data) as *const libc::c_void,
        )
    };
    check(r as libc::c_long).map(drop)
}

pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } as libc::c_long)?;
    Ok(st)
}

pub fn fstatfs(fd: BorrowedFd<'_>) -> io::Result<libc::statfs> {
    // SAFETY: zeroed statfs is a valid out-buffer.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } as libc::c_long)?;
    Ok(st)
}

pub fn fstatvfs(fd: BorrowedFd<'_>) -> io::Result<libc::statvfs> {
    // SAFETY: zeroed statvfs is a valid out-buffer.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut st) } as libc::c_long)?;
    Ok(st)
}

pub fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

pub fn is_symlink(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFLNK
}

/// readlinkat(fd, "") on an O_PATH descriptor of a symlink.
pub fn readlink_fd(fd: BorrowedFd<'_>) -> io::Result<String> {
    readlinkat(fd.as_raw_fd(), c"")
}

pub fn readlinkat(dirfd: RawFd, path: &CStr) -> io::Result<String> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: buf is writable for its length.
    let n = unsafe {
        libc::readlinkat(
            dirfd,
            path.as_ptr(),
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
        )
    };
    let n = check(n as libc::c_long)? as usize;
    buf.truncate(n);
    String::from_utf8(buf)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "symlink target is not UTF-8"))
}

pub fn mkdirat(dirfd: RawFd, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mkdirat(dirfd, name.as_ptr(), mode) } as libc::c_long).map(drop)
}

pub fn mknodat(dirfd: RawFd, name: &CStr, mode: u32, dev: libc::dev_t) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::mknodat(dirfd, name.as_ptr(), mode, dev) } as libc::c_long).map(drop)
}

pub fn symlinkat(target: &CStr, dirfd: RawFd, name: &CStr) -> io::Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dirfd, name.as_ptr()) } as libc::c_long)
        .map(drop)
}

pub fn unlinkat(dirfd: RawFd, name: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::unlinkat(dirfd, name.as_ptr(), flags) } as libc::c_long).map(drop)
}

pub fn fchownat(dirfd: RawFd, name: &CStr, uid: u32, gid: u32, flags: i32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::fchownat(dirfd, name.as_ptr(), uid, gid, flags) } as libc::c_long)
        .map(drop)
}

pub fn fchmodat(dirfd: RawFd, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: name is NUL-terminated.
    check(unsafe { libc::fchmodat(dirfd, name.as_ptr(), mode, 0) } as libc::c_long).map(drop)
}

pub fn fchdir(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::fchdir(fd.as_raw_fd()) } as libc::c_long).map(drop)
}

pub fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::chdir(path.as_ptr()) } as libc::c_long).map(drop)
}

pub fn chroot(path: &CStr) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::chroot(path.as_ptr()) } as libc::c_long).map(drop)
}

pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: both paths are NUL-terminated.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
        .map(drop)
}

pub fn umount2(path: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::umount2(path.as_ptr(), flags) } as libc::c_long).map(drop)
}

pub fn errno_is(e: &io::Error, n: i32) -> bool {
    e.raw_os_error() == Some(n)
}
