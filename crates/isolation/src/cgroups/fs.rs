//! Reading and writing cgroup files, with errors that name the file.

use super::CgroupError;
use std::io::{self, Write};
use std::path::Path;

/// Write `value` to `dir/file` in one write(2) (the kernel parses each write on its own).
/// The file must exist: cgroupfs files cannot be created, and a missing file means a missing
/// controller or kernel feature.
pub fn write_raw(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(dir.join(file))?;
    f.write_all(value.as_bytes())
}

pub fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    write_raw(dir, file, value).map_err(|e| write_error(dir, file, value, &e))
}

pub fn write_error(dir: &Path, file: &str, value: &str, e: &io::Error) -> CgroupError {
    CgroupError::new(format!(
        "cannot write {:?} to {}: {}",
        value.trim_end(),
        dir.join(file).display(),
        e
    ))
}

pub fn read_raw(dir: &Path, file: &str) -> io::Result<String> {
    std::fs::read_to_string(dir.join(file))
}

pub fn read(dir: &Path, file: &str) -> Result<String, CgroupError> {
    read_raw(dir, file)
        .map_err(|e| CgroupError::new(format!("cannot read {}: {}", dir.join(file).display(), e)))
}

/// A single number; "max" reads as u64::MAX (runc does the same in stats).
pub fn read_u64(dir: &Path, file: &str) -> Option<u64> {
    let s = read_raw(dir, file).ok()?;
    parse_u64(s.trim())
}

pub fn parse_u64(s: &str) -> Option<u64> {
    if s == "max" {
        return Some(u64::MAX);
    }
    // v1 reports "-1"-like huge values as plain numbers; negative means unlimited.
    s.parse::<u64>()
        .ok()
        .or_else(|| s.parse::<i64>().ok().map(|_| u64::MAX))
}

/// "key value" lines (cpu.stat, memory.stat, memory.events, ...).
pub fn read_keyed(dir: &Path, file: &str) -> Vec<(String, u64)> {
    let Ok(s) = read_raw(dir, file) else {
        return Vec::new();
    };
    s.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = parse_u64(it.next()?)?;
            Some((k.to_string(), v))
        })
        .collect()
}

pub fn keyed(list: &[(String, u64)], key: &str) -> Option<u64> {
    list.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// Pids listed in `cgroup.procs` of `dir` and of every cgroup below it.
pub fn procs_recursive(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    match read_raw(dir, "cgroup.procs") {
        Ok(s) => out.extend(s.lines().filter_map(|l| l.trim().parse::<i32>().ok())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(CgroupError::new(format!(
                "cannot read {}: {}",
                dir.join("cgroup.procs").display(),
                e
            )))
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for ent in rd.flatten() {
            if ent.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                procs_recursive(&ent.path(), out)?;
            }
        }
    }
    Ok(())
}
