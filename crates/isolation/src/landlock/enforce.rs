//! Turning a (fitted) policy into a Landlock domain on the calling thread, with the `landlock`
//! crate.

use super::LandlockError;
use landlock::{
    AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetError, RulesetStatus, Scope,
};
use spec_translate::landlock::{FsRight, LandlockPolicy, NetRight, ScopeRight};
use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;

/// Restrict the calling thread (and everything it later forks or execs) with `policy`.
/// Returns false when the policy handles nothing (everything was dropped), true once enforced.
/// Rights dropped along the way (directory-only rights on a file) are appended to `dropped`.
pub(crate) fn enforce(
    policy: &LandlockPolicy,
    dropped: &mut Vec<String>,
) -> Result<bool, LandlockError> {
    if policy.handled_fs.is_empty() && policy.handled_net.is_empty() && policy.scoped.is_empty() {
        return Ok(false);
    }
    // Open every path first: a missing path fails before any Landlock call is made.
    let paths = open_paths(policy, dropped)?;

    let level = if policy.disable_best_effort {
        CompatLevel::HardRequirement
    } else {
        CompatLevel::BestEffort
    };
    let mut ruleset = Ruleset::default().set_compatibility(level);
    if !policy.handled_fs.is_empty() {
        ruleset = ruleset
            .handle_access(fs_flags(&policy.handled_fs))
            .map_err(kernel("handledAccessFS"))?;
    }
    if !policy.handled_net.is_empty() {
        ruleset = ruleset
            .handle_access(net_flags(&policy.handled_net))
            .map_err(kernel("handledAccessNet"))?;
    }
    if !policy.scoped.is_empty() {
        ruleset = ruleset
            .scope(scope_flags(&policy.scoped))
            .map_err(kernel("scoped"))?;
    }
    let mut created = ruleset
        .create()
        .map_err(kernel("landlock_create_ruleset"))?;
    for (field, file, access) in paths {
        created = created
            .add_rule(PathBeneath::new(file, access))
            .map_err(|e| kernel_at(&field, e))?;
    }
    for (i, rule) in policy.net_port.iter().enumerate() {
        let access = net_flags(&rule.allowed);
        for (j, port) in rule.ports.iter().enumerate() {
            let field = format!("{}.rules.netPort[{i}].ports[{j}]", policy.origin);
            created = created
                .add_rule(NetPort::new(*port, access))
                .map_err(|e| kernel_at(&field, e))?;
        }
    }
    // no_new_privs is process.noNewPrivileges' business, not ours: without it the kernel wants
    // CAP_SYS_ADMIN, and says EPERM otherwise (turned into an explanation below).
    let status = created
        .no_new_privs(false)
        .restrict_self()
        .map_err(restrict_error)?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        dropped.push(format!(
            "{}: the kernel enforces the ruleset only partially ({:?})",
            policy.origin, status.ruleset
        ));
    }
    Ok(true)
}

/// Every path of every rule, opened O_PATH inside the current root, with the rights that apply
/// to what it is (a file cannot carry directory-only rights).
fn open_paths(
    policy: &LandlockPolicy,
    dropped: &mut Vec<String>,
) -> Result<Vec<(String, File, BitFlags<AccessFs>)>, LandlockError> {
    let mut out = Vec::new();
    for (i, rule) in policy.path_beneath.iter().enumerate() {
        for (j, path) in rule.paths.iter().enumerate() {
            let field = format!("{}.rules.pathBeneath[{i}].paths[{j}]", policy.origin);
            let path_err = |source| LandlockError::Path {
                field: field.clone(),
                path: path.clone(),
                source,
            };
            let file = File::options()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
                .open(path)
                .map_err(path_err)?;
            let is_dir = file.metadata().map_err(path_err)?.is_dir();
            let mut allowed = rule.allowed.clone();
            if !is_dir {
                let dir_only: Vec<&'static str> = allowed
                    .iter()
                    .filter(|r| !r.applies_to_files())
                    .map(|r| r.name())
                    .collect();
                if !dir_only.is_empty() {
                    if policy.disable_best_effort {
                        return Err(LandlockError::NotADirectory {
                            field,
                            path: path.clone(),
                            rights: dir_only,
                        });
                    }
                    dropped.push(format!(
                        "{field}: {path} is not a directory: {} dropped for it",
                        dir_only.join(", ")
                    ));
                    allowed.retain(|r| r.applies_to_files());
                }
            }
            if !allowed.is_empty() {
                out.push((field, file, fs_flags(&allowed)));
            }
        }
    }
    Ok(out)
}

