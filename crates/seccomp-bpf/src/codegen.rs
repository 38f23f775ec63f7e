//! Step 2 of the compiler: emit classic BPF.
//!
//! Code is emitted back to front, so every jump target already has an address when the jump is
//! written (cBPF only jumps forward). A conditional jump whose target is more than 255
//! instructions away goes through a `JA` trampoline. The syscall-number tree uses only
//! instructions the kernel's cache emulator understands (LD nr/arch, JEQ/JGE/JGT K, JA, RET K),
//! so every syscall whose leaf is a constant ALLOW is cached by Linux >= 5.11.

use std::collections::HashMap;

use crate::decide::{ArchPlan, Decision, Interval};
use crate::insn::*;
use crate::profile::{ArgCmp, CmpOp};

/// Address counted from the end of the program (0 = last instruction).
type Addr = usize;

#[derive(Default)]
pub struct Emitter {
    rev: Vec<SockFilter>,
    rets: HashMap<u32, Addr>,
}

impl Emitter {
    fn here(&self) -> Addr {
        self.rev.len()
    }

    fn push(&mut self, i: SockFilter) -> Addr {
        self.rev.push(i);
        self.rev.len() - 1
    }

    fn dist(&self, target: Addr) -> usize {
        self.here() - target - 1
    }

    /// A `RET k`, shared with an earlier identical one while it is close enough to reach.
    fn ret(&mut self, k: u32) -> Addr {
        if let Some(&a) = self.rets.get(&k) {
            if self.dist(a) < 200 {
                return a;
            }
        }
        let a = self.push(SockFilter::stmt(BPF_RET | BPF_K, k));
        self.rets.insert(k, a);
        a
    }

    fn ja(&mut self, target: Addr) -> Addr {
        let off = self.dist(target) as u32;
        self.push(SockFilter::stmt(BPF_JMP | BPF_JA, off))
    }

    /// `if A <op> k goto t else goto f`, with trampolines for far targets.
    fn jump(&mut self, op: u16, k: u32, mut t: Addr, mut f: Addr) -> Addr {
        if t == f {
            return t; // both ways lead to the same place: the test is useless
        }
        loop {
            if self.dist(t) > 255 {
                t = self.ja(t);
            } else if self.dist(f) > 255 {
                f = self.ja(f);
            } else {
                break;
            }
        }
        let (jt, jf) = (self.dist(t) as u8, self.dist(f) as u8);
        self.push(SockFilter::jump(BPF_JMP | op | BPF_K, k, jt, jf))
    }

    /// The finished program, front to back.
    pub fn finish(self) -> Vec<SockFilter> {
        let mut v = self.rev;
        v.reverse();
        v
    }

    /// The whole filter: arch dispatch, then one number tree per audit arch.
    pub fn program(&mut self, plans: &[ArchPlan], bad_arch: u32) -> Addr {
        let kill = self.ret(bad_arch);
        let mut entries = Vec::new();
        for p in plans.iter().rev() {
            let tree = self.tree(&p.intervals);
            let entry = self.ld_before(OFF_NR, tree);
            entries.push((p.audit, entry));
        }
        // entries were pushed last-plan-first: the first plan's test comes first in the program.
        let mut next = kill;
        for (audit, entry) in entries {
            next = self.jump(BPF_JEQ, audit, entry, next);
        }
        self.ld_before(OFF_ARCH, next)
    }

    /// Balanced binary search over interval starts; A holds `nr` on entry.
    fn tree(&mut self, iv: &[Interval]) -> Addr {
        match iv {
            [] => self.ret(SECCOMP_RET_KILL_PROCESS),
            [one] => self.decision(&one.decision),
            _ => {
                let mid = iv.len() / 2;
                let right = self.tree(&iv[mid..]);
                let left = self.tree(&iv[..mid]);
                self.jump(BPF_JGE, iv[mid].lo, right, left)
            }
        }
    }

    fn decision(&mut self, d: &Decision) -> Addr {
        match d {
            Decision::Return(k) => self.ret(*k),
            Decision::Args { rules, fallback } => {
                let mut next = self.ret(*fallback);
                let mut end = rules.len();
                while end > 0 {
                    // Consecutive rules testing one argument for equality with values sharing
                    // the high word become a switch: one load of each half (as libseccomp does).
                    let mut start = end - 1;
                    if let Some(key) = eq_key(&rules[start].0) {
                        while start > 0 && eq_key(&rules[start - 1].0) == Some(key) {
                            start -= 1;
                        }
                    }
                    if end - start >= 2 {
                        next = self.eq_switch(&rules[start..end], next);
                    } else {
                        let (cmps, ret) = &rules[start];
                        let mut ok = self.ret(*ret);
                        for c in cmps.iter().rev() {
                            ok = self.cmp(c, ok, next);
                        }
                        next = ok;
                    }
                    end = start;
                }
                next
            }
        }
    }

