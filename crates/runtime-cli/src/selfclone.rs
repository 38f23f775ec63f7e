//! CVE-2019-5736: never let a container reach the host's nucleus binary through
//! /proc/PID/exe of a runtime process.
//!
//! Every process nucleus puts into a container is a fork of nucleus, so until it execs the
//! user's program its /proc/PID/exe is this binary, and a `#!/proc/self/exe` entrypoint would
//! even run it inside the container. Before forking into a container, nucleus therefore
//! re-executes itself from a file nobody can write:
//!
//! 1. First choice (runc 1.2's idea): the binary seen through a private, *detached* overlayfs
//!    mount with no upper layer. Overlayfs without an upper layer is read-only whatever its
//!    mount flags, so even a clone of that mount made read-write cannot be written through;
//!    the mount is never attached anywhere and vanishes with the last process using it. No
//!    copy is made and the page cache is shared, so this costs one exec.
//! 2. Fallback (crun's way): a sealed memfd copy of the binary.
//!
//! Nothing is done when the binary already runs from a sealed memfd or a read-only mount.

use anyhow::{anyhow, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

const MEMFD_NAME: &std::ffi::CStr = c"nucleus";
/// Set across the re-exec so the new image does not try again.
const MARK: &str = "_NUCLEUS_SEALED_EXE";

/// True when /proc/self/exe cannot be written: a sealed memfd, or a read-only mount.
fn already_safe() -> bool {
    let fd = unsafe { libc::open(c"/proc/self/exe".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals >= 0 && seals & libc::F_SEAL_WRITE != 0 {
        return true;
    }
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut vfs) == 0 && vfs.f_flag & libc::ST_RDONLY != 0 }
}

fn fd_or_err(ret: libc::c_long, what: &str) -> Result<OwnedFd> {
    if ret < 0 {
        return Err(anyhow!("{what}: {}", std::io::Error::last_os_error()));
    }
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}

/// Open the running binary through a detached, read-only overlayfs. `scratch` is an empty
/// directory on the host: overlayfs needs two lower layers that do not overlap.
fn open_through_overlay(scratch: &Path) -> Result<OwnedFd> {
    const FSOPEN_CLOEXEC: u32 = 1;
    const FSCONFIG_SET_STRING: u32 = 1;
    const FSCONFIG_CMD_CREATE: u32 = 6;
    const FSMOUNT_CLOEXEC: u32 = 1;
    const MOUNT_ATTR_RDONLY: u32 = 1;
    const MOUNT_ATTR_NOSUID: u32 = 2;
    const MOUNT_ATTR_NODEV: u32 = 4;
    let exe = std::fs::read_link("/proc/self/exe")?;
    let (Some(dir), Some(name)) = (exe.parent(), exe.file_name()) else {
        return Err(anyhow!("odd executable path {}", exe.display()));
    };
    std::fs::create_dir_all(scratch)?;
    let lower = format!("{}:{}", dir.display(), scratch.display());
    if lower.contains(',') {
        return Err(anyhow!("a path with a comma cannot be an overlay layer"));
    }
    let fs = fd_or_err(
        unsafe { libc::syscall(libc::SYS_fsopen, c"overlay".as_ptr(), FSOPEN_CLOEXEC) },
        "fsopen overlay",
    )?;
    let val = CString::new(lower)?;
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            c"lowerdir".as_ptr(),
            val.as_ptr(),
            0,
        )
    };
    if r < 0 {
        return Err(anyhow!(
            "overlay lowerdir: {}",
            std::io::Error::last_os_error()
        ));
    }
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            0usize,
            0usize,
            0,
        )
    };
    if r < 0 {
        return Err(anyhow!(
            "create overlay: {}",
            std::io::Error::last_os_error()
        ));
    }
    let attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    let mnt = fd_or_err(
        unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs) },
        "fsmount overlay",
    )?;
    let cname = CString::new(name.as_encoded_bytes())?;
    fd_or_err(
        unsafe {
            libc::openat(
                mnt.as_raw_fd(),
                cname.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        } as libc::c_long,
        "open binary through overlay",
    )
}

/// The fallback: a sealed memfd copy of the binary.
fn open_sealed_copy() -> Result<OwnedFd> {
    let memfd = fd_or_err(
        unsafe {
            libc::memfd_create(
                MEMFD_NAME.as_ptr(),
                libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
            )
        } as libc::c_long,
        "memfd_create",
    )?;
    let mut src =
        std::fs::File::open("/proc/self/exe").map_err(|e| anyhow!("open /proc/self/exe: {e}"))?;
    let mut dst = std::fs::File::from(memfd);
    std::io::copy(&mut src, &mut dst).map_err(|e| anyhow!("copy the nucleus binary: {e}"))?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    if unsafe { libc::fcntl(dst.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(anyhow!(
            "seal the nucleus copy: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(OwnedFd::from(dst))
}

/// Re-run the current command from an unwritable file unless it already is one. Returns only
/// when no re-exec was needed (or possible: the error says why). `scratch` is an empty
/// root-owned directory used as the overlay's second layer.
pub fn ensure_sealed(scratch: &Path) -> Result<()> {
    if std::env::var_os(MARK).is_some() {
        std::env::remove_var(MARK);
        return Ok(());
    }
    if already_safe() {
        return Ok(());
    }
    let exe = match open_through_overlay(scratch) {
        Ok(fd) => fd,
        Err(_) => open_sealed_copy()?,
    };
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_encoded_bytes()).unwrap_or_default())
        .collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            CString::new(kv).ok()
        })
        .collect();
    env.push(CString::new(format!("{MARK}=1")).unwrap_or_default());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    unsafe { libc::fexecve(exe.as_raw_fd(), argv.as_ptr(), envp.as_ptr()) };
    Err(anyhow!(
        "re-exec from the sealed binary: {}",
        std::io::Error::last_os_error()
    ))
}
