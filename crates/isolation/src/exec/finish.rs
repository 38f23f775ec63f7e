//! The last steps before execve, shared by the container's init and by `exec`'d processes:
//! signal state, session keyring, HOME, argv/envp and the execve itself.

use crate::error::{Error, Result};
use std::ffi::CString;

/// Empty signal mask and default dispositions: the runtime blocks signals it forwards, and
/// the user's program must not inherit that.
pub(crate) fn reset_signals() {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

/// A new session keyring named after the container, as runc: the host's session keyring is
/// never shared with the container.
pub(crate) fn join_session_keyring(id: &str) {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    if let Ok(name) = CString::new(format!("_ses.{id}")) {
        // Best effort, as runc: a kernel without keyrings (ENOSYS) is fine.
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) };
    }
}

/// runc sets HOME from the container's /etc/passwd when the process env does not. Call with
/// the container's root as `/`.
pub(crate) fn with_home(env: &[String], uid: u32) -> Vec<String> {
    if env.iter().any(|e| e.starts_with("HOME=")) {
        return env.to_vec();
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let home = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 6 && f[2] == uid.to_string()).then(|| f[5].to_string())
        })
        .unwrap_or_else(|| "/".to_string());
    let mut out = env.to_vec();
    out.push(format!("HOME={home}"));
    out
}

pub(crate) fn cstrings(v: &[String]) -> Result<Vec<CString>> {
    v.iter()
        .map(|s| {
            CString::new(s.as_str()).map_err(|_| Error::new(format!("{s:?} contains a NUL byte")))
        })
        .collect()
}

/// execve; returns only on failure.
pub(crate) fn execve(prog: &CString, argv: &[CString], envp: &[CString]) -> Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    unsafe { libc::execve(prog.as_ptr(), a.as_ptr(), e.as_ptr()) };
    Error::last_os(format!("exec {}", prog.to_string_lossy()))
}

/// chdir to `cwd` (resolved against the current root, i.e. inside the container) and make
/// sure the result is reachable from that root: a cwd outside it (CVE-2024-21626) makes
/// getcwd fail with ENOENT.
pub(crate) fn enter_cwd(cwd: &CString) -> std::io::Result<()> {
    if unsafe { libc::chdir(cwd.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    if unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) }.is_null() {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ERANGE) {
            return Err(std::io::Error::new(
                e.kind(),
                "the working directory is outside the container's root",
            ));
        }
    }
    Ok(())
}
