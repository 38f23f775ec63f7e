//! Where a container's cgroup lives: the mounted hierarchies and `cgroupsPath` resolution.
//!
//! runc's rules (libcontainer/cgroups/fs/paths.go and fs2/defaultpath.go):
//! - the path is cleaned lexically, and a relative path can never climb above its base;
//! - absolute: below the root of every hierarchy;
//! - relative: v1 below the runtime's own cgroup of each controller, v2 below the *parent* of
//!   the runtime's own cgroup (its own usually has processes, so controllers cannot be
//!   enabled below it);
//! - absent: the container id, as a relative path.

use super::mode::Mode;
use super::CgroupError;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The cgroup hierarchies visible to this process.
#[derive(Debug, Clone)]
pub struct Hierarchies {
    pub mode: Mode,
    /// v1 controller name → mount point (co-mounted controllers share one).
    pub v1: BTreeMap<String, PathBuf>,
    /// Mount point of the cgroup2 tree (v2: `/sys/fs/cgroup`, hybrid: `.../unified`).
    pub unified: Option<PathBuf>,
    /// This process's own cgroup per v1 controller, and under "" for the unified tree.
    pub own: BTreeMap<String, String>,
}

impl Hierarchies {
    /// Read `/proc/self/mountinfo` and `/proc/self/cgroup`.
    pub fn discover() -> Result<Hierarchies, CgroupError> {
        let mode = super::mode::detect();
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| CgroupError::new(format!("cannot read /proc/self/mountinfo: {e}")))?;
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(|e| CgroupError::new(format!("cannot read /proc/self/cgroup: {e}")))?;
        Ok(Self::from_texts(
            mode,
            Path::new(CGROUP_ROOT),
            &mountinfo,
            &own,
        ))
    }

    /// A cgroup2-only tree rooted at `root` (tests use a fake tree in a temp dir).
    pub fn v2_at(root: &Path) -> Hierarchies {
        let mut own = BTreeMap::new();
        own.insert(String::new(), "/".to_string());
        Hierarchies {
            mode: Mode::V2,
            v1: BTreeMap::new(),
            unified: Some(root.into()),
            own,
        }
    }

    pub fn from_texts(mode: Mode, root: &Path, mountinfo: &str, own_cgroup: &str) -> Hierarchies {
        let mut v1 = BTreeMap::new();
        let mut roots: BTreeMap<String, String> = BTreeMap::new();
        if mode != Mode::V2 {
            for m in crate::rootfs::mountinfo::parse(mountinfo) {
                if m.fstype != "cgroup" {
                    continue;
                }
                for opt in m.super_options.split(',') {
                    if KNOWN_V1.contains(&opt) && !v1.contains_key(opt) {
                        v1.insert(opt.to_string(), PathBuf::from(&m.mount_point));
                        roots.insert(opt.to_string(), m.root.clone());
                    }
                }
            }
        }
        let unified = match mode {
            Mode::V2 => Some(root.to_path_buf()),
            Mode::Hybrid => Some(root.join("unified")),
            Mode::V1 => None,
        };
        let mut own = BTreeMap::new();
        for line in own_cgroup.lines() {
            let mut it = line.splitn(3, ':');
            let (Some(_), Some(ctrls), Some(path)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            if ctrls.is_empty() {
                own.insert(String::new(), path.to_string());
                continue;
            }
            for c in ctrls.split(',') {
                // Inside a cgroup namespace or a bind mount the mount root is not "/": the
                // own path is relative to the hierarchy root, the directory to the mount.
                let rel = match roots.get(c).map(String::as_str) {
                    Some(r) if r != "/" => path.strip_prefix(r).unwrap_or(path),
                    _ => path,
                };
                own.insert(c.to_string(), rel.to_string());
            }
        }
        Hierarchies {
            mode,
            v1,
            unified,
            own,
        }
    }
}

/// The v1 controllers nucleus places containers in (named hierarchies are left alone).
const KNOWN_V1: [&str; 14] = [
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// runc's `CleanPath`: lexical clean; a relative path cannot escape upwards.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().unwrap_or("")),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let joined = parts.join("/");
    if abs {
        format!("/{joined}")
    } else {
        joined
    }
}

/// True for systemd's `slice:prefix:name` spelling (`system.slice:docker:abc`).
pub fn is_systemd_form(p: &str) -> bool {
    !p.starts_with('/') && !p.contains('/') && p.split(':').count() == 3
}

