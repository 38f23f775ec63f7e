//! `linux.seccomp` → a compiled filter for this machine, plus what installing it needs.

use std::path::PathBuf;

use oci_spec::runtime::LinuxSeccompOperator as Op;
use oci_spec::runtime::{
    Arch as OciArch, LinuxSeccomp, LinuxSeccompAction as A, LinuxSeccompFilterFlag as F,
};
use seccomp_bpf::{Action, Arch, ArgCmp, CmpOp, Profile, Rule, SockFilter, Target};

use crate::error::{Result, TranslateError};

const FIELD: &str = "linux.seccomp";

// seccomp(2) filter flags (linux/seccomp.h).
pub const SECCOMP_FILTER_FLAG_LOG: u32 = 1 << 1;
pub const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 1 << 2;
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = 1 << 3;
pub const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

/// A compiled filter and how to attach it.
#[derive(Debug, Clone)]
pub struct SeccompPlan {
    /// The program for this machine's ABIs (x86_64 with x32 and i386 on x86_64 hosts).
    pub program: Vec<SockFilter>,
    /// SECCOMP_FILTER_FLAG_* bits from `flags`. NEW_LISTENER is not included: the installer
    /// adds it when `uses_notify`.
    pub flags: u32,
    /// True when some rule returns SCMP_ACT_NOTIFY: attach with NEW_LISTENER and hand the
    /// listener to `listener_path`.
    pub uses_notify: bool,
    pub listener_path: Option<PathBuf>,
    pub listener_metadata: Option<String>,
    /// The compiler input, kept for inspection (`nucleus seccomp compile`).
    pub profile: Profile,
}

/// Translates and compiles for the machine nucleus runs on.
pub fn translate(s: &LinuxSeccomp) -> Result<SeccompPlan> {
    let target =
        Target::native().ok_or_else(|| err("seccomp is not supported on this CPU architecture"))?;
    translate_for(s, target)
}

/// Translates and compiles for `target` (the CLI's `--arch`).
pub fn translate_for(s: &LinuxSeccomp, target: Target) -> Result<SeccompPlan> {
    let profile = profile(s)?;
    let uses_notify = profile.rules.iter().any(|r| r.action == Action::Notify);
    let listener_path = s.listener_path().clone();
    if uses_notify && listener_path.is_none() {
        return Err(err("SCMP_ACT_NOTIFY is used but listenerPath is not set"));
    }
    let mut flags = 0;
    for f in s.flags().iter().flatten() {
        flags |= match f {
            F::SeccompFilterFlagLog => SECCOMP_FILTER_FLAG_LOG,
            F::SeccompFilterFlagSpecAllow => SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            F::SeccompFilterFlagWaitKillableRecv => SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            // The container's init is single-threaded when the filter is attached: nothing to sync.
            F::SeccompFilterFlagTsync => 0,
        };
    }
    if flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 && !uses_notify {
        return Err(err(
            "flag SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY",
        ));
    }
    let program = seccomp_bpf::compile(&profile, target).map_err(|e| err(e.to_string()))?;
    Ok(SeccompPlan {
        program,
        flags,
        uses_notify,
        listener_path,
        listener_metadata: s.listener_metadata().clone(),
        profile,
    })
}

/// The compiler input for `s`.
pub fn profile(s: &LinuxSeccomp) -> Result<Profile> {
    let default_errno = s.default_errno_ret();
    let default_action = action(s.default_action(), default_errno, "defaultAction")?;
    if default_action == Action::Notify {
        return Err(err(
            "defaultAction SCMP_ACT_NOTIFY is not allowed: the runtime itself would be notified",
        ));
    }
    // ABIs without a table here (arm, mips, ppc, s390, ...) cannot run on this machine's
    // kernel as a compat ABI we support; the filter kills them.
    let architectures = s
        .architectures()
        .iter()
        .flatten()
        .filter_map(|a| arch(*a))
        .collect();
    let mut rules = Vec::new();
    for (i, sc) in s.syscalls().iter().flatten().enumerate() {
        let field = format!("syscalls[{i}]");
        // As runc: a rule's ERRNO/TRACE without errnoRet is EPERM; defaultErrnoRet is only
        // the default action's.
        let action = action(sc.action(), sc.errno_ret(), &field)?;
        let mut args = Vec::new();
        for (j, a) in sc.args().iter().flatten().enumerate() {
            if a.index() > 5 {
                return Err(TranslateError::new(
                    format!("{FIELD}.{field}.args[{j}].index"),
                    format!("{} is out of range (0..=5)", a.index()),
                ));
            }
            args.push(ArgCmp {
                index: a.index() as u8,
                op: match a.op() {
                    Op::ScmpCmpNe => CmpOp::Ne,
                    Op::ScmpCmpLt => CmpOp::Lt,
                    Op::ScmpCmpLe => CmpOp::Le,
                    Op::ScmpCmpEq => CmpOp::Eq,
                    Op::ScmpCmpGe => CmpOp::Ge,
                    Op::ScmpCmpGt => CmpOp::Gt,
                    Op::ScmpCmpMaskedEq => CmpOp::MaskedEq,
                },
                value: a.value(),
                value_two: a.value_two().unwrap_or(0),
            });
        }
        rules.push(Rule {
            names: sc.names().clone(),
            action,
            args,
        });
    }
    Ok(Profile {
        default_action,
        architectures,
        rules,
    })
}

