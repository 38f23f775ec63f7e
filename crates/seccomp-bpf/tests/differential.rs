//! Differential test: random profiles and random `seccomp_data`; the compiled program run by
//! the interpreter must return exactly what the reference evaluator says. Where seccompiler can
//! express the profile, its program is a second reference.

mod common;

use std::collections::BTreeMap;

use common::*;
use seccomp_bpf::arch::*;
use seccomp_bpf::*;

const ACTIONS: fn(&mut Rng) -> Action = |r| match r.below(8) {
    0 => Action::KillThread,
    1 => Action::KillProcess,
    2 => Action::Trap,
    3 => Action::Errno(r.below(200) as u16),
    4 => Action::Trace(r.below(200) as u16),
    5 => Action::Log,
    6 => Action::Notify,
    _ => Action::Allow,
};

const OPS: [CmpOp; 7] = [
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Eq,
    CmpOp::Ge,
    CmpOp::Gt,
    CmpOp::MaskedEq,
];

fn value(r: &mut Rng) -> u64 {
    match r.below(8) {
        0 => 0,
        1 => 1,
        2 => u32::MAX as u64,
        3 => 1 << 32,
        4 => u64::MAX,
        5 => r.below(16),
        6 => r.next() & 0xffff_ffff,
        _ => r.next(),
    }
}

