//! Fitting a policy to the kernel's ABI: best effort drops the rights the ABI lacks (and says
//! which), `disableBestEffort` refuses instead. Pure, so it is tested for every ABI.

use super::LandlockError;
use spec_translate::landlock::LandlockPolicy;
use std::collections::BTreeSet;

/// A policy trimmed to `abi`, and one line per dropped right.
#[derive(Debug)]
pub(crate) struct Fitted {
    pub policy: LandlockPolicy,
    pub dropped: Vec<String>,
}

/// Trim `policy` to what Landlock ABI `abi` knows (0: no Landlock at all).
pub(crate) fn fit(
    policy: &LandlockPolicy,
    abi: i32,
    unavailable: Option<&str>,
) -> Result<Fitted, LandlockError> {
    let origin = &policy.origin;
    if let Some(reason) = unavailable {
        if policy.disable_best_effort {
            return Err(LandlockError::Unavailable {
                reason: reason.to_string(),
            });
        }
        let empty = LandlockPolicy {
            origin: origin.clone(),
            ..Default::default()
        };
        return Ok(Fitted {
            policy: empty,
            dropped: vec![format!("{origin}: not enforced: {reason}")],
        });
    }

    let mut missing = Vec::new();
    let fs = keep(
        &policy.handled_fs,
        abi,
        |r| (r.name(), r.min_abi()),
        "handledAccessFS",
        &mut missing,
    );
    let net = keep(
        &policy.handled_net,
        abi,
        |r| (r.name(), r.min_abi()),
        "handledAccessNet",
        &mut missing,
    );
    let scoped = keep(
        &policy.scoped,
        abi,
        |r| (r.name(), r.min_abi()),
        "scoped",
        &mut missing,
    );
    if missing.is_empty() {
        return Ok(Fitted {
            policy: policy.clone(),
            dropped: Vec::new(),
        });
    }
    if policy.disable_best_effort {
        return Err(LandlockError::Unsupported {
            kernel_abi: abi,
            missing,
        });
    }

    let dropped = missing
        .iter()
        .map(|m| format!("{origin}.ruleset.{m} dropped: this kernel has Landlock ABI {abi}"))
        .collect();
    // A rule may only allow handled rights; a right no longer handled is simply not restricted,
    // so it leaves the rules too, and a rule left with nothing to allow goes.
    let mut out = LandlockPolicy {
        handled_fs: fs,
        handled_net: net,
        scoped,
        ..policy.clone()
    };
    for r in &mut out.path_beneath {
        r.allowed.retain(|a| out.handled_fs.contains(a));
    }
    out.path_beneath.retain(|r| !r.allowed.is_empty());
    for r in &mut out.net_port {
        r.allowed.retain(|a| out.handled_net.contains(a));
    }
    out.net_port.retain(|r| !r.allowed.is_empty());
    Ok(Fitted {
        policy: out,
        dropped,
    })
}

/// The rights of `set` that ABI `abi` knows; the others are described in `missing`.
fn keep<R: Copy + Ord>(
    set: &BTreeSet<R>,
    abi: i32,
    info: fn(&R) -> (&'static str, i32),
    key: &str,
    missing: &mut Vec<String>,
) -> BTreeSet<R> {
    let mut kept = BTreeSet::new();
    for r in set {
        let (name, min) = info(r);
        if min <= abi {
            kept.insert(*r);
        } else {
            missing.push(format!("{key}: {name} (needs ABI {min})"));
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spec_translate::landlock::{parse, FsRight, NetRight};

    fn policy(best_effort: bool) -> LandlockPolicy {
        parse(&json!({
            "ruleset": {
                "handledAccessFS": ["read_file", "truncate", "ioctl_dev"],
                "handledAccessNet": ["bind_tcp"],
                "scoped": ["signal"]
            },
            "rules": {
                "pathBeneath": [
                    {"allowedAccess": ["read_file", "truncate"], "paths": ["/a"]},
                    {"allowedAccess": ["ioctl_dev"], "paths": ["/dev"]}
                ],
                "netPort": [{"allowedAccess": ["bind_tcp"], "ports": [80]}]
            },
            "disableBestEffort": !best_effort
        }))
        .unwrap()
    }

    #[test]
    fn a_new_enough_abi_keeps_everything() {
        for abi in 6..=10 {
            let f = fit(&policy(true), abi, None).unwrap();
            assert_eq!(f.policy, policy(true));
            assert!(f.dropped.is_empty());
            assert!(fit(&policy(false), abi, None).is_ok());
        }
    }

    #[test]
    fn best_effort_drops_what_the_abi_lacks() {
        let f = fit(&policy(true), 3, None).unwrap();
        assert_eq!(
            f.policy.handled_fs,
            [FsRight::ReadFile, FsRight::Truncate].into_iter().collect()
        );
        assert!(f.policy.handled_net.is_empty() && f.policy.scoped.is_empty());
        // The ioctl_dev-only rule and the netPort rule went with their rights.
        assert_eq!(f.policy.path_beneath.len(), 1);
        assert!(f.policy.net_port.is_empty());
        assert_eq!(
            f.dropped,
            vec![
                "process.landlock.ruleset.handledAccessFS: ioctl_dev (needs ABI 5) dropped: this kernel has Landlock ABI 3",
                "process.landlock.ruleset.handledAccessNet: bind_tcp (needs ABI 4) dropped: this kernel has Landlock ABI 3",
                "process.landlock.ruleset.scoped: signal (needs ABI 6) dropped: this kernel has Landlock ABI 3",
            ]
        );
        let f = fit(&policy(true), 4, None).unwrap();
        assert_eq!(
            f.policy.handled_net,
            [NetRight::BindTcp].into_iter().collect()
        );
        assert_eq!(f.policy.net_port.len(), 1);
        assert_eq!(f.dropped.len(), 2);
    }

    #[test]
    fn disable_best_effort_refuses() {
        let e = fit(&policy(false), 5, None).unwrap_err().to_string();
        assert_eq!(
            e,
            "landlock: disableBestEffort is set but this kernel (Landlock ABI 5) lacks scoped: signal (needs ABI 6)"
        );
        let e = fit(
            &policy(false),
            0,
            Some("this kernel has no Landlock support"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("disableBestEffort is set but this kernel has no Landlock support"),
            "{e}"
        );
    }

    #[test]
    fn no_landlock_in_best_effort_enforces_nothing_and_says_so() {
        let f = fit(
            &policy(true),
            0,
            Some("this kernel has no Landlock support"),
        )
        .unwrap();
        assert!(f.policy.handled_fs.is_empty() && f.policy.path_beneath.is_empty());
        assert_eq!(
            f.dropped,
            vec!["process.landlock: not enforced: this kernel has no Landlock support"]
        );
    }
}
