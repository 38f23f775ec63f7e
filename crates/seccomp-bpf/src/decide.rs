//! Step 1 of the compiler: per audit arch, split the 32-bit `nr` space into intervals that each
//! get one decision. Unconditional decisions of neighbouring numbers are merged, so the tree
//! built on top only distinguishes what must be distinguished.

use std::collections::BTreeMap;

use crate::arch::{Arch, Target, X32_SYSCALL_BIT};
use crate::profile::*;

/// What happens to one syscall number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A constant return value: the cacheable case when it is ALLOW.
    Return(u32),
    /// Argument rules tried in order (each: all comparisons, then return value); `fallback`
    /// when none matches.
    Args {
        rules: Vec<(Vec<ArgCmp>, u32)>,
        fallback: u32,
    },
}

/// `[lo, hi]` inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub lo: u32,
    pub hi: u32,
    pub decision: Decision,
}

/// Everything the filter does under one audit arch value.
#[derive(Debug, Clone)]
pub struct ArchPlan {
    pub audit: u32,
    /// Sorted, contiguous, covering 0..=u32::MAX.
    pub intervals: Vec<Interval>,
}

/// Intervals for every audit arch the target's filter accepts, in a stable order.
pub fn plan(profile: &Profile, target: Target) -> Result<Vec<ArchPlan>, CompileError> {
    for r in &profile.rules {
        if let Some(a) = r.args.iter().find(|a| a.index > 5) {
            let name = r.names.first().cloned().unwrap_or_default();
            return Err(CompileError::BadArgIndex {
                name,
                index: a.index,
            });
        }
    }
    let enabled = target.enabled(&profile.architectures);
    let kill = Action::KillProcess.ret();
    let mut out: Vec<ArchPlan> = Vec::new();
    for &abi in &enabled {
        if abi == Arch::X32 {
            continue; // folded into X86_64 below
        }
        let mut intervals = abi_intervals(profile, abi);
        if abi == Arch::X86_64 {
            // The native table lives below the x32 bit; above it is x32 or a foreign ABI.
            clip(&mut intervals, X32_SYSCALL_BIT - 1);
            if enabled.contains(&Arch::X32) {
                let x32 = abi_intervals(profile, Arch::X32);
                intervals.extend(x32.into_iter().filter_map(|mut iv| {
                    if iv.hi < X32_SYSCALL_BIT {
                        return None;
                    }
                    iv.lo = iv.lo.max(X32_SYSCALL_BIT);
                    Some(iv)
                }));
            } else {
                intervals.push(Interval {
                    lo: X32_SYSCALL_BIT,
                    hi: u32::MAX,
                    decision: Decision::Return(kill),
                });
            }
        }
        out.push(ArchPlan {
            audit: abi.audit(),
            intervals: merge(intervals),
        });
    }
    Ok(out)
}

fn clip(v: &mut Vec<Interval>, max: u32) {
    v.retain(|iv| iv.lo <= max);
    if let Some(last) = v.last_mut() {
        last.hi = last.hi.min(max);
    }
}

/// Decisions over the whole `u32` space for one ABI (numbers with the x32 bit for x32).
fn abi_intervals(profile: &Profile, abi: Arch) -> Vec<Interval> {
    // Rules per number, in profile order.
    let mut per_nr: BTreeMap<u32, Vec<&Rule>> = BTreeMap::new();
    for r in &profile.rules {
        for name in &r.names {
            if let Some(nr) = abi.resolve(name) {
                let v = per_nr.entry(nr).or_default();
                // The same rule naming a syscall twice adds nothing.
                if !v.iter().any(|x| std::ptr::eq(*x, r)) {
                    v.push(r);
                }
            }
        }
    }
    let default = profile.default_action.ret();
    let enosys = match profile.default_action {
        Action::Errno(_) => per_nr
            .keys()
            .next_back()
            .map(|&max| (max, Action::Errno(ENOSYS).ret())),
        _ => None,
    };
    let mut v = Vec::new();
    let mut next = 0u32; // first number not yet covered
    let push = |v: &mut Vec<Interval>, lo: u32, hi: u32, d: Decision| {
        if lo <= hi {
            v.push(Interval {
                lo,
                hi,
                decision: d,
            });
        }
    };
    for (&nr, rules) in &per_nr {
        if nr > next {
            push(&mut v, next, nr - 1, Decision::Return(default));
        }
        push(&mut v, nr, nr, decide(rules, default));
        next = nr.wrapping_add(1);
        if next == 0 {
            return v;
        }
    }
    match enosys {
        Some((max, ret)) if max < u32::MAX => {
            push(&mut v, max + 1, u32::MAX, Decision::Return(ret))
        }
        _ => push(&mut v, next, u32::MAX, Decision::Return(default)),
    }
    if v.is_empty() || v[0].lo != 0 {
        // Unreachable by construction; keep the invariant explicit rather than panic.
        v.insert(
            0,
            Interval {
                lo: 0,
                hi: v.first().map_or(u32::MAX, |i| i.lo - 1),
                decision: Decision::Return(default),
            },
        );
    }
    v
}

/// First matching rule wins; an argument-less rule ends the list.
fn decide(rules: &[&Rule], default: u32) -> Decision {
    let mut conds = Vec::new();
    for r in rules {
        if r.args.is_empty() {
            if conds.is_empty() {
                return Decision::Return(r.action.ret());
            }
            return Decision::Args {
                rules: conds,
                fallback: r.action.ret(),
            };
        }
        conds.push((r.args.clone(), r.action.ret()));
    }
    Decision::Args {
        rules: conds,
        fallback: default,
    }
}

/// Merges neighbours with equal decisions.
fn merge(v: Vec<Interval>) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for iv in v {
        match out.last_mut() {
            Some(last) if last.decision == iv.decision && last.hi.wrapping_add(1) == iv.lo => {
                last.hi = iv.hi
            }
            _ => out.push(iv),
        }
    }
    out
}
