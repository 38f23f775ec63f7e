//! `nucleus seccomp compile [--arch ARCH] [--format raw|asm] FILE`: shows users the filter
//! nucleus would install for a config.json (or a bare `linux.seccomp` object).

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use seccomp_bpf::Target;

/// Compiles FILE's seccomp section for `arch` (default: this machine) and writes it to stdout
/// as raw `struct sock_filter`s (`raw`, 8 bytes each, native endianness) or as a listing (`asm`).
pub fn run(arch: Option<&str>, format: &str, file: &Path) -> Result<()> {
    let target = match arch {
        Some(a) => Target::parse(a).with_context(|| {
            format!("unknown --arch {a:?}: expected x86_64, aarch64 or riscv64")
        })?,
        None => {
            Target::native().context("this CPU architecture has no seccomp support in nucleus")?
        }
    };
    if format != "raw" && format != "asm" {
        bail!("unknown --format {format:?}: expected raw or asm");
    }
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not valid JSON", file.display()))?;
    let section = if json.get("defaultAction").is_some() {
        json
    } else if let Some(s) = json.get("linux").and_then(|l| l.get("seccomp")) {
        s.clone()
    } else {
        bail!(
            "{}: neither a config.json with linux.seccomp nor a seccomp object (no defaultAction)",
            file.display()
        );
    };
    let seccomp: oci_spec::runtime::LinuxSeccomp = serde_json::from_value(section)
        .with_context(|| format!("{}: invalid linux.seccomp", file.display()))?;
    let plan = spec_translate::seccomp::translate_for(&seccomp, target)?;
    let mut out = std::io::stdout().lock();
    match format {
        "raw" => out.write_all(&seccomp_bpf::program_bytes(&plan.program))?,
        _ => out.write_all(seccomp_bpf::asm::disassemble(&plan.program).as_bytes())?,
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_arguments_clearly() {
        let f =
            std::env::temp_dir().join(format!("nucleus-seccomp-cmd-{}.json", std::process::id()));
        std::fs::write(&f, br#"{"process": {}}"#).unwrap();
        let e = run(None, "asm", &f).unwrap_err().to_string();
        assert!(e.contains("neither a config.json"), "{e}");
        std::fs::write(&f, br#"{"defaultAction": "SCMP_ACT_BOGUS"}"#).unwrap();
        let e = format!("{:#}", run(None, "asm", &f).unwrap_err());
        assert!(e.contains("invalid linux.seccomp"), "{e}");
        std::fs::write(&f, br#"{"defaultAction": "SCMP_ACT_ALLOW"}"#).unwrap();
        assert!(run(Some("sparc"), "asm", &f)
            .unwrap_err()
            .to_string()
            .contains("--arch"));
        assert!(run(None, "hex", &f)
            .unwrap_err()
            .to_string()
            .contains("--format"));
        assert!(run(Some("aarch64"), "raw", &f).is_ok());
        std::fs::remove_file(&f).unwrap();
    }
}
