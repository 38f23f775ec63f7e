//! cgroup v2 file writes against a fake cgroupfs tree in a temp dir (no kernel needed).
//! The real v2 kernel is exercised by the `guest_v2_*` tests inside the QEMU guest.

use super::test_util::TempDir;
use super::{Cgroup, Hierarchies, LinuxResources, Mode};
use std::path::Path;

const CONTROLLERS: &str = "cpuset cpu io memory hugetlb pids rdma misc";
const FILES: [&str; 20] = [
    "cgroup.procs",
    "cgroup.freeze",
    "cgroup.kill",
    "cgroup.controllers",
    "cgroup.subtree_control",
    "memory.max",
    "memory.low",
    "memory.swap.max",
    "cpu.weight",
    "cpu.max",
    "cpu.max.burst",
    "cpu.idle",
    "cpuset.cpus",
    "cpuset.mems",
    "pids.max",
    "io.weight",
    "io.max",
    "hugetlb.2MB.max",
    "rdma.max",
    "memory.high",
];

fn fake_root(t: &TempDir) -> std::path::PathBuf {
    let root = t.0.join("cgroup");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("cgroup.controllers"), CONTROLLERS).unwrap();
    std::fs::write(root.join("cgroup.subtree_control"), "").unwrap();
    std::fs::write(root.join("cgroup.procs"), "").unwrap();
    root
}

/// Create the cgroup, then populate it the way the kernel would.
fn fake_cgroup(root: &Path, path: &str, skip: &[&str]) -> Cgroup {
    let cg = Cgroup::resolve_in(&Hierarchies::v2_at(root), Some(path), "id").unwrap();
    cg.create().unwrap();
    let dir = cg.unified.clone().unwrap();
    for f in FILES.iter().filter(|f| !skip.contains(f)) {
        std::fs::write(dir.join(f), "").unwrap();
    }
    std::fs::write(dir.join("cgroup.controllers"), CONTROLLERS).unwrap();
    std::fs::write(dir.join("cpu.max"), "max 100000").unwrap();
    cg
}

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn get(cg: &Cgroup, f: &str) -> String {
    std::fs::read_to_string(cg.unified.as_ref().unwrap().join(f)).unwrap()
}

#[test]
fn create_enables_controllers_in_every_parent() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = Cgroup::resolve_in(&Hierarchies::v2_at(&root), Some("/a/b"), "id").unwrap();
    assert_eq!(cg.mode, Mode::V2);
    assert_eq!(cg.v2_dir(), Some(root.join("a/b").as_path()));
    // The intermediate directory of a fake tree has no cgroup.controllers until we add one.
    std::fs::create_dir(root.join("a")).unwrap();
    std::fs::write(root.join("a/cgroup.controllers"), "cpu memory pids").unwrap();
    std::fs::write(root.join("a/cgroup.subtree_control"), "").unwrap();
    cg.create().unwrap();
    assert!(root.join("a/b").is_dir());
    assert_eq!(
        std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap(),
        "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("a/cgroup.subtree_control")).unwrap(),
        "+cpu +memory +pids"
    );
}

#[test]
fn docker_limits_become_v2_files() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = fake_cgroup(&root, "/docker/abc", &[]);
    cg.apply(&res(r#"{"memory":{"limit":67108864,"swap":134217728,"reservation":0},
        "cpu":{"shares":0,"quota":50000,"period":100000},"pids":{"limit":50},"blockIO":{"weight":0}}"#))
        .unwrap();
    assert_eq!(get(&cg, "memory.max"), "67108864");
    assert_eq!(get(&cg, "memory.swap.max"), "67108864");
    assert_eq!(get(&cg, "memory.low"), "", "reservation 0 is unset");
    assert_eq!(get(&cg, "cpu.max"), "50000 100000");
    assert_eq!(get(&cg, "cpu.weight"), "", "shares 0 is unset");
    assert_eq!(get(&cg, "io.weight"), "", "blkio weight 0 is unset");
    assert_eq!(get(&cg, "pids.max"), "50");
}

