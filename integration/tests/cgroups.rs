//! cgroups on this v1/hybrid host, through real containers: limits enforced by the kernel
//! (memory OOM kill, pids, devices), limits visible in the cgroup files (cpu, the client
//! fixtures), pause/resume, kill --all, update, events, ps, and no cgroup left behind, failed
//! creates included. The v2 half runs in a QEMU guest (hack/cgroup2-vm/test-nucleus.sh).

use integration::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The v1 directory of controller `ctrl` that holds process `pid` (from /proc/PID/cgroup).
fn cg_dir(pid: i32, ctrl: &str) -> PathBuf {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read /proc/PID/cgroup");
    let rel = text
        .lines()
        .find_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
            ctrls
                .split(',')
                .any(|c| c == ctrl)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("pid {pid} has no {ctrl} cgroup:\n{text}"));
    let d = Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join(rel.trim_start_matches('/'));
    assert!(d.is_dir(), "{} is not a directory", d.display());
    assert!(
        rel != "/",
        "pid {pid} is in the root {ctrl} cgroup, not its own"
    );
    d
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

fn init_pid(rt: &Runtime, id: &str) -> i32 {
    let pid = rt.state_json(id)["pid"].as_i64().expect("pid in state") as i32;
    assert!(pid > 0, "container {id} has no pid");
    pid
}

/// Starts `run -d` of `b` and returns (id, init pid).
fn run_detached(rt: &Runtime, b: &Bundle) -> (String, i32) {
    let id = rt.new_id();
    rt.run_with(&id, b, &["-d"]).ok();
    let pid = init_pid(rt, &id);
    (id, pid)
}

/// `delete --force`, then nothing of the container may remain (state, cgroups, processes).
fn remove(rt: &Runtime, id: &str, b: &Bundle) {
    rt.delete_force(id).ok();
    rt.assert_no_leftovers(id, b);
}

fn bundle(script: &str) -> Bundle {
    let mut b = Bundle::new("cg");
    b.sh(script);
    b
}

#[test]
fn memory_limit_oom_kill_exit_137_and_event() {
    // dd's 128 MiB buffer is touched by read(): far above the 32 MiB memory+swap limit.
    let mut b = bundle("dd if=/dev/zero of=/dev/null bs=128M count=1");
    b.set(
        "/linux/resources/memory",
        json!({"limit": 33554432, "swap": 33554432}),
    );
    let rt = Runtime::new("cgoom");

    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(
        out.code(),
        137,
        "OOM-killed container: {}",
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);

    // The same with create/start and `events` watching: an oom event, then events exits.
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let pid = init_pid(&rt, &id);
    let mem = cg_dir(pid, "memory");
    assert_eq!(read(&mem, "memory.limit_in_bytes"), "33554432");
    assert_eq!(read(&mem, "memory.memsw.limit_in_bytes"), "33554432");
    let ev_out = rt.dir().join("events.out");
    let ev_err = rt.dir().join("events.err");
    let mut events = rt
        .command()
        .args(["events", "--interval", "1s", &id])
        .stdin(std::process::Stdio::null())
        .stdout(fs::File::create(&ev_out).unwrap())
        .stderr(fs::File::create(&ev_err).unwrap())
        .spawn()
        .expect("spawn events");
    // events registers its OOM watcher before it prints the first stats line.
    let ready = wait_until_or_exit(&mut events, || {
        fs::read_to_string(&ev_out).is_ok_and(|s| s.contains('\n'))
    });
    assert!(
        ready,
        "events never printed: {:?}",
        fs::read_to_string(&ev_err)
    );
    rt.start(&id).ok();
    if !is_nucleus() {
        // runc's events runs until the cgroup is removed; nucleus's stops with the container.
        rt.wait_status(&id, "stopped");
        rt.delete(&id).ok();
    }
    let status = wait_child(events, "events");
    let text = fs::read_to_string(&ev_out).unwrap();
    assert!(
        status.success(),
        "events failed: {:?}",
        fs::read_to_string(&ev_err)
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines.contains(&json!({"type": "oom", "id": id})),
        "no oom event in {text}"
    );
    assert!(lines
        .iter()
        .any(|l| l["type"] == "stats" && l["id"] == id.as_str()));
    if is_nucleus() {
        assert!(
            read(&mem, "memory.oom_control").contains("oom_kill 1"),
            "oom_control: {}",
            read(&mem, "memory.oom_control")
        );
    }
    remove(&rt, &id, &b);
}

