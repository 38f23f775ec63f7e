//! `features`: runtime-spec features.md JSON, listing only what this build and host can do.

use serde_json::json;

const MOUNT_OPTIONS: &[&str] = &[
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "lazytime",
    "loud",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

/// What the cgroup code can drive on this host: v1 controllers on v1 and hybrid hosts, v2 on
/// pure v2 hosts (and the unified hierarchy of a hybrid host), never systemd.
fn cgroup_features() -> serde_json::Value {
    use isolation::cgroups::Mode;
    let mode = isolation::cgroups::detect();
    // rdma limits need the rdma controller: a v1 hierarchy or a cgroup2 controller.
    let rdma = isolation::cgroups::Hierarchies::discover().is_ok_and(|h| {
        h.v1.contains_key("rdma")
            || h.unified.is_some_and(|u| {
                std::fs::read_to_string(u.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|c| c == "rdma"))
            })
    });
    json!({
        "v1": matches!(mode, Mode::V1 | Mode::Hybrid),
        "v2": matches!(mode, Mode::V2 | Mode::Hybrid),
        "systemd": false,
        "systemdUser": false,
        "rdma": rdma,
    })
}

/// What the seccomp compiler (crates/seccomp-bpf) and its install accept. Every flag is
/// supported by the kernels nucleus targets (TSYNC is accepted and needless: the init is
/// single-threaded when the filter goes on).
fn seccomp_features() -> serde_json::Value {
    let flags = [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ];
    json!({
        "enabled": true,
        "actions": [
            "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"
        ],
        "operators": [
            "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"
        ],
        "archs": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
        "knownFlags": flags,
        "supportedFlags": flags,
    })
}

pub fn features() -> serde_json::Value {
    let caps: Vec<String> = caps::all()
        .into_iter()
        .map(|c| c.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": spec_translate::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": MOUNT_OPTIONS,
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": caps,
            "cgroup": cgroup_features(),
            "seccomp": seccomp_features(),
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            "mountExtensions": {"idmap": {"enabled": true}}
        },
        "annotations": {
            // features.md: annotation values are strings, so the Landlock support is JSON text.
            "io.github.nucleus.landlock": isolation::landlock::supported().to_string(),
            "run.oci.landlock": "process.landlock policy as JSON (docs/LANDLOCK.md)",
            "run.oci.handler": "gvisor: run the container with runsc (docs/GVISOR.md)",
            "run.oci.gvisor.platform": "runsc --platform for run.oci.handler=gvisor",
            "run.oci.gvisor.network": "runsc --network (none, host, sandbox) for run.oci.handler=gvisor"
        }
    })
}

pub fn print() -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&features())?);
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Every action, operator, arch and flag `features` lists is accepted by the compiler.
    #[test]
    fn listed_seccomp_features_compile() {
        let f = super::seccomp_features();
        let list = |k: &str| -> Vec<String> {
            f[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        for action in list("actions") {
            for op in list("operators") {
                let profile = serde_json::json!({
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "architectures": list("archs"),
                    "flags": list("supportedFlags"),
                    "listenerPath": "/run/agent.sock",
                    "syscalls": [
                        {"names": ["getppid"], "action": action},
                        // WAIT_KILLABLE_RECV is only valid with a NOTIFY rule.
                        {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
                        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "valueTwo": 1, "op": op}]}
                    ]
                });
                let s: oci_spec::runtime::LinuxSeccomp = serde_json::from_value(profile).unwrap();
                spec_translate::seccomp::translate(&s)
                    .unwrap_or_else(|e| panic!("{action} {op}: {e}"));
            }
        }
    }
}
