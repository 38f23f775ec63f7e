//! `linux.resources` → the cgroup file writes that enforce it, for cgroup v1 and for v2.
//!
//! Pure: the `isolation` crate decides the mode and executes the writes. The conversions follow
//! runc 1.1 so that a limit means the same thing whichever runtime a client picks. Docker writes
//! zeros meaning "unset" (`cpu.shares: 0`, `blockIO.weight: 0`, `memory.reservation: 0`): every
//! zero below is treated as "leave the file alone", as runc does.

use crate::error::{Result, TranslateError};
pub use oci_spec::runtime::LinuxResources;
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, LinuxThrottleDevice};

/// One write into a cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// v1: the hierarchy the file lives in ("memory", "cpu", ...). v2: the controller that must
    /// be enabled in the parents for the file to exist ("cgroup" for core files).
    pub controller: String,
    pub file: String,
    pub value: String,
    /// Used instead when `file` does not exist (blkio/io weight: BFQ or not).
    pub fallback: Option<(String, String)>,
    /// A missing file is not an error (runc ignores `memory.swap.max` when swap accounting is off).
    pub skip_if_missing: bool,
    /// `cpu.max` with only a period: keep the current quota (first field) of the file.
    pub keep_first_field: bool,
}

impl FileWrite {
    fn new(controller: &str, file: impl Into<String>, value: impl Into<String>) -> FileWrite {
        FileWrite {
            controller: controller.to_string(),
            file: file.into(),
            value: value.into(),
            fallback: None,
            skip_if_missing: false,
            keep_first_field: false,
        }
    }
    fn optional(mut self) -> FileWrite {
        self.skip_if_missing = true;
        self
    }
}

/// One device cgroup rule, normalised. `None` major/minor is the `*` wildcard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceRule {
    pub allow: bool,
    /// 'a' (all), 'c' or 'b'.
    pub kind: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// Subset of "rwm", in that order, never empty.
    pub access: String,
}

impl DeviceRule {
    /// The line v1's `devices.allow` / `devices.deny` take: `c 1:3 rwm`, `a *:* rwm`.
    pub fn v1_line(&self) -> String {
        let n = |v: Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
        format!(
            "{} {}:{} {}",
            self.kind,
            n(self.major),
            n(self.minor),
            self.access
        )
    }
    /// True for `a *:* rwm`, the rule that resets the whole list.
    pub fn is_blanket(&self) -> bool {
        self.kind == 'a' && self.major.is_none() && self.minor.is_none() && self.access == "rwm"
    }
    fn allow(kind: char, major: Option<u32>, minor: Option<u32>, access: &str) -> DeviceRule {
        DeviceRule {
            allow: true,
            kind,
            major,
            minor,
            access: access.to_string(),
        }
    }
}

/// Everything `apply` must do for one `linux.resources`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceWrites {
    /// In order; `unified` entries come last so that they override.
    pub files: Vec<FileWrite>,
    /// `None`: leave the device policy alone. `Some`: replace it (deny by default).
    pub devices: Option<Vec<DeviceRule>>,
}

/// The device rules runc appends to every container (/dev/null, zero, full, random, urandom,
/// tty, console, ptmx, pts, and mknod of any char/block device). The caller decides whether to
/// append them; `create` should, to behave like runc.
pub fn runc_default_device_rules() -> Vec<DeviceRule> {
    vec![
        DeviceRule::allow('c', None, None, "m"),
        DeviceRule::allow('b', None, None, "m"),
        DeviceRule::allow('c', Some(1), Some(3), "rwm"),
        DeviceRule::allow('c', Some(1), Some(8), "rwm"),
        DeviceRule::allow('c', Some(1), Some(7), "rwm"),
        DeviceRule::allow('c', Some(5), Some(0), "rwm"),
        DeviceRule::allow('c', Some(1), Some(5), "rwm"),
        DeviceRule::allow('c', Some(1), Some(9), "rwm"),
        DeviceRule::allow('c', Some(10), Some(200), "rwm"), // tun/tap, as runc
        DeviceRule::allow('c', Some(136), None, "rwm"),
        DeviceRule::allow('c', Some(5), Some(2), "rwm"),
    ]
}

