//! `process` → [`plan::Process`]: user, capabilities, rlimits, scheduling, terminal.

use crate::error::{Result, TranslateError};
use crate::plan::{CapSets, Process, Rlimit, Scheduler};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};
use std::str::FromStr;

/// The OCI spelling of a serde-renamed enum value (e.g. "RLIMIT_NOFILE", "CAP_KILL").
fn oci_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from("?"),
    }
}

pub fn translate(p: &oci_spec::runtime::Process) -> Result<Process> {
    let args = p.args().clone().unwrap_or_default();
    if args.is_empty() {
        return Err(TranslateError::new(
            "process.args",
            "must name at least the program to run",
        ));
    }
    if args[0].is_empty() {
        return Err(TranslateError::new("process.args[0]", "is empty"));
    }
    if let Some(bad) = args.iter().position(|a| a.contains('\0')) {
        return Err(TranslateError::new(
            format!("process.args[{bad}]"),
            "contains a NUL byte",
        ));
    }
    let env = p.env().clone().unwrap_or_default();
    for (i, e) in env.iter().enumerate() {
        if e.contains('\0') {
            return Err(TranslateError::new(
                format!("process.env[{i}]"),
                "contains a NUL byte",
            ));
        }
        if !e.contains('=') {
            return Err(TranslateError::new(
                format!("process.env[{i}]"),
                "is not NAME=VALUE",
            ));
        }
    }
    let cwd = p.cwd().to_string_lossy().into_owned();
    if !cwd.starts_with('/') {
        return Err(TranslateError::new(
            "process.cwd",
            format!("{cwd:?} is not an absolute path"),
        ));
    }
    if cwd.contains('\0') {
        return Err(TranslateError::new("process.cwd", "contains a NUL byte"));
    }
    let user = p.user();
    if let Some(m) = user.umask() {
        if m > 0o777 {
            return Err(TranslateError::new(
                "process.user.umask",
                format!("{m:#o} is not a umask"),
            ));
        }
    }
    // (uid_t)-1 means "leave unchanged" to setresuid: it must never reach the kernel.
    if user.uid() == u32::MAX {
        return Err(TranslateError::new(
            "process.user.uid",
            "4294967295 is not a valid uid",
        ));
    }
    if user.gid() == u32::MAX {
        return Err(TranslateError::new(
            "process.user.gid",
            "4294967295 is not a valid gid",
        ));
    }
    if user
        .additional_gids()
        .iter()
        .flatten()
        .any(|g| *g == u32::MAX)
    {
        return Err(TranslateError::new(
            "process.user.additionalGids",
            "4294967295 is not a valid gid",
        ));
    }
    let console_size = p.console_size().map(|b| {
        (
            b.height().min(u16::MAX as u64) as u16,
            b.width().min(u16::MAX as u64) as u16,
        )
    });
    let terminal = p.terminal().unwrap_or(false);
    let oom = p.oom_score_adj();
    if let Some(o) = oom {
        if !(-1000..=1000).contains(&o) {
            return Err(TranslateError::new(
                "process.oomScoreAdj",
                format!("{o} is outside -1000..1000"),
            ));
        }
    }
    Ok(Process {
        args,
        env,
        cwd,
        uid: user.uid(),
        gid: user.gid(),
        umask: user.umask(),
        additional_gids: user.additional_gids().clone().unwrap_or_default(),
        terminal,
        console_size,
        rlimits: rlimits(p.rlimits().as_deref().unwrap_or(&[]))?,
        capabilities: p.capabilities().as_ref().map(capabilities).transpose()?,
        no_new_privileges: p.no_new_privileges().unwrap_or(false),
        oom_score_adj: oom,
        io_priority: io_priority(p)?,
        scheduler: p.scheduler().as_ref().map(scheduler).transpose()?,
        apparmor_profile: p.apparmor_profile().clone().filter(|s| !s.is_empty()),
        selinux_label: p.selinux_label().clone().filter(|s| !s.is_empty()),
    })
}

fn rlimits(list: &[oci_spec::runtime::PosixRlimit]) -> Result<Vec<Rlimit>> {
    let mut out: Vec<Rlimit> = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let name = oci_name(&r.typ());
        let resource = rlimit_number(&name).ok_or_else(|| {
            TranslateError::new(
                format!("process.rlimits[{i}].type"),
                format!("unknown rlimit {name}"),
            )
        })?;
        if r.soft() > r.hard() {
            return Err(TranslateError::new(
                format!("process.rlimits[{i}]"),
                format!(
                    "{name}: soft limit {} is above hard limit {}",
                    r.soft(),
                    r.hard()
                ),
            ));
        }
        if out.iter().any(|o| o.resource == resource) {
            return Err(TranslateError::new(
                format!("process.rlimits[{i}]"),
                format!("{name} is given twice"),
            ));
        }
        out.push(Rlimit {
            resource,
            soft: r.soft(),
            hard: r.hard(),
        });
    }
    Ok(out)
}

