//! cgroup v2: create the tree with controllers enabled, write limits, attach the device filter.

use super::{devices_bpf, fs, CgroupError, LinuxResources};
use spec_translate::resources::{self, FileWrite};
use std::io;
use std::path::{Path, PathBuf};

/// mkdir the cgroup and every missing parent; in each parent enable every controller it has,
/// so the files of those controllers exist in the child.
pub fn create(dir: &Path) -> Result<(), CgroupError> {
    let root = tree_root(dir);
    let rel = dir.strip_prefix(&root).unwrap_or(Path::new(""));
    let mut current = root.clone();
    for part in rel.components() {
        enable_controllers(&current);
        current.push(part);
        match std::fs::create_dir(&current) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(CgroupError::new(format!(
                    "cannot create cgroup {}: {}",
                    current.display(),
                    e
                )))
            }
        }
    }
    Ok(())
}

/// The mount point of the cgroup2 tree that holds `dir`: the highest ancestor that still has
/// `cgroup.controllers` (works for the real tree and for a fake one in a temp dir).
fn tree_root(dir: &Path) -> PathBuf {
    let mut root = None;
    let mut p = dir.parent();
    while let Some(d) = p {
        if d.join("cgroup.controllers").exists() {
            root = Some(d.to_path_buf());
        }
        p = d.parent();
    }
    root.unwrap_or_else(|| dir.parent().unwrap_or(dir).to_path_buf())
}

/// Best effort, as runc: all at once, else one by one (a parent with processes of its own
/// refuses with EBUSY; the limits that need the controller then fail with a clear message).
fn enable_controllers(dir: &Path) {
    let Ok(avail) = fs::read_raw(dir, "cgroup.controllers") else {
        return;
    };
    let enabled = fs::read_raw(dir, "cgroup.subtree_control").unwrap_or_default();
    let missing: Vec<String> = avail
        .split_whitespace()
        .filter(|c| !enabled.split_whitespace().any(|e| e == *c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return;
    }
    if fs::write_raw(dir, "cgroup.subtree_control", &missing.join(" ")).is_err() {
        for m in &missing {
            let _ = fs::write_raw(dir, "cgroup.subtree_control", m);
        }
    }
}

pub fn apply(dir: &Path, r: &LinuxResources) -> Result<(), CgroupError> {
    let w = resources::v2_writes(r)?;
    for f in &w.files {
        write_one(dir, f)?;
    }
    if let Some(rules) = &w.devices {
        devices_bpf::apply(dir, rules)?;
    }
    Ok(())
}

/// Execute one write: fallback file, optional files, "keep the current quota".
pub fn write_one(dir: &Path, f: &FileWrite) -> Result<(), CgroupError> {
    let mut value = f.value.clone();
    if f.keep_first_field {
        if let Ok(cur) = fs::read_raw(dir, &f.file) {
            let quota = cur.split_whitespace().next().unwrap_or("max").to_string();
            let rest: Vec<&str> = value.split_whitespace().skip(1).collect();
            value = std::iter::once(quota.as_str())
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    match fs::write_raw(dir, &f.file, &value) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some((file, val)) = &f.fallback {
                return fs::write(dir, file, val);
            }
            if f.skip_if_missing {
                return Ok(());
            }
            Err(missing(dir, f))
        }
        Err(e) => Err(fs::write_error(dir, &f.file, &value, &e)),
    }
}

fn missing(dir: &Path, f: &FileWrite) -> CgroupError {
    let enabled = fs::read_raw(dir, "cgroup.controllers").unwrap_or_default();
    if f.controller != "cgroup" && !enabled.split_whitespace().any(|c| c == f.controller) {
        CgroupError::new(format!(
            "cannot set {}: controller {:?} is not available in {} (available: {})",
            f.file,
            f.controller,
            dir.display(),
            enabled.trim()
        ))
    } else {
        CgroupError::new(format!(
            "cannot set {}: the kernel has no such file in {}",
            f.file,
            dir.display()
        ))
    }
}
