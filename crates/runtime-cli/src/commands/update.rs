//! `update`: change the resource limits of a live container.
//!
//! As runc: the changes come from `-r FILE` (or `-r -`, stdin: what Docker sends) and the
//! single-resource flags, the flags winning. Zeros mean "leave unchanged" (Docker sends
//! `"reservation":0`, `"shares":0`, ...). Only the given settings are written to the cgroup;
//! device rules in the JSON are ignored, as runc ignores them. The new values are merged into
//! the config kept in state.json, so a later update (or exec) sees the current limits.

use crate::cli::UpdateArgs;
use crate::state::{self, Status};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};
use std::io::Read;
use std::path::Path;

pub fn update(root: &Path, a: &UpdateArgs) -> Result<()> {
    let delta = requested(a)?;
    let (lock, st) = state::open(root, &a.id)?;
    let Some(mut st) = st else {
        bail!("container not running")
    };
    if st.status(&lock.dir) == Status::Stopped {
        bail!("container not running");
    }
    let Some(cg) = st.cgroup.clone() else {
        bail!("container {} has no cgroup", a.id)
    };
    let mut merged = st
        .config
        .pointer("/linux/resources")
        .cloned()
        .unwrap_or_else(|| json!({}));
    merge(&mut merged, &delta);
    let mut to_apply = delta.clone();
    // The v2 swap value is memory+swap minus memory: a swap change needs the memory limit.
    if to_apply.pointer("/memory/swap").is_some() && to_apply.pointer("/memory/limit").is_none() {
        if let Some(l) = merged.pointer("/memory/limit").cloned() {
            to_apply["memory"]["limit"] = l;
        }
    }
    let r: isolation::cgroups::LinuxResources = serde_json::from_value(to_apply)
        .map_err(|e| anyhow!("invalid resources for update: {e}"))?;
    cg.apply(&r).map_err(|e| anyhow!("{e}"))?;
    if !st.config.is_object() {
        st.config = json!({});
    }
    if !st.config["linux"].is_object() {
        st.config["linux"] = json!({});
    }
    st.config["linux"]["resources"] = merged;
    state::write_state(&lock.dir, &st)
}

/// The requested changes as LinuxResources JSON: `-r` first, then the flags on top.
fn requested(a: &UpdateArgs) -> Result<Value> {
    let mut r = match a.resources.as_deref() {
        None => json!({}),
        Some(src) => {
            let text = if src == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("read resources from stdin")?;
                s
            } else {
                std::fs::read_to_string(src).with_context(|| format!("read resources {src}"))?
            };
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow!("resources {src}: invalid JSON: {e}"))?;
            if !v.is_object() {
                bail!("resources {src}: expected a JSON object (linux.resources)");
            }
            v
        }
    };
    if let Some(o) = r.as_object_mut() {
        // runc's update does not touch device rules.
        o.remove("devices");
    }
    if a.l3_cache_schema.is_some() || a.mem_bw_schema.is_some() {
        bail!("--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported by nucleus");
    }
    if a.kernel_memory.is_some() || a.kernel_memory_tcp.is_some() {
        crate::logging::warn("kernel memory limits are deprecated and ignored");
    }
    let mut set = |ctrl: &str, key: &str, v: Value| {
        if !r[ctrl].is_object() {
            r[ctrl] = json!({});
        }
        r[ctrl][key] = v;
    };
    for (flag, val, key) in [
        ("memory", &a.memory, "limit"),
        ("memory-swap", &a.memory_swap, "swap"),
        ("memory-reservation", &a.memory_reservation, "reservation"),
    ] {
        if let Some(v) = val {
            let n = if v == "-1" {
                -1
            } else {
                parse_size(v).map_err(|e| anyhow!("invalid value for {flag}: {e}"))?
            };
            set("memory", key, json!(n));
        }
    }
    if let Some(v) = a.cpu_share {
        set("cpu", "shares", json!(v));
    }
    if let Some(v) = a.cpu_quota {
        set("cpu", "quota", json!(v));
    }
    if let Some(v) = a.cpu_period {
        set("cpu", "period", json!(v));
    }
    if let Some(v) = a.cpu_rt_period {
        set("cpu", "realtimePeriod", json!(v));
    }
    if let Some(v) = a.cpu_rt_runtime {
        set("cpu", "realtimeRuntime", json!(v));
    }
    if let Some(v) = &a.cpuset_cpus {
        set("cpu", "cpus", json!(v));
    }
    if let Some(v) = &a.cpuset_mems {
        set("cpu", "mems", json!(v));
    }
    if let Some(v) = a.pids_limit {
        set("pids", "limit", json!(v));
    }
    if let Some(v) = a.blkio_weight {
        set("blockIO", "weight", json!(v));
    }
    Ok(r)
}

/// Docker's `units.RAMInBytes`: a number (decimals allowed), an optional space, an optional
/// k/m/g/t/p (binary multiples), an optional `i` and `b`: `128m`, `1.5g`, `64MiB`, `4096`.
pub fn parse_size(s: &str) -> Result<i64> {
    let t = s.trim();
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(num_end);
    let n: f64 = num
        .parse()
        .ok()
        .filter(|_| !num.is_empty() && !num.ends_with('.'))
        .ok_or_else(|| anyhow!("invalid size: {s:?}"))?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let mut chars = rest.chars();
    let mult: f64 = match chars.clone().next() {
        Some('k') => 1024f64,
        Some('m') => 1024f64.powi(2),
        Some('g') => 1024f64.powi(3),
        Some('t') => 1024f64.powi(4),
        Some('p') => 1024f64.powi(5),
        _ => 1.0,
    };
    if mult != 1.0 {
        chars.next();
    }
    let tail: String = chars.collect();
    if !matches!(tail.as_str(), "" | "b" | "i" | "ib") {
        bail!("invalid size: {s:?}");
    }
    let v = n * mult;
    if !(0.0..9.2e18).contains(&v) {
        bail!("invalid size: {s:?}");
    }
    Ok(v as i64)
}

/// Overlay `src` onto `dst`; numeric zeros in `src` mean "unchanged" and are skipped.
fn merge(dst: &mut Value, src: &Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                if v.as_f64() == Some(0.0) || v.is_null() {
                    continue;
                }
                let slot = d.entry(k.clone()).or_insert(Value::Object(Map::new()));
                if v.is_object() && slot.is_object() {
                    merge(slot, v);
                    if slot.as_object().is_some_and(Map::is_empty) {
                        d.remove(k);
                    }
                } else {
                    *slot = v.clone();
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("128m").unwrap(), 128 << 20);
        assert_eq!(parse_size("128M").unwrap(), 128 << 20);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("2k").unwrap(), 2048);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        for bad in ["", "m", "12x", "-5", "1..2", "12mm"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_skips_zeros() {
        let mut d = json!({"memory": {"limit": 1, "swap": 2}, "cpu": {"shares": 5}});
        merge(
            &mut d,
            &json!({"memory": {"limit": 9, "reservation": 0}, "pids": {"limit": 3}, "blockIO": {"weight": 0}}),
        );
        assert_eq!(
            d,
            json!({"memory": {"limit": 9, "swap": 2}, "cpu": {"shares": 5}, "pids": {"limit": 3}})
        );
    }
}
