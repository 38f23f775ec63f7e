//! The plan: a validated, fully resolved description of one container.
//!
//! Everything here is plain data. `translate()` fills it from `config.json`; the `isolation`
//! crate executes it. Values are already in the form the kernel wants (flag bits, capability
//! numbers, resource numbers) so the code that runs between fork and exec does no parsing.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One container, ready to build.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub oci_version: String,
    /// Absolute path of the bundle directory.
    pub bundle: PathBuf,
    /// Absolute path of the rootfs on the host.
    pub rootfs: PathBuf,
    pub rootfs_readonly: bool,
    /// MS_PRIVATE / MS_SLAVE / MS_SHARED (+MS_REC) applied to `/` of the new mount namespace.
    pub rootfs_propagation: u64,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub namespaces: Namespaces,
    pub uid_mappings: Vec<IdMap>,
    pub gid_mappings: Vec<IdMap>,
    /// `linux.timeOffsets`: (clock name as in /proc/self/timens_offsets, secs, nanosecs).
    pub time_offsets: Vec<TimeOffset>,
    pub sysctl: BTreeMap<String, String>,
    pub mounts: Vec<Mount>,
    pub devices: Vec<Device>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub process: Process,
    /// `linux.personality` domain (PER_LINUX / PER_LINUX32) with flags OR'd in.
    pub personality: Option<u64>,
    pub hooks: Hooks,
    /// `linux.cgroupsPath` as written; `None` when absent (the runtime picks a default).
    pub cgroups_path: Option<String>,
    /// `linux.resources` untouched; the cgroups code translates it (it needs to know the host mode).
    pub resources: Option<oci_spec::runtime::LinuxResources>,
    /// `linux.seccomp` translated into the compiler's input.
    pub seccomp: Option<crate::seccomp::SeccompPlan>,
    /// `linux.intelRdt` etc. that we refuse are rejected during translation, never silently dropped.
    pub annotations: BTreeMap<String, String>,
    /// Raw `process.landlock` / `run.oci.landlock` JSON, when present (the Landlock code parses it).
    pub landlock: Option<serde_json::Value>,
}

/// The eight namespace kinds nucleus knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NsKind {
    User,
    Mount,
    Pid,
    Network,
    Ipc,
    Uts,
    Cgroup,
    Time,
}

impl NsKind {
    /// The CLONE_NEW* bit for this kind.
    pub fn clone_flag(self) -> i32 {
        match self {
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Mount => libc::CLONE_NEWNS,
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::Network => libc::CLONE_NEWNET,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::Uts => libc::CLONE_NEWUTS,
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Time => 0x80, // CLONE_NEWTIME
        }
    }
    /// The file name under /proc/PID/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Mount => "mnt",
            NsKind::Pid => "pid",
            NsKind::Network => "net",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }
    /// The spelling used in config.json and in `features`.
    pub fn oci_name(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Mount => "mount",
            NsKind::Pid => "pid",
            NsKind::Network => "network",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }
    pub const ALL: [NsKind; 8] = [
        NsKind::User,
        NsKind::Mount,
        NsKind::Pid,
        NsKind::Network,
        NsKind::Ipc,
        NsKind::Uts,
        NsKind::Cgroup,
        NsKind::Time,
    ];
}

/// Which namespaces to create and which to join. A kind appears in at most one of the two.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    pub create: Vec<NsKind>,
    /// Join by path, in the order the kernel needs: user first.
    pub join: Vec<(NsKind, PathBuf)>,
}

impl Namespaces {
    pub fn creates(&self, k: NsKind) -> bool {
        self.create.contains(&k)
    }
    pub fn joins(&self, k: NsKind) -> Option<&PathBuf> {
        self.join.iter().find(|(j, _)| *j == k).map(|(_, p)| p)
    }
    /// True when the container has a user namespace (created or joined).
    pub fn has_userns(&self) -> bool {
        self.creates(NsKind::User) || self.joins(NsKind::User).is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOffset {
    /// "monotonic" or "boottime".
    pub clock: String,
    pub secs: i64,
    pub nanosecs: u32,
}

/// One entry of `mounts`, with options already split into kernel flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    /// Absolute path inside the container.
    pub destination: String,
    /// Filesystem type ("bind" for bind mounts, whatever config.json said otherwise).
    pub fstype: String,
    /// Host path for binds (absolute, bundle-relative resolved), or the source string for others.
    pub source: String,
    /// MS_* flags for the mount(2) call itself (MS_BIND|MS_REC for rbind, MS_RDONLY, ...).
    pub flags: u64,
    /// Propagation changes applied after mounting (MS_PRIVATE, MS_SHARED|MS_REC, ...).
    pub propagation: Vec<u64>,
    /// Filesystem-specific data (comma-joined options the kernel's fs parses, e.g. "mode=755").
    pub data: String,
    /// Recursive mount attributes (MOUNT_ATTR_*) from the `r*` options, applied with
    /// mount_setattr(AT_RECURSIVE): (set, clear).
    pub rec_attr_set: u64,
    pub rec_attr_clr: u64,
    /// True for bind/rbind: read-only etc. need a second MS_REMOUNT|MS_BIND pass.
    pub is_bind: bool,
    /// `idmap`/`ridmap` options and the mount's own uid/gid mappings.
    pub idmap: Option<MountIdMap>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountIdMap {
    pub recursive: bool,
    pub uid_mappings: Vec<IdMap>,
    pub gid_mappings: Vec<IdMap>,
}

/// One `linux.devices` entry (plus the defaults nucleus always adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Absolute path inside the container.
    pub path: String,
    /// 'c', 'b', 'u' or 'p'.
    pub kind: char,
    pub major: i64,
    pub minor: i64,
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Process {
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Absolute path inside the container.
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub umask: Option<u32>,
    pub additional_gids: Vec<u32>,
    pub terminal: bool,
    /// (rows, cols)
    pub console_size: Option<(u16, u16)>,
    pub rlimits: Vec<Rlimit>,
    /// `None` means "leave this set as the runtime has it" (absent in config.json).
    pub capabilities: Option<CapSets>,
    pub no_new_privileges: bool,
    pub oom_score_adj: Option<i32>,
    /// (class, priority) for ioprio_set.
    pub io_priority: Option<(u32, u32)>,
    pub scheduler: Option<Scheduler>,
    pub apparmor_profile: Option<String>,
    pub selinux_label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    /// RLIMIT_* number.
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// Capability numbers (CAP_* values) for each of the five sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: Vec<u8>,
    pub effective: Vec<u8>,
    pub inheritable: Vec<u8>,
    pub permitted: Vec<u8>,
    pub ambient: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scheduler {
    /// SCHED_* policy number.
    pub policy: i32,
    pub nice: i32,
    pub priority: i32,
    /// SCHED_FLAG_* bits.
    pub flags: u64,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Hooks {
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hook {
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    /// Seconds; `None` waits for ever.
    #[serde(default)]
    pub timeout: Option<u32>,
}