/// RLIMIT_* name → number (x86_64 / generic Linux values).
pub fn rlimit_number(name: &str) -> Option<u32> {
    Some(match name {
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        _ => return None,
    })
}

fn cap_list(field: &str, set: &Option<Capabilities>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for c in set.iter().flatten() {
        let name = oci_name(c);
        let cap = caps::Capability::from_str(&name).map_err(|_| {
            TranslateError::new(
                format!("process.capabilities.{field}"),
                format!("unknown capability {name}"),
            )
        })?;
        out.push(cap.index());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn capabilities(c: &LinuxCapabilities) -> Result<CapSets> {
    Ok(CapSets {
        bounding: cap_list("bounding", c.bounding())?,
        effective: cap_list("effective", c.effective())?,
        inheritable: cap_list("inheritable", c.inheritable())?,
        permitted: cap_list("permitted", c.permitted())?,
        ambient: cap_list("ambient", c.ambient())?,
    })
}

fn io_priority(p: &oci_spec::runtime::Process) -> Result<Option<(u32, u32)>> {
    let Some(io) = p.io_priority() else {
        return Ok(None);
    };
    let class = match oci_name(&io.class()).as_str() {
        "IOPRIO_CLASS_RT" => 1,
        "IOPRIO_CLASS_BE" => 2,
        "IOPRIO_CLASS_IDLE" => 3,
        other => {
            return Err(TranslateError::new(
                "process.ioPriority.class",
                format!("unknown class {other}"),
            ))
        }
    };
    let prio = io.priority();
    if !(0..=7).contains(&prio) {
        return Err(TranslateError::new(
            "process.ioPriority.priority",
            format!("{prio} is outside 0..7"),
        ));
    }
    Ok(Some((class, prio as u32)))
}

fn scheduler(s: &oci_spec::runtime::Scheduler) -> Result<Scheduler> {
    let policy = match oci_name(&s.policy()).as_str() {
        "SCHED_OTHER" => 0,
        "SCHED_FIFO" => 1,
        "SCHED_RR" => 2,
        "SCHED_BATCH" => 3,
        "SCHED_IDLE" => 5,
        "SCHED_DEADLINE" => 6,
        other => {
            return Err(TranslateError::new(
                "process.scheduler.policy",
                format!("{other} is not supported by Linux"),
            ))
        }
    };
    let mut flags = 0u64;
    for f in s.flags().iter().flatten() {
        flags |= match oci_name(f).as_str() {
            "SCHED_RESET_ON_FORK" => 0x01,
            "SCHED_FLAG_RECLAIM" => 0x02,
            "SCHED_FLAG_DL_OVERRUN" => 0x04,
            "SCHED_FLAG_KEEP_POLICY" => 0x08,
            "SCHED_FLAG_KEEP_PARAMS" => 0x10,
            "SCHED_FLAG_UTIL_CLAMP_MIN" => 0x20,
            "SCHED_FLAG_UTIL_CLAMP_MAX" => 0x40,
            other => {
                return Err(TranslateError::new(
                    "process.scheduler.flags",
                    format!("unknown flag {other}"),
                ))
            }
        };
    }
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return Err(TranslateError::new(
            "process.scheduler.nice",
            format!("{nice} is outside -20..19"),
        ));
    }
    Ok(Scheduler {
        policy,
        nice,
        priority: s.priority().unwrap_or(0),
        flags,
        runtime: s.runtime().unwrap_or(0),
        deadline: s.deadline().unwrap_or(0),
        period: s.period().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc_from(json: &str) -> Result<Process> {
        let p: oci_spec::runtime::Process = serde_json::from_str(json).unwrap();
        translate(&p)
    }

    #[test]
    fn rlimit_soft_above_hard_is_refused() {
        let e = proc_from(r#"{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":5}]}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("soft limit 10 is above hard limit 5"),
            "{e}"
        );
    }

    #[test]
    fn capabilities_become_numbers() {
        let p = proc_from(r#"{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"capabilities":{"bounding":["CAP_KILL","CAP_CHOWN"]}}"#).unwrap();
        assert_eq!(p.capabilities.unwrap().bounding, vec![0, 5]);
    }

    #[test]
    fn relative_cwd_and_empty_args_are_refused() {
        assert!(proc_from(r#"{"cwd":"tmp","user":{"uid":0,"gid":0},"args":["sh"]}"#).is_err());
        assert!(proc_from(r#"{"cwd":"/","user":{"uid":0,"gid":0},"args":[]}"#).is_err());
        assert!(proc_from(
            r#"{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"env":["NOEQUALS"]}"#
        )
        .is_err());
        assert!(proc_from(
            r#"{"cwd":"/","user":{"uid":0,"gid":0},"args":["sh"],"oomScoreAdj":1001}"#
        )
        .is_err());
    }
}
