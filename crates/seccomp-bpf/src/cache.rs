//! An emulator of the kernel's seccomp action cache (kernel/seccomp.c,
//! `seccomp_cache_prepare_bitmap` / `seccomp_is_const_allow`, Linux >= 5.11).
//!
//! When a filter is attached, the kernel runs this emulation for every syscall number of the
//! native and compat ABI. A number for which the filter provably returns ALLOW whatever the
//! arguments is put in a bitmap, and from then on skips the filter entirely.

use crate::insn::*;

/// Port of `seccomp_is_const_allow`: true when the program returns ALLOW for (`arch`, `nr`)
/// using only instructions whose outcome depends on nothing else.
pub fn is_const_allow(prog: &[SockFilter], arch: u32, nr: u32) -> bool {
    let mut reg = 0u32;
    let mut pc = 0usize;
    while pc < prog.len() {
        let i = prog[pc];
        match i.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => match i.k {
                OFF_NR => reg = nr,
                OFF_ARCH => reg = arch,
                _ => return false,
            },
            c if c == BPF_RET | BPF_K => return i.k == SECCOMP_RET_ALLOW,
            c if c == BPF_JMP | BPF_JA => pc = pc.saturating_add(i.k as usize),
            c if c == BPF_JMP | BPF_JEQ | BPF_K
                || c == BPF_JMP | BPF_JGE | BPF_K
                || c == BPF_JMP | BPF_JGT | BPF_K
                || c == BPF_JMP | BPF_JSET | BPF_K =>
            {
                let taken = match c & 0xf0 {
                    BPF_JEQ => reg == i.k,
                    BPF_JGE => reg >= i.k,
                    BPF_JGT => reg > i.k,
                    _ => reg & i.k != 0,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            c if c == BPF_ALU | BPF_AND | BPF_K => reg &= i.k,
            _ => return false,
        }
        pc += 1;
    }
    false
}

/// The numbers `0..end` under `arch` that the kernel would cache as ALLOW.
pub fn cached_numbers(prog: &[SockFilter], arch: u32, end: u32) -> Vec<u32> {
    (0..end)
        .filter(|&nr| is_const_allow(prog, arch, nr))
        .collect()
}
