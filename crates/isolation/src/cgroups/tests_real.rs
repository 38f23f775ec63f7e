//! Real cgroups. `host_v1_*` run on this (v1/hybrid) host and fail on any other kind;
//! `guest_v2_*` are `#[ignore]`d here and run inside the QEMU cgroup-v2 guest
//! (hack/cgroup2-vm/run.sh runs `--ignored guest_v2_`), where they fail on anything but v2.
//! Both call the same bodies: the behaviour must be identical on both layouts.

use super::test_util::{eventually, read, CgGuard, Kid};
use super::{detect, Cgroup, LinuxResources, Mode};
use std::path::Path;
use std::time::Duration;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn need(modes: &[Mode]) {
    let m = detect();
    assert!(
        modes.contains(&m),
        "this test needs a {modes:?} host, this one is {m:?}"
    );
}

const V1: &[Mode] = &[Mode::V1, Mode::Hybrid];
const V2: &[Mode] = &[Mode::V2];

/// The directory that holds `file` for this cgroup (v1: by controller, v2: the one dir).
fn dir<'a>(cg: &'a Cgroup, ctrl: &str) -> &'a Path {
    match cg.mode {
        Mode::V2 => cg.unified.as_deref().unwrap(),
        _ => cg.v1.get(ctrl).unwrap_or_else(|| panic!("no v1 {ctrl}")),
    }
}

