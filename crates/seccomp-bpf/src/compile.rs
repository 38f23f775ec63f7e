//! The compiler's entry point.

use crate::arch::Target;
use crate::codegen::Emitter;
use crate::decide;
use crate::insn::{SockFilter, BPF_MAXINSNS};
use crate::profile::{Action, CompileError, Profile};

/// What a foreign ABI (an audit arch the profile does not allow) gets.
pub const BAD_ARCH_ACTION: Action = Action::KillProcess;

/// Compiles `profile` into a filter for processes on `target`.
pub fn compile(profile: &Profile, target: Target) -> Result<Vec<SockFilter>, CompileError> {
    let plans = decide::plan(profile, target)?;
    let mut e = Emitter::default();
    e.program(&plans, BAD_ARCH_ACTION.ret());
    let prog = e.finish();
    if prog.len() > BPF_MAXINSNS {
        return Err(CompileError::TooLong { len: prog.len() });
    }
    Ok(prog)
}
