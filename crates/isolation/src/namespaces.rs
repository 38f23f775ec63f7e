//! Opening, checking and entering namespaces; id maps and time offsets.

use crate::error::{check, Error, Result};
use spec_translate::{IdMap, NsKind, TimeOffset};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Open a namespace file and make sure it really is a namespace of the expected kind, so that
/// `"path": "/etc/passwd"` is refused with a clear message instead of a confusing EINVAL.
pub fn open_ns(kind: NsKind, path: &Path) -> Result<OwnedFd> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        Error::new(format!(
            "namespace path {} contains a NUL byte",
            path.display()
        ))
    })?;
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os(format!(
            "open {} namespace {}",
            kind.oci_name(),
            path.display()
        )));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let t = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) };
    if t < 0 {
        return Err(Error::new(format!(
            "{} is not a namespace file",
            path.display()
        )));
    }
    if t != kind.clone_flag() {
        return Err(Error::new(format!(
            "{} is not a {} namespace",
            path.display(),
            kind.oci_name()
        )));
    }
    Ok(fd)
}

pub fn setns(fd: &OwnedFd, kind: NsKind) -> Result<()> {
    check(
        unsafe { libc::setns(fd.as_raw_fd(), kind.clone_flag()) },
        || format!("join {} namespace", kind.oci_name()),
    )?;
    Ok(())
}

pub fn unshare(flags: i32) -> Result<()> {
    check(unsafe { libc::unshare(flags) }, || {
        format!("unshare namespaces {flags:#x}")
    })?;
    Ok(())
}

fn map_text(maps: &[IdMap]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// Write uid_map and gid_map of a process that has just created its user namespace.
pub fn write_id_maps(pid: i32, uid: &[IdMap], gid: &[IdMap]) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/uid_map"), map_text(uid))
        .map_err(|e| Error::io("write uid_map", e))?;
    std::fs::write(format!("/proc/{pid}/gid_map"), map_text(gid))
        .map_err(|e| Error::io("write gid_map", e))?;
    Ok(())
}

/// Offsets of a time namespace nobody has entered yet: `/proc/self/timens_offsets` of the
/// process that unshared it (its children will enter it).
pub fn write_time_offsets(offsets: &[TimeOffset]) -> Result<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let text: String = offsets
        .iter()
        .map(|o| format!("{} {} {}\n", o.clock, o.secs, o.nanosecs))
        .collect();
    std::fs::write("/proc/self/timens_offsets", text)
        .map_err(|e| Error::io("write time namespace offsets", e))
}

/// Sum of the CLONE_NEW* bits of these kinds.
pub fn flags_of(kinds: impl IntoIterator<Item = NsKind>) -> i32 {
    kinds.into_iter().fold(0, |f, k| f | k.clone_flag())
}