    /// Rules that are each one `arg == v` with the same argument and high word of `v`.
    fn eq_switch(&mut self, run: &[(Vec<ArgCmp>, u32)], fail: Addr) -> Addr {
        let c0 = run[0].0[0];
        let mut miss = fail;
        for (cmps, ret) in run.iter().rev() {
            let pass = self.ret(*ret);
            miss = self.jump(BPF_JEQ, cmps[0].value as u32, pass, miss);
        }
        let lo_ld = self.ld_before(arg_offset(c0.index, false), miss);
        let hi_chk = self.jump(BPF_JEQ, (c0.value >> 32) as u32, lo_ld, fail);
        self.ld_before(arg_offset(c0.index, true), hi_chk)
    }

    /// One 64-bit comparison as two 32-bit halves; returns its entry.
    fn cmp(&mut self, c: &ArgCmp, pass: Addr, fail: Addr) -> Addr {
        let (vhi, vlo) = ((c.value >> 32) as u32, c.value as u32);
        let (lo, hi) = (arg_offset(c.index, false), arg_offset(c.index, true));
        match c.op {
            CmpOp::Eq => self.eq(lo, hi, vlo, vhi, pass, fail),
            CmpOp::Ne => self.eq(lo, hi, vlo, vhi, fail, pass),
            CmpOp::Gt => self.greater(BPF_JGT, lo, hi, vlo, vhi, pass, fail),
            CmpOp::Ge => self.greater(BPF_JGE, lo, hi, vlo, vhi, pass, fail),
            CmpOp::Le => self.greater(BPF_JGT, lo, hi, vlo, vhi, fail, pass),
            CmpOp::Lt => self.greater(BPF_JGE, lo, hi, vlo, vhi, fail, pass),
            CmpOp::MaskedEq => {
                let (mhi, mlo) = ((c.value >> 32) as u32, c.value as u32);
                let (whi, wlo) = ((c.value_two >> 32) as u32, c.value_two as u32);
                let lo_chk = self.masked(lo, mlo, wlo, pass, fail);
                self.masked(hi, mhi, whi, lo_chk, fail)
            }
        }
    }

    fn eq(&mut self, lo: u32, hi: u32, vlo: u32, vhi: u32, pass: Addr, fail: Addr) -> Addr {
        let lo_chk = self.jump(BPF_JEQ, vlo, pass, fail);
        let lo_ld = self.ld_before(lo, lo_chk);
        let hi_chk = self.jump(BPF_JEQ, vhi, lo_ld, fail);
        self.ld_before(hi, hi_chk)
    }

    /// `arg > v` (op JGT) or `arg >= v` (op JGE), unsigned over 64 bits.
    #[allow(clippy::too_many_arguments)]
    fn greater(
        &mut self,
        op: u16,
        lo: u32,
        hi: u32,
        vlo: u32,
        vhi: u32,
        pass: Addr,
        fail: Addr,
    ) -> Addr {
        let lo_chk = self.jump(op, vlo, pass, fail);
        let lo_ld = self.ld_before(lo, lo_chk);
        let hi_eq = self.jump(BPF_JEQ, vhi, lo_ld, fail);
        let hi_gt = self.jump(BPF_JGT, vhi, pass, hi_eq);
        self.ld_before(hi, hi_gt)
    }

    /// `(word & mask) == want` for one 32-bit word.
    fn masked(&mut self, off: u32, mask: u32, want: u32, pass: Addr, fail: Addr) -> Addr {
        if want & !mask != 0 {
            return fail; // bits outside the mask can never be set
        }
        if mask == 0 {
            return pass; // 0 == want, checked above
        }
        let chk = self.jump(BPF_JEQ, want, pass, fail);
        let and = if mask == u32::MAX {
            chk
        } else {
            self.before(SockFilter::stmt(BPF_ALU | BPF_AND | BPF_K, mask), chk)
        };
        self.ld_before(off, and)
    }

    /// A load that falls through to `next`.
    fn ld_before(&mut self, off: u32, next: Addr) -> Addr {
        self.before(SockFilter::stmt(BPF_LD | BPF_W | BPF_ABS, off), next)
    }

    /// A non-jump instruction that must fall through to `next`: adds a JA if `next` is not
    /// the instruction right after it.
    fn before(&mut self, i: SockFilter, next: Addr) -> Addr {
        if self.here() != next + 1 {
            self.ja(next);
        }
        self.push(i)
    }
}

/// (argument, high word) when a rule is exactly one equality test.
fn eq_key(cmps: &[ArgCmp]) -> Option<(u8, u32)> {
    match cmps {
        [c] if c.op == CmpOp::Eq => Some((c.index, (c.value >> 32) as u32)),
        _ => None,
    }
}