fn restrict_error(e: RulesetError) -> LandlockError {
    let errno = landlock::Errno::from(&e);
    match (&e, *errno) {
        (RulesetError::RestrictSelf(_), libc::EPERM) => LandlockError::Conditions,
        (RulesetError::RestrictSelf(_), libc::E2BIG) => LandlockError::Kernel {
            step: "landlock_restrict_self".into(),
            message: "the process is already in 16 nested Landlock domains (E2BIG)".into(),
        },
        _ => kernel("landlock_restrict_self")(e),
    }
}

fn kernel(step: &'static str) -> impl Fn(RulesetError) -> LandlockError {
    move |e| LandlockError::Kernel {
        step: step.to_string(),
        message: e.to_string(),
    }
}

fn kernel_at(field: &str, e: RulesetError) -> LandlockError {
    LandlockError::Kernel {
        step: format!("{field}: landlock_add_rule"),
        message: e.to_string(),
    }
}

pub(crate) fn fs_flags(set: &BTreeSet<FsRight>) -> BitFlags<AccessFs> {
    set.iter().fold(BitFlags::EMPTY, |acc, r| {
        acc | match r {
            FsRight::Execute => AccessFs::Execute,
            FsRight::WriteFile => AccessFs::WriteFile,
            FsRight::ReadFile => AccessFs::ReadFile,
            FsRight::ReadDir => AccessFs::ReadDir,
            FsRight::RemoveDir => AccessFs::RemoveDir,
            FsRight::RemoveFile => AccessFs::RemoveFile,
            FsRight::MakeChar => AccessFs::MakeChar,
            FsRight::MakeDir => AccessFs::MakeDir,
            FsRight::MakeReg => AccessFs::MakeReg,
            FsRight::MakeSock => AccessFs::MakeSock,
            FsRight::MakeFifo => AccessFs::MakeFifo,
            FsRight::MakeBlock => AccessFs::MakeBlock,
            FsRight::MakeSym => AccessFs::MakeSym,
            FsRight::Refer => AccessFs::Refer,
            FsRight::Truncate => AccessFs::Truncate,
            FsRight::IoctlDev => AccessFs::IoctlDev,
            FsRight::ResolveUnix => AccessFs::ResolveUnix,
        }
    })
}

pub(crate) fn net_flags(set: &BTreeSet<NetRight>) -> BitFlags<AccessNet> {
    set.iter().fold(BitFlags::EMPTY, |acc, r| {
        acc | match r {
            NetRight::BindTcp => AccessNet::BindTcp,
            NetRight::ConnectTcp => AccessNet::ConnectTcp,
            NetRight::BindUdp => AccessNet::BindUdp,
            NetRight::ConnectSendUdp => AccessNet::ConnectSendUdp,
        }
    })
}

pub(crate) fn scope_flags(set: &BTreeSet<ScopeRight>) -> BitFlags<Scope> {
    set.iter().fold(BitFlags::EMPTY, |acc, r| {
        acc | match r {
            ScopeRight::AbstractUnixSocket => Scope::AbstractUnixSocket,
            ScopeRight::Signal => Scope::Signal,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use landlock::{Access, ABI};

    /// Our rights table and the crate's agree on which ABI brings which right.
    #[test]
    fn rights_table_matches_the_crate() {
        for abi in 1..=super::super::abi::KNOWN_ABI {
            let ours: BTreeSet<FsRight> = FsRight::ALL
                .iter()
                .copied()
                .filter(|r| r.min_abi() <= abi)
                .collect();
            assert_eq!(
                fs_flags(&ours),
                AccessFs::from_all(ABI::from(abi)),
                "fs rights at ABI {abi}"
            );
            let ours: BTreeSet<NetRight> = NetRight::ALL
                .iter()
                .copied()
                .filter(|r| r.min_abi() <= abi)
                .collect();
            assert_eq!(
                net_flags(&ours),
                AccessNet::from_all(ABI::from(abi)),
                "net rights at ABI {abi}"
            );
            let ours: BTreeSet<ScopeRight> = ScopeRight::ALL
                .iter()
                .copied()
                .filter(|r| r.min_abi() <= abi)
                .collect();
            assert_eq!(
                scope_flags(&ours),
                Scope::from_all(ABI::from(abi)),
                "scopes at ABI {abi}"
            );
        }
        // KNOWN_ABI is the crate's newest: one past it maps back to it.
        assert_eq!(
            ABI::from(super::super::abi::KNOWN_ABI + 1),
            ABI::from(super::super::abi::KNOWN_ABI)
        );
        assert_ne!(
            ABI::from(super::super::abi::KNOWN_ABI),
            ABI::from(super::super::abi::KNOWN_ABI - 1)
        );
    }
}
