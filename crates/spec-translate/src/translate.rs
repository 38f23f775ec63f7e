//! Top level of the translation: config.json → Plan, plus the checks that span several fields.

use crate::error::{Result, TranslateError};
use crate::plan::{NsKind, Plan};
use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

/// The largest config.json nucleus reads: a hostile bundle must not exhaust memory.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// A parsed config: the typed spec plus the raw JSON (for fields oci-spec does not know, such
/// as `process.landlock`).
pub struct Config {
    pub spec: Spec,
    pub raw: serde_json::Value,
}

/// Read and parse `BUNDLE/config.json`.
pub fn load_spec(bundle: &Path) -> Result<Config> {
    use std::io::Read;
    let p = bundle.join("config.json");
    let f = std::fs::File::open(&p)
        .map_err(|e| TranslateError::new("", format!("cannot open {}: {}", p.display(), e)))?;
    let mut text = String::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| TranslateError::new("", format!("cannot read {}: {}", p.display(), e)))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(TranslateError::new(
            "",
            format!("{} is larger than {} bytes", p.display(), MAX_CONFIG_BYTES),
        ));
    }
    parse_spec(&text)
}

/// Parse config.json text.
pub fn parse_spec(text: &str) -> Result<Config> {
    let raw: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| TranslateError::new("", format!("config.json is not valid JSON: {e}")))?;
    if !raw.is_object() {
        return Err(TranslateError::new(
            "",
            "config.json must hold a JSON object",
        ));
    }
    let spec: Spec = serde_json::from_value(raw.clone()).map_err(|e| locate_error(&raw, e))?;
    Ok(Config { spec, raw })
}

/// Name the field a deserialisation error comes from. oci-spec's `Spec` loses the path, so
/// each top-level section is parsed again on its own, with serde_path_to_error tracking the
/// path inside it: `process.user.uid: invalid value: integer -1, expected u32`.
fn locate_error(raw: &serde_json::Value, whole: serde_json::Error) -> TranslateError {
    use oci_spec::runtime as r;
    fn probe<T: serde::de::DeserializeOwned>(
        key: &str,
        v: &serde_json::Value,
    ) -> Option<TranslateError> {
        match serde_path_to_error::deserialize::<_, T>(v.clone()) {
            Ok(_) => None,
            Err(e) => {
                let inner = e.path().to_string();
                let field = if inner == "." {
                    key.to_string()
                } else {
                    format!("{key}.{inner}")
                };
                Some(TranslateError::new(field, e.into_inner().to_string()))
            }
        }
    }
    let obj = raw.as_object();
    let get = |k: &str| obj.and_then(|o| o.get(k));
    let found = None
        .or_else(|| get("ociVersion").and_then(|v| probe::<String>("ociVersion", v)))
        .or_else(|| get("process").and_then(|v| probe::<r::Process>("process", v)))
        .or_else(|| get("root").and_then(|v| probe::<r::Root>("root", v)))
        .or_else(|| get("mounts").and_then(|v| probe::<Vec<r::Mount>>("mounts", v)))
        .or_else(|| get("hooks").and_then(|v| probe::<r::Hooks>("hooks", v)))
        .or_else(|| get("linux").and_then(|v| probe::<r::Linux>("linux", v)))
        .or_else(|| {
            get("annotations")
                .and_then(|v| probe::<std::collections::HashMap<String, String>>("annotations", v))
        })
        .or_else(|| get("hostname").and_then(|v| probe::<String>("hostname", v)));
    found.unwrap_or_else(|| TranslateError::new("", format!("config.json: {whole}")))
}

fn abs_bundle_path(bundle: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        bundle.join(p)
    }
}

