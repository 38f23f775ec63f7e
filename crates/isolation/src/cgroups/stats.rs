//! `events --stats`: the "data" object of runc's stats event (runc/types/events.go), with
//! runc's `omitempty` behaviour (zero numbers and empty lists are left out where runc does).

use super::fs::{keyed, read_keyed, read_raw, read_u64};
use super::{Cgroup, CgroupError, Mode};
use serde_json::{json, Map, Value};
use std::path::Path;

pub fn collect(cg: &Cgroup) -> Result<Value, CgroupError> {
    let (cpu, memory, pids, blkio) = match cg.mode {
        Mode::V2 => {
            let d = cg
                .unified
                .as_deref()
                .ok_or_else(|| CgroupError::new("no cgroup2 tree"))?;
            (cpu_v2(d), memory_v2(d), pids(Some(d)), io_v2(d))
        }
        _ => (
            cpu_v1(
                cg.v1.get("cpuacct").map(|p| p.as_path()),
                cg.v1.get("cpu").map(|p| p.as_path()),
            ),
            cg.v1
                .get("memory")
                .map(|d| memory_v1(d))
                .unwrap_or_else(|| json!({})),
            pids(cg.v1.get("pids").map(|p| p.as_path())),
            cg.v1
                .get("blkio")
                .map(|d| blkio_v1(d))
                .unwrap_or_else(|| json!({})),
        ),
    };
    let hugetlb = match (cg.v1.get("hugetlb"), cg.unified.as_deref()) {
        (Some(d), _) => hugetlb(d, false),
        (None, Some(u)) => hugetlb(u, true),
        _ => json!({}),
    };
    Ok(json!({
        "cpu": cpu,
        "memory": memory,
        "pids": pids,
        "blkio": blkio,
        "hugetlb": hugetlb,
        "intel_rdt": {},
        "network_interfaces": null,
    }))
}

fn put(m: &mut Map<String, Value>, k: &str, v: u64) {
    if v != 0 {
        m.insert(k.into(), v.into());
    }
}

fn put_list(m: &mut Map<String, Value>, k: &str, v: Vec<u64>) {
    if !v.is_empty() {
        m.insert(k.into(), v.into());
    }
}