#[test]
fn pids_limit_stops_forks() {
    let mut b = bundle("for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; wait");
    b.set("/linux/resources/pids", json!({"limit": 5}));
    let rt = Runtime::new("cgpids");
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let pids = cg_dir(init_pid(&rt, &id), "pids");
    assert_eq!(read(&pids, "pids.max"), "5");
    assert_eq!(read(&pids, "pids.events"), "max 0");
    rt.start(&id).ok();
    // The shell gives up at the first failed fork (and, as the pid 1 of its namespace,
    // takes the sleeps with it).
    assert!(
        wait_until(|| rt.container_stderr(&id).contains("can't fork")),
        "the shell must report a failed fork: {:?}",
        rt.container_stderr(&id)
    );
    // The kernel counted the refused fork against pids.max.
    assert_ne!(read(&pids, "pids.events"), "max 0");
    remove(&rt, &id, &b);
}

#[test]
fn cpu_quota_shares_cpuset_in_cgroup_files() {
    let mut b = bundle("sleep 100");
    b.set(
        "/linux/resources/cpu",
        json!({"quota": 25000, "period": 50000, "shares": 512, "cpus": "0", "mems": "0"}),
    );
    let rt = Runtime::new("cgcpu");
    let (id, pid) = run_detached(&rt, &b);
    let cpu = cg_dir(pid, "cpu");
    assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "25000");
    assert_eq!(read(&cpu, "cpu.cfs_period_us"), "50000");
    assert_eq!(read(&cpu, "cpu.shares"), "512");
    assert_eq!(read(&cg_dir(pid, "cpuset"), "cpuset.cpus"), "0");
    let allowed = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        allowed.contains("Cpus_allowed_list:\t0\n"),
        "the init runs on cpu 0 only"
    );
    remove(&rt, &id, &b);
}

/// A bundle that opens /dev/kmsg for writing, then for reading, with `rules` after "deny all".
/// A write-only open of kmsg needs no privilege, so only the device cgroup can refuse it.
fn kmsg_bundle(rules: Value) -> Bundle {
    let mut b = bundle(
        "(exec 3>/dev/kmsg) && echo w-ok || echo w-denied; \
         (exec 3</dev/kmsg) && echo r-ok || echo r-denied",
    );
    b.set(
        "/linux/devices",
        json!([{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 438}]),
    );
    let mut list = vec![json!({"allow": false, "access": "rwm"})];
    list.extend(rules.as_array().cloned().unwrap_or_default());
    b.set("/linux/resources/devices", Value::Array(list));
    b
}