/// Translate a parsed config into a plan. `bundle` must be absolute.
pub fn translate(cfg: &Config, bundle: &Path) -> Result<Plan> {
    let spec = &cfg.spec;
    if spec.version().is_empty() {
        return Err(TranslateError::new("ociVersion", "is missing"));
    }
    if !spec.version().starts_with("1.") {
        return Err(TranslateError::new(
            "ociVersion",
            format!("{} is not a 1.x runtime-spec version", spec.version()),
        ));
    }
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| TranslateError::new("root", "is missing"))?;
    if root.path().as_os_str().is_empty() {
        return Err(TranslateError::new("root.path", "is empty"));
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| TranslateError::new("process", "is missing"))?;
    let linux = spec.linux().clone().unwrap_or_default();

    let mut plan = Plan {
        oci_version: spec.version().clone(),
        bundle: bundle.to_path_buf(),
        rootfs: abs_bundle_path(bundle, root.path()),
        rootfs_readonly: root.readonly().unwrap_or(false),
        hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
        domainname: spec.domainname().clone().filter(|h| !h.is_empty()),
        process: crate::process::translate(process)?,
        annotations: spec
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        ..Default::default()
    };
    plan.namespaces = crate::namespaces::translate(linux.namespaces().as_deref().unwrap_or(&[]))?;
    plan.uid_mappings = crate::namespaces::id_maps("linux.uidMappings", linux.uid_mappings())?;
    plan.gid_mappings = crate::namespaces::id_maps("linux.gidMappings", linux.gid_mappings())?;
    if let Some(t) = linux.time_offsets() {
        plan.time_offsets = crate::namespaces::time_offsets(t)?;
    }
    plan.sysctl = linux
        .sysctl()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    plan.mounts = crate::mounts::translate_mounts(spec.mounts().as_deref().unwrap_or(&[]), bundle)?;
    plan.rootfs_propagation =
        crate::mounts::rootfs_propagation(linux.rootfs_propagation().as_deref())?;
    plan.devices = crate::mounts::translate_devices(linux.devices().as_deref().unwrap_or(&[]))?;
    plan.masked_paths = linux.masked_paths().clone().unwrap_or_default();
    plan.readonly_paths = linux.readonly_paths().clone().unwrap_or_default();
    crate::mounts::validate_paths(&plan.masked_paths, &plan.readonly_paths)?;
    if let Some(h) = spec.hooks() {
        plan.hooks = crate::hooks::translate(h)?;
    }
    plan.cgroups_path = linux
        .cgroups_path()
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    plan.resources = linux.resources().clone();
    if let Some(s) = linux.seccomp() {
        plan.seccomp = Some(crate::seccomp::translate(s)?);
    }
    if let Some(p) = linux.personality() {
        plan.personality = Some(personality(p)?);
    }
    if linux.intel_rdt().is_some() {
        return Err(TranslateError::new(
            "linux.intelRdt",
            "Intel RDT is not supported by nucleus",
        ));
    }
    plan.landlock = crate::landlock::from_config(&cfg.raw)?;
    // Validate the policy now, so a bad one fails before anything exists on the host.
    crate::landlock::parse_config(&cfg.raw)?;
    check_cross_fields(&plan)?;
    Ok(plan)
}

fn personality(p: &oci_spec::runtime::LinuxPersonality) -> Result<u64> {
    use oci_spec::runtime::LinuxPersonalityDomain as D;
    let domain = match p.domain() {
        D::PerLinux => 0x0000u64,
        D::PerLinux32 => 0x0008u64,
    };
    if let Some(f) = p.flags() {
        if !f.is_empty() {
            return Err(TranslateError::new(
                "linux.personality.flags",
                "personality flags are not supported",
            ));
        }
    }
    Ok(domain)
}

