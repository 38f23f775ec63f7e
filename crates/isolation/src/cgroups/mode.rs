//! Which cgroup layout the host runs, decided as runc decides it.
//!
//! runc looks at the filesystem type of `/sys/fs/cgroup`: cgroup2 there is a pure v2 host.
//! Otherwise the host is v1, and "hybrid" when a cgroup2 tree is also mounted at
//! `/sys/fs/cgroup/unified` (systemd's hybrid layout). On hybrid hosts nucleus uses the v1
//! controllers for limits and the unified tree for what only it offers (here: hugetlb,
//! `cgroup.kill`).

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    V1,
    Hybrid,
    V2,
}

/// The mode of this host (`/sys/fs/cgroup`).
pub fn detect() -> Mode {
    detect_at(Path::new(super::path::CGROUP_ROOT))
}

/// The mode of a cgroup tree mounted at `root`.
pub fn detect_at(root: &Path) -> Mode {
    if is_cgroup2(root) {
        Mode::V2
    } else if is_cgroup2(&root.join("unified")) {
        Mode::Hybrid
    } else {
        Mode::V1
    }
}

fn is_cgroup2(p: &Path) -> bool {
    nix::sys::statfs::statfs(p)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}
