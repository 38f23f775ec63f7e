//! Which runsc, platform and network a bundle gets. Per container, from most to least specific:
//! the bundle's annotations (`run.oci.gvisor.platform`, `run.oci.gvisor.network`), the global
//! flags (`--runsc`, `--runsc-platform`, `--runsc-network`), then defaults that work here.

use super::runsc::Runsc;
use crate::cli::Cli;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The annotation that selects the handler (the name crun uses for krun/wasm handlers).
pub const HANDLER_ANNOTATION: &str = "run.oci.handler";
const PLATFORM_ANNOTATION: &str = "run.oci.gvisor.platform";
const NETWORK_ANNOTATION: &str = "run.oci.gvisor.network";
/// Values of `run.oci.handler` that mean gVisor.
const GVISOR_NAMES: &[&str] = &["gvisor", "runsc"];
const PLATFORMS: &[&str] = &["ptrace", "systrap", "kvm"];
const NETWORKS: &[&str] = &["none", "host", "sandbox"];

/// What the bundle asks for, before the state directory (runsc's root) is known.
#[derive(Debug, Clone)]
pub struct Requested {
    pub bin: PathBuf,
    pub platform: Option<String>,
    pub network: String,
    /// `linux.seccomp` is present: have runsc enforce it inside the sandbox (`--oci-seccomp`),
    /// instead of silently ignoring it as runsc does by default.
    pub oci_seccomp: bool,
}

impl Requested {
    /// The runsc invocation for a container whose nucleus state directory is `dir`.
    pub fn runsc(&self, dir: &Path) -> Runsc {
        Runsc {
            bin: self.bin.clone(),
            root: dir.join("runsc"),
            platform: self.platform.clone(),
            network: self.network.clone(),
            oci_seccomp: self.oci_seccomp,
        }
    }
}

/// `Some` when `bundle/config.json` carries `run.oci.handler: gvisor`. A config nucleus cannot
/// read is left to the native path, which reports it with the field at fault.
pub fn requested(cli: &Cli, bundle: &Path) -> Result<Option<Requested>> {
    let Ok(text) = std::fs::read(bundle.join("config.json")) else {
        return Ok(None);
    };
    let Ok(cfg) = serde_json::from_slice::<Value>(&text) else {
        return Ok(None);
    };
    let ann = &cfg["annotations"];
    let Some(handler) = ann.get(HANDLER_ANNOTATION) else {
        return Ok(None);
    };
    let handler = handler.as_str().unwrap_or_default();
    if !GVISOR_NAMES.contains(&handler) {
        bail!(
            "config.json: annotations.\"{HANDLER_ANNOTATION}\": unknown handler {handler:?} (nucleus knows: gvisor)"
        );
    }
    let pick = |key: &str, flag: &Option<String>, allowed: &[&str]| -> Result<Option<String>> {
        let (v, from) = match (ann.get(key), flag) {
            (Some(v), _) => (
                v.as_str()
                    .ok_or_else(|| anyhow!("config.json: annotations.\"{key}\": not a string"))?
                    .to_string(),
                format!("config.json: annotations.\"{key}\""),
            ),
            (None, Some(f)) => (f.clone(), format!("--{}", flag_name(key))),
            (None, None) => return Ok(None),
        };
        if !allowed.contains(&v.as_str()) {
            bail!(
                "{from}: unknown value {v:?} (known: {})",
                allowed.join(", ")
            );
        }
        Ok(Some(v))
    };
    let platform = pick(PLATFORM_ANNOTATION, &cli.runsc_platform, PLATFORMS)?;
    let network = match pick(NETWORK_ANNOTATION, &cli.runsc_network, NETWORKS)? {
        Some(n) => n,
        None => default_network(&cfg),
    };
    if landlock_requested(&cfg) {
        bail!("config.json: a Landlock policy (process.landlock or annotations.\"run.oci.landlock\") cannot be enforced inside a gVisor sandbox; remove it or drop annotations.\"{HANDLER_ANNOTATION}\"");
    }
    Ok(Some(Requested {
        bin: find_runsc(cli.runsc.as_deref())?,
        platform,
        network,
        oci_seccomp: !cfg["linux"]["seccomp"].is_null(),
    }))
}

fn flag_name(annotation: &str) -> &'static str {
    if annotation == PLATFORM_ANNOTATION {
        "runsc-platform"
    } else {
        "runsc-network"
    }
}

/// A new, empty network namespace becomes gVisor's own loopback-only stack (`none`); a shared or
/// joined one is used through the host's stack of that namespace (`host`: the sandbox runs in
/// the namespace the config names). runsc's `sandbox` mode, which moves the namespace's
/// interfaces into gVisor's netstack, refuses to start on this kernel (it believes it is in
/// the root namespace), so it is only used when asked for.
fn default_network(cfg: &Value) -> String {
    let net = cfg["linux"]["namespaces"]
        .as_array()
        .and_then(|l| l.iter().find(|n| n["type"] == "network"));
    match net {
        Some(n) if n["path"].as_str().is_none_or(str::is_empty) => "none",
        _ => "host",
    }
    .to_string()
}

fn landlock_requested(cfg: &Value) -> bool {
    !cfg["process"]["landlock"].is_null() || cfg["annotations"].get("run.oci.landlock").is_some()
}

/// `--runsc PATH`, else `runsc` on PATH (then the Debian locations).
fn find_runsc(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        return std::fs::canonicalize(p).map_err(|e| anyhow!("--runsc {}: {e}", p.display()));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/bin"])
        .map(|d| Path::new(d).join("runsc"))
        .find(|p| p.is_file());
    found.ok_or_else(|| {
            anyhow!("run.oci.handler=gvisor: runsc not found on PATH (install gVisor, e.g. `apt-get install runsc`, or pass --runsc PATH)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn network_follows_the_config() {
        let c = |ns: Value| json!({"linux": {"namespaces": ns}});
        assert_eq!(default_network(&c(json!([{"type": "network"}]))), "none");
        assert_eq!(
            default_network(&c(json!([{"type": "network", "path": "/run/netns/x"}]))),
            "host"
        );
        assert_eq!(default_network(&c(json!([{"type": "pid"}]))), "host");
    }
}
