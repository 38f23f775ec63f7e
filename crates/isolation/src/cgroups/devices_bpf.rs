//! cgroup v2 device control: a BPF_PROG_TYPE_CGROUP_DEVICE program, built and loaded by hand.
//!
//! The kernel calls the program with `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
//! u32 minor; }` where access_type = (access << 16) | type. Like runc's devicefilter, the
//! program checks the rules from last to first and returns the verdict of the first match
//! (so the last matching rule wins, as with v1's allow/deny lists); nothing matched → deny.
//! On update the new program is attached before the old ones are detached, so the cgroup is
//! never without a filter.

use super::CgroupError;
use spec_translate::resources::DeviceRule;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// One eBPF instruction, as the kernel lays it out.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    /// dst in the low nibble, src in the high nibble.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_K: u8 = 0xb4;
const ALU32_MOV_X: u8 = 0xbc;
const JMP32_JNE_K: u8 = 0x56; // 32-bit compare: majors/minors are u32
const JMP32_JNE_X: u8 = 0x5e;
const JMP_EXIT: u8 = 0x95;

const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

fn ins(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0xf),
        off,
        imm,
    }
}

/// The program for `rules` (default deny).
pub fn build_program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut p = vec![
        ins(LDX_MEM_W, 2, 1, 0, 0),        // r2 = access_type
        ins(ALU32_AND_K, 2, 0, 0, 0xffff), // r2 = type
        ins(LDX_MEM_W, 3, 1, 0, 0),
        ins(ALU32_RSH_K, 3, 0, 0, 16), // r3 = access
        ins(LDX_MEM_W, 4, 1, 4, 0),    // r4 = major
        ins(LDX_MEM_W, 5, 1, 8, 0),    // r5 = minor
    ];
    for r in rules.iter().rev() {
        // Conditions jump to the end of this block (past its "return verdict").
        let mut block: Vec<Insn> = Vec::new();
        let mut jumps: Vec<usize> = Vec::new();
        match r.kind {
            'c' => {
                jumps.push(block.len());
                block.push(ins(JMP32_JNE_K, 2, 0, 0, DEV_CHAR));
            }
            'b' => {
                jumps.push(block.len());
                block.push(ins(JMP32_JNE_K, 2, 0, 0, DEV_BLOCK));
            }
            _ => {}
        }
        let mut acc = 0;
        for c in r.access.chars() {
            acc |= match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                'm' => ACC_MKNOD,
                _ => 0,
            };
        }
        if acc != ACC_READ | ACC_WRITE | ACC_MKNOD {
            // Every requested access bit must be in the rule: (r3 & acc) == r3.
            block.push(ins(ALU32_MOV_X, 1, 3, 0, 0));
            block.push(ins(ALU32_AND_K, 1, 0, 0, acc));
            jumps.push(block.len());
            block.push(ins(JMP32_JNE_X, 1, 3, 0, 0));
        }
        if let Some(m) = r.major {
            jumps.push(block.len());
            block.push(ins(JMP32_JNE_K, 4, 0, 0, m as i32));
        }
        if let Some(m) = r.minor {
            jumps.push(block.len());
            block.push(ins(JMP32_JNE_K, 5, 0, 0, m as i32));
        }
        block.push(ins(ALU32_MOV_K, 0, 0, 0, i32::from(r.allow)));
        block.push(ins(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        let unconditional = jumps.is_empty();
        for j in jumps {
            block[j].off = (len - j - 1) as i16;
        }
        p.extend(block);
        if unconditional {
            // A blanket rule decides everything left: anything after it would be unreachable,
            // and the verifier refuses unreachable instructions.
            return p;
        }
    }
    p.push(ins(ALU32_MOV_K, 0, 0, 0, 0));
    p.push(ins(JMP_EXIT, 0, 0, 0, 0));
    p
}

