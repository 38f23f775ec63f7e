//! `linux.namespaces`, id mappings and time offsets.

use crate::error::{Result, TranslateError};
use crate::plan::{IdMap, Namespaces, NsKind, TimeOffset};
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespace, LinuxNamespaceType};

fn kind(t: LinuxNamespaceType) -> NsKind {
    match t {
        LinuxNamespaceType::Mount => NsKind::Mount,
        LinuxNamespaceType::Cgroup => NsKind::Cgroup,
        LinuxNamespaceType::Uts => NsKind::Uts,
        LinuxNamespaceType::Ipc => NsKind::Ipc,
        LinuxNamespaceType::User => NsKind::User,
        LinuxNamespaceType::Pid => NsKind::Pid,
        LinuxNamespaceType::Network => NsKind::Network,
        LinuxNamespaceType::Time => NsKind::Time,
    }
}

pub fn translate(list: &[LinuxNamespace]) -> Result<Namespaces> {
    let mut ns = Namespaces::default();
    let mut seen = Vec::new();
    for (i, n) in list.iter().enumerate() {
        let k = kind(n.typ());
        if seen.contains(&k) {
            return Err(TranslateError::new(
                format!("linux.namespaces[{i}]"),
                format!("namespace {} is listed twice", k.oci_name()),
            ));
        }
        seen.push(k);
        match n.path() {
            Some(p) if !p.as_os_str().is_empty() => {
                if !p.is_absolute() {
                    return Err(TranslateError::new(
                        format!("linux.namespaces[{i}].path"),
                        format!("{} is not an absolute path", p.display()),
                    ));
                }
                ns.join.push((k, p.clone()));
            }
            _ => ns.create.push(k),
        }
    }
    // The user namespace must be joined first: it decides what the others may do.
    ns.join.sort_by_key(|(k, _)| *k != NsKind::User);
    Ok(ns)
}

/// Id mappings, checked; `field` is the JSON path used in errors (e.g. `linux.uidMappings`).
pub fn id_maps(field: &str, maps: &Option<Vec<LinuxIdMapping>>) -> Result<Vec<IdMap>> {
    let mut out = Vec::new();
    for (i, m) in maps.iter().flatten().enumerate() {
        if m.size() == 0 {
            return Err(TranslateError::new(
                format!("{field}[{i}].size"),
                "must be at least 1",
            ));
        }
        if m.container_id().checked_add(m.size()).is_none()
            || m.host_id().checked_add(m.size()).is_none()
        {
            return Err(TranslateError::new(
                format!("{field}[{i}]"),
                "range overflows 32 bits",
            ));
        }
        out.push(IdMap {
            container_id: m.container_id(),
            host_id: m.host_id(),
            size: m.size(),
        });
    }
    if out.len() > 340 {
        return Err(TranslateError::new(
            field,
            "the kernel accepts at most 340 lines",
        ));
    }
    Ok(out)
}

pub fn time_offsets(
    map: &std::collections::HashMap<String, oci_spec::runtime::LinuxTimeOffset>,
) -> Result<Vec<TimeOffset>> {
    let mut out = Vec::new();
    for (clock, off) in map {
        if clock != "monotonic" && clock != "boottime" {
            return Err(TranslateError::new(
                format!("linux.timeOffsets.{clock}"),
                "only monotonic and boottime can be offset",
            ));
        }
        let nanosecs = off.nanosecs().unwrap_or(0);
        if nanosecs >= 1_000_000_000 {
            return Err(TranslateError::new(
                format!("linux.timeOffsets.{clock}.nanosecs"),
                "must be below one second",
            ));
        }
        out.push(TimeOffset {
            clock: clock.clone(),
            secs: off.secs().unwrap_or(0),
            nanosecs,
        });
    }
    out.sort_by(|a, b| a.clock.cmp(&b.clock));
    Ok(out)
}
