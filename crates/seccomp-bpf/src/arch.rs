//! Architectures, their audit values and their syscall tables.
//!
//! Tables come from the `syscalls` crate (generated from the kernel's own tables); nothing here
//! is typed by hand. x32 has no table of its own in that crate: an x32 name resolves to the
//! x86_64 number with `X32_SYSCALL_BIT` set. The x32-only compat entries (512..547, e.g. the
//! x32 `rt_sigaction`) are therefore not reachable by name.

use std::collections::HashMap;
use std::sync::OnceLock;

/// `__X32_SYSCALL_BIT`: x32 syscalls run under AUDIT_ARCH_X86_64 with this bit set in `nr`.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
pub const AUDIT_ARCH_RISCV64: u32 = 0xc000_00f3;

/// An ABI a profile can name (`SCMP_ARCH_*`) that we have a table for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    X86_64,
    X86,
    X32,
    Aarch64,
    Riscv64,
}

impl Arch {
    pub const ALL: [Arch; 5] = [
        Arch::X86_64,
        Arch::X86,
        Arch::X32,
        Arch::Aarch64,
        Arch::Riscv64,
    ];

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub fn audit(self) -> u32 {
        match self {
            Arch::X86_64 | Arch::X32 => AUDIT_ARCH_X86_64,
            Arch::X86 => AUDIT_ARCH_I386,
            Arch::Aarch64 => AUDIT_ARCH_AARCH64,
            Arch::Riscv64 => AUDIT_ARCH_RISCV64,
        }
    }

    /// Bits OR'd into every syscall number of this ABI.
    pub fn nr_bias(self) -> u32 {
        if self == Arch::X32 {
            X32_SYSCALL_BIT
        } else {
            0
        }
    }

    /// The `SCMP_ARCH_*` spelling.
    pub fn scmp_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
            Arch::X86 => "SCMP_ARCH_X86",
            Arch::X32 => "SCMP_ARCH_X32",
            Arch::Aarch64 => "SCMP_ARCH_AARCH64",
            Arch::Riscv64 => "SCMP_ARCH_RISCV64",
        }
    }

    /// Accepts `x86_64`, `SCMP_ARCH_X86_64`, `amd64`, ... (case-insensitive).
    pub fn parse(s: &str) -> Option<Arch> {
        let l = s.to_ascii_lowercase();
        let l = l.strip_prefix("scmp_arch_").unwrap_or(&l);
        Some(match l {
            "x86_64" | "amd64" => Arch::X86_64,
            "x86" | "i386" | "i686" => Arch::X86,
            "x32" => Arch::X32,
            "aarch64" | "arm64" => Arch::Aarch64,
            "riscv64" => Arch::Riscv64,
            _ => return None,
        })
    }

    /// The syscall number of `name` on this ABI (with the x32 bit for x32), if the ABI has it.
    pub fn resolve(self, name: &str) -> Option<u32> {
        table(self).by_name.get(name).map(|nr| nr | self.nr_bias())
    }

    /// The name of syscall `nr` on this ABI (the x32 bit must be set for x32).
    pub fn name_of(self, nr: u32) -> Option<&'static str> {
        if nr & X32_SYSCALL_BIT != self.nr_bias() {
            return None;
        }
        table(self).by_nr.get(&(nr & !self.nr_bias())).copied()
    }

    /// Every (name, number) of this ABI, numbers with the x32 bit for x32.
    pub fn syscalls(self) -> impl Iterator<Item = (&'static str, u32)> {
        let bias = self.nr_bias();
        let mut v: Vec<_> = table(self)
            .by_nr
            .iter()
            .map(|(n, s)| (*s, n | bias))
            .collect();
        v.sort_by_key(|&(_, n)| n);
        v.into_iter()
    }

    /// One more than the highest syscall number in the table (without the x32 bit).
    pub fn table_end(self) -> u32 {
        table(self).by_nr.keys().max().map_or(0, |m| m + 1)
    }
}

/// The machine a filter is compiled for: the audit arches its kernel can present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    X86_64,
    Aarch64,
    Riscv64,
}