/// Checks that need more than one field: the kernel would refuse these half-way through
/// building the container, so refuse them before anything exists.
fn check_cross_fields(plan: &Plan) -> Result<()> {
    let ns = &plan.namespaces;
    let has = |k: NsKind| ns.creates(k) || ns.joins(k).is_some();
    if plan.hostname.is_some() && !has(NsKind::Uts) {
        return Err(TranslateError::new(
            "hostname",
            "setting the hostname needs a uts namespace of the container's own",
        ));
    }
    if plan.domainname.is_some() && !has(NsKind::Uts) {
        return Err(TranslateError::new(
            "domainname",
            "setting the domainname needs a uts namespace of the container's own",
        ));
    }
    if ns.creates(NsKind::User) && (plan.uid_mappings.is_empty() || plan.gid_mappings.is_empty()) {
        return Err(TranslateError::new(
            "linux.uidMappings",
            "a new user namespace needs uidMappings and gidMappings",
        ));
    }
    if !ns.creates(NsKind::User) && (!plan.uid_mappings.is_empty() || !plan.gid_mappings.is_empty())
    {
        return Err(TranslateError::new(
            "linux.uidMappings",
            "id mappings are only valid with a new user namespace",
        ));
    }
    if !plan.time_offsets.is_empty() && !ns.creates(NsKind::Time) {
        return Err(TranslateError::new(
            "linux.timeOffsets",
            "time offsets need a new time namespace",
        ));
    }
    if !ns.creates(NsKind::Mount) && ns.joins(NsKind::Mount).is_none() {
        return Err(TranslateError::new(
            "linux.namespaces",
            "nucleus needs a mount namespace (add {\"type\":\"mount\"})",
        ));
    }
    if ns.joins(NsKind::Mount).is_some() {
        return Err(TranslateError::new(
            "linux.namespaces",
            "joining an existing mount namespace is not supported: the rootfs could not be set up",
        ));
    }
    if plan.process.console_size.is_some() && !plan.process.terminal {
        // runc ignores it; so do we, but only when terminal is false it is harmless.
    }
    for key in plan.sysctl.keys() {
        check_sysctl(key, ns)?;
    }
    Ok(())
}

/// Mirrors runc's validator: a sysctl may only be set when it lives in a namespace the
/// container owns, otherwise it would change the host.
fn check_sysctl(key: &str, ns: &crate::plan::Namespaces) -> Result<()> {
    let field = format!("linux.sysctl.{key}");
    if key.is_empty()
        || key.contains("..")
        || key.starts_with('/')
        || key.starts_with('.')
        || key.contains('\0')
    {
        return Err(TranslateError::new(field, "is not a sysctl name"));
    }
    let own = |k: NsKind| ns.creates(k) || ns.joins(k).is_some();
    let ipc = matches!(
        key,
        "kernel.msgmax"
            | "kernel.msgmnb"
            | "kernel.msgmni"
            | "kernel.sem"
            | "kernel.shmall"
            | "kernel.shmmax"
            | "kernel.shmmni"
            | "kernel.shm_rmid_forced"
    ) || key.starts_with("fs.mqueue.");
    if ipc {
        return if own(NsKind::Ipc) {
            Ok(())
        } else {
            Err(TranslateError::new(field, "needs a new ipc namespace"))
        };
    }
    if key.starts_with("net.") {
        return if own(NsKind::Network) || ns.joins(NsKind::Network).is_some() {
            Ok(())
        } else {
            Err(TranslateError::new(
                field,
                "needs a network namespace of the container's own",
            ))
        };
    }
    if key == "kernel.hostname" || key == "kernel.domainname" {
        return if own(NsKind::Uts) {
            Ok(())
        } else {
            Err(TranslateError::new(field, "needs a new uts namespace"))
        };
    }
    Err(TranslateError::new(
        field,
        "is not namespaced: setting it would change the host",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_their_field() {
        let base = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":UID,"gid":0}}}"#;
        let e = parse_spec(&base.replace("UID", "-1")).err().unwrap();
        assert!(e.to_string().contains("process.user.uid"), "{e}");
        let e = parse_spec(&base.replace("UID", "0").replace(r#"["sh"]"#, r#""sh""#))
            .err()
            .unwrap();
        assert!(e.to_string().contains("process.args"), "{e}");
        let e = parse_spec(&base.replace("UID", "0").replace(
            r#""root""#,
            r#""linux":{"devices":[{"path":"/dev/x","type":"z"}]},"root""#,
        ))
        .err()
        .unwrap();
        assert!(e.to_string().contains("linux.devices[0].type"), "{e}");
    }
}
