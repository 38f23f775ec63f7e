//! Focused checks of the compiler's edges: size limit, listing, x32, ENOSYS.

use seccomp_bpf::arch::*;
use seccomp_bpf::insn::*;
use seccomp_bpf::*;

fn rule(names: &[&str], action: Action, args: Vec<ArgCmp>) -> Rule {
    Rule {
        names: names.iter().map(|s| s.to_string()).collect(),
        action,
        args,
    }
}

fn run(prog: &[SockFilter], arch: u32, nr: u32, a0: u64) -> u32 {
    interp::run(
        prog,
        &SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args: [a0, 0, 0, 0, 0, 0],
        },
    )
    .unwrap()
    .ret
}

#[test]
fn too_long_is_a_clear_error() {
    let args: Vec<ArgCmp> = (0..6)
        .map(|i| ArgCmp {
            index: i,
            op: CmpOp::Gt,
            value: 1 << 40,
            value_two: 0,
        })
        .collect();
    let rules = (0..200)
        .map(|_| rule(&["read"], Action::Errno(5), args.clone()))
        .collect();
    let p = Profile {
        default_action: Action::Allow,
        architectures: vec![],
        rules,
    };
    let e = compile(&p, Target::X86_64).unwrap_err();
    assert!(
        matches!(e, CompileError::TooLong { len } if len > 4096),
        "{e:?}"
    );
    assert!(e.to_string().contains("4096"), "{e}");
}

#[test]
fn bad_arg_index_is_an_error() {
    let p = Profile {
        default_action: Action::Allow,
        architectures: vec![],
        rules: vec![rule(
            &["read"],
            Action::Trap,
            vec![ArgCmp {
                index: 6,
                op: CmpOp::Eq,
                value: 0,
                value_two: 0,
            }],
        )],
    };
    let e = compile(&p, Target::X86_64).unwrap_err();
    assert_eq!(
        e.to_string(),
        "syscall read: argument index 6 is out of range (0..=5)"
    );
}

#[test]
fn listing_names_syscalls_and_arches() {
    let p = Profile {
        default_action: Action::Errno(1),
        architectures: vec![Arch::X86, Arch::X32],
        rules: vec![
            rule(&["getppid", "read"], Action::Allow, vec![]),
            rule(&["unshare"], Action::KillProcess, vec![]),
        ],
    };
    let prog = compile(&p, Target::X86_64).unwrap();
    let text = asm::disassemble(&prog);
    assert_eq!(text.lines().count(), prog.len());
    for want in [
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "getppid",
        "unshare",
        "x32:",
        "ret #0x7fff0000",
        "ALLOW",
        "ERRNO(38)",
    ] {
        assert!(text.contains(want), "missing {want} in\n{text}");
    }
}

#[test]
fn x32_follows_its_listing() {
    let rules = vec![rule(&["getppid"], Action::Allow, vec![])];
    let without = Profile {
        default_action: Action::Errno(1),
        architectures: vec![Arch::X86_64],
        rules: rules.clone(),
    };
    let with = Profile {
        default_action: Action::Errno(1),
        architectures: vec![Arch::X86_64, Arch::X32],
        rules,
    };
    let x = AUDIT_ARCH_X86_64;
    let p1 = compile(&without, Target::X86_64).unwrap();
    let p2 = compile(&with, Target::X86_64).unwrap();
    assert_eq!(
        run(&p1, x, 110 | X32_SYSCALL_BIT, 0),
        SECCOMP_RET_KILL_PROCESS
    );
    assert_eq!(run(&p2, x, 110 | X32_SYSCALL_BIT, 0), SECCOMP_RET_ALLOW);
    assert_eq!(
        run(&p2, x, 109 | X32_SYSCALL_BIT, 0),
        Action::Errno(1).ret()
    );
    assert_eq!(
        run(&p2, x, 111 | X32_SYSCALL_BIT, 0),
        Action::Errno(38).ret()
    );
    // i386 is not listed: killed.
    assert_eq!(run(&p2, AUDIT_ARCH_I386, 64, 0), SECCOMP_RET_KILL_PROCESS);
}

