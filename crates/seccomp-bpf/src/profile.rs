//! The compiler's input: the OCI `linux.seccomp` section with names still as strings.
//! Semantics (shared by the compiler and the reference evaluator):
//! - an unlisted audit arch is killed (KILL_PROCESS); on x86_64 an x32 call (`nr` with the x32
//!   bit) is killed unless x32 is listed;
//! - a syscall's rules are tried in profile order and the first that matches decides; a rule
//!   without args always matches; the args of one rule are ANDed;
//! - a syscall no rule matches gets the default action, except that with an ERRNO default a
//!   number above every number named in the profile (for that ABI) gets ERRNO(ENOSYS), as runc
//!   does, so that libcs fall back from syscalls the profile predates;
//! - argument comparisons are unsigned and on all 64 bits.

use crate::insn::*;

/// ENOSYS on every Linux architecture we compile for.
pub const ENOSYS: u16 = 38;
/// EPERM: the errno of SCMP_ACT_ERRNO without errnoRet.
pub const EPERM: u16 = 1;

/// What the kernel does with a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    KillThread,
    KillProcess,
    Trap,
    Errno(u16),
    Trace(u16),
    Allow,
    Log,
    Notify,
}

impl Action {
    /// The filter's return value for this action.
    pub fn ret(self) -> u32 {
        match self {
            Action::KillThread => SECCOMP_RET_KILL_THREAD,
            Action::KillProcess => SECCOMP_RET_KILL_PROCESS,
            Action::Trap => SECCOMP_RET_TRAP,
            Action::Errno(e) => SECCOMP_RET_ERRNO | e as u32,
            Action::Trace(e) => SECCOMP_RET_TRACE | e as u32,
            Action::Allow => SECCOMP_RET_ALLOW,
            Action::Log => SECCOMP_RET_LOG,
            Action::Notify => SECCOMP_RET_USER_NOTIF,
        }
    }

    /// Human spelling of a return value (for `asm` and errors).
    pub fn describe(ret: u32) -> String {
        let data = ret & SECCOMP_RET_DATA;
        match ret & SECCOMP_RET_ACTION_FULL {
            SECCOMP_RET_KILL_PROCESS => "KILL_PROCESS".into(),
            SECCOMP_RET_KILL_THREAD => "KILL_THREAD".into(),
            SECCOMP_RET_TRAP => "TRAP".into(),
            SECCOMP_RET_ERRNO => format!("ERRNO({data})"),
            SECCOMP_RET_TRACE => format!("TRACE({data})"),
            SECCOMP_RET_ALLOW => "ALLOW".into(),
            SECCOMP_RET_LOG => "LOG".into(),
            SECCOMP_RET_USER_NOTIF => "NOTIFY".into(),
            _ => format!("{ret:#x}"),
        }
    }
}

/// Comparison operators of `linux.seccomp.syscalls[].args[].op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `(arg & value) == value_two`
    MaskedEq,
}

/// One argument condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgCmp {
    /// 0..=5
    pub index: u8,
    pub op: CmpOp,
    pub value: u64,
    pub value_two: u64,
}

/// One `syscalls[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<ArgCmp>,
}

/// A whole `linux.seccomp` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub default_action: Action,
    /// ABIs listed in `architectures` that we have tables for (others are dropped by the caller).
    pub architectures: Vec<crate::arch::Arch>,
    pub rules: Vec<Rule>,
}

/// Why a profile cannot be compiled. One line, names the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// Argument index above 5.
    BadArgIndex { name: String, index: u8 },
    /// The program would exceed the kernel's BPF_MAXINSNS.
    TooLong { len: usize },
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::BadArgIndex { name, index } => {
                write!(f, "syscall {name}: argument index {index} is out of range (0..=5)")
            }
            CompileError::TooLong { len } => write!(
                f,
                "the compiled filter has {len} instructions, more than the kernel's limit of {BPF_MAXINSNS}"
            ),
        }
    }
}

impl std::error::Error for CompileError {}
