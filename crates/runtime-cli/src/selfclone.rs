//! CVE-2019-5736: never let a container reach the host's nucleus binary through
//! /proc/PID/exe of a runtime process.
//!
//! Every process nucleus puts into a container is a fork of nucleus, so until it execs the
//! user's program its /proc/PID/exe is this binary, and a `#!/proc/self/exe` entrypoint would
//! even run it inside the container. Before forking into a container, nucleus therefore runs
//! from a sealed, read-only memfd copy of itself (as runc and crun do): what the container can
//! reach is that copy, which no one can write. The copy is skipped when the binary already sits
//! on a read-only mount, where no write can succeed anyway (the fast path for installs that
//! care about the extra millisecond).

use anyhow::{anyhow, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const MEMFD_NAME: &std::ffi::CStr = c"nucleus";
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

/// Re-run the current command from a sealed copy unless it is already safe. Returns only when
/// no re-exec was needed (or possible: the error says why).
pub fn ensure_sealed() -> Result<()> {
    if std::env::var_os(MARK).is_some() {
        std::env::remove_var(MARK);
        return Ok(());
    }
    if already_safe() {
        return Ok(());
    }
    let memfd = unsafe {
        libc::memfd_create(
            MEMFD_NAME.as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if memfd < 0 {
        return Err(anyhow!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    let memfd = unsafe { OwnedFd::from_raw_fd(memfd) };
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
    unsafe { libc::fexecve(dst.as_raw_fd(), argv.as_ptr(), envp.as_ptr()) };
    Err(anyhow!(
        "re-exec from the sealed copy: {}",
        std::io::Error::last_os_error()
    ))
}