/// `r` with [`runc_default_device_rules`] appended to `devices` (what runc does at create:
/// clients such as podman send only "deny all" and rely on the runtime for /dev/null & co).
pub fn with_runc_default_devices(r: &LinuxResources) -> LinuxResources {
    let mut out = r.clone();
    let mut list = out.devices().clone().unwrap_or_default();
    for d in runc_default_device_rules() {
        let typ = if d.kind == 'b' {
            LinuxDeviceType::B
        } else {
            LinuxDeviceType::C
        };
        let mut e = LinuxDeviceCgroup::default();
        e.set_allow(true);
        e.set_typ(Some(typ));
        e.set_major(d.major.map(i64::from));
        e.set_minor(d.minor.map(i64::from));
        e.set_access(Some(d.access.clone()));
        list.push(e);
    }
    out.set_devices(Some(list));
    out
}

/// runc 1.1's `ConvertCPUSharesToCgroupV2Value`: [2, 262144] → [1, 10000]; 0 stays "unset".
pub fn cpu_shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.saturating_sub(2) * 9999) / 262142
}

/// runc's `ConvertBlkIOToIOWeightValue`: [10, 1000] → [1, 10000]; 0 stays "unset".
pub fn blkio_weight_to_io_weight(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + (u64::from(weight).saturating_sub(10)) * 9999 / 990
}

/// runc's `ConvertMemorySwapToCgroupV2Value`: OCI's swap is memory+swap, v2's `memory.swap.max`
/// is swap alone. Returns -1 for "max", 0 for "unset".
pub fn memory_swap_to_v2(swap: i64, memory: i64) -> Result<i64> {
    let field = "linux.resources.memory.swap";
    if memory == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if memory == 0 || memory == -1 {
        return Err(TranslateError::new(
            field,
            "unable to set swap limit without memory limit",
        ));
    }
    if memory < 0 {
        return Err(TranslateError::new(
            "linux.resources.memory.limit",
            format!("invalid memory value: {memory}"),
        ));
    }
    if swap < memory {
        return Err(TranslateError::new(
            field,
            "memory+swap limit should be >= memory limit",
        ));
    }
    Ok(swap - memory)
}

/// v2 spelling of a limit: -1 (any negative) → "max", 0 → unset.
fn v2_num(v: i64) -> Option<String> {
    match v {
        0 => None,
        v if v < 0 => Some("max".to_string()),
        v => Some(v.to_string()),
    }
}