#[test]
fn enosys_only_with_an_errno_default() {
    let rules = vec![rule(&["getppid"], Action::Allow, vec![])];
    let kill = Profile {
        default_action: Action::Trap,
        architectures: vec![],
        rules: rules.clone(),
    };
    let prog = compile(&kill, Target::X86_64).unwrap();
    assert_eq!(run(&prog, AUDIT_ARCH_X86_64, 400, 0), SECCOMP_RET_TRAP);
    let errno = Profile {
        default_action: Action::Errno(13),
        architectures: vec![],
        rules,
    };
    let prog = compile(&errno, Target::X86_64).unwrap();
    assert_eq!(
        run(&prog, AUDIT_ARCH_X86_64, 100, 0),
        Action::Errno(13).ret()
    );
    assert_eq!(
        run(&prog, AUDIT_ARCH_X86_64, 111, 0),
        Action::Errno(38).ret()
    );
}

#[test]
fn first_matching_rule_wins_across_actions() {
    let p = Profile {
        default_action: Action::Allow,
        architectures: vec![],
        rules: vec![
            rule(
                &["personality"],
                Action::Errno(7),
                vec![ArgCmp {
                    index: 0,
                    op: CmpOp::Eq,
                    value: 8,
                    value_two: 0,
                }],
            ),
            rule(
                &["personality"],
                Action::Log,
                vec![ArgCmp {
                    index: 0,
                    op: CmpOp::Ge,
                    value: 8,
                    value_two: 0,
                }],
            ),
            rule(&["personality"], Action::Trap, vec![]),
        ],
    };
    let prog = compile(&p, Target::X86_64).unwrap();
    let nr = Arch::X86_64.resolve("personality").unwrap();
    assert_eq!(run(&prog, AUDIT_ARCH_X86_64, nr, 8), Action::Errno(7).ret());
    assert_eq!(run(&prog, AUDIT_ARCH_X86_64, nr, 9), SECCOMP_RET_LOG);
    assert_eq!(run(&prog, AUDIT_ARCH_X86_64, nr, 7), SECCOMP_RET_TRAP);
    assert!(!cache::is_const_allow(&prog, AUDIT_ARCH_X86_64, nr));
    assert!(cache::is_const_allow(&prog, AUDIT_ARCH_X86_64, nr + 1));
}

#[test]
fn raw_bytes_are_eight_per_instruction() {
    let p = Profile {
        default_action: Action::Allow,
        architectures: vec![],
        rules: vec![],
    };
    let prog = compile(&p, Target::X86_64).unwrap();
    let b = program_bytes(&prog);
    assert_eq!(b.len(), prog.len() * 8);
    assert_eq!(u16::from_ne_bytes([b[0], b[1]]), BPF_LD | BPF_W | BPF_ABS);
    assert_eq!(u32::from_ne_bytes(b[4..8].try_into().unwrap()), OFF_ARCH);
}

#[test]
fn interpreter_refuses_broken_programs() {
    let d = SeccompData::default();
    assert_eq!(
        interp::run(&[SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 0)], &d),
        Err(interp::InterpError::FellOff)
    );
    assert!(matches!(
        interp::run(&[SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, 64)], &d),
        Err(interp::InterpError::BadLoad { .. })
    ));
    // Scratch memory and shifts work (the bitmap layout needs them).
    let prog = [
        SockFilter::stmt(BPF_LD | BPF_IMM, 5),
        SockFilter::stmt(BPF_ST, 3),
        SockFilter::stmt(BPF_LDX | BPF_MEM, 3),
        SockFilter::stmt(BPF_LD | BPF_IMM, 1),
        SockFilter::stmt(BPF_ALU | BPF_LSH | BPF_X, 0),
        SockFilter::stmt(BPF_RET | BPF_A, 0),
    ];
    assert_eq!(interp::run(&prog, &d).unwrap().ret, 32);
    assert!(!cache::is_const_allow(&prog, 0, 0));
}
