//! Helper of `hack/bench-seccomp.sh`: the filters it compares, and compile+install timing.
//!
//! `bench_filters emit CONFIG.json OUTDIR` writes three x86_64 programs for the config's
//! `linux.seccomp` (raw `struct sock_filter` arrays, as `nucleus seccomp compile --format raw`):
//! - `ours.bpf`: this crate's compiler;
//! - `bitmap.bpf`: the textbook bitmap layout (15 words of 32 bits tested with scratch memory
//!   and shifts) for the unconditionally allowed x86_64 syscalls, falling through to our
//!   program for everything else; never cached by the kernel;
//! - `seccompiler.bpf`: seccompiler's linear output (one match action: the ALLOW rules; the
//!   few ERRNO rules, e.g. clone3's ENOSYS, and the ENOSYS-above-the-table rule cannot be
//!   expressed and get the default EPERM).
//!
//! Each is checked against the reference evaluator before it is written, and a few facts per
//! program are printed (length, longest path, syscalls the kernel will cache).
//!
//! `bench_filters time CONFIG.json [N]`: median time of JSON → compiled program, and of the
//! seccomp(2) install (in forked children with no_new_privs), over N runs.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use seccomp_bpf::arch::*;
use seccomp_bpf::insn::*;
use seccomp_bpf::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let r = match args.get(1).map(String::as_str) {
        Some("emit") if args.len() == 4 => emit(&args[2], &args[3]),
        Some("time") if args.len() >= 3 => time(
            &args[2],
            args.get(3).and_then(|n| n.parse().ok()).unwrap_or(200),
        ),
        _ => Err("usage: bench_filters emit CONFIG.json OUTDIR | time CONFIG.json [N]".into()),
    };
    if let Err(e) = r {
        eprintln!("bench_filters: {e}");
        std::process::exit(1);
    }
}

fn load_profile(path: &str) -> Result<(serde_json::Value, Profile), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let s = v["linux"]["seccomp"].clone();
    if !s.is_object() {
        return Err(format!("{path}: no linux.seccomp"));
    }
    let p = common::profile_from_json(&s);
    Ok((s, p))
}