fn arch(a: OciArch) -> Option<Arch> {
    Some(match a {
        OciArch::ScmpArchX86_64 => Arch::X86_64,
        OciArch::ScmpArchX86 => Arch::X86,
        OciArch::ScmpArchX32 => Arch::X32,
        OciArch::ScmpArchAarch64 => Arch::Aarch64,
        OciArch::ScmpArchRiscv64 => Arch::Riscv64,
        _ => return None,
    })
}

fn action(a: A, errno_ret: Option<u32>, field: &str) -> Result<Action> {
    let errno = || -> Result<u16> {
        let e = errno_ret.unwrap_or(libc::EPERM as u32);
        u16::try_from(e).map_err(|_| {
            TranslateError::new(
                format!("{FIELD}.{field}"),
                format!("errnoRet {e} does not fit in 16 bits"),
            )
        })
    };
    Ok(match a {
        // libseccomp's SCMP_ACT_KILL is KILL_THREAD.
        A::ScmpActKill | A::ScmpActKillThread => Action::KillThread,
        A::ScmpActKillProcess => Action::KillProcess,
        A::ScmpActTrap => Action::Trap,
        A::ScmpActErrno => Action::Errno(errno()?),
        A::ScmpActTrace => Action::Trace(errno()?),
        A::ScmpActAllow => Action::Allow,
        A::ScmpActLog => Action::Log,
        A::ScmpActNotify => Action::Notify,
    })
}

fn err(reason: impl Into<String>) -> TranslateError {
    TranslateError::new(FIELD, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/configs"
    );

    fn seccomp_json(v: serde_json::Value) -> LinuxSeccomp {
        serde_json::from_value(v).expect("valid seccomp JSON")
    }

    #[test]
    fn every_fixture_parses_through_oci_spec_and_compiles() {
        let mut seen = 0;
        for e in std::fs::read_dir(FIXTURES).expect("fixtures") {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
            if !raw["linux"]["seccomp"].is_object() {
                continue;
            }
            let spec: oci_spec::runtime::Spec =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let s = spec.linux().as_ref().unwrap().seccomp().as_ref().unwrap();
            let plan = translate(s).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(plan.program.len() > 100 && plan.program.len() <= 4096);
            assert!(!plan.uses_notify);
            assert_eq!(plan.flags, 0);
            assert_eq!(
                plan.profile.rules.len(),
                raw["linux"]["seccomp"]["syscalls"]
                    .as_array()
                    .unwrap()
                    .len()
            );
            seen += 1;
        }
        assert!(seen >= 10, "only {seen} fixture profiles");
    }

    #[test]
    fn errno_defaults_and_flags() {
        let s = seccomp_json(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_ARM"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "listenerPath": "/run/agent.sock",
            "listenerMetadata": "meta",
            "syscalls": [
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
                {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["kill"], "action": "SCMP_ACT_KILL"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}
            ]
        }));
        let plan = translate_for(&s, Target::X86_64).unwrap();
        let p = &plan.profile;
        assert_eq!(p.default_action, Action::Errno(38));
        assert_eq!(p.architectures, vec![Arch::X86_64]);
        // defaultErrnoRet is the default action's only (runc): a bare rule ERRNO is EPERM.
        assert_eq!(p.rules[0].action, Action::Errno(1));
        assert_eq!(p.rules[2].action, Action::Errno(13));
        assert_eq!(p.rules[3].action, Action::KillThread);
        assert_eq!(
            p.rules[4].args[0],
            ArgCmp {
                index: 0,
                op: CmpOp::MaskedEq,
                value: 255,
                value_two: 8
            }
        );
        assert!(plan.uses_notify);
        assert_eq!(
            plan.flags,
            SECCOMP_FILTER_FLAG_LOG
                | SECCOMP_FILTER_FLAG_SPEC_ALLOW
                | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        );
        assert_eq!(plan.listener_path, Some(PathBuf::from("/run/agent.sock")));
        assert_eq!(plan.listener_metadata.as_deref(), Some("meta"));
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (
                serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
                "listenerPath",
            ),
            (
                serde_json::json!({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}),
                "defaultAction",
            ),
            (
                serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]}),
                "16 bits",
            ),
            (
                serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}),
                "args[0].index",
            ),
            (
                serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW",
                "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}),
                "WAIT_KILLABLE_RECV",
            ),
        ];
        for (json, want) in cases {
            let e = translate_for(&seccomp_json(json.clone()), Target::X86_64).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("linux.seccomp") && text.contains(want),
                "{json}: {text}"
            );
        }
    }
}
