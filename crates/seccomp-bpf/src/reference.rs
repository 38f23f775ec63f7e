//! A plain evaluator of the OCI seccomp semantics (see `profile`), written without looking at
//! the compiler's intermediate forms: it walks the profile for every call. Tests compare the
//! compiled program's verdict with this one.

use crate::arch::{Arch, Target, X32_SYSCALL_BIT};
use crate::insn::SeccompData;
use crate::profile::*;

/// The return value the kernel should see for `data` under `profile` on `target`.
pub fn evaluate(profile: &Profile, target: Target, data: &SeccompData) -> u32 {
    let Some(abi) = abi_of(profile, target, data) else {
        return Action::KillProcess.ret();
    };
    let mut highest: Option<u32> = None;
    for rule in &profile.rules {
        for name in &rule.names {
            if let Some(nr) = abi.resolve(name) {
                highest = Some(highest.map_or(nr, |h| h.max(nr)));
            }
        }
    }
    for rule in &profile.rules {
        let named = rule.names.iter().any(|n| abi.resolve(n) == Some(data.nr));
        if named
            && rule
                .args
                .iter()
                .all(|c| holds(c, data.args[c.index as usize]))
        {
            return rule.action.ret();
        }
    }
    match (profile.default_action, highest) {
        (Action::Errno(_), Some(h)) if data.nr > h => Action::Errno(ENOSYS).ret(),
        (d, _) => d.ret(),
    }
}

/// Which ABI the call comes from, if the profile lets that ABI in at all.
fn abi_of(profile: &Profile, target: Target, data: &SeccompData) -> Option<Arch> {
    let listed = |a: Arch| a == target.native_arch() || profile.architectures.contains(&a);
    let candidates: &[Arch] = match target {
        Target::X86_64 => &[Arch::X86_64, Arch::X86],
        Target::Aarch64 => &[Arch::Aarch64],
        Target::Riscv64 => &[Arch::Riscv64],
    };
    let abi = *candidates.iter().find(|a| a.audit() == data.arch)?;
    // As libseccomp does, every number from the x32 bit up belongs to x32 on x86_64.
    let abi = if abi == Arch::X86_64 && data.nr >= X32_SYSCALL_BIT {
        Arch::X32
    } else {
        abi
    };
    listed(abi).then_some(abi)
}

fn holds(c: &ArgCmp, arg: u64) -> bool {
    match c.op {
        CmpOp::Ne => arg != c.value,
        CmpOp::Lt => arg < c.value,
        CmpOp::Le => arg <= c.value,
        CmpOp::Eq => arg == c.value,
        CmpOp::Ge => arg >= c.value,
        CmpOp::Gt => arg > c.value,
        CmpOp::MaskedEq => arg & c.value == c.value_two,
    }
}