/// A small pool, so that syscalls often get several rules: x86_64 names, x86-only names,
/// aarch64-only names, an unknown name, and the newest syscalls.
fn name_pool(r: &mut Rng) -> Vec<String> {
    let mut v: Vec<String> = [
        "socketcall",
        "_llseek",
        "renameat",
        "nosuchcall",
        "clone3",
        "getppid",
        "personality",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let all: Vec<_> = Arch::X86_64.syscalls().collect();
    for _ in 0..r.below(40) + 5 {
        v.push(r.pick(&all).0.to_string());
    }
    let a64: Vec<_> = Arch::Aarch64.syscalls().collect();
    for _ in 0..5 {
        v.push(r.pick(&a64).0.to_string());
    }
    v
}

fn random_profile(r: &mut Rng) -> Profile {
    let pool = name_pool(r);
    let mut architectures = Vec::new();
    for a in Arch::ALL {
        if r.chance(50) {
            architectures.push(a);
        }
    }
    let mut rules = Vec::new();
    for _ in 0..r.below(30) {
        let names = (0..r.below(4) + 1).map(|_| r.pick(&pool).clone()).collect();
        let args = if r.chance(40) {
            (0..r.below(3) + 1)
                .map(|_| ArgCmp {
                    index: if r.chance(80) {
                        r.below(2) as u8
                    } else {
                        r.below(6) as u8
                    },
                    op: *r.pick(&OPS),
                    value: value(r),
                    value_two: value(r),
                })
                .collect()
        } else {
            Vec::new()
        };
        rules.push(Rule {
            names,
            action: ACTIONS(r),
            args,
        });
    }
    Profile {
        default_action: ACTIONS(r),
        architectures,
        rules,
    }
}

/// Argument values that sit on and around the profile's constants, plus noise.
fn arg(r: &mut Rng, p: &Profile) -> u64 {
    let consts: Vec<u64> = p
        .rules
        .iter()
        .flat_map(|x| x.args.iter().flat_map(|c| [c.value, c.value_two]))
        .collect();
    if !consts.is_empty() && r.chance(70) {
        let c = *r.pick(&consts);
        match r.below(6) {
            0 => c.wrapping_add(1),
            1 => c.wrapping_sub(1),
            2 => c ^ (1 << 32),
            3 => c & 0xffff_ffff,
            _ => c,
        }
    } else {
        value(r)
    }
}

fn random_data(r: &mut Rng, p: &Profile, target: Target) -> SeccompData {
    let audits = [
        AUDIT_ARCH_X86_64,
        AUDIT_ARCH_I386,
        AUDIT_ARCH_AARCH64,
        AUDIT_ARCH_RISCV64,
        r.next() as u32,
    ];
    let arch = if r.chance(80) {
        target.native_arch().audit()
    } else {
        *r.pick(&audits)
    };
    let named: Vec<u32> = p
        .rules
        .iter()
        .flat_map(|x| x.names.iter())
        .filter_map(|n| {
            Arch::ALL.iter().find_map(|a| {
                if a.audit() == arch {
                    a.resolve(n)
                } else {
                    None
                }
            })
        })
        .collect();
    let mut nr = match r.below(6) {
        0 | 1 if !named.is_empty() => *r.pick(&named),
        2 => r.below(600) as u32,
        3 => r.next() as u32,
        4 => u32::MAX - r.below(3) as u32,
        _ => r.below(470) as u32,
    };
    if r.chance(15) {
        nr |= X32_SYSCALL_BIT;
    }
    let args = [
        arg(r, p),
        arg(r, p),
        arg(r, p),
        arg(r, p),
        arg(r, p),
        arg(r, p),
    ];
    SeccompData {
        nr,
        arch,
        instruction_pointer: r.next(),
        args,
    }
}

#[test]
fn compiled_equals_reference() {
    let mut cases = 0u64;
    for seed in 1..=1500u64 {
        let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let p = random_profile(&mut r);
        let target = if r.chance(85) {
            Target::X86_64
        } else {
            *r.pick(&[Target::Aarch64, Target::Riscv64])
        };
        let prog = compile(&p, target).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        for _ in 0..300 {
            let d = random_data(&mut r, &p, target);
            let got = interp::run(&prog, &d)
                .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"))
                .ret;
            let want = reference::evaluate(&p, target, &d);
            assert_eq!(
                got,
                want,
                "seed {seed}: {d:?}\nprofile {p:#?}\n{}",
                asm::disassemble(&prog)
            );
            cases += 1;
        }
        // Every number the cache emulator calls constant-allow must really be allowed.
        for nr in 0..target.native_arch().table_end() {
            if cache::is_const_allow(&prog, target.native_arch().audit(), nr) {
                let d = SeccompData {
                    nr,
                    arch: target.native_arch().audit(),
                    instruction_pointer: 0,
                    args: [r.next(); 6],
                };
                assert_eq!(
                    reference::evaluate(&p, target, &d),
                    Action::Allow.ret(),
                    "seed {seed} nr {nr}"
                );
            }
        }
    }
    assert_eq!(cases, 1500 * 300);
}

fn to_seccompiler(a: Action) -> Option<seccompiler::SeccompAction> {
    use seccompiler::SeccompAction as S;
    Some(match a {
        Action::KillThread => S::KillThread,
        Action::KillProcess => S::KillProcess,
        Action::Trap => S::Trap,
        Action::Errno(e) => S::Errno(e as u32),
        Action::Trace(e) => S::Trace(e as u32),
        Action::Allow => S::Allow,
        Action::Log => S::Log,
        Action::Notify => return None,
    })
}

/// seccompiler's filter for `p`, when it can express it: one match action, a non-ERRNO
/// default (seccompiler has no ENOSYS rule), x86_64 names only.
fn seccompiler_program(p: &Profile) -> Option<Vec<SockFilter>> {
    use seccompiler::*;
    let action = p.rules.first()?.action;
    if p.rules.iter().any(|r| r.action != action) || matches!(p.default_action, Action::Errno(_)) {
        return None;
    }
    if p.default_action == action {
        return None;
    }
    // seccompiler's MaskedEq compares masked bits of both sides: only the same thing as OCI's
    // `(arg & value) == valueTwo` when valueTwo has no bit outside the mask.
    if p.rules
        .iter()
        .flat_map(|r| &r.args)
        .any(|c| c.op == CmpOp::MaskedEq && c.value_two & !c.value != 0)
    {
        return None;
    }
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut unconditional = std::collections::BTreeSet::new();
    for r in &p.rules {
        for n in &r.names {
            let Some(nr) = Arch::X86_64.resolve(n) else {
                continue;
            };
            let entry = map.entry(nr as i64).or_default();
            if r.args.is_empty() {
                unconditional.insert(nr as i64);
            } else {
                let conds = r
                    .args
                    .iter()
                    .map(|c| {
                        let (op, v) = match c.op {
                            CmpOp::Ne => (SeccompCmpOp::Ne, c.value),
                            CmpOp::Lt => (SeccompCmpOp::Lt, c.value),
                            CmpOp::Le => (SeccompCmpOp::Le, c.value),
                            CmpOp::Eq => (SeccompCmpOp::Eq, c.value),
                            CmpOp::Ge => (SeccompCmpOp::Ge, c.value),
                            CmpOp::Gt => (SeccompCmpOp::Gt, c.value),
                            CmpOp::MaskedEq => (SeccompCmpOp::MaskedEq(c.value), c.value_two),
                        };
                        SeccompCondition::new(c.index, SeccompCmpArgLen::Qword, op, v).unwrap()
                    })
                    .collect();
                entry.push(SeccompRule::new(conds).unwrap());
            }
        }
    }
    for nr in unconditional {
        map.insert(nr, Vec::new());
    }
    let f = SeccompFilter::new(
        map,
        to_seccompiler(p.default_action)?,
        to_seccompiler(action)?,
        TargetArch::x86_64,
    )
    .ok()?;
    let prog: BpfProgram = f.try_into().ok()?;
    Some(
        prog.iter()
            .map(|i| SockFilter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect(),
    )
}

#[test]
fn seccompiler_agrees_where_it_applies() {
    let mut compared = 0u64;
    for seed in 1..=3000u64 {
        let mut r = Rng(seed.wrapping_mul(0xbf58_476d_1ce4_e5b9) | 1);
        let mut p = random_profile(&mut r);
        // Bias towards what seccompiler expresses: one action, non-ERRNO default.
        let act = ACTIONS(&mut r);
        for rule in &mut p.rules {
            rule.action = act;
        }
        if matches!(p.default_action, Action::Errno(_)) {
            p.default_action = Action::KillProcess;
        }
        let Some(theirs) = seccompiler_program(&p) else {
            continue;
        };
        let ours = compile(&p, Target::X86_64).unwrap();
        for _ in 0..200 {
            let mut d = random_data(&mut r, &p, Target::X86_64);
            d.arch = AUDIT_ARCH_X86_64;
            d.nr %= X32_SYSCALL_BIT; // seccompiler knows nothing of x32
            let a = interp::run(&ours, &d).unwrap().ret;
            let b = interp::run(&theirs, &d).unwrap().ret;
            assert_eq!(
                a,
                reference::evaluate(&p, Target::X86_64, &d),
                "seed {seed}: reference"
            );
            let relevant: Vec<_> = p
                .rules
                .iter()
                .filter(|r| {
                    r.names
                        .iter()
                        .any(|n| Arch::X86_64.resolve(n) == Some(d.nr))
                })
                .collect();
            assert_eq!(
                a,
                b,
                "seed {seed}: {d:?}\n{relevant:?}\n{}",
                asm::disassemble(&theirs)
            );
            compared += 1;
        }
    }
    assert!(compared > 100_000, "only {compared} comparisons");
}