fn memory_limit_oom_kill() {
    let g = CgGuard::create("oom");
    let cg = &g.0;
    cg.apply(&res(r#"{"memory":{"limit":33554432,"swap":33554432}}"#))
        .unwrap();
    match cg.mode {
        Mode::V2 => assert_eq!(read(dir(cg, "memory"), "memory.max"), "33554432"),
        _ => assert_eq!(read(dir(cg, "memory"), "memory.limit_in_bytes"), "33554432"),
    }
    let mut watcher = cg.oom_watcher().unwrap();
    let before = cg.oom_kill_count().unwrap().unwrap_or(0);
    // dd's 128 MiB buffer is touched by read(): far above the 32 MiB limit.
    let kid = Kid::spawn_in(cg, "exec dd if=/dev/zero of=/dev/null bs=128M count=1");
    let (code, sig, _, err) = kid.finish();
    assert_eq!(
        sig,
        Some(libc::SIGKILL),
        "dd must be OOM-killed (exit {code:?}, stderr {err:?})"
    );
    let after = cg
        .oom_kill_count()
        .unwrap()
        .expect("kernel counts oom_kill");
    assert!(after > before, "oom_kill count {before} -> {after}");
    assert!(
        watcher.wait(Some(Duration::from_secs(10))).unwrap() >= 1,
        "OOM watcher saw the kill"
    );
}

fn pids_limit_stops_forks() {
    let g = CgGuard::create("pids");
    let cg = &g.0;
    cg.apply(&res(r#"{"pids":{"limit":4}}"#)).unwrap();
    assert_eq!(read(dir(cg, "pids"), "pids.max"), "4");
    let kid = Kid::spawn_in(
        cg,
        "for i in 1 2 3 4 5 6 7 8; do sleep 30 </dev/null >/dev/null 2>&1 & done; echo done",
    );
    let (_, _, _, err) = kid.finish();
    assert!(
        err.to_lowercase().contains("fork"),
        "the shell must report a failed fork: {err:?}"
    );
    // The shell and 3 sleeps fit in 4; the shell has exited, so 3 remain.
    let pids = cg.pids().unwrap();
    assert_eq!(pids.len(), 3, "pids left: {pids:?}");
    let stats = cg.stats().unwrap();
    assert_eq!(stats["pids"]["limit"], 4, "{stats}");
    assert_eq!(stats["pids"]["current"], 3, "{stats}");
    cg.kill_all(libc::SIGKILL).unwrap();
    eventually("cgroup empty after kill_all", || {
        cg.pids().unwrap().is_empty()
    });
}

fn cpu_quota_and_update() {
    let g = CgGuard::create("cpu");
    let cg = &g.0;
    cg.apply(&res(
        r#"{"cpu":{"shares":512,"quota":20000,"period":100000}}"#,
    ))
    .unwrap();
    let d = dir(cg, "cpu");
    match cg.mode {
        Mode::V2 => {
            assert_eq!(read(d, "cpu.max"), "20000 100000");
            assert_eq!(read(d, "cpu.weight"), "20");
        }
        _ => {
            assert_eq!(read(d, "cpu.cfs_quota_us"), "20000");
            assert_eq!(read(d, "cpu.cfs_period_us"), "100000");
            assert_eq!(read(d, "cpu.shares"), "512");
        }
    }
    // runc update --cpu-period alone keeps the quota.
    cg.apply(&res(r#"{"cpu":{"period":50000}}"#)).unwrap();
    match cg.mode {
        Mode::V2 => assert_eq!(read(d, "cpu.max"), "20000 50000"),
        _ => {
            assert_eq!(read(d, "cpu.cfs_quota_us"), "20000");
            assert_eq!(read(d, "cpu.cfs_period_us"), "50000");
        }
    }
    // A busy child is throttled and shows up in the stats.
    let kid = Kid::spawn_in(cg, "while :; do :; done");
    eventually("cpu usage and throttling in stats", || {
        let s = cg.stats().unwrap();
        s["cpu"]["usage"]["total"].as_u64().unwrap_or(0) > 0
            && s["cpu"]["throttling"]["throttled_periods"]
                .as_u64()
                .unwrap_or(0)
                > 0
    });
    drop(kid);
}

fn devices_allow_and_deny() {
    let g = CgGuard::create("dev");
    let cg = &g.0;
    // /dev/zero (1:5) allowed, /dev/null (1:3) not listed → denied by default.
    cg.apply(&res(r#"{"devices":[{"allow":false,"access":"rwm"},
        {"allow":true,"type":"c","major":1,"minor":5,"access":"rwm"}]}"#))
        .unwrap();
    let script = "(: </dev/zero) && echo zero-ok; (: </dev/null) 2>/dev/zero || echo null-denied";
    let (_, _, out, _) = Kid::spawn_in(cg, script).finish();
    assert_eq!(out, "zero-ok\nnull-denied\n");
    // update: now allow /dev/null too and deny read of /dev/zero (last rule wins).
    cg.apply(&res(r#"{"devices":[{"allow":false,"access":"rwm"},
        {"allow":true,"type":"c","major":1,"minor":5,"access":"rwm"},
        {"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"},
        {"allow":false,"type":"c","major":1,"minor":5,"access":"r"}]}"#))
        .unwrap();
    let script =
        "(: </dev/null) && echo null-ok; (: </dev/zero) 2>/dev/null || echo zero-read-denied";
    let (_, _, out, _) = Kid::spawn_in(cg, script).finish();
    assert_eq!(out, "null-ok\nzero-read-denied\n");
}

fn freeze_and_thaw() {
    let g = CgGuard::create("freeze");
    let cg = &g.0;
    let tmp = super::test_util::TempDir::new("counter");
    let f = tmp.0.join("n");
    let mut kid = Kid::spawn_in(
        cg,
        &format!(
            "echo started; i=0; while :; do i=$((i+1)); echo $i > {}; done",
            f.display()
        ),
    );
    assert_eq!(kid.read_line(), "started");
    let counter = || std::fs::read_to_string(&f).unwrap_or_default();
    eventually("counter running", || !counter().is_empty());
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    let a = counter();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(counter(), a, "a frozen process must not run");
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());
    eventually("counter moves again after thaw", || counter() != a);
}

fn kill_all_reaches_every_process() {
    let g = CgGuard::create("kill");
    let cg = &g.0;
    let mut kid = Kid::spawn_in(cg, "sleep 60 & sleep 60 & echo up; wait");
    assert_eq!(kid.read_line(), "up");
    assert_eq!(cg.pids().unwrap().len(), 3);
    assert!(cg.pids().unwrap().contains(&kid.pid()));
    cg.kill_all(libc::SIGKILL).unwrap();
    let (_, sig, _, _) = kid.finish();
    assert_eq!(sig, Some(libc::SIGKILL));
    eventually("cgroup empty", || cg.pids().unwrap().is_empty());
    // kill_all with another signal goes pid by pid.
    let mut kid = Kid::spawn_in(cg, "echo up; exec sleep 60");
    assert_eq!(kid.read_line(), "up");
    cg.kill_all(libc::SIGTERM).unwrap();
    let (_, sig, _, _) = kid.finish();
    assert_eq!(sig, Some(libc::SIGTERM));
}

/// docker update -m 128m --memory-swap 256m --pids-limit 60 --cpus 0.25 on a running container
/// created with -m 64m --pids-limit 50 --cpus 0.5 (memsw has to be raised before memory).
fn update_while_running() {
    let g = CgGuard::create("update");
    let cg = &g.0;
    cg.apply(&res(r#"{"memory":{"limit":67108864,"swap":134217728},"cpu":{"shares":0,"quota":50000,"period":100000},"pids":{"limit":50}}"#)).unwrap();
    let mut kid = Kid::spawn_in(cg, "echo up; exec sleep 60");
    assert_eq!(kid.read_line(), "up");
    cg.apply(&res(r#"{"memory":{"limit":134217728,"reservation":0,"swap":268435456,"kernel":0},
        "cpu":{"shares":0,"quota":25000,"period":100000},"pids":{"limit":60},"blockIO":{"weight":0}}"#))
        .unwrap();
    match cg.mode {
        Mode::V2 => {
            assert_eq!(read(dir(cg, "memory"), "memory.max"), "134217728");
            assert_eq!(read(dir(cg, "cpu"), "cpu.max"), "25000 100000");
        }
        _ => {
            assert_eq!(
                read(dir(cg, "memory"), "memory.limit_in_bytes"),
                "134217728"
            );
            assert_eq!(
                read(dir(cg, "memory"), "memory.memsw.limit_in_bytes"),
                "268435456"
            );
            assert_eq!(read(dir(cg, "cpu"), "cpu.cfs_quota_us"), "25000");
        }
    }
    assert_eq!(read(dir(cg, "pids"), "pids.max"), "60");
    // And back down again (memory first this time).
    cg.apply(&res(r#"{"memory":{"limit":67108864,"swap":134217728}}"#))
        .unwrap();
    let s = cg.stats().unwrap();
    assert_eq!(s["memory"]["usage"]["limit"], 67108864, "{s}");
    assert!(
        s["memory"]["usage"]["usage"].as_u64().unwrap_or(0) > 0,
        "{s}"
    );
    assert_eq!(s["pids"]["current"], 1, "{s}");
    assert!(cg.pids().unwrap().contains(&kid.pid()));
}

#[test]
fn host_v1_memory_limit_oom_kill() {
    need(V1);
    memory_limit_oom_kill();
}
#[test]
fn host_v1_pids_limit_stops_forks() {
    need(V1);
    pids_limit_stops_forks();
}
#[test]
fn host_v1_cpu_quota_and_update() {
    need(V1);
    cpu_quota_and_update();
}
#[test]
fn host_v1_devices_allow_and_deny() {
    need(V1);
    devices_allow_and_deny();
}
#[test]
fn host_v1_freeze_and_thaw() {
    need(V1);
    freeze_and_thaw();
}
#[test]
fn host_v1_kill_all() {
    need(V1);
    kill_all_reaches_every_process();
}
#[test]
fn host_v1_update_while_running() {
    need(V1);
    update_while_running();
}

/// The resource sections real clients sent (../shared/fixtures) apply cleanly on this host.
#[test]
fn host_v1_client_fixtures_apply() {
    need(V1);
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/configs");
    for (name, expect_mem, expect_pids) in [
        ("docker-memory-pids-cpus.json", "67108864", Some("50")),
        ("podman-limits.json", "67108864", Some("50")),
        ("ctr-memory.json", "67108864", None),
    ] {
        let text = std::fs::read_to_string(base.join(name))
            .unwrap_or_else(|e| panic!("fixture {name} ({}): {e}", base.display()));
        let spec: serde_json::Value = serde_json::from_str(&text).unwrap();
        let r: LinuxResources = serde_json::from_value(spec["linux"]["resources"].clone()).unwrap();
        // What create does: the client's rules plus runc's default devices.
        let r = spec_translate::resources::with_runc_default_devices(&r);
        let g = CgGuard::create("fixture");
        g.0.apply(&r).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            read(dir(&g.0, "memory"), "memory.limit_in_bytes"),
            expect_mem,
            "{name}"
        );
        if let Some(p) = expect_pids {
            assert_eq!(read(dir(&g.0, "pids"), "pids.max"), p, "{name}");
        }
        let list = read(dir(&g.0, "devices"), "devices.list");
        assert!(
            list.contains("c 1:3 rwm"),
            "{name}: /dev/null allowed: {list}"
        );
        assert!(!list.contains("a *:*"), "{name}: default deny: {list}");
    }
}

/// A hybrid host gets a twin in the unified tree (for cgroup.kill and hugetlb).
#[test]
fn host_v1_hybrid_twin_and_relative_path() {
    need(V1);
    let id = super::test_util::unique("rel");
    let cg = Cgroup::resolve(None, &id).unwrap();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mem_own = own
        .lines()
        .find_map(|l| {
            l.split(':')
                .nth(1)
                .filter(|c| *c == "memory")
                .map(|_| l.rsplit(':').next().unwrap())
        })
        .unwrap();
    assert_eq!(
        cg.v1["memory"],
        Path::new("/sys/fs/cgroup/memory")
            .join(mem_own.trim_start_matches('/'))
            .join(&id)
    );
    if detect() == Mode::Hybrid {
        assert!(cg
            .unified
            .as_ref()
            .unwrap()
            .starts_with("/sys/fs/cgroup/unified"));
    }
}

#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_memory_limit_oom_kill() {
    need(V2);
    memory_limit_oom_kill();
}
#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_pids_limit_stops_forks() {
    need(V2);
    pids_limit_stops_forks();
}
#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_cpu_quota_and_update() {
    need(V2);
    cpu_quota_and_update();
}
#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_devices_bpf_allow_and_deny() {
    need(V2);
    devices_allow_and_deny();
}
#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_freeze_and_thaw() {
    need(V2);
    freeze_and_thaw();
}
#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_cgroup_kill() {
    need(V2);
    kill_all_reaches_every_process();
}
#[test]
#[ignore = "cgroup v2 only: runs in the QEMU guest (make test-cgroup2)"]
fn guest_v2_update_while_running() {
    need(V2);
    update_while_running();
}
