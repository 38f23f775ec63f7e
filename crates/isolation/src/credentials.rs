//! Becoming the container's user with exactly the configured capabilities.
//!
//! Order matters: the bounding set can only shrink while we still hold CAP_SETPCAP, and the
//! other sets survive setuid only with PR_SET_KEEPCAPS. So: bounding, keepcaps, groups, gid,
//! uid, then capset and ambient.

use crate::error::{check, Result};
use spec_translate::{CapSets, Process};

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The highest capability this kernel knows (read before pivot_root, while /proc is the host's).
pub fn last_cap() -> u8 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn mask(caps: &[u8]) -> [u32; 2] {
    let mut m = [0u32; 2];
    for &c in caps {
        if c < 64 {
            m[(c / 32) as usize] |= 1 << (c % 32);
        }
    }
    m
}

fn capset(c: &CapSets) -> Result<()> {
    let (e, p, i) = (mask(&c.effective), mask(&c.permitted), mask(&c.inheritable));
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: e[0],
            permitted: p[0],
            inheritable: i[0],
        },
        CapData {
            effective: e[1],
            permitted: p[1],
            inheritable: i[1],
        },
    ];
    check(
        unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) as i32 },
        || "apply capabilities (capset)".into(),
    )?;
    Ok(())
}

/// Drop every capability not in `keep` from the bounding set.
fn drop_bounding(keep: &[u8], last: u8) -> Result<()> {
    for c in 0..=last {
        if !keep.contains(&c) {
            let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, c as libc::c_ulong, 0, 0, 0) };
            // EINVAL: the kernel does not know this capability; nothing to drop.
            if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
                return Err(crate::error::Error::last_os(format!(
                    "drop capability {c} from the bounding set"
                )));
            }
        }
    }
    Ok(())
}

/// Switch to the process's user and capability sets. `last` comes from [`last_cap`].
pub fn apply(p: &Process, last: u8) -> Result<()> {
    if let Some(c) = &p.capabilities {
        drop_bounding(&c.bounding, last)?;
    }
    check(
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) },
        || "prctl(PR_SET_KEEPCAPS)".into(),
    )?;
    let groups: Vec<libc::gid_t> = p.additional_gids.clone();
    check(
        unsafe { libc::setgroups(groups.len(), groups.as_ptr()) },
        || format!("setgroups {:?}", p.additional_gids),
    )?;
    check(unsafe { libc::setresgid(p.gid, p.gid, p.gid) }, || {
        format!("setgid {}", p.gid)
    })?;
    check(unsafe { libc::setresuid(p.uid, p.uid, p.uid) }, || {
        format!("setuid {}", p.uid)
    })?;
    check(
        unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) },
        || "prctl(PR_SET_KEEPCAPS)".into(),
    )?;
    match &p.capabilities {
        Some(c) => {
            capset(c)?;
            for &a in &c.ambient {
                check(
                    unsafe {
                        libc::prctl(
                            libc::PR_CAP_AMBIENT,
                            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                            a as libc::c_ulong,
                            0,
                            0,
                        )
                    },
                    || {
                        format!("raise ambient capability {a} (it must also be permitted and inheritable)")
                    },
                )?;
            }
        }
        None if p.uid != 0 => {
            // No capabilities section: a non-root user gets none, as after any setuid.
            capset(&CapSets::default())?;
        }
        None => {}
    }
    Ok(())
}