/// Parse and check `linux.resources.devices`.
pub fn device_rules(r: &LinuxResources) -> Result<Option<Vec<DeviceRule>>> {
    let Some(list) = r.devices() else {
        return Ok(None);
    };
    list.iter()
        .enumerate()
        .map(|(i, d)| device_rule(i, d))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn device_rule(i: usize, d: &LinuxDeviceCgroup) -> Result<DeviceRule> {
    let field = |f: &str| format!("linux.resources.devices[{i}].{f}");
    let kind = match d.typ() {
        None | Some(LinuxDeviceType::A) => 'a',
        Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => 'c',
        Some(LinuxDeviceType::B) => 'b',
        Some(LinuxDeviceType::P) => {
            return Err(TranslateError::new(
                field("type"),
                "fifo (p) has no device cgroup rule",
            ))
        }
    };
    let num = |v: Option<i64>, f: &str| -> Result<Option<u32>> {
        match v {
            None => Ok(None),
            Some(v) if v < 0 => Ok(None), // runc's -1 means "*"
            Some(v) => u32::try_from(v)
                .map(Some)
                .map_err(|_| TranslateError::new(field(f), format!("{v} is out of range"))),
        }
    };
    let raw = d.access().as_deref().unwrap_or("rwm");
    let raw = if raw.is_empty() { "rwm" } else { raw };
    if let Some(bad) = raw.chars().find(|c| !matches!(c, 'r' | 'w' | 'm')) {
        return Err(TranslateError::new(
            field("access"),
            format!("{bad:?} is not one of r, w, m"),
        ));
    }
    let access: String = ['r', 'w', 'm']
        .iter()
        .filter(|c| raw.contains(**c))
        .collect();
    Ok(DeviceRule {
        allow: d.allow(),
        kind,
        major: num(d.major(), "major")?,
        minor: num(d.minor(), "minor")?,
        access,
    })
}

/// Check a `linux.resources.unified` key: one file name of the form CONTROLLER.PARAMETER, and
/// not one of the core files that move processes or change the tree.
pub fn check_unified_key(key: &str) -> Result<()> {
    let field = format!("linux.resources.unified[{key:?}]");
    if key.contains('/') || key.contains('\0') {
        return Err(TranslateError::new(
            field,
            "must be a file name (no slashes)",
        ));
    }
    let Some((ctrl, param)) = key.split_once('.') else {
        return Err(TranslateError::new(
            field,
            "must be in the form CONTROLLER.PARAMETER",
        ));
    };
    if ctrl.is_empty() || param.is_empty() {
        return Err(TranslateError::new(
            field,
            "must be in the form CONTROLLER.PARAMETER",
        ));
    }
    const FORBIDDEN: [&str; 6] = [
        "cgroup.procs",
        "cgroup.threads",
        "cgroup.kill",
        "cgroup.subtree_control",
        "cgroup.type",
        "cgroup.freeze",
    ];
    if FORBIDDEN.contains(&key) {
        return Err(TranslateError::new(
            field,
            "is managed by the runtime and cannot be set",
        ));
    }
    Ok(())
}

/// The writes for a cgroup v2 directory.
pub fn v2_writes(r: &LinuxResources) -> Result<ResourceWrites> {
    let mut w = Vec::new();
    if let Some(m) = r.memory() {
        if m.disable_oom_killer() == Some(true) {
            return Err(TranslateError::new(
                "linux.resources.memory.disableOOMKiller",
                "cgroup v2 has no way to disable the OOM killer",
            ));
        }
        let limit = m.limit().unwrap_or(0);
        let swap_req = m.swap().unwrap_or(0);
        let swap = memory_swap_to_v2(swap_req, limit)?;
        // swap == memory: "no swap" (runc writes 0 rather than leaving it unset).
        let swap_str = match v2_num(swap) {
            None if swap_req > 0 => Some("0".to_string()),
            s => s,
        };
        if let Some(s) = swap_str {
            let optional = s == "max" || s == "0";
            let fw = FileWrite::new("memory", "memory.swap.max", s);
            w.push(if optional { fw.optional() } else { fw });
        }
        if let Some(v) = v2_num(limit) {
            w.push(FileWrite::new("memory", "memory.max", v));
        }
        if let Some(v) = v2_num(m.reservation().unwrap_or(0)) {
            w.push(FileWrite::new("memory", "memory.low", v));
        }
    }
    if let Some(c) = r.cpu() {
        if c.realtime_runtime().unwrap_or(0) != 0 || c.realtime_period().unwrap_or(0) != 0 {
            return Err(TranslateError::new(
                "linux.resources.cpu.realtimeRuntime",
                "realtime scheduling settings do not exist on cgroup v2",
            ));
        }
        if let Some(idle) = c.idle() {
            w.push(FileWrite::new("cpu", "cpu.idle", idle.to_string()));
        }
        let weight = cpu_shares_to_weight(c.shares().unwrap_or(0));
        if weight != 0 {
            w.push(FileWrite::new("cpu", "cpu.weight", weight.to_string()));
        }
        let quota = c.quota().unwrap_or(0);
        let period = c.period().unwrap_or(0);
        if quota != 0 || period != 0 {
            let mut v = if quota > 0 {
                quota.to_string()
            } else {
                "max".to_string()
            };
            if period != 0 {
                v = format!("{v} {period}");
            }
            let mut fw = FileWrite::new("cpu", "cpu.max", v);
            fw.keep_first_field = c.quota().is_none();
            w.push(fw);
        }
        if let Some(b) = c.burst() {
            w.push(FileWrite::new("cpu", "cpu.max.burst", b.to_string()));
        }
        push_cpuset(&mut w, c.cpus(), c.mems());
    }
    if let Some(p) = r.pids() {
        if let Some(v) = v2_num(p.limit()) {
            w.push(FileWrite::new("pids", "pids.max", v));
        }
    }
    if let Some(b) = r.block_io() {
        if let Some(weight) = b.weight().filter(|w| *w != 0) {
            let mut fw = FileWrite::new("io", "io.bfq.weight", weight.to_string());
            fw.fallback = Some((
                "io.weight".into(),
                blkio_weight_to_io_weight(weight).to_string(),
            ));
            w.push(fw);
        }
        for d in b.weight_device().iter().flatten() {
            if let Some(weight) = d.weight().filter(|w| *w != 0) {
                let dev = format!("{}:{}", d.major(), d.minor());
                let mut fw = FileWrite::new("io", "io.bfq.weight", format!("{dev} {weight}"));
                let conv = blkio_weight_to_io_weight(weight);
                fw.fallback = Some(("io.weight".into(), format!("{dev} {conv}")));
                w.push(fw);
            }
        }
        let throttles = [
            ("rbps", b.throttle_read_bps_device()),
            ("wbps", b.throttle_write_bps_device()),
            ("riops", b.throttle_read_iops_device()),
            ("wiops", b.throttle_write_iops_device()),
        ];
        for (key, list) in throttles {
            for d in list.iter().flatten() {
                let rate = if d.rate() == 0 {
                    "max".to_string()
                } else {
                    d.rate().to_string()
                };
                w.push(FileWrite::new(
                    "io",
                    "io.max",
                    format!("{}:{} {key}={rate}", d.major(), d.minor()),
                ));
            }
        }
    }
    for h in r.hugepage_limits().iter().flatten() {
        let size = check_page_size(h.page_size())?;
        let v = if h.limit() < 0 {
            "max".to_string()
        } else {
            h.limit().to_string()
        };
        w.push(FileWrite::new("hugetlb", format!("hugetlb.{size}.max"), v));
    }
    push_rdma(&mut w, r)?;
    if let Some(n) = r.network() {
        if n.class_id().is_some() || n.priorities().as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(TranslateError::new(
                "linux.resources.network",
                "net_cls/net_prio do not exist on cgroup v2",
            ));
        }
    }
    if let Some(u) = r.unified() {
        let mut keys: Vec<_> = u.iter().collect();
        keys.sort();
        for (k, v) in keys {
            check_unified_key(k)?;
            let ctrl = k.split_once('.').map_or("cgroup", |(c, _)| c);
            w.push(FileWrite::new(ctrl, k.clone(), v.clone()));
        }
    }
    Ok(ResourceWrites {
        files: w,
        devices: device_rules(r)?,
    })
}