/// The error nucleus gives for anything that needs the systemd cgroup driver.
pub fn systemd_driver_unavailable(p: &str) -> CgroupError {
    CgroupError::new(format!(
        "systemd cgroup driver is not available: cgroupsPath {p:?} is in systemd's \
         slice:prefix:name form; use a path like /nucleus/<id> (cgroupfs driver)"
    ))
}

/// The inner path runc would use: cleaned `cgroups_path`, or the id (relative) when absent.
pub fn inner_path(cgroups_path: Option<&str>, id: &str) -> Result<String, CgroupError> {
    match cgroups_path.filter(|p| !p.is_empty()) {
        Some(p) if is_systemd_form(p) => Err(systemd_driver_unavailable(p)),
        Some(p) => {
            let c = clean_path(p);
            if c.is_empty() || c == "/" {
                return Err(CgroupError::new(format!(
                    "cgroupsPath {p:?} names the root cgroup; a container needs its own"
                )));
            }
            Ok(c)
        }
        None => {
            let c = clean_path(id);
            if c.is_empty() || c.contains('/') {
                return Err(CgroupError::new(format!(
                    "container id {id:?} is not a cgroup name"
                )));
            }
            Ok(c)
        }
    }
}

/// Directory of `inner` in the v1 hierarchy of `ctrl` mounted at `mnt`.
pub fn v1_dir(h: &Hierarchies, ctrl: &str, mnt: &Path, inner: &str) -> PathBuf {
    if inner.starts_with('/') {
        return join(mnt, inner);
    }
    let own = h.own.get(ctrl).map(String::as_str).unwrap_or("/");
    join(&join(mnt, own), inner)
}

/// Directory of `inner` in the unified tree mounted at `mnt`.
pub fn unified_dir(h: &Hierarchies, mnt: &Path, inner: &str) -> PathBuf {
    if inner.starts_with('/') {
        return join(mnt, inner);
    }
    let own = h.own.get("").map(String::as_str).unwrap_or("/");
    let base = if h.mode == Mode::V2 {
        Path::new(own)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        own.to_string()
    };
    join(&join(mnt, &base), inner)
}

fn join(base: &Path, rel: &str) -> PathBuf {
    let mut p = base.to_path_buf();
    for part in rel.split('/').filter(|s| !s.is_empty()) {
        p.push(part);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";
    const OWN: &str =
        "9:name=systemd:/\n4:memory:/process_api/x\n1:cpu,cpuacct:/\n0::/user.slice\n";

    #[test]
    fn runc_clean_path() {
        assert_eq!(clean_path("../../etc/x"), "etc/x");
        assert_eq!(clean_path("/a/../../b/./c/"), "/b/c");
        assert_eq!(clean_path("a//b"), "a/b");
    }

    #[test]
    fn hybrid_paths_follow_runc() {
        let h = Hierarchies::from_texts(Mode::Hybrid, Path::new(CGROUP_ROOT), MOUNTINFO, OWN);
        assert_eq!(h.v1["cpu"], Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(h.v1["cpuacct"], Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert!(!h.v1.contains_key("name=systemd"));
        let mem = &h.v1["memory"];
        assert_eq!(
            v1_dir(&h, "memory", mem, "/docker/a"),
            Path::new("/sys/fs/cgroup/memory/docker/a")
        );
        assert_eq!(
            v1_dir(&h, "memory", mem, "abc"),
            Path::new("/sys/fs/cgroup/memory/process_api/x/abc")
        );
        let u = h.unified.clone().unwrap();
        assert_eq!(
            unified_dir(&h, &u, "abc"),
            Path::new("/sys/fs/cgroup/unified/user.slice/abc")
        );
    }

    #[test]
    fn v2_relative_goes_below_parent_of_own() {
        let own = "0::/user.slice/session-1.scope\n";
        let h = Hierarchies::from_texts(Mode::V2, Path::new(CGROUP_ROOT), "", own);
        let u = h.unified.clone().unwrap();
        assert_eq!(
            unified_dir(&h, &u, "ctr"),
            Path::new("/sys/fs/cgroup/user.slice/ctr")
        );
        assert_eq!(unified_dir(&h, &u, "/a/b"), Path::new("/sys/fs/cgroup/a/b"));
    }

    #[test]
    fn inner_paths() {
        assert_eq!(inner_path(None, "abc").unwrap(), "abc");
        assert_eq!(
            inner_path(Some("/docker/x/../y"), "abc").unwrap(),
            "/docker/y"
        );
        assert!(inner_path(Some("/"), "abc").is_err());
        let e = inner_path(Some("system.slice:cap:ctr-systemd"), "x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("systemd cgroup driver is not available"),
            "{e}"
        );
    }
}
