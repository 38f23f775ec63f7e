//! A disassembler: one instruction per line, with the syscall or arch a comparison tests as a
//! comment. Which ABI a comparison of `nr` refers to is found by following the arch checks.

use crate::arch::{Arch, X32_SYSCALL_BIT};
use crate::insn::*;
use crate::profile::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loaded {
    Unknown,
    Nr,
    Arch,
    Arg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    loaded: Loaded,
    /// The audit arch known to hold here, if one does.
    arch: Option<u32>,
}

fn merge(a: Option<State>, b: State) -> State {
    match a {
        None => b,
        Some(a) => State {
            loaded: if a.loaded == b.loaded {
                a.loaded
            } else {
                Loaded::Unknown
            },
            arch: if a.arch == b.arch { a.arch } else { None },
        },
    }
}

fn arch_name(audit: u32) -> Option<&'static str> {
    Arch::ALL
        .iter()
        .find(|a| a.audit() == audit && **a != Arch::X32)
        .map(|a| a.scmp_name())
}

fn syscall_name(audit: Option<u32>, nr: u32) -> Option<String> {
    let audit = audit?;
    let abi = if nr & X32_SYSCALL_BIT != 0 && audit == Arch::X86_64.audit() {
        Arch::X32
    } else {
        *Arch::ALL
            .iter()
            .find(|a| a.audit() == audit && **a != Arch::X32)?
    };
    abi.name_of(nr).map(|n| {
        if abi == Arch::X32 {
            format!("x32:{n}")
        } else {
            n.to_string()
        }
    })
}

fn field(k: u32) -> String {
    match k {
        OFF_NR => "nr".into(),
        OFF_ARCH => "arch".into(),
        OFF_IP => "ip".into(),
        9..=15 => format!("ip+{}", k - OFF_IP),
        _ if (OFF_ARGS..SECCOMP_DATA_LEN).contains(&k) => {
            let i = (k - OFF_ARGS) / 8;
            let half = if (k - OFF_ARGS) % 8 >= 4 { "hi" } else { "lo" };
            format!("args[{i}].{half}")
        }
        _ => format!("{k:#x}"),
    }
}

/// The listing of `prog`.
pub fn disassemble(prog: &[SockFilter]) -> String {
    let mut states: Vec<Option<State>> = vec![None; prog.len() + 1];
    if !prog.is_empty() {
        states[0] = Some(State {
            loaded: Loaded::Unknown,
            arch: None,
        });
    }
    let mut out = String::new();
    let width = prog.len().to_string().len().max(3);
    for (pc, i) in prog.iter().enumerate() {
        let st = states[pc].unwrap_or(State {
            loaded: Loaded::Unknown,
            arch: None,
        });
        let flow = |states: &mut Vec<Option<State>>, to: usize, s: State| {
            if to < states.len() {
                states[to] = Some(merge(states[to], s));
            }
        };
        let class = i.code & 0x07;
        let (text, comment) = match class {
            BPF_LD if i.code == BPF_LD | BPF_W | BPF_ABS => {
                let loaded = match i.k {
                    OFF_NR => Loaded::Nr,
                    OFF_ARCH => Loaded::Arch,
                    _ => Loaded::Arg,
                };
                flow(&mut states, pc + 1, State { loaded, ..st });
                (format!("ld [{}]", i.k), field(i.k))
            }
            BPF_ALU => {
                flow(
                    &mut states,
                    pc + 1,
                    State {
                        loaded: Loaded::Unknown,
                        ..st
                    },
                );
                let op = match i.code & 0xf0 {
                    BPF_ADD => "add",
                    BPF_SUB => "sub",
                    BPF_MUL => "mul",
                    BPF_DIV => "div",
                    BPF_OR => "or",
                    BPF_AND => "and",
                    BPF_LSH => "lsh",
                    BPF_RSH => "rsh",
                    BPF_NEG => "neg",
                    BPF_MOD => "mod",
                    BPF_XOR => "xor",
                    _ => "alu?",
                };
                let src = if i.code & BPF_X != 0 {
                    "x".to_string()
                } else {
                    format!("#{:#x}", i.k)
                };
                (format!("{op} {src}"), String::new())
            }
            BPF_JMP if i.code & 0xf0 == BPF_JA => {
                let to = pc + 1 + i.k as usize;
                flow(&mut states, to, st);
                (format!("ja {to}"), String::new())
            }
            BPF_JMP => {
                let (t, f) = (pc + 1 + i.jt as usize, pc + 1 + i.jf as usize);
                let op = match i.code & 0xf0 {
                    BPF_JEQ => "jeq",
                    BPF_JGT => "jgt",
                    BPF_JGE => "jge",
                    BPF_JSET => "jset",
                    _ => "j?",
                };
                let mut ts = st;
                if st.loaded == Loaded::Arch && i.code & 0xf0 == BPF_JEQ && i.code & BPF_X == 0 {
                    ts.arch = Some(i.k);
                }
                flow(&mut states, t, ts);
                flow(&mut states, f, st);
                let src = if i.code & BPF_X != 0 {
                    "x".to_string()
                } else {
                    format!("#{:#x}", i.k)
                };
                let comment = match st.loaded {
                    Loaded::Arch => arch_name(i.k).unwrap_or("").to_string(),
                    Loaded::Nr if i.code & BPF_X == 0 => {
                        syscall_name(st.arch, i.k).unwrap_or_default()
                    }
                    _ => String::new(),
                };
                (format!("{op} {src}, {t}, {f}"), comment)
            }
            BPF_RET => {
                if i.code & 0x18 == BPF_A {
                    ("ret a".to_string(), String::new())
                } else {
                    (format!("ret #{:#x}", i.k), Action::describe(i.k))
                }
            }
            _ => {
                flow(
                    &mut states,
                    pc + 1,
                    State {
                        loaded: Loaded::Unknown,
                        ..st
                    },
                );
                (
                    format!(
                        ".insn code={:#06x} jt={} jf={} k={:#x}",
                        i.code, i.jt, i.jf, i.k
                    ),
                    String::new(),
                )
            }
        };
        if comment.is_empty() {
            out.push_str(&format!("{pc:>width$}: {text}\n"));
        } else {
            out.push_str(&format!("{pc:>width$}: {text:<28} ; {comment}\n"));
        }
    }
    out
}