fn numbers(dir: &Path, file: &str) -> Vec<u64> {
    read_raw(dir, file)
        .map(|s| {
            s.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn cpu_v1(acct: Option<&Path>, cpu: Option<&Path>) -> Value {
    let mut usage = Map::new();
    if let Some(d) = acct {
        put(
            &mut usage,
            "total",
            read_u64(d, "cpuacct.usage").unwrap_or(0),
        );
        put_list(&mut usage, "percpu", numbers(d, "cpuacct.usage_percpu"));
        put_list(
            &mut usage,
            "percpu_kernel",
            numbers(d, "cpuacct.usage_percpu_sys"),
        );
        put_list(
            &mut usage,
            "percpu_user",
            numbers(d, "cpuacct.usage_percpu_user"),
        );
        // cpuacct.stat is in USER_HZ ticks; runc reports nanoseconds.
        let tick = 1_000_000_000 / clock_ticks();
        let st = read_keyed(d, "cpuacct.stat");
        usage.insert(
            "kernel".into(),
            (keyed(&st, "system").unwrap_or(0) * tick).into(),
        );
        usage.insert(
            "user".into(),
            (keyed(&st, "user").unwrap_or(0) * tick).into(),
        );
    } else {
        usage.insert("kernel".into(), 0.into());
        usage.insert("user".into(), 0.into());
    }
    let mut thr = Map::new();
    if let Some(d) = cpu {
        let st = read_keyed(d, "cpu.stat");
        put(&mut thr, "periods", keyed(&st, "nr_periods").unwrap_or(0));
        put(
            &mut thr,
            "throttled_periods",
            keyed(&st, "nr_throttled").unwrap_or(0),
        );
        put(
            &mut thr,
            "throttled_time",
            keyed(&st, "throttled_time").unwrap_or(0),
        );
    }
    json!({ "usage": usage, "throttling": thr })
}

fn cpu_v2(d: &Path) -> Value {
    let st = read_keyed(d, "cpu.stat");
    let us = |k: &str| keyed(&st, k).unwrap_or(0) * 1000;
    let mut usage = Map::new();
    put(&mut usage, "total", us("usage_usec"));
    usage.insert("kernel".into(), us("system_usec").into());
    usage.insert("user".into(), us("user_usec").into());
    let mut thr = Map::new();
    put(&mut thr, "periods", keyed(&st, "nr_periods").unwrap_or(0));
    put(
        &mut thr,
        "throttled_periods",
        keyed(&st, "nr_throttled").unwrap_or(0),
    );
    put(&mut thr, "throttled_time", us("throttled_usec"));
    json!({ "usage": usage, "throttling": thr })
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn mem_entry(d: &Path, prefix: &str) -> Value {
    let mut m = Map::new();
    m.insert(
        "limit".into(),
        read_u64(d, &format!("{prefix}.limit_in_bytes"))
            .unwrap_or(0)
            .into(),
    );
    put(
        &mut m,
        "usage",
        read_u64(d, &format!("{prefix}.usage_in_bytes")).unwrap_or(0),
    );
    put(
        &mut m,
        "max",
        read_u64(d, &format!("{prefix}.max_usage_in_bytes")).unwrap_or(0),
    );
    m.insert(
        "failcnt".into(),
        read_u64(d, &format!("{prefix}.failcnt"))
            .unwrap_or(0)
            .into(),
    );
    Value::Object(m)
}

fn raw(d: &Path, file: &str) -> Map<String, Value> {
    read_keyed(d, file)
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect()
}

fn memory_v1(d: &Path) -> Value {
    let raw = raw(d, "memory.stat");
    let mut m = Map::new();
    put(
        &mut m,
        "cache",
        raw.get("cache").and_then(Value::as_u64).unwrap_or(0),
    );
    m.insert("usage".into(), mem_entry(d, "memory"));
    m.insert("swap".into(), mem_entry(d, "memory.memsw"));
    m.insert("kernel".into(), mem_entry(d, "memory.kmem"));
    m.insert("kernelTCP".into(), mem_entry(d, "memory.kmem.tcp"));
    if !raw.is_empty() {
        m.insert("raw".into(), Value::Object(raw));
    }
    Value::Object(m)
}

fn memory_v2(d: &Path) -> Value {
    let raw = raw(d, "memory.stat");
    let events = read_keyed(d, "memory.events");
    let usage = read_u64(d, "memory.current").unwrap_or(0);
    let limit = read_u64(d, "memory.max").unwrap_or(u64::MAX);
    let mut u = Map::new();
    u.insert("limit".into(), limit.into());
    put(&mut u, "usage", usage);
    put(&mut u, "max", read_u64(d, "memory.peak").unwrap_or(0));
    u.insert("failcnt".into(), keyed(&events, "max").unwrap_or(0).into());
    // runc reports swap as memory+swap, like v1's memsw.
    let mut s = Map::new();
    let swap_cur = read_u64(d, "memory.swap.current").unwrap_or(0);
    let swap_max = read_u64(d, "memory.swap.max").unwrap_or(u64::MAX);
    s.insert("limit".into(), swap_max.saturating_add(limit).into());
    put(&mut s, "usage", swap_cur + usage);
    s.insert("failcnt".into(), 0.into());
    let mut m = Map::new();
    put(
        &mut m,
        "cache",
        raw.get("file").and_then(Value::as_u64).unwrap_or(0),
    );
    m.insert("usage".into(), Value::Object(u));
    m.insert("swap".into(), Value::Object(s));
    m.insert("kernel".into(), json!({"limit": 0, "failcnt": 0}));
    m.insert("kernelTCP".into(), json!({"limit": 0, "failcnt": 0}));
    if !raw.is_empty() {
        m.insert("raw".into(), Value::Object(raw));
    }
    Value::Object(m)
}

fn pids(d: Option<&Path>) -> Value {
    let mut m = Map::new();
    if let Some(d) = d {
        put(&mut m, "current", read_u64(d, "pids.current").unwrap_or(0));
        // "max" means no limit: runc reports 0.
        let limit = read_u64(d, "pids.max")
            .filter(|v| *v != u64::MAX)
            .unwrap_or(0);
        put(&mut m, "limit", limit);
    }
    Value::Object(m)
}

fn entry(major: u64, minor: u64, op: &str, value: u64) -> Value {
    let mut m = Map::new();
    put(&mut m, "major", major);
    put(&mut m, "minor", minor);
    m.insert("op".into(), op.into());
    put(&mut m, "value", value);
    Value::Object(m)
}

/// "8:0 Read 4096" lines (the Total line is dropped, as runc does).
fn blkio_file(d: &Path, file: &str) -> Vec<Value> {
    let Ok(s) = read_raw(d, file) else {
        return Vec::new();
    };
    s.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 3 {
                return None;
            }
            let (maj, min) = f[0].split_once(':')?;
            Some(entry(
                maj.parse().ok()?,
                min.parse().ok()?,
                f[1],
                f[2].parse().ok()?,
            ))
        })
        .collect()
}

fn blkio_v1(d: &Path) -> Value {
    // BFQ/CFQ files when the scheduler provides them, else the throttle files (runc's order).
    let pick = |a: &str, b: &str| {
        let v = blkio_file(d, a);
        if v.is_empty() {
            blkio_file(d, b)
        } else {
            v
        }
    };
    let mut m = Map::new();
    let bytes = pick(
        "blkio.io_service_bytes_recursive",
        "blkio.throttle.io_service_bytes_recursive",
    );
    let ios = pick(
        "blkio.io_serviced_recursive",
        "blkio.throttle.io_serviced_recursive",
    );
    if !bytes.is_empty() {
        m.insert("ioServiceBytesRecursive".into(), bytes.into());
    }
    if !ios.is_empty() {
        m.insert("ioServicedRecursive".into(), ios.into());
    }
    Value::Object(m)
}

fn io_v2(d: &Path) -> Value {
    let Ok(s) = read_raw(d, "io.stat") else {
        return json!({});
    };
    let (mut bytes, mut ios) = (Vec::new(), Vec::new());
    for l in s.lines() {
        let mut it = l.split_whitespace();
        let Some((maj, min)) = it.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(maj), Ok(min)) = (maj.parse::<u64>(), min.parse::<u64>()) else {
            continue;
        };
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<u64>() else { continue };
            match k {
                "rbytes" => bytes.push(entry(maj, min, "Read", v)),
                "wbytes" => bytes.push(entry(maj, min, "Write", v)),
                "rios" => ios.push(entry(maj, min, "Read", v)),
                "wios" => ios.push(entry(maj, min, "Write", v)),
                _ => {}
            }
        }
    }
    let mut m = Map::new();
    if !bytes.is_empty() {
        m.insert("ioServiceBytesRecursive".into(), bytes.into());
    }
    if !ios.is_empty() {
        m.insert("ioServicedRecursive".into(), ios.into());
    }
    Value::Object(m)
}

