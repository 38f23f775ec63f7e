//! The real client profiles compile, behave as runc's do on the calls that matter, and every
//! unconditionally allowed syscall is cached by the kernel's emulation.

mod common;

use common::*;
use seccomp_bpf::arch::*;
use seccomp_bpf::insn::*;
use seccomp_bpf::*;

fn verdict(prog: &[SockFilter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    interp::run(
        prog,
        &SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args,
        },
    )
    .expect("program runs")
    .ret
}

/// True when the profile allows `nr` on `abi` with no argument condition (first rule naming it
/// has no args and allows).
fn unconditionally_allowed(p: &Profile, abi: Arch, nr: u32) -> bool {
    p.rules
        .iter()
        .find(|r| r.names.iter().any(|n| abi.resolve(n) == Some(nr)))
        .is_some_and(|r| r.args.is_empty() && r.action == Action::Allow)
}

#[test]
fn corpus_is_not_empty() {
    let names: Vec<_> = fixture_profiles().into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().any(|n| n == "docker-default.json"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "ctr-seccomp.json"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("podman-")), "{names:?}");
}

#[test]
fn every_fixture_compiles_for_every_target() {
    for (name, p) in fixture_profiles() {
        for t in [Target::X86_64, Target::Aarch64, Target::Riscv64] {
            let prog = compile(&p, t).unwrap_or_else(|e| panic!("{name} {t:?}: {e}"));
            assert!(prog.len() <= BPF_MAXINSNS, "{name}");
            assert!(prog.len() > 10, "{name}");
        }
    }
}

#[test]
fn unconditional_allows_are_cached_and_nothing_else_is() {
    for (name, p) in fixture_profiles() {
        let t = Target::X86_64;
        let prog = compile(&p, t).unwrap();
        let mut cached_total = 0;
        for abi in [Arch::X86_64, Arch::X86] {
            let end = abi.table_end() + 64;
            for nr in 0..end {
                let want = unconditionally_allowed(&p, abi, nr);
                let got = cache::is_const_allow(&prog, abi.audit(), nr);
                assert_eq!(got, want, "{name}: {abi:?} nr {nr} ({:?})", abi.name_of(nr));
                cached_total += got as usize;
            }
        }
        assert!(cached_total > 600, "{name}: only {cached_total} cached");
    }
}

#[test]
fn docker_profile_verdicts() {
    let p = fixture_profiles()
        .into_iter()
        .find(|(n, _)| n == "docker-default.json")
        .unwrap()
        .1;
    let prog = compile(&p, Target::X86_64).unwrap();
    let x = AUDIT_ARCH_X86_64;
    let nr = |n: &str| Arch::X86_64.resolve(n).unwrap();
    let eperm = Action::Errno(1).ret();
    let enosys = Action::Errno(38).ret();
    let allow = SECCOMP_RET_ALLOW;
    assert_eq!(verdict(&prog, x, nr("getppid"), [0; 6]), allow);
    assert_eq!(verdict(&prog, x, nr("unshare"), [0; 6]), eperm);
    assert_eq!(verdict(&prog, x, nr("mount"), [0; 6]), eperm);
    assert_eq!(verdict(&prog, x, nr("kcmp"), [0; 6]), eperm);
    assert_eq!(
        verdict(&prog, x, nr("personality"), [0xffff_ffff, 0, 0, 0, 0, 0]),
        allow
    );
    assert_eq!(
        verdict(&prog, x, nr("personality"), [0x0, 0, 0, 0, 0, 0]),
        allow
    );
    assert_eq!(
        verdict(&prog, x, nr("personality"), [0x1234, 0, 0, 0, 0, 0]),
        eperm
    );
    assert_eq!(verdict(&prog, x, nr("clone3"), [0; 6]), enosys);
    // clone without namespace flags is allowed, with CLONE_NEWUSER it is not.
    assert_eq!(
        verdict(&prog, x, nr("clone"), [0x1200011, 0, 0, 0, 0, 0]),
        allow
    );
    assert_eq!(
        verdict(&prog, x, nr("clone"), [0x10000000, 0, 0, 0, 0, 0]),
        eperm
    );
    // Newer than anything the profile names: ENOSYS, so libcs fall back.
    assert_eq!(verdict(&prog, x, 1000, [0; 6]), enosys);
    // x86 (i386) getppid is 64 and allowed; x32 getppid too.
    assert_eq!(verdict(&prog, AUDIT_ARCH_I386, 64, [0; 6]), allow);
    assert_eq!(verdict(&prog, x, 110 | X32_SYSCALL_BIT, [0; 6]), allow);
    // A foreign ABI is killed.
    assert_eq!(
        verdict(&prog, AUDIT_ARCH_AARCH64, 0, [0; 6]),
        SECCOMP_RET_KILL_PROCESS
    );
}

#[test]
fn longest_path_is_short() {
    // The bar: no longer than libseccomp's optimised tree for Docker's profile (20).
    let mut rng = Rng(7);
    for (name, p) in fixture_profiles() {
        let prog = compile(&p, Target::X86_64).unwrap();
        let mut longest = 0;
        for abi in [Arch::X86_64, Arch::X86, Arch::X32] {
            for rel in 0..abi.table_end() + 8 {
                for _ in 0..4 {
                    let args = [rng.next(), rng.next(), rng.next(), 0, 0, 0];
                    let d = SeccompData {
                        nr: rel | abi.nr_bias(),
                        arch: abi.audit(),
                        instruction_pointer: 0,
                        args,
                    };
                    longest = longest.max(interp::run(&prog, &d).unwrap().steps);
                }
            }
        }
        eprintln!(
            "{name}: {} instructions, longest path {longest}",
            prog.len()
        );
        assert!(longest <= 20, "{name}: longest path {longest}");
    }
}
