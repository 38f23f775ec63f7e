//! Calling runsc: its global flags, its errors turned into one nucleus line, its state.

use crate::state::Status;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// How one container's runsc is called; saved as `--root/ID/gvisor.json` at create, so later
/// verbs use the same binary and flags whatever their own command line says.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Runsc {
    pub bin: PathBuf,
    /// runsc's own `--root` (inside nucleus's state directory of the container).
    pub root: PathBuf,
    pub platform: Option<String>,
    pub network: String,
    pub oci_seccomp: bool,
}

/// What `runsc state` says.
pub struct RunscState {
    pub status: Status,
}

impl Runsc {
    pub fn load(dir: &Path) -> Result<Runsc> {
        let p = dir.join(super::MARKER);
        let b = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
        serde_json::from_slice(&b).with_context(|| format!("corrupt {}", p.display()))
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let p = dir.join(super::MARKER);
        std::fs::write(&p, serde_json::to_vec(self)?)
            .with_context(|| format!("write {}", p.display()))
    }

    /// `runsc --root R --network N [--platform P] [--oci-seccomp]`, ready for a verb.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root);
        c.arg(format!("--network={}", self.network));
        if let Some(p) = &self.platform {
            c.arg(format!("--platform={p}"));
        }
        if self.oci_seccomp {
            c.arg("--oci-seccomp");
        }
        c
    }

    /// Run a verb with captured output; a failure becomes `runsc VERB: <its last error line>`.
    pub fn quiet(&self, args: &[&str]) -> Result<Output> {
        let out = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| anyhow!("run {}: {e}", self.bin.display()))?;
        if !out.status.success() {
            bail!("runsc {}: {}", args[0], last_line(&out));
        }
        Ok(out)
    }

    /// `runsc state ID`; `None` when runsc no longer knows the container.
    pub fn state(&self, id: &str) -> Result<Option<RunscState>> {
        let out = self
            .command()
            .args(["state", id])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| anyhow!("run {}: {e}", self.bin.display()))?;
        if !out.status.success() {
            return Ok(None);
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| anyhow!("runsc state: not JSON: {e}"))?;
        let status = match v["status"].as_str().unwrap_or_default() {
            "creating" => Status::Creating,
            "created" => Status::Created,
            "running" => Status::Running,
            "paused" => Status::Paused,
            _ => Status::Stopped,
        };
        Ok(Some(RunscState { status }))
    }
}

/// The last non-empty line runsc wrote to stderr (else stdout), for one-line errors.
pub fn last_line(out: &Output) -> String {
    let pick = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_string())
    };
    pick(&out.stderr)
        .or_else(|| pick(&out.stdout))
        .unwrap_or_else(|| format!("failed ({})", out.status))
}