#[test]
fn devices_allowed_opens_denied_fails() {
    let rt = Runtime::new("cgdev");
    // Allowed for writing only: the write opens, the read does not.
    let b =
        kmsg_bundle(json!([{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]));
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(
        out.stdout_str(),
        "w-ok\nr-denied\n",
        "stderr: {}",
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);

    // Not allowed: the device node exists but the cgroup refuses it (EPERM).
    let b2 = kmsg_bundle(json!([]));
    let id = rt.new_id();
    let out = rt.run(&id, &b2);
    assert_eq!(
        out.stdout_str(),
        "w-denied\nr-denied\n",
        "stderr: {}",
        out.stderr_str()
    );
    assert!(
        out.stderr_str().contains("Operation not permitted"),
        "the denied open fails with EPERM: {}",
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b2);

    // devices.list of a live container: the allowed rule plus runc's defaults, no blanket rule.
    let mut b3 =
        kmsg_bundle(json!([{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]));
    b3.sh("sleep 100");
    let (id3, pid) = run_detached(&rt, &b3);
    let list = read(&cg_dir(pid, "devices"), "devices.list");
    assert!(list.lines().any(|l| l == "c 1:11 w"), "{list}");
    assert!(list.lines().any(|l| l == "c 1:3 rwm"), "{list}");
    assert!(!list.contains("a *:*"), "{list}");
    remove(&rt, &id3, &b3);
}

#[test]
fn pause_resume_freezes_and_thaws() {
    let b = bundle("sleep 100");
    let rt = Runtime::new("cgpause");
    let (id, pid) = run_detached(&rt, &b);
    let init = ProcId::of(pid).expect("init exists");
    let fz = cg_dir(pid, "freezer");
    let out = rt.cmd(&["resume", &id]);
    out.failed();
    assert!(
        out.stderr_str().contains("container not paused"),
        "{}",
        out.stderr_str()
    );

    rt.cmd(&["pause", &id]).ok();
    assert_eq!(read(&fz, "freezer.state"), "FROZEN");
    assert_eq!(rt.status(&id).as_deref(), Some("paused"));
    // A frozen task sleeps uninterruptibly in the freezer.
    assert_eq!(init.state(), Some('D'));
    let list = rt.list_json();
    assert!(list
        .iter()
        .any(|c| c["id"] == id.as_str() && c["status"] == "paused"));
    // Pausing twice: runc's "container not running".
    let out = rt.cmd(&["pause", &id]);
    out.failed();
    assert!(
        out.stderr_str().contains("container not running"),
        "{}",
        out.stderr_str()
    );

    rt.cmd(&["resume", &id]).ok();
    assert_eq!(read(&fz, "freezer.state"), "THAWED");
    assert_eq!(rt.status(&id).as_deref(), Some("running"));
    assert!(
        wait_until(|| init.state() == Some('S')),
        "{:?}",
        init.state()
    );

    // A paused container is killed and removed by delete --force.
    rt.cmd(&["pause", &id]).ok();
    remove(&rt, &id, &b);
    assert!(!init.alive());

    // Pausing a stopped container.
    let b2 = bundle("true");
    let id2 = rt.new_id();
    rt.run_with(&id2, &b2, &["-d"]).ok();
    rt.wait_status(&id2, "stopped");
    let out = rt.cmd(&["pause", &id2]);
    out.failed();
    assert!(
        out.stderr_str().contains("container not running"),
        "{}",
        out.stderr_str()
    );
    remove(&rt, &id2, &b2);
}

#[test]
fn kill_all_reaches_every_process() {
    // Without a pid namespace, killing the init alone would leave the sleeps running.
    let mut b = bundle("sleep 100 & sleep 100 & wait");
    b.remove_namespace("pid");
    let rt = Runtime::new("cgkillall");
    let (id, pid) = run_detached(&rt, &b);
    let procs = cg_dir(pid, "pids");
    assert!(wait_until(
        || read(&procs, "cgroup.procs").lines().count() == 3
    ));
    let kids: Vec<ProcId> = read(&procs, "cgroup.procs")
        .lines()
        .filter_map(|l| ProcId::of(l.parse().ok()?))
        .collect();
    rt.cmd(&["kill", "--all", &id, "KILL"]).ok();
    assert!(
        wait_until(|| kids.iter().all(|p| !p.alive())),
        "processes survived kill --all"
    );
    rt.wait_status(&id, "stopped");
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

#[test]
fn update_changes_limits_while_running() {
    let b = bundle("sleep 100");
    let rt = Runtime::new("cgupdate");
    let (id, pid) = run_detached(&rt, &b);
    let (mem, cpu, pids) = (
        cg_dir(pid, "memory"),
        cg_dir(pid, "cpu"),
        cg_dir(pid, "pids"),
    );

    // Exactly what Docker sends for `docker update -m 128m --memory-swap 256m --pids-limit 60
    // --cpus 0.25` (zeros meaning "unchanged").
    let docker = fixture("docker-update-resources").to_string().into_bytes();
    rt.cmd_stdin(&["update", "--resources", "-", &id], Some(&docker))
        .ok();
    assert_eq!(read(&mem, "memory.limit_in_bytes"), "134217728");
    assert_eq!(read(&mem, "memory.memsw.limit_in_bytes"), "268435456");
    assert_eq!(read(&pids, "pids.max"), "60");
    assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "25000");
    assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");

    // runc's single-resource flags, sizes with suffixes; lowering memory below memsw.
    rt.cmd(&[
        "update",
        "--memory",
        "64m",
        "--memory-swap",
        "96M",
        "--memory-reservation",
        "32m",
        "--pids-limit",
        "20",
        "--cpu-share",
        "256",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "10000",
        "--cpuset-cpus",
        "0",
        &id,
    ])
    .ok();
    assert_eq!(read(&mem, "memory.limit_in_bytes"), "67108864");
    assert_eq!(read(&mem, "memory.memsw.limit_in_bytes"), "100663296");
    assert_eq!(read(&mem, "memory.soft_limit_in_bytes"), "33554432");
    assert_eq!(read(&pids, "pids.max"), "20");
    assert_eq!(read(&cpu, "cpu.shares"), "256");
    assert_eq!(read(&cpu, "cpu.cfs_period_us"), "50000");
    assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "10000");
    assert_eq!(read(&cg_dir(pid, "cpuset"), "cpuset.cpus"), "0");

    // From a file; a bad size is refused and changes nothing.
    let f = rt.dir().join("res.json");
    fs::write(&f, r#"{"pids":{"limit":-1}}"#).unwrap();
    rt.cmd(&["update", "-r", &f.to_string_lossy(), &id]).ok();
    assert_eq!(read(&pids, "pids.max"), "max");
    let out = rt.cmd(&["update", "--memory", "12q", &id]);
    out.failed();
    assert!(out.stderr_str().contains("memory"), "{}", out.stderr_str());
    assert_eq!(read(&mem, "memory.limit_in_bytes"), "67108864");

    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    let out = rt.cmd(&["update", "--pids-limit", "3", &id]);
    out.failed();
    assert!(
        out.stderr_str().contains("container not running"),
        "{}",
        out.stderr_str()
    );
    remove(&rt, &id, &b);
}

#[test]
fn events_stats_and_ps() {
    let mut b = bundle("sleep 100 & sleep 100 & wait");
    b.set("/linux/resources/pids", json!({"limit": 7}));
    b.set("/linux/resources/memory", json!({"limit": 67108864}));
    let rt = Runtime::new("cgevents");
    let (id, pid) = run_detached(&rt, &b);
    let procs = cg_dir(pid, "pids");
    assert!(wait_until(
        || read(&procs, "cgroup.procs").lines().count() == 3
    ));

    let out = rt.cmd(&["events", "--stats", &id]);
    out.ok();
    let text = out.stdout_str();
    assert_eq!(text.lines().count(), 1, "one snapshot: {text}");
    let ev: Value = serde_json::from_str(&text).expect("events --stats prints JSON");
    assert_eq!(ev["type"], "stats");
    assert_eq!(ev["id"], id.as_str());
    let d = &ev["data"];
    assert_eq!(d["pids"]["current"], 3, "{d}");
    assert_eq!(d["pids"]["limit"], 7, "{d}");
    assert_eq!(d["memory"]["usage"]["limit"], 67108864, "{d}");
    let mem = cg_dir(pid, "memory");
    assert!(
        d["memory"]["usage"]["usage"].as_u64().unwrap_or(0) > 0,
        "{d}"
    );
    assert!(d["memory"]["raw"]["rss"].is_u64(), "{d}");
    assert!(d["cpu"]["usage"]["total"].as_u64().unwrap_or(0) > 0, "{d}");
    assert_eq!(
        d["memory"]["usage"]["failcnt"].as_u64(),
        read(&mem, "memory.failcnt").parse().ok()
    );

    // ps --format json: the three host pids of the cgroup.
    let out = rt.cmd(&["ps", "--format", "json", &id]);
    out.ok();
    let mut got: Vec<i64> = serde_json::from_str(&out.stdout_str()).expect("ps json");
    got.sort();
    let mut want: Vec<i64> = read(&procs, "cgroup.procs")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(got.contains(&(pid as i64)));

    // ps (table): the header and one row per process, with the host pid.
    let out = rt.cmd(&["ps", &id]);
    out.ok();
    let t = out.stdout_str();
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[0].contains("PID") && lines[0].contains("CMD"), "{t}");
    assert_eq!(lines.len(), 4, "{t}");
    assert_eq!(
        lines.iter().filter(|l| l.ends_with(" sleep 100")).count(),
        2,
        "{t}"
    );
    // ps arguments after the id (runc hands everything after the id to ps, `--` included).
    let out = rt.cmd(&["ps", &id, "-o", "pid,comm"]);
    out.ok();
    let t = out.stdout_str();
    assert_eq!(
        t.lines()
            .next()
            .map(str::split_whitespace)
            .map(|w| w.collect::<Vec<_>>()),
        Some(vec!["PID", "COMMAND"])
    );
    assert!(
        t.lines()
            .any(|l| l.split_whitespace().next() == Some(&pid.to_string()[..])),
        "{t}"
    );
    remove(&rt, &id, &b);
}

// ---------------------------------------------------------------------------------------------
// Client fixtures: their limits in the cgroup files.

fn fixture(name: &str) -> Value {
    let p = std::env::var_os("NUCLEUS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/fixtures/configs"))
        .join(format!("{name}.json"));
    let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Fixtures share cgroup parents (`/docker`, ...) that are removed when empty: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs fixture `name` detached (`sleep 100`) with its cgroupsPath parent kept and its leaf
/// renamed to the container id; `check` gets the init pid. Removes the parent when empty.
fn with_fixture(name: &str, check: impl FnOnce(i32)) {
    let _g = serial();
    let rt = Runtime::new("cgfx");
    let id = rt.new_id();
    let mut cfg = fixture(name);
    let mut b = Bundle::new("cgfx");
    cfg["root"]["path"] = json!("rootfs");
    cfg["process"]["args"] = json!(["sleep", "100"]);
    cfg["process"]["terminal"] = json!(false);
    let l = cfg["linux"].as_object_mut().expect("linux");
    l.remove("seccomp");
    cfg.as_object_mut().expect("config").remove("hooks");
    let parent = cfg["linux"]["cgroupsPath"]
        .as_str()
        .and_then(|p| {
            Path::new(p)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .expect("fixture has a cgroupsPath");
    cfg["linux"]["cgroupsPath"] = json!(format!("{parent}/{id}"));
    // Bind sources from the capture machine: placeholders in the bundle.
    let ph = b.dir().join("placeholders");
    fs::create_dir_all(&ph).unwrap();
    for (i, m) in cfg["mounts"]
        .as_array_mut()
        .expect("mounts")
        .iter_mut()
        .enumerate()
    {
        let src = m["source"].as_str().unwrap_or("").to_string();
        if m["type"] == "bind" && !Path::new(&src).exists() {
            let p = ph.join(i.to_string());
            if src.ends_with("/shm") {
                fs::create_dir(&p).unwrap();
            } else {
                fs::write(&p, "").unwrap();
            }
            m["source"] = json!(p);
        }
    }
    b.config = cfg;
    rt.run_with(&id, &b, &["-d"]).ok();
    let pid = init_pid(&rt, &id);
    let mem = cg_dir(pid, "memory");
    assert!(
        mem.ends_with(format!("{}/{id}", parent.trim_start_matches('/'))),
        "{mem:?}"
    );
    check(pid);
    remove(&rt, &id, &b);
    for c in fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = fs::remove_dir(c.path().join(parent.trim_start_matches('/')));
    }
}

fn check_devices_default_deny(pid: i32, denied: &str) {
    let list = read(&cg_dir(pid, "devices"), "devices.list");
    assert!(!list.contains("a *:*"), "{list}");
    for l in ["c 1:3 rwm", "c 1:5 rwm", "c 5:0 rwm", "c 136:* rwm"] {
        assert!(list.lines().any(|x| x == l), "missing {l}: {list}");
    }
    assert!(!list.contains(denied), "{denied} allowed: {list}");
}

#[test]
fn fixture_docker_memory_pids_cpus() {
    with_fixture("docker-memory-pids-cpus", |pid| {
        let mem = cg_dir(pid, "memory");
        assert_eq!(read(&mem, "memory.limit_in_bytes"), "67108864");
        assert_eq!(read(&mem, "memory.memsw.limit_in_bytes"), "134217728");
        assert_eq!(read(&cg_dir(pid, "pids"), "pids.max"), "50");
        let cpu = cg_dir(pid, "cpu");
        assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
        // Docker's "shares": 0 means unset: the kernel default stays.
        assert_eq!(read(&cpu, "cpu.shares"), "1024");
        check_devices_default_deny(pid, "10:229");
    });
}

#[test]
fn fixture_podman_limits() {
    with_fixture("podman-limits", |pid| {
        let mem = cg_dir(pid, "memory");
        assert_eq!(read(&mem, "memory.limit_in_bytes"), "67108864");
        assert_eq!(read(&mem, "memory.memsw.limit_in_bytes"), "134217728");
        assert_eq!(read(&cg_dir(pid, "pids"), "pids.max"), "50");
        assert_eq!(read(&cg_dir(pid, "cpu"), "cpu.cfs_quota_us"), "50000");
        check_devices_default_deny(pid, "10:229");
    });
}

#[test]
fn fixture_ctr_memory() {
    with_fixture("ctr-memory", |pid| {
        assert_eq!(
            read(&cg_dir(pid, "memory"), "memory.limit_in_bytes"),
            "67108864"
        );
        assert_eq!(read(&cg_dir(pid, "cpu"), "cpu.shares"), "1024");
        assert_eq!(read(&cg_dir(pid, "pids"), "pids.max"), "max");
        check_devices_default_deny(pid, "10:229");
    });
}

// ---------------------------------------------------------------------------------------------
// Failures leave nothing behind.

#[test]
fn failed_creates_leave_no_cgroup() {
    let rt = Runtime::new("cgfail");
    let check = |b: &Bundle, expect: &str| {
        let id = rt.new_id();
        let out = rt.create(&id, b);
        out.failed();
        assert!(
            out.stderr_str().contains(expect),
            "expected {expect:?} in: {}",
            out.stderr_str()
        );
        rt.assert_no_leftovers(&id, b);
    };
    // The process does not exist: fails after the cgroup was made and the init placed.
    check(&bundle_args(&["/nonexistent"]), "nonexistent");
    // A createRuntime hook fails.
    let mut b = bundle("true");
    b.hook("createRuntime", json!({"path": "/bin/false"}));
    check(&b, "hook");
    // The kernel refuses a limit (no such cpu).
    let mut b = bundle("true");
    b.set("/linux/resources/cpu", json!({"cpus": "4095"}));
    check(&b, "cpuset.cpus");
    // systemd's slice:prefix:name form has no driver here (runc's cgroupfs driver takes it as a
    // directory name; nucleus refuses it clearly).
    if is_nucleus() {
        let mut b = bundle("true");
        b.set("/linux/cgroupsPath", json!("system.slice:nucleus:x"));
        check(&b, "systemd");
    }
}

fn bundle_args(args: &[&str]) -> Bundle {
    let mut b = Bundle::new("cg");
    b.args(args);
    b
}

#[test]
fn features_lists_this_hosts_cgroups() {
    let rt = Runtime::new("cgfeat");
    let out = rt.bare(&["features"]);
    out.ok();
    let f: Value = serde_json::from_slice(&out.stdout).expect("features JSON");
    let cg = &f["linux"]["cgroup"];
    assert_eq!(cg["v1"], true, "{cg}");
    if is_nucleus() {
        // Hybrid: the unified tree is used too; no systemd; no rdma controller here.
        assert_eq!(cg["v2"], true, "{cg}");
        assert_eq!(cg["systemd"], false, "{cg}");
        assert_eq!(cg["rdma"], false, "{cg}");
    }
}