/// The writes for cgroup v1 hierarchies. `hugetlb` writes are listed under "hugetlb" with v1
/// file names; on a hybrid host whose hugetlb lives in the unified tree use [`hugetlb_v2`].
pub fn v1_writes(r: &LinuxResources) -> Result<ResourceWrites> {
    let mut w = Vec::new();
    if let Some(m) = r.memory() {
        let limit = m.limit().unwrap_or(0);
        let mut swap = m.swap().unwrap_or(0);
        if limit == -1 && swap == 0 {
            // "unlimited memory" also lifts memsw, where swap accounting exists.
            w.push(FileWrite::new("memory", "memory.limit_in_bytes", "-1"));
            w.push(FileWrite::new("memory", "memory.memsw.limit_in_bytes", "-1").optional());
            swap = 0;
        } else if limit != 0 {
            w.push(FileWrite::new(
                "memory",
                "memory.limit_in_bytes",
                limit.to_string(),
            ));
        }
        if swap != 0 {
            if limit > 0 && swap > 0 && swap < limit {
                return Err(TranslateError::new(
                    "linux.resources.memory.swap",
                    "memory+swap limit should be >= memory limit",
                ));
            }
            w.push(FileWrite::new(
                "memory",
                "memory.memsw.limit_in_bytes",
                swap.to_string(),
            ));
        }
        if let Some(res) = m.reservation().filter(|v| *v != 0) {
            w.push(FileWrite::new(
                "memory",
                "memory.soft_limit_in_bytes",
                res.to_string(),
            ));
        }
        if m.disable_oom_killer() == Some(true) {
            w.push(FileWrite::new("memory", "memory.oom_control", "1"));
        }
        if let Some(s) = m.swappiness() {
            // runc: -1 (which oci-spec reads as u64::MAX) means "leave it".
            if s != u64::MAX {
                if s > 100 {
                    return Err(TranslateError::new(
                        "linux.resources.memory.swappiness",
                        format!("invalid memory swappiness value: {s} (valid range is 0-100)"),
                    ));
                }
                w.push(FileWrite::new("memory", "memory.swappiness", s.to_string()));
            }
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            w.push(FileWrite::new("cpu", "cpu.shares", s.to_string()));
        }
        if let Some(p) = c.period().filter(|p| *p != 0) {
            w.push(FileWrite::new("cpu", "cpu.cfs_period_us", p.to_string()));
        }
        if let Some(q) = c.quota().filter(|q| *q != 0) {
            let q = if q < 0 { -1 } else { q };
            w.push(FileWrite::new("cpu", "cpu.cfs_quota_us", q.to_string()));
        }
        if let Some(b) = c.burst() {
            w.push(FileWrite::new("cpu", "cpu.cfs_burst_us", b.to_string()));
        }
        if let Some(p) = c.realtime_period().filter(|p| *p != 0) {
            w.push(FileWrite::new("cpu", "cpu.rt_period_us", p.to_string()));
        }
        if let Some(rt) = c.realtime_runtime().filter(|p| *p != 0) {
            w.push(FileWrite::new("cpu", "cpu.rt_runtime_us", rt.to_string()));
        }
        if let Some(idle) = c.idle() {
            w.push(FileWrite::new("cpu", "cpu.idle", idle.to_string()));
        }
        push_cpuset(&mut w, c.cpus(), c.mems());
    }
    if let Some(p) = r.pids() {
        if let Some(v) = v2_num(p.limit()) {
            w.push(FileWrite::new("pids", "pids.max", v));
        }
    }
    if let Some(b) = r.block_io() {
        if let Some(weight) = b.weight().filter(|w| *w != 0) {
            let mut fw = FileWrite::new("blkio", "blkio.weight", weight.to_string());
            fw.fallback = Some(("blkio.bfq.weight".into(), weight.to_string()));
            w.push(fw);
        }
        if let Some(lw) = b.leaf_weight().filter(|w| *w != 0) {
            w.push(FileWrite::new("blkio", "blkio.leaf_weight", lw.to_string()));
        }
        for d in b.weight_device().iter().flatten() {
            let dev = format!("{}:{}", d.major(), d.minor());
            if let Some(weight) = d.weight().filter(|w| *w != 0) {
                let mut fw =
                    FileWrite::new("blkio", "blkio.weight_device", format!("{dev} {weight}"));
                fw.fallback = Some(("blkio.bfq.weight_device".into(), format!("{dev} {weight}")));
                w.push(fw);
            }
            if let Some(lw) = d.leaf_weight().filter(|w| *w != 0) {
                w.push(FileWrite::new(
                    "blkio",
                    "blkio.leaf_weight_device",
                    format!("{dev} {lw}"),
                ));
            }
        }
        let throttles: [(&str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
            (
                "blkio.throttle.read_bps_device",
                b.throttle_read_bps_device(),
            ),
            (
                "blkio.throttle.write_bps_device",
                b.throttle_write_bps_device(),
            ),
            (
                "blkio.throttle.read_iops_device",
                b.throttle_read_iops_device(),
            ),
            (
                "blkio.throttle.write_iops_device",
                b.throttle_write_iops_device(),
            ),
        ];
        for (file, list) in throttles {
            for d in list.iter().flatten() {
                let v = format!("{}:{} {}", d.major(), d.minor(), d.rate());
                w.push(FileWrite::new("blkio", file, v));
            }
        }
    }
    for h in r.hugepage_limits().iter().flatten() {
        let size = check_page_size(h.page_size())?;
        let v = if h.limit() < 0 {
            "-1".to_string()
        } else {
            h.limit().to_string()
        };
        w.push(FileWrite::new(
            "hugetlb",
            format!("hugetlb.{size}.limit_in_bytes"),
            v,
        ));
    }
    push_rdma(&mut w, r)?;
    if let Some(n) = r.network() {
        if let Some(id) = n.class_id() {
            w.push(FileWrite::new("net_cls", "net_cls.classid", id.to_string()));
        }
        for p in n.priorities().iter().flatten() {
            let v = format!("{} {}", p.name(), p.priority());
            w.push(FileWrite::new("net_prio", "net_prio.ifpriomap", v));
        }
    }
    if r.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(TranslateError::new(
            "linux.resources.unified",
            "unified resources are only supported on cgroup v2 (this host runs v1 controllers)",
        ));
    }
    Ok(ResourceWrites {
        files: w,
        devices: device_rules(r)?,
    })
}