impl Target {
    /// The target of the machine this code runs on, if we support it.
    pub fn native() -> Option<Target> {
        if cfg!(target_arch = "x86_64") {
            Some(Target::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Target::Aarch64)
        } else if cfg!(target_arch = "riscv64") {
            Some(Target::Riscv64)
        } else {
            None
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        match Arch::parse(s)? {
            Arch::X86_64 => Some(Target::X86_64),
            Arch::Aarch64 => Some(Target::Aarch64),
            Arch::Riscv64 => Some(Target::Riscv64),
            _ => None,
        }
    }

    /// The ABI the kernel uses for native processes; always part of the filter, as libseccomp
    /// always keeps the native arch.
    pub fn native_arch(self) -> Arch {
        match self {
            Target::X86_64 => Arch::X86_64,
            Target::Aarch64 => Arch::Aarch64,
            Target::Riscv64 => Arch::Riscv64,
        }
    }

    /// The ABIs a process on this machine can use.
    pub fn abis(self) -> &'static [Arch] {
        match self {
            Target::X86_64 => &[Arch::X86_64, Arch::X32, Arch::X86],
            Target::Aarch64 => &[Arch::Aarch64],
            Target::Riscv64 => &[Arch::Riscv64],
        }
    }

    /// The ABIs of `listed` that a filter for this target must allow: the native one always,
    /// plus those listed that this machine can run. Sorted, no duplicates.
    pub fn enabled(self, listed: &[Arch]) -> Vec<Arch> {
        let mut v: Vec<Arch> = self
            .abis()
            .iter()
            .copied()
            .filter(|a| *a == self.native_arch() || listed.contains(a))
            .collect();
        v.sort();
        v
    }
}

struct Table {
    by_name: HashMap<&'static str, u32>,
    by_nr: HashMap<u32, &'static str>,
}

macro_rules! load_table {
    ($m:ident) => {{
        let mut by_name = HashMap::new();
        let mut by_nr = HashMap::new();
        for s in syscalls::$m::Sysno::iter() {
            // Keyword names are spelled `r#break` by the generator.
            let name = s.name().trim_start_matches("r#");
            let nr = s.id() as u32;
            by_name.insert(name, nr);
            by_nr.insert(nr, name);
        }
        Table { by_name, by_nr }
    }};
}

fn table(a: Arch) -> &'static Table {
    static X86_64: OnceLock<Table> = OnceLock::new();
    static X86: OnceLock<Table> = OnceLock::new();
    static AARCH64: OnceLock<Table> = OnceLock::new();
    static RISCV64: OnceLock<Table> = OnceLock::new();
    match a {
        Arch::X86_64 | Arch::X32 => X86_64.get_or_init(|| load_table!(x86_64)),
        Arch::X86 => X86.get_or_init(|| load_table!(x86)),
        Arch::Aarch64 => AARCH64.get_or_init(|| load_table!(aarch64)),
        Arch::Riscv64 => RISCV64.get_or_init(|| load_table!(riscv64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_resolve_known_numbers() {
        assert_eq!(Arch::X86_64.resolve("read"), Some(0));
        assert_eq!(Arch::X86_64.resolve("clone3"), Some(435));
        assert_eq!(Arch::X86.resolve("socketcall"), Some(102));
        assert_eq!(Arch::X86.resolve("break"), Some(17));
        assert_eq!(Arch::X32.resolve("getppid"), Some(110 | X32_SYSCALL_BIT));
        assert_eq!(Arch::Aarch64.resolve("openat"), Some(56));
        assert_eq!(Arch::Aarch64.resolve("open"), None);
        assert_eq!(Arch::Riscv64.resolve("personality"), Some(92));
        assert_eq!(Arch::X86_64.name_of(39), Some("getpid"));
        assert_eq!(Arch::X32.name_of(39), None);
        assert_eq!(Arch::X32.name_of(39 | X32_SYSCALL_BIT), Some("getpid"));
    }

    #[test]
    fn tables_match_libc_on_this_host() {
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                Arch::X86_64.resolve("getppid"),
                Some(libc::SYS_getppid as u32)
            );
            assert_eq!(
                Arch::X86_64.resolve("unshare"),
                Some(libc::SYS_unshare as u32)
            );
            assert_eq!(
                Arch::X86_64.resolve("personality"),
                Some(libc::SYS_personality as u32)
            );
        }
    }

    #[test]
    fn enabled_always_includes_native() {
        assert_eq!(Target::X86_64.enabled(&[]), vec![Arch::X86_64]);
        assert_eq!(
            Target::X86_64.enabled(&[Arch::X86, Arch::Aarch64, Arch::X32]),
            vec![Arch::X86_64, Arch::X86, Arch::X32]
        );
        assert_eq!(
            Target::Aarch64.enabled(&[Arch::X86_64]),
            vec![Arch::Aarch64]
        );
    }
}
