//! Test helpers: the OCI JSON → Profile mapping (spec-translate has the real one, from
//! oci-spec types; this crate stays free of them), fixtures, and a small PRNG.
#![allow(dead_code)]

use seccomp_bpf::*;
use serde_json::Value;

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/configs"
);

/// `errno` is the rule's errnoRet (for the default action: defaultErrnoRet). As runc, a rule
/// without errnoRet gets EPERM even when defaultErrnoRet is set.
pub fn action(name: &str, errno: Option<u64>) -> Action {
    let e = errno.map(|e| e as u16);
    match name {
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_ERRNO" => Action::Errno(e.unwrap_or(1)),
        "SCMP_ACT_TRACE" => Action::Trace(e.unwrap_or(1)),
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_NOTIFY" => Action::Notify,
        other => panic!("unknown action {other}"),
    }
}

pub fn profile_from_json(s: &Value) -> Profile {
    let de = s["defaultErrnoRet"].as_u64();
    let default_action = action(s["defaultAction"].as_str().unwrap(), de);
    let architectures = s["architectures"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|a| Arch::parse(a.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    let rules = s["syscalls"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|r| Rule {
                    names: r["names"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap().to_string())
                        .collect(),
                    action: action(r["action"].as_str().unwrap(), r["errnoRet"].as_u64()),
                    args: r["args"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|c| ArgCmp {
                                    index: c["index"].as_u64().unwrap() as u8,
                                    value: c["value"].as_u64().unwrap(),
                                    value_two: c["valueTwo"].as_u64().unwrap_or(0),
                                    op: match c["op"].as_str().unwrap() {
                                        "SCMP_CMP_NE" => CmpOp::Ne,
                                        "SCMP_CMP_LT" => CmpOp::Lt,
                                        "SCMP_CMP_LE" => CmpOp::Le,
                                        "SCMP_CMP_EQ" => CmpOp::Eq,
                                        "SCMP_CMP_GE" => CmpOp::Ge,
                                        "SCMP_CMP_GT" => CmpOp::Gt,
                                        "SCMP_CMP_MASKED_EQ" => CmpOp::MaskedEq,
                                        o => panic!("unknown op {o}"),
                                    },
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Profile {
        default_action,
        architectures,
        rules,
    }
}

/// (file name, profile) of every fixture config that has a seccomp section.
pub fn fixture_profiles() -> Vec<(String, Profile)> {
    let mut out = Vec::new();
    let dir = std::fs::read_dir(FIXTURES).expect("fixtures directory");
    let mut names: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
    names.sort();
    for p in names {
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let s = &v["linux"]["seccomp"];
        if s.is_object() {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                profile_from_json(s),
            ));
        }
    }
    out
}

/// xorshift64*: deterministic, seedable, no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}