/// The hugetlb writes in v2 form, for hybrid hosts whose hugetlb controller is in the unified tree.
pub fn hugetlb_v2(r: &LinuxResources) -> Result<Vec<FileWrite>> {
    let mut w = Vec::new();
    for h in r.hugepage_limits().iter().flatten() {
        let size = check_page_size(h.page_size())?;
        let v = if h.limit() < 0 {
            "max".to_string()
        } else {
            h.limit().to_string()
        };
        w.push(FileWrite::new("hugetlb", format!("hugetlb.{size}.max"), v));
    }
    Ok(w)
}

fn push_cpuset(w: &mut Vec<FileWrite>, cpus: &Option<String>, mems: &Option<String>) {
    if let Some(c) = cpus.as_ref().filter(|c| !c.is_empty()) {
        w.push(FileWrite::new("cpuset", "cpuset.cpus", c.clone()));
    }
    if let Some(m) = mems.as_ref().filter(|m| !m.is_empty()) {
        w.push(FileWrite::new("cpuset", "cpuset.mems", m.clone()));
    }
}

fn push_rdma(w: &mut Vec<FileWrite>, r: &LinuxResources) -> Result<()> {
    let Some(rdma) = r.rdma() else { return Ok(()) };
    let mut devs: Vec<_> = rdma.iter().collect();
    devs.sort_by(|a, b| a.0.cmp(b.0));
    for (dev, l) in devs {
        if dev.is_empty() || dev.contains(char::is_whitespace) {
            return Err(TranslateError::new(
                format!("linux.resources.rdma[{dev:?}]"),
                "not a valid rdma device name",
            ));
        }
        let n = |v: Option<u32>| v.map_or("max".to_string(), |v| v.to_string());
        let v = format!(
            "{dev} hca_handle={} hca_object={}",
            n(l.hca_handles()),
            n(l.hca_objects())
        );
        w.push(FileWrite::new("rdma", "rdma.max", v));
    }
    Ok(())
}