fn emit(config: &str, outdir: &str) -> Result<(), String> {
    let (_, p) = load_profile(config)?;
    let ours = compile(&p, Target::X86_64).map_err(|e| e.to_string())?;
    let bitmap = bitmap_program(&p, &ours)?;
    let linear = seccompiler_program(&p)?;
    std::fs::create_dir_all(outdir).map_err(|e| format!("{outdir}: {e}"))?;
    println!(
        "{:<12} {:>6} {:>13} {:>13} {:>16}",
        "filter", "insns", "longest path", "allow path", "cached x86_64"
    );
    for (name, prog, exact) in [
        ("ours", &ours, true),
        ("bitmap", &bitmap, true),
        ("seccompiler", &linear, false),
    ] {
        let mismatches = check(&p, prog, exact)?;
        let (longest, allow_longest) = paths(&p, prog);
        let cached = cache::cached_numbers(prog, AUDIT_ARCH_X86_64, Arch::X86_64.table_end()).len();
        println!(
            "{name:<12} {:>6} {longest:>13} {allow_longest:>13} {cached:>16}{}",
            prog.len(),
            if mismatches.0 + mismatches.1 > 0 {
                format!("   (differs from the profile on {} x86_64 numbers (ERRNO rules) and {} x32/i386 numbers (no such ABIs in seccompiler))", mismatches.0, mismatches.1)
            } else {
                String::new()
            }
        );
        let path = format!("{outdir}/{name}.bpf");
        std::fs::write(&path, program_bytes(prog)).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// Argument vectors worth trying on a syscall: zeros, ones, and each profile constant in
/// every position.
fn arg_sets(p: &Profile) -> Vec<[u64; 6]> {
    let mut v = vec![[0u64; 6], [u64::MAX; 6]];
    for r in &p.rules {
        for c in &r.args {
            for x in [c.value, c.value_two] {
                let mut a = [0u64; 6];
                a[c.index as usize] = x;
                v.push(a);
                v.push([x; 6]);
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// Runs `prog` against the reference for every x86_64, x32 and i386 number in the tables (and a
/// margin), with the profile's argument values. Returns how many native x86_64 numbers and how
/// many x32/i386 numbers get a verdict that differs; an error when `exact` and any does.
fn check(p: &Profile, prog: &[SockFilter], exact: bool) -> Result<(usize, usize), String> {
    let mut differ = std::collections::BTreeSet::new();
    for (arch, nrs) in numbers() {
        for nr in nrs {
            for args in arg_sets(p) {
                let d = SeccompData {
                    nr,
                    arch,
                    instruction_pointer: 0,
                    args,
                };
                let got = interp::run(prog, &d).map_err(|e| format!("{e:?}"))?.ret;
                if got != reference::evaluate(p, Target::X86_64, &d) {
                    if exact {
                        return Err(format!("verdict differs from the reference for {d:?}"));
                    }
                    differ.insert((arch, nr));
                }
            }
        }
    }
    let native = differ
        .iter()
        .filter(|(a, nr)| *a == AUDIT_ARCH_X86_64 && nr & X32_SYSCALL_BIT == 0)
        .count();
    Ok((native, differ.len() - native))
}

fn numbers() -> Vec<(u32, Vec<u32>)> {
    let x = Arch::X86_64.table_end() + 64;
    vec![
        (
            AUDIT_ARCH_X86_64,
            (0..x).chain((0..x).map(|n| n | X32_SYSCALL_BIT)).collect(),
        ),
        (AUDIT_ARCH_I386, (0..Arch::X86.table_end() + 64).collect()),
    ]
}

/// (longest path over every number and argument set, longest path to an ALLOW) for x86_64.
fn paths(p: &Profile, prog: &[SockFilter]) -> (usize, usize) {
    let (mut longest, mut allow) = (0, 0);
    for nr in 0..Arch::X86_64.table_end() + 64 {
        for args in arg_sets(p) {
            let d = SeccompData {
                nr,
                arch: AUDIT_ARCH_X86_64,
                instruction_pointer: 0,
                args,
            };
            if let Ok(r) = interp::run(prog, &d) {
                longest = longest.max(r.steps);
                if r.ret == SECCOMP_RET_ALLOW {
                    allow = allow.max(r.steps);
                }
            }
        }
    }
    (longest, allow)
}

/// x86_64 numbers below 480 that are allowed whatever the arguments.
fn bitmap_words(p: &Profile) -> [u32; 15] {
    let mut w = [0u32; 15];
    for nr in 0..480u32 {
        let allowed = arg_sets(p).iter().all(|&args| {
            let d = SeccompData {
                nr,
                arch: AUDIT_ARCH_X86_64,
                instruction_pointer: 0,
                args,
            };
            reference::evaluate(p, Target::X86_64, &d) == SECCOMP_RET_ALLOW
        });
        // Only syscalls with no argument rule at all: the reference is unconditional for them.
        let conditional = p.rules.iter().any(|r| {
            !r.args.is_empty() && r.names.iter().any(|n| Arch::X86_64.resolve(n) == Some(nr))
        });
        if allowed && !conditional {
            w[(nr / 32) as usize] |= 1 << (nr % 32);
        }
    }
    w
}

/// A tiny forward-only assembler with labels.
enum Item {
    I(SockFilter),
    /// Conditional jump: code, k, true label, false label.
    J(u16, u32, usize, usize),
    /// Unconditional jump to a label.
    Ja(usize),
    L(usize),
}

fn assemble(items: &[Item]) -> Result<Vec<SockFilter>, String> {
    let mut at = BTreeMap::new();
    let mut pc = 0usize;
    for it in items {
        match it {
            Item::L(l) => {
                at.insert(*l, pc);
            }
            _ => pc += 1,
        }
    }
    let mut out = Vec::new();
    let off = |pc: usize, l: &usize| -> Result<usize, String> {
        let t = *at.get(l).ok_or("undefined label")?;
        t.checked_sub(pc + 1)
            .ok_or_else(|| "backward jump".to_string())
    };
    for it in items {
        let pc = out.len();
        match it {
            Item::L(_) => {}
            Item::I(i) => out.push(*i),
            Item::Ja(l) => out.push(SockFilter::stmt(BPF_JMP | BPF_JA, off(pc, l)? as u32)),
            Item::J(code, k, t, f) => {
                let (jt, jf) = (off(pc, t)?, off(pc, f)?);
                if jt > 255 || jf > 255 {
                    return Err("jump too far".into());
                }
                out.push(SockFilter::jump(
                    BPF_JMP | code | BPF_K,
                    *k,
                    jt as u8,
                    jf as u8,
                ));
            }
        }
    }
    Ok(out)
}

/// The bitmap layout: arch check, `nr < 480`, word = nr >> 5 (scratch memory), mask =
/// 1 << (nr & 31) (shift by X), a binary search for the word's constant, JSET. Everything that
/// is not in the bitmap falls through to `rest` (our full program), so the verdicts are exact.
fn bitmap_program(p: &Profile, rest: &[SockFilter]) -> Result<Vec<SockFilter>, String> {
    const FALL: usize = 0;
    const TEST: usize = 1;
    const ALLOW: usize = 2;
    let words = bitmap_words(p);
    let mut v = vec![
        Item::I(SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH)),
        Item::J(BPF_JEQ, AUDIT_ARCH_X86_64, 10, FALL),
        Item::L(10),
        Item::I(SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, OFF_NR)),
        Item::J(BPF_JGE, 480, FALL, 11),
        Item::L(11),
        Item::I(SockFilter::stmt(BPF_ST, 0)),
        Item::I(SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, 31)),
        Item::I(SockFilter::stmt(BPF_MISC | BPF_TAX, 0)),
        Item::I(SockFilter::stmt(BPF_LD | BPF_IMM, 1)),
        Item::I(SockFilter::stmt(BPF_ALU | BPF_LSH | BPF_X, 0)),
        Item::I(SockFilter::stmt(BPF_MISC | BPF_TAX, 0)),
        Item::I(SockFilter::stmt(BPF_LD | BPF_MEM, 0)),
        Item::I(SockFilter::stmt(BPF_ALU | BPF_RSH | BPF_K, 5)),
    ];
    let mut next_label = 100;
    dispatch(&mut v, &words, 0, 15, &mut next_label);
    v.push(Item::L(TEST));
    v.push(Item::J(BPF_JSET | BPF_X, 0, ALLOW, FALL));
    v.push(Item::L(ALLOW));
    v.push(Item::I(SockFilter::stmt(
        BPF_RET | BPF_K,
        SECCOMP_RET_ALLOW,
    )));
    v.push(Item::L(FALL));
    v.extend(rest.iter().map(|i| Item::I(*i)));
    // BPF_JSET|BPF_X was passed through J, which adds BPF_K (0): fine, K is 0.
    let prog = assemble(&v)?;
    if prog.len() > BPF_MAXINSNS {
        return Err("bitmap program too long".into());
    }
    Ok(prog)
}

/// Binary search on A (the word index, in lo..hi) that loads word i's constant and goes to TEST.
fn dispatch(v: &mut Vec<Item>, words: &[u32; 15], lo: usize, hi: usize, next: &mut usize) {
    const TEST: usize = 1;
    if hi - lo == 1 {
        v.push(Item::I(SockFilter::stmt(BPF_LD | BPF_IMM, words[lo])));
        v.push(Item::Ja(TEST));
        return;
    }
    let mid = (lo + hi) / 2;
    let (left, right) = (*next, *next + 1);
    *next += 2;
    v.push(Item::J(BPF_JGE, mid as u32, right, left));
    v.push(Item::L(left));
    dispatch(v, words, lo, mid, next);
    v.push(Item::L(right));
    dispatch(v, words, mid, hi, next);
}

fn seccompiler_program(p: &Profile) -> Result<Vec<SockFilter>, String> {
    use seccompiler::*;
    let errno = match p.default_action {
        Action::Errno(e) => SeccompAction::Errno(e as u32),
        Action::KillProcess => SeccompAction::KillProcess,
        Action::KillThread => SeccompAction::KillThread,
        _ => return Err("seccompiler comparison needs an ERRNO or KILL default".into()),
    };
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut unconditional = std::collections::BTreeSet::new();
    for r in p.rules.iter().filter(|r| r.action == Action::Allow) {
        for n in &r.names {
            let Some(nr) = Arch::X86_64.resolve(n) else {
                continue;
            };
            let entry = map.entry(nr as i64).or_default();
            if r.args.is_empty() {
                unconditional.insert(nr as i64);
                continue;
            }
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
                    SeccompCondition::new(c.index, SeccompCmpArgLen::Qword, op, v)
                        .map_err(|e| e.to_string())
                })
                .collect::<std::result::Result<Vec<_>, String>>()?;
            entry.push(SeccompRule::new(conds).map_err(|e| e.to_string())?);
        }
    }
    for nr in unconditional {
        map.insert(nr, Vec::new());
    }
    let f = SeccompFilter::new(map, errno, SeccompAction::Allow, TargetArch::x86_64)
        .map_err(|e| e.to_string())?;
    let prog: BpfProgram = f
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    Ok(prog
        .iter()
        .map(|i| SockFilter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time(config: &str, n: usize) -> Result<(), String> {
    let text = std::fs::read_to_string(config).map_err(|e| format!("{config}: {e}"))?;
    let mut compile_us = Vec::new();
    let mut prog = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let p = common::profile_from_json(&v["linux"]["seccomp"]);
        prog = compile(&p, Target::X86_64).map_err(|e| e.to_string())?;
        compile_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let mut install_us = Vec::new();
    for _ in 0..n {
        install_us.push(install_in_child(&prog)?);
    }
    let (c, i) = (median(compile_us), median(install_us));
    println!("compile_us {c:.1}");
    println!("install_us {i:.1}");
    println!("total_us {:.1}", c + i);
    Ok(())
}

/// Forks; the child sets no_new_privs and times seccomp(SET_MODE_FILTER), which includes the
/// kernel's cache preparation (an emulation run per syscall number); reports µs on a pipe.
fn install_in_child(prog: &[SockFilter]) -> Result<f64, String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe fills two fds.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the child only makes raw syscalls and _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let mut t0: libc::timespec = std::mem::zeroed();
            let mut t1: libc::timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t0);
            let rc = libc::syscall(libc::SYS_seccomp, 1, 0, &fprog as *const libc::sock_fprog);
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t1);
            let ns: i64 = if rc == 0 {
                (t1.tv_sec - t0.tv_sec) * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec)
            } else {
                -1
            };
            libc::write(fds[1], &ns as *const i64 as *const libc::c_void, 8);
            libc::_exit(0);
        }
    }
    let mut ns = 0i64;
    // SAFETY: reads 8 bytes into ns; waits for our child.
    unsafe {
        libc::close(fds[1]);
        libc::read(fds[0], &mut ns as *mut i64 as *mut libc::c_void, 8);
        libc::close(fds[0]);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    if ns < 0 {
        return Err("seccomp(2) install failed in the child".into());
    }
    Ok(ns as f64 / 1000.0)
}