const BPF_PROG_LOAD: i32 = 5;
const BPF_PROG_ATTACH: i32 = 8;
const BPF_PROG_DETACH: i32 = 9;
const BPF_PROG_GET_FD_BY_ID: i32 = 13;
const BPF_PROG_QUERY: i32 = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// `union bpf_attr` is 144+ bytes on current kernels; unused tail bytes must be zero.
#[repr(C, align(8))]
struct Attr([u8; 160]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 160])
    }
    fn put_u32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }
    fn put_u64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
    }
    fn get_u32(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().unwrap_or([0; 4]))
    }
}

fn bpf(cmd: i32, attr: &mut Attr) -> std::io::Result<i64> {
    // SAFETY: attr is a valid, zero-padded bpf_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut Attr,
            std::mem::size_of::<Attr>(),
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Load the program; the verifier's log is part of the error when it refuses.
pub fn load(prog: &[Insn]) -> Result<OwnedFd, CgroupError> {
    let license = b"Apache\0";
    let mut log = vec![0u8; 64 * 1024];
    for log_level in [0u32, 1] {
        let mut a = Attr::new();
        a.put_u32(0, BPF_PROG_TYPE_CGROUP_DEVICE);
        a.put_u32(4, prog.len() as u32);
        a.put_u64(8, prog.as_ptr() as u64);
        a.put_u64(16, license.as_ptr() as u64);
        if log_level > 0 {
            a.put_u32(24, log_level);
            a.put_u32(28, log.len() as u32);
            a.put_u64(32, log.as_mut_ptr() as u64);
        }
        a.put_u32(68, BPF_CGROUP_DEVICE); // expected_attach_type
        match bpf(BPF_PROG_LOAD, &mut a) {
            // SAFETY: the kernel returned a new fd that nothing else owns.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
            Err(e) if log_level == 1 => {
                let end = log.iter().position(|b| *b == 0).unwrap_or(0);
                let text = String::from_utf8_lossy(&log[..end]).replace('\n', "; ");
                return Err(CgroupError::new(format!(
                    "cannot load the device cgroup BPF program: {e}: {text}"
                )));
            }
            Err(_) => {}
        }
    }
    Err(CgroupError::new(
        "cannot load the device cgroup BPF program",
    ))
}

/// Replace the device programs attached to the cgroup `dir` with one built from `rules`.
pub fn apply(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let prog = load(&build_program(rules))?;
    let cg = std::fs::File::open(dir)
        .map_err(|e| CgroupError::new(format!("cannot open cgroup {}: {}", dir.display(), e)))?;
    let old = query(cg.as_raw_fd())?;
    let mut a = Attr::new();
    a.put_u32(0, cg.as_raw_fd() as u32);
    a.put_u32(4, prog.as_raw_fd() as u32);
    a.put_u32(8, BPF_CGROUP_DEVICE);
    a.put_u32(12, BPF_F_ALLOW_MULTI);
    bpf(BPF_PROG_ATTACH, &mut a).map_err(|e| {
        CgroupError::new(format!(
            "cannot attach the device BPF program to {}: {e}",
            dir.display()
        ))
    })?;
    for id in old {
        let mut g = Attr::new();
        g.put_u32(0, id);
        let Ok(fd) = bpf(BPF_PROG_GET_FD_BY_ID, &mut g) else {
            continue;
        };
        // SAFETY: fresh fd from the kernel.
        let old_fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        let mut d = Attr::new();
        d.put_u32(0, cg.as_raw_fd() as u32);
        d.put_u32(4, old_fd.as_raw_fd() as u32);
        d.put_u32(8, BPF_CGROUP_DEVICE);
        bpf(BPF_PROG_DETACH, &mut d).map_err(|e| {
            CgroupError::new(format!(
                "cannot detach the old device program from {}: {e}",
                dir.display()
            ))
        })?;
    }
    Ok(())
}

/// Ids of the device programs attached directly to the cgroup.
pub fn query(cg_fd: i32) -> Result<Vec<u32>, CgroupError> {
    let mut ids = vec![0u32; 64];
    let mut a = Attr::new();
    a.put_u32(0, cg_fd as u32);
    a.put_u32(4, BPF_CGROUP_DEVICE);
    a.put_u64(16, ids.as_mut_ptr() as u64);
    a.put_u32(24, ids.len() as u32);
    bpf(BPF_PROG_QUERY, &mut a)
        .map_err(|e| CgroupError::new(format!("cannot query device BPF programs: {e}")))?;
    ids.truncate(a.get_u32(24) as usize);
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the subset we emit, to check the policy without a kernel.
    fn run(p: &[Insn], typ: u32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [(access << 16) | typ, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => r[dst] = u64::from(ctx[(i.off / 4) as usize]),
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU32_MOV_K => r[dst] = i.imm as u32 as u64,
                ALU32_MOV_X => r[dst] = r[src] as u32 as u64,
                JMP32_JNE_K if r[dst] as u32 != i.imm as u32 => pc += i.off as usize,
                JMP32_JNE_X if r[dst] as u32 != r[src] as u32 => pc += i.off as usize,
                JMP32_JNE_K | JMP32_JNE_X => {}
                JMP_EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn rule(
        allow: bool,
        kind: char,
        major: Option<u32>,
        minor: Option<u32>,
        access: &str,
    ) -> DeviceRule {
        DeviceRule {
            allow,
            kind,
            major,
            minor,
            access: access.into(),
        }
    }

    /// The verifier refuses programs with unreachable instructions: check there are none.
    fn assert_all_reachable(p: &[Insn]) {
        let mut seen = vec![false; p.len()];
        let mut todo = vec![0usize];
        while let Some(pc) = todo.pop() {
            if pc >= p.len() || seen[pc] {
                continue;
            }
            seen[pc] = true;
            match p[pc].code {
                JMP_EXIT => {}
                JMP32_JNE_K | JMP32_JNE_X => {
                    todo.push(pc + 1);
                    todo.push(pc + 1 + p[pc].off as usize);
                }
                _ => todo.push(pc + 1),
            }
        }
        assert!(seen.iter().all(|s| *s), "unreachable instructions in {p:?}");
    }

    #[test]
    fn default_deny_last_match_wins() {
        let rules = vec![
            rule(false, 'a', None, None, "rwm"),
            rule(true, 'c', Some(1), Some(3), "rwm"),
            rule(true, 'c', Some(1), Some(5), "r"),
            rule(true, 'c', Some(136), None, "rwm"),
            rule(true, 'b', None, None, "m"),
            rule(false, 'c', Some(136), Some(7), "w"),
        ];
        let p = build_program(&rules);
        assert_all_reachable(&p);
        let (c, b) = (DEV_CHAR as u32, DEV_BLOCK as u32);
        let (r, w, m) = (ACC_READ as u32, ACC_WRITE as u32, ACC_MKNOD as u32);
        assert_eq!(run(&p, c, r | w, 1, 3), 1, "/dev/null rw allowed");
        assert_eq!(run(&p, c, r, 1, 5), 1, "/dev/zero read allowed");
        assert_eq!(
            run(&p, c, r | w, 1, 5),
            0,
            "/dev/zero write denied (rule is r only)"
        );
        assert_eq!(run(&p, c, r, 1, 8), 0, "unlisted device denied");
        assert_eq!(run(&p, b, r, 1, 3), 0, "type must match");
        assert_eq!(run(&p, b, m, 8, 0), 1, "block mknod allowed");
        assert_eq!(run(&p, c, r, 136, 2), 1, "pts wildcard minor");
        assert_eq!(
            run(&p, c, w, 136, 7),
            0,
            "later deny wins over earlier allow"
        );
        assert_eq!(run(&p, c, r, 136, 7), 1, "deny only covered w");
    }

    #[test]
    fn blanket_allow_then_deny() {
        let p = build_program(&[
            rule(true, 'a', None, None, "rwm"),
            rule(false, 'c', Some(1), Some(3), "rwm"),
        ]);
        assert_all_reachable(&p);
        assert_eq!(run(&p, 2, 2, 1, 3), 0);
        assert_eq!(run(&p, 2, 2, 1, 5), 1);
        assert_eq!(run(&build_program(&[]), 2, 2, 1, 3), 0, "no rules: deny");
    }
}
