//! Differential fuzzing of the seccomp compiler: the input bytes decode into a profile, a
//! target and a list of `seccomp_data`; the compiled program, run by the interpreter, must
//! return exactly what the reference evaluator of the OCI semantics says, and every syscall
//! number the kernel-cache emulator would cache as ALLOW must really be allowed.
//!
//! Run (from `fuzz/`): `RUSTC_BOOTSTRAP=1 cargo fuzz run diff -- -max_total_time=60`; see README.md.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seccomp_bpf::arch::*;
use seccomp_bpf::*;

/// Reads the fuzzer's bytes as a stream of small decisions; zeros once exhausted.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn below(&mut self, n: u8) -> u8 {
        self.u8() % n.max(1)
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        (self.u32() as u64) << 32 | self.u32() as u64
    }
    /// A value biased towards the edges where 64-bit comparisons go wrong.
    fn value(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => u32::MAX as u64,
            2 => 1 << 32,
            3 => u64::MAX,
            4 => self.below(16) as u64,
            5 => self.u32() as u64,
            6 => (self.u32() as u64) << 32,
            _ => self.u64(),
        }
    }
}

fn action(b: &mut Bytes) -> Action {
    match b.below(8) {
        0 => Action::KillThread,
        1 => Action::KillProcess,
        2 => Action::Trap,
        3 => Action::Errno(b.below(255) as u16),
        4 => Action::Trace(b.below(255) as u16),
        5 => Action::Log,
        6 => Action::Notify,
        _ => Action::Allow,
    }
}

const OPS: [CmpOp; 7] = [
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Eq,
    CmpOp::Ge,
    CmpOp::Gt,
    CmpOp::MaskedEq,
];

/// Names from every table plus names that exist on some ABIs only, and one that exists nowhere.
fn name(b: &mut Bytes) -> String {
    const SPECIAL: [&str; 8] = [
        "socketcall",
        "_llseek",
        "renameat",
        "open",
        "clone3",
        "personality",
        "getppid",
        "no_such_syscall",
    ];
    let arch = Arch::ALL[b.below(Arch::ALL.len() as u8) as usize];
    match b.below(4) {
        0 => SPECIAL[b.below(SPECIAL.len() as u8) as usize].to_string(),
        _ => {
            let all = table(arch);
            let i = (b.u8() as usize) << 8 | b.u8() as usize;
            all[i % all.len()].to_string()
        }
    }
}

/// Every syscall name of `arch`, built once (the tables are sorted on each `syscalls()` call).
fn table(arch: Arch) -> &'static [&'static str] {
    static TABLES: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    let t = TABLES.get_or_init(|| {
        Arch::ALL
            .iter()
            .map(|a| a.syscalls().map(|(n, _)| n).collect())
            .collect()
    });
    let i = Arch::ALL.iter().position(|a| *a == arch).unwrap_or(0);
    &t[i]
}

fn profile(b: &mut Bytes) -> Profile {
    let mut architectures = Vec::new();
    let mask = b.u8();
    for (i, a) in Arch::ALL.iter().enumerate() {
        if mask & (1 << i) != 0 {
            architectures.push(*a);
        }
    }
    let default_action = action(b);
    let nrules = b.below(24);
    let mut rules = Vec::new();
    for _ in 0..nrules {
        let names = (0..b.below(3) + 1).map(|_| name(b)).collect();
        let action = action(b);
        let nargs = if b.below(2) == 0 { 0 } else { b.below(4) };
        let args = (0..nargs)
            .map(|_| ArgCmp {
                index: b.below(6),
                op: OPS[b.below(7) as usize],
                value: b.value(),
                value_two: b.value(),
            })
            .collect();
        rules.push(Rule {
            names,
            action,
            args,
        });
    }
    Profile {
        default_action,
        architectures,
        rules,
    }
}

fn data(b: &mut Bytes, p: &Profile, target: Target) -> SeccompData {
    let audits = [
        target.native_arch().audit(),
        AUDIT_ARCH_X86_64,
        AUDIT_ARCH_I386,
        AUDIT_ARCH_AARCH64,
        AUDIT_ARCH_RISCV64,
    ];
    let arch = match b.below(8) {
        0..=4 => audits[b.below(5) as usize],
        5 => b.u32(),
        _ => target.native_arch().audit(),
    };
    // Numbers the profile names (under any ABI), edges of the number space, or raw.
    let named: Vec<u32> = p
        .rules
        .iter()
        .flat_map(|r| r.names.iter())
        .flat_map(|n| Arch::ALL.iter().filter_map(move |a| a.resolve(n)))
        .collect();
    let mut nr = match b.below(6) {
        0 | 1 if !named.is_empty() => named[b.u8() as usize % named.len()],
        2 => u32::MAX - b.below(4) as u32,
        3 => b.u32(),
        _ => (b.u8() as u32) << 1 | b.below(2) as u32,
    };
    if b.below(6) == 0 {
        nr ^= X32_SYSCALL_BIT;
    }
    let consts: Vec<u64> = p
        .rules
        .iter()
        .flat_map(|r| r.args.iter().flat_map(|c| [c.value, c.value_two]))
        .collect();
    let mut args = [0u64; 6];
    for a in &mut args {
        *a = if !consts.is_empty() && b.below(3) != 0 {
            let c = consts[b.u8() as usize % consts.len()];
            match b.below(5) {
                0 => c.wrapping_add(1),
                1 => c.wrapping_sub(1),
                2 => c ^ (1 << 32),
                _ => c,
            }
        } else {
            b.value()
        };
    }
    SeccompData {
        nr,
        arch,
        instruction_pointer: 0,
        args,
    }
}

fuzz_target!(|input: &[u8]| {
    let mut b = Bytes(input);
    let target = [
        Target::X86_64,
        Target::X86_64,
        Target::Aarch64,
        Target::Riscv64,
    ][b.below(4) as usize];
    let p = profile(&mut b);
    let prog = match compile(&p, target) {
        Ok(prog) => prog,
        // The only refusal for in-range indexes: more than BPF_MAXINSNS. Never expected for
        // 24 rules of up to 3 comparisons.
        Err(e) => panic!("compile failed: {e}\n{p:#?}"),
    };
    for _ in 0..16 {
        let d = data(&mut b, &p, target);
        let got = interp::run(&prog, &d)
            .unwrap_or_else(|e| panic!("interpreter: {e:?}\n{}", asm::disassemble(&prog)));
        let want = reference::evaluate(&p, target, &d);
        assert_eq!(got.ret, want, "{d:?}\n{p:#?}\n{}", asm::disassemble(&prog));
    }
    // What the kernel would cache as ALLOW must be ALLOW for any arguments.
    for abi in target.abis() {
        if !target.enabled(&p.architectures).contains(abi) {
            continue;
        }
        let end = abi.table_end() + 8;
        for n in 0..end {
            let nr = n | abi.nr_bias();
            if cache::is_const_allow(&prog, abi.audit(), nr) {
                let d = SeccompData {
                    nr,
                    arch: abi.audit(),
                    instruction_pointer: 0,
                    args: [
                        b.value(),
                        b.value(),
                        b.value(),
                        b.value(),
                        b.value(),
                        b.value(),
                    ],
                };
                assert_eq!(
                    reference::evaluate(&p, target, &d),
                    Action::Allow.ret(),
                    "cached as ALLOW but not allowed: {d:?}\n{p:#?}"
                );
            }
        }
    }
});
