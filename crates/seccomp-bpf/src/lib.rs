//! The seccomp compiler: rules in, classic BPF out (see issue 3, "Seccomp").
//!
//! [`compile`] turns a [`Profile`] (the OCI `linux.seccomp` section) into a program laid out
//! for the kernel's action cache: an arch check, then a balanced decision tree over syscall
//! number ranges built only from cache-eligible instructions, with argument checks under their
//! own syscall's leaf. [`asm`] lists a program, [`interp`] runs one, [`cache`] emulates the
//! kernel's cache check, [`reference`] evaluates a profile directly, for tests.

pub mod arch;
pub mod asm;
pub mod cache;
mod codegen;
mod compile;
pub mod decide;
pub mod insn;
pub mod interp;
pub mod profile;
pub mod reference;

pub use arch::{Arch, Target};
pub use compile::{compile, BAD_ARCH_ACTION};
pub use insn::{program_bytes, SeccompData, SockFilter};
pub use profile::{Action, ArgCmp, CmpOp, CompileError, Profile, Rule};
