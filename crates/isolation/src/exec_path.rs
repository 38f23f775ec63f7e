//! Finding the program to run inside the container, so that a missing binary fails `create`
//! with runc's wording instead of failing silently after `start`.

use crate::error::{Error, Result};
use std::ffi::CString;

fn executable(p: &str) -> bool {
    let Ok(c) = CString::new(p) else { return false };
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    unsafe {
        libc::stat(c.as_ptr(), &mut st) == 0
            && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
            && libc::access(c.as_ptr(), libc::X_OK) == 0
    }
}

/// Resolve `prog` against PATH from the container's environment. Runs after pivot_root.
pub fn resolve(prog: &str, env: &[String]) -> Result<String> {
    if prog.contains('/') {
        let c = CString::new(prog).map_err(|_| Error::new("program name contains a NUL byte"))?;
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::stat(c.as_ptr(), &mut st) } < 0 {
            return Err(Error::last_os(format!("exec: \"{prog}\": stat {prog}")));
        }
        if !executable(prog) {
            return Err(Error::new(format!("exec: \"{prog}\": permission denied")));
        }
        return Ok(prog.to_string());
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = format!("{dir}/{prog}");
        if executable(&cand) {
            return Ok(cand);
        }
    }
    Err(Error::new(format!(
        "exec: \"{prog}\": executable file not found in $PATH"
    )))
}
