//! cgroup v1 (and the v1 half of hybrid hosts): one directory per controller.

use super::{fs, v2, Cgroup, CgroupError, LinuxResources, Mode};
use spec_translate::resources::{self, DeviceRule, FileWrite};
use std::io;
use std::path::{Path, PathBuf};

pub fn create(cg: &Cgroup) -> Result<(), CgroupError> {
    for (ctrl, dir) in &cg.v1 {
        if ctrl == "cpuset" {
            create_cpuset(dir)?;
        } else {
            std::fs::create_dir_all(dir).map_err(|e| {
                CgroupError::new(format!("cannot create cgroup {}: {}", dir.display(), e))
            })?;
        }
    }
    // Hybrid: the unified twin (hugetlb here, cgroup.kill, cgroup.events).
    if cg.mode == Mode::Hybrid {
        if let Some(u) = &cg.unified {
            v2::create(u)?;
        }
    }
    Ok(())
}

/// A new v1 cpuset cgroup starts with empty `cpuset.cpus`/`cpuset.mems`, and a task cannot
/// join it until both are set: copy them down from the nearest parent, level by level.
fn create_cpuset(dir: &Path) -> Result<(), CgroupError> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut p = dir.to_path_buf();
    while !p.exists() {
        missing.push(p.clone());
        if !p.pop() {
            break;
        }
    }
    for d in missing.iter().rev() {
        std::fs::create_dir(d)
            .or_else(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| {
                CgroupError::new(format!("cannot create cgroup {}: {}", d.display(), e))
            })?;
        let parent = d.parent().unwrap_or(d);
        for f in ["cpuset.cpus", "cpuset.mems"] {
            if fs::read(d, f)?.trim().is_empty() {
                let v = fs::read(parent, f)?;
                fs::write(d, f, v.trim())?;
            }
        }
    }
    Ok(())
}

pub fn apply(cg: &Cgroup, r: &LinuxResources) -> Result<(), CgroupError> {
    let w = resources::v1_writes(r)?;
    let mut files: Vec<(PathBuf, FileWrite)> = Vec::new();
    let hugetlb_unified = !cg.v1.contains_key("hugetlb") && cg.unified.is_some();
    for f in w.files {
        if f.controller == "hugetlb" && hugetlb_unified {
            continue;
        }
        files.push((dir_for(cg, &f)?, f));
    }
    if hugetlb_unified {
        let u = cg.unified.clone().unwrap_or_default();
        for f in resources::hugetlb_v2(r)? {
            files.push((u.clone(), f));
        }
    }
    // Pairs such as memory/memsw or cfs period/quota must be written in whichever order keeps
    // the kernel's invariants (memsw >= memory) across the change: try in order, then retry
    // what the kernel refused with EINVAL once the others are in place.
    let mut retry = Vec::new();
    for (dir, f) in &files {
        match write_v1(dir, f) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => retry.push((dir, f)),
            Err(e) => return Err(error(dir, f, &e)),
        }
    }
    for (dir, f) in retry {
        write_v1(dir, f).map_err(|e| error(dir, f, &e))?;
    }
    if let Some(rules) = &w.devices {
        let dir = cg.v1.get("devices").ok_or_else(|| {
            CgroupError::new(
                "cannot set linux.resources.devices: the devices controller is not mounted",
            )
        })?;
        apply_devices(dir, rules)?;
    }
    Ok(())
}

fn dir_for(cg: &Cgroup, f: &FileWrite) -> Result<PathBuf, CgroupError> {
    cg.v1.get(&f.controller).cloned().ok_or_else(|| {
        CgroupError::new(format!(
            "cannot set {}: the v1 {} controller is not mounted on this host",
            f.file, f.controller
        ))
    })
}

fn write_v1(dir: &Path, f: &FileWrite) -> io::Result<()> {
    match fs::write_raw(dir, &f.file, &f.value) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some((file, val)) = &f.fallback {
                return fs::write_raw(dir, file, val);
            }
            if f.skip_if_missing {
                return Ok(());
            }
            Err(e)
        }
        other => other,
    }
}

fn error(dir: &Path, f: &FileWrite, e: &io::Error) -> CgroupError {
    if e.kind() == io::ErrorKind::NotFound && dir.exists() {
        return CgroupError::new(format!(
            "cannot set {}: the kernel has no such file in {}",
            f.file,
            dir.display()
        ));
    }
    if f.file == "memory.limit_in_bytes" && e.raw_os_error() == Some(libc::EBUSY) {
        let usage = fs::read_raw(dir, "memory.usage_in_bytes").unwrap_or_default();
        return CgroupError::new(format!(
            "unable to set memory limit to {} (current usage: {})",
            f.value,
            usage.trim()
        ));
    }
    fs::write_error(dir, &f.file, &f.value, e)
}

/// Deny everything, then replay the rules in order: the same "default deny, last match
/// wins" policy as the v2 BPF program.
fn apply_devices(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    fs::write(dir, "devices.deny", "a *:* rwm")?;
    for r in rules {
        let file = if r.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        fs::write(dir, file, &r.v1_line())?;
    }
    Ok(())
}