#[test]
fn update_period_only_keeps_quota_and_weights_convert() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = fake_cgroup(&root, "/c", &[]);
    cg.apply(&res(r#"{"cpu":{"quota":25000,"period":100000}}"#))
        .unwrap();
    cg.apply(&res(
        r#"{"cpu":{"period":50000,"shares":1024,"burst":500,"cpus":"0-1","mems":"0","idle":0}}"#,
    ))
    .unwrap();
    assert_eq!(get(&cg, "cpu.max"), "25000 50000");
    assert_eq!(get(&cg, "cpu.weight"), "39");
    assert_eq!(get(&cg, "cpu.max.burst"), "500");
    assert_eq!(get(&cg, "cpuset.cpus"), "0-1");
    assert_eq!(get(&cg, "cpuset.mems"), "0");
    assert_eq!(get(&cg, "cpu.idle"), "0");
    cg.apply(&res(r#"{"blockIO":{"weight":500,"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1000}]},
        "hugepageLimits":[{"pageSize":"2MB","limit":2097152}],"rdma":{"mlx4_0":{"hcaHandles":2,"hcaObjects":10}},
        "pids":{"limit":-1},"unified":{"memory.high":"5000000"}}"#)).unwrap();
    assert_eq!(
        get(&cg, "io.weight"),
        "4950",
        "no io.bfq.weight: converted io.weight"
    );
    assert_eq!(get(&cg, "io.max"), "8:0 rbps=1000");
    assert_eq!(get(&cg, "hugetlb.2MB.max"), "2097152");
    assert_eq!(get(&cg, "rdma.max"), "mlx4_0 hca_handle=2 hca_object=10");
    assert_eq!(get(&cg, "pids.max"), "max");
    assert_eq!(get(&cg, "memory.high"), "5000000");
}

#[test]
fn missing_swap_file_is_ignored_only_for_max_or_zero() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = fake_cgroup(&root, "/s", &["memory.swap.max"]);
    cg.apply(&res(r#"{"memory":{"limit":1000000,"swap":1000000}}"#))
        .unwrap();
    assert_eq!(get(&cg, "memory.max"), "1000000");
    let e = cg
        .apply(&res(r#"{"memory":{"limit":1000000,"swap":3000000}}"#))
        .unwrap_err();
    assert!(e.message.contains("memory.swap.max"), "{e}");
}

#[test]
fn clear_errors_for_unsupported_settings() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = fake_cgroup(&root, "/e", &[]);
    let e = cg
        .apply(&res(r#"{"memory":{"disableOOMKiller":true}}"#))
        .unwrap_err();
    assert!(e.message.contains("disableOOMKiller"), "{e}");
    let e = cg
        .apply(&res(r#"{"cpu":{"realtimePeriod":1000000}}"#))
        .unwrap_err();
    assert!(e.message.contains("realtime"), "{e}");
    let e = cg
        .apply(&res(r#"{"unified":{"foo.bar":"1"}}"#))
        .unwrap_err();
    assert!(
        e.message.contains("controller \"foo\" is not available"),
        "{e}"
    );
    let e = cg
        .apply(&res(r#"{"unified":{"../../etc/passwd":"x"}}"#))
        .unwrap_err();
    assert!(e.message.contains("no slashes"), "{e}");
}

#[test]
fn fake_freeze_and_membership() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = fake_cgroup(&root, "/f", &[]);
    cg.add_pid(12345).unwrap();
    assert_eq!(get(&cg, "cgroup.procs"), "12345");
    assert_eq!(cg.pids().unwrap(), vec![12345]);
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());
    cg.kill_all(libc::SIGKILL).unwrap();
    assert_eq!(get(&cg, "cgroup.kill"), "1");
}

#[test]
fn state_json_round_trip() {
    let t = TempDir::new("fake-v2");
    let root = fake_root(&t);
    let cg = Cgroup::resolve_in(&Hierarchies::v2_at(&root), None, "ctr1").unwrap();
    assert_eq!(cg.unified.as_deref(), Some(root.join("ctr1").as_path()));
    let s = serde_json::to_string(&cg).unwrap();
    assert!(s.contains("\"mode\":\"v2\""), "{s}");
    let back: Cgroup = serde_json::from_str(&s).unwrap();
    assert_eq!(back, cg);
}
