//! A classic BPF interpreter for seccomp programs: the subset `seccomp_check_filter` accepts
//! (loads of `seccomp_data`, scratch memory, ALU, jumps, returns).

use crate::insn::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpError {
    /// The program ran off its end without a RET.
    FellOff,
    /// Jump beyond the end.
    BadJump { pc: usize },
    /// Load outside `seccomp_data` or misaligned.
    BadLoad { pc: usize, k: u32 },
    /// Division by zero with K (the kernel rejects it at load time).
    DivZero { pc: usize },
    /// An instruction seccomp does not allow.
    BadInsn { pc: usize, code: u16 },
}

/// The outcome of running a program: the return value and how many instructions ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub ret: u32,
    pub steps: usize,
}

/// Runs `prog` on `data`.
pub fn run(prog: &[SockFilter], data: &SeccompData) -> Result<Run, InterpError> {
    let bytes = data.to_ne_bytes();
    let word = |k: u32| {
        u32::from_ne_bytes(
            bytes[k as usize..k as usize + 4]
                .try_into()
                .unwrap_or([0; 4]),
        )
    };
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; BPF_MEMWORDS];
    let mut pc = 0usize;
    let mut steps = 0usize;
    while pc < prog.len() {
        let i = prog[pc];
        steps += 1;
        let class = i.code & 0x07;
        let src = if i.code & BPF_X != 0 { x } else { i.k };
        match class {
            BPF_LD | BPF_LDX => {
                let v = match i.code & 0xe0 {
                    BPF_ABS if i.code & 0x18 == BPF_W => {
                        if i.k & 3 != 0 || i.k >= SECCOMP_DATA_LEN {
                            return Err(InterpError::BadLoad { pc, k: i.k });
                        }
                        word(i.k)
                    }
                    BPF_IMM => i.k,
                    BPF_MEM => *mem
                        .get(i.k as usize)
                        .ok_or(InterpError::BadLoad { pc, k: i.k })?,
                    BPF_LEN => SECCOMP_DATA_LEN,
                    _ => return Err(InterpError::BadInsn { pc, code: i.code }),
                };
                if class == BPF_LD {
                    a = v
                } else {
                    x = v
                }
            }
            BPF_ST | BPF_STX => {
                let slot = mem
                    .get_mut(i.k as usize)
                    .ok_or(InterpError::BadLoad { pc, k: i.k })?;
                *slot = if class == BPF_ST { a } else { x };
            }
            BPF_ALU => {
                a = match i.code & 0xf0 {
                    BPF_ADD => a.wrapping_add(src),
                    BPF_SUB => a.wrapping_sub(src),
                    BPF_MUL => a.wrapping_mul(src),
                    BPF_DIV | BPF_MOD if src == 0 => {
                        if i.code & BPF_X != 0 {
                            return Ok(Run { ret: 0, steps }); // the kernel returns 0
                        }
                        return Err(InterpError::DivZero { pc });
                    }
                    BPF_DIV => a / src,
                    BPF_MOD => a % src,
                    BPF_OR => a | src,
                    BPF_AND => a & src,
                    BPF_XOR => a ^ src,
                    BPF_LSH => a.checked_shl(src).unwrap_or(0),
                    BPF_RSH => a.checked_shr(src).unwrap_or(0),
                    BPF_NEG => a.wrapping_neg(),
                    _ => return Err(InterpError::BadInsn { pc, code: i.code }),
                }
            }
            BPF_JMP => {
                let next = match i.code & 0xf0 {
                    BPF_JA => pc + 1 + i.k as usize,
                    op => {
                        let taken = match op {
                            BPF_JEQ => a == src,
                            BPF_JGT => a > src,
                            BPF_JGE => a >= src,
                            BPF_JSET => a & src != 0,
                            _ => return Err(InterpError::BadInsn { pc, code: i.code }),
                        };
                        pc + 1 + if taken { i.jt } else { i.jf } as usize
                    }
                };
                if next >= prog.len() {
                    return Err(InterpError::BadJump { pc });
                }
                pc = next;
                continue;
            }
            BPF_RET => {
                let ret = match i.code & 0x18 {
                    BPF_K => i.k,
                    BPF_A => a,
                    _ => return Err(InterpError::BadInsn { pc, code: i.code }),
                };
                return Ok(Run { ret, steps });
            }
            BPF_MISC => match i.code & 0xf8 {
                BPF_TAX => x = a,
                BPF_TXA => a = x,
                _ => return Err(InterpError::BadInsn { pc, code: i.code }),
            },
            _ => return Err(InterpError::BadInsn { pc, code: i.code }),
        }
        pc += 1;
    }
    Err(InterpError::FellOff)
}