/// Page sizes as the kernel names them in file names: "2MB", "1GB", "64KB".
fn check_page_size(s: &str) -> Result<&str> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !["KB", "MB", "GB"].contains(&unit)
    {
        return Err(TranslateError::new(
            "linux.resources.hugepageLimits.pageSize",
            format!("{s:?} is not a page size like 2MB or 1GB"),
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }
    fn files(w: &ResourceWrites) -> Vec<(String, String)> {
        w.files
            .iter()
            .map(|f| (f.file.clone(), f.value.clone()))
            .collect()
    }
    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn runc_conversions() {
        assert_eq!(cpu_shares_to_weight(0), 0);
        assert_eq!(cpu_shares_to_weight(2), 1);
        assert_eq!(cpu_shares_to_weight(1024), 39);
        assert_eq!(cpu_shares_to_weight(262144), 10000);
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(1000), 10000);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
        assert_eq!(memory_swap_to_v2(0, -1).unwrap(), -1);
        assert_eq!(memory_swap_to_v2(-1, 100).unwrap(), -1);
        assert_eq!(memory_swap_to_v2(300, 100).unwrap(), 200);
        assert!(memory_swap_to_v2(50, 100).is_err());
        assert!(memory_swap_to_v2(50, 0).is_err());
    }

    #[test]
    fn docker_fixture_v2() {
        let r = res(
            r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":5,"access":"rwm"}],
            "memory":{"limit":67108864,"swap":134217728,"disableOOMKiller":false},
            "cpu":{"shares":0,"quota":50000,"period":100000},"pids":{"limit":50},"blockIO":{"weight":0}}"#,
        );
        let w = v2_writes(&r).unwrap();
        assert_eq!(
            files(&w),
            pairs(&[
                ("memory.swap.max", "67108864"),
                ("memory.max", "67108864"),
                ("cpu.max", "50000 100000"),
                ("pids.max", "50"),
            ])
        );
        let d = w.devices.unwrap();
        assert_eq!(d[0].v1_line(), "a *:* rwm");
        assert!(!d[0].allow && d[0].is_blanket());
        assert_eq!(d[1].v1_line(), "c 1:5 rwm");
    }

    #[test]
    fn docker_update_v1_treats_zeros_as_unset() {
        let r = res(
            r#"{"memory":{"limit":134217728,"reservation":0,"swap":268435456,"kernel":0},
            "cpu":{"shares":0,"quota":25000,"period":100000},"pids":{"limit":60},"blockIO":{"weight":0}}"#,
        );
        let w = v1_writes(&r).unwrap();
        assert_eq!(
            files(&w),
            pairs(&[
                ("memory.limit_in_bytes", "134217728"),
                ("memory.memsw.limit_in_bytes", "268435456"),
                ("cpu.cfs_period_us", "100000"),
                ("cpu.cfs_quota_us", "25000"),
                ("pids.max", "60"),
            ])
        );
        assert_eq!(w.devices, None);
    }

    #[test]
    fn v2_swap_equal_memory_disables_swap_and_unlimited() {
        let w = v2_writes(&res(r#"{"memory":{"limit":100,"swap":100}}"#)).unwrap();
        assert_eq!(w.files[0].file, "memory.swap.max");
        assert_eq!(w.files[0].value, "0");
        assert!(w.files[0].skip_if_missing);
        let w = v2_writes(&res(r#"{"memory":{"limit":-1}}"#)).unwrap();
        assert_eq!(
            files(&w),
            pairs(&[("memory.swap.max", "max"), ("memory.max", "max")])
        );
    }

    #[test]
    fn v2_clear_errors() {
        let e = v2_writes(&res(r#"{"memory":{"disableOOMKiller":true}}"#)).unwrap_err();
        assert!(e.to_string().contains("disableOOMKiller"), "{e}");
        let e = v2_writes(&res(r#"{"cpu":{"realtimeRuntime":1000}}"#)).unwrap_err();
        assert!(e.to_string().contains("realtime"), "{e}");
        let e = v2_writes(&res(r#"{"unified":{"../memory.max":"1"}}"#)).unwrap_err();
        assert!(e.to_string().contains("no slashes"), "{e}");
        let e = v2_writes(&res(r#"{"unified":{"cgroup.procs":"1"}}"#)).unwrap_err();
        assert!(e.to_string().contains("managed by the runtime"), "{e}");
        let e = v2_writes(&res(r#"{"unified":{"memorymax":"1"}}"#)).unwrap_err();
        assert!(e.to_string().contains("CONTROLLER.PARAMETER"), "{e}");
        let e = v1_writes(&res(r#"{"unified":{"memory.max":"1"}}"#)).unwrap_err();
        assert!(e.to_string().contains("only supported on cgroup v2"), "{e}");
        let e = v2_writes(&res(r#"{"devices":[{"allow":true,"access":"rwx"}]}"#)).unwrap_err();
        assert!(e.to_string().contains("devices[0].access"), "{e}");
        let e = v2_writes(&res(r#"{"hugepageLimits":[{"pageSize":"2M","limit":1}]}"#)).unwrap_err();
        assert!(e.to_string().contains("pageSize"), "{e}");
    }

    #[test]
    fn v2_everything_else() {
        let r = res(
            r#"{"cpu":{"shares":1024,"period":50000,"burst":1000,"cpus":"0","mems":"0","idle":1},
            "blockIO":{"weight":500,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
                       "throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":0}]},
            "hugepageLimits":[{"pageSize":"2MB","limit":4194304}],
            "rdma":{"mlx5_0":{"hcaHandles":3}},
            "unified":{"memory.high":"1000000"}}"#,
        );
        let w = v2_writes(&r).unwrap();
        assert_eq!(
            files(&w),
            pairs(&[
                ("cpu.idle", "1"),
                ("cpu.weight", "39"),
                ("cpu.max", "max 50000"),
                ("cpu.max.burst", "1000"),
                ("cpuset.cpus", "0"),
                ("cpuset.mems", "0"),
                ("io.bfq.weight", "500"),
                ("io.max", "8:0 rbps=1048576"),
                ("io.max", "8:0 wiops=max"),
                ("hugetlb.2MB.max", "4194304"),
                ("rdma.max", "mlx5_0 hca_handle=3 hca_object=max"),
                ("memory.high", "1000000"),
            ])
        );
        let cpu_max = &w.files[2];
        assert!(
            cpu_max.keep_first_field,
            "period alone must keep the current quota"
        );
        assert_eq!(
            w.files[6].fallback,
            Some(("io.weight".into(), "4950".into()))
        );
    }

    #[test]
    fn v1_memory_unlimited_and_oom_and_cpu_rt() {
        let r = res(
            r#"{"memory":{"limit":-1,"disableOOMKiller":true,"swappiness":10},
            "cpu":{"shares":512,"realtimePeriod":1000000,"realtimeRuntime":950000},
            "hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#,
        );
        let w = v1_writes(&r).unwrap();
        assert_eq!(
            files(&w),
            pairs(&[
                ("memory.limit_in_bytes", "-1"),
                ("memory.memsw.limit_in_bytes", "-1"),
                ("memory.oom_control", "1"),
                ("memory.swappiness", "10"),
                ("cpu.shares", "512"),
                ("cpu.rt_period_us", "1000000"),
                ("cpu.rt_runtime_us", "950000"),
                ("hugetlb.2MB.limit_in_bytes", "4194304"),
            ])
        );
        assert!(w.files[1].skip_if_missing);
        let e = v1_writes(&res(r#"{"memory":{"swappiness":101}}"#)).unwrap_err();
        assert!(e.to_string().contains("0-100"), "{e}");
    }

    #[test]
    fn default_device_rules_cover_null_and_pts() {
        let lines: Vec<_> = runc_default_device_rules()
            .iter()
            .map(|d| d.v1_line())
            .collect();
        assert!(lines.contains(&"c 1:3 rwm".to_string()));
        assert!(lines.contains(&"c 136:* rwm".to_string()));
        assert!(lines.contains(&"b *:* m".to_string()));
        let r = with_runc_default_devices(&res(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#));
        let rules = device_rules(&r).unwrap().unwrap();
        assert!(rules[0].is_blanket() && !rules[0].allow);
        assert_eq!(rules[1..], runc_default_device_rules()[..]);
    }
}
