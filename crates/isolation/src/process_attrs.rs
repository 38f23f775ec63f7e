//! Per-process settings from `process` that are not credentials: rlimits, OOM score, I/O and
//! CPU scheduling, umask, personality; and sysctls and the hostname.

use crate::error::{check, Error, Result};
use spec_translate::{Plan, Process};

pub fn set_rlimits(p: &Process) -> Result<()> {
    for r in &p.rlimits {
        let lim = libc::rlimit {
            rlim_cur: r.soft,
            rlim_max: r.hard,
        };
        check(unsafe { libc::setrlimit(r.resource as _, &lim) }, || {
            format!(
                "set rlimit {} to {}:{} (raising a hard limit needs CAP_SYS_RESOURCE)",
                r.resource, r.soft, r.hard
            )
        })?;
    }
    Ok(())
}

pub fn set_oom_score_adj(p: &Process) -> Result<()> {
    if let Some(v) = p.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", v.to_string()).map_err(|e| {
            Error::io(
                format!("set oomScoreAdj {v} (lowering it needs CAP_SYS_RESOURCE)"),
                e,
            )
        })?;
    }
    Ok(())
}

pub fn set_io_priority(p: &Process) -> Result<()> {
    if let Some((class, prio)) = p.io_priority {
        const IOPRIO_WHO_PROCESS: i32 = 1;
        let value = (class << 13) | prio;
        check(
            unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) as i32 },
            || "set ioPriority".into(),
        )?;
    }
    Ok(())
}

#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

pub fn set_scheduler(p: &Process) -> Result<()> {
    if let Some(s) = &p.scheduler {
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            policy: s.policy as u32,
            flags: s.flags,
            nice: s.nice,
            priority: s.priority as u32,
            runtime: s.runtime,
            deadline: s.deadline,
            period: s.period,
        };
        check(
            unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr, 0) as i32 },
            || "set scheduler".into(),
        )?;
    }
    Ok(())
}

pub fn set_umask(p: &Process) {
    if let Some(m) = p.umask {
        unsafe { libc::umask(m as libc::mode_t) };
    }
}

pub fn set_personality(plan: &Plan) -> Result<()> {
    if let Some(d) = plan.personality {
        check(unsafe { libc::personality(d as libc::c_ulong) }, || {
            "set personality".into()
        })?;
    }
    Ok(())
}

/// Hostname, domainname and sysctls. Runs in the container's namespaces while the host's
/// /proc is still mounted: net, ipc and uts sysctls are per-namespace for the writer.
pub fn set_uts_and_sysctl(plan: &Plan) -> Result<()> {
    if let Some(h) = &plan.hostname {
        check(
            unsafe { libc::sethostname(h.as_ptr() as *const _, h.len()) },
            || format!("set hostname {h:?}"),
        )?;
    }
    if let Some(d) = &plan.domainname {
        check(
            unsafe { libc::setdomainname(d.as_ptr() as *const _, d.len()) },
            || format!("set domainname {d:?}"),
        )?;
    }
    for (k, v) in &plan.sysctl {
        let path = format!("/proc/sys/{}", k.replace('.', "/"));
        std::fs::write(&path, v).map_err(|e| Error::io(format!("set sysctl {k}={v}"), e))?;
    }
    Ok(())
}