/// Per page size ("2MB"): usage, max (v1: peak usage; v2: the limit), failcnt.
fn hugetlb(d: &Path, v2: bool) -> Value {
    let mut out = Map::new();
    let Ok(rd) = std::fs::read_dir(d) else {
        return Value::Object(out);
    };
    let mut sizes: Vec<String> = rd
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let s = n.strip_prefix("hugetlb.")?;
            let s = if v2 {
                s.strip_suffix(".max")?
            } else {
                s.strip_suffix(".limit_in_bytes")?
            };
            (!s.contains('.')).then(|| s.to_string())
        })
        .collect();
    sizes.sort();
    for s in sizes {
        let mut m = Map::new();
        if v2 {
            put(
                &mut m,
                "usage",
                read_u64(d, &format!("hugetlb.{s}.current")).unwrap_or(0),
            );
            let max = read_u64(d, &format!("hugetlb.{s}.max")).filter(|v| *v != u64::MAX);
            put(&mut m, "max", max.unwrap_or(0));
            let ev = read_keyed(d, &format!("hugetlb.{s}.events"));
            m.insert("failcnt".into(), keyed(&ev, "max").unwrap_or(0).into());
        } else {
            put(
                &mut m,
                "usage",
                read_u64(d, &format!("hugetlb.{s}.usage_in_bytes")).unwrap_or(0),
            );
            put(
                &mut m,
                "max",
                read_u64(d, &format!("hugetlb.{s}.max_usage_in_bytes")).unwrap_or(0),
            );
            let f = read_u64(d, &format!("hugetlb.{s}.failcnt")).unwrap_or(0);
            m.insert("failcnt".into(), f.into());
        }
        out.insert(s, Value::Object(m));
    }
    Value::Object(out)
}
