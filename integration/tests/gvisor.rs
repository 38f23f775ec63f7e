//! `run.oci.handler=gvisor`: nucleus hands the container to runsc (gVisor) and every verb keeps
//! working through nucleus. Needs runsc installed (Debian: `apt-get install runsc`); without it
//! these tests fail, they do not skip.

use integration::*;
use serde_json::json;

fn gvisor_bundle(test: &str, args: &[&str]) -> Bundle {
    assert!(
        ["/usr/sbin/runsc", "/usr/bin/runsc", "/usr/local/bin/runsc"]
            .iter()
            .any(|p| std::path::Path::new(p).exists()),
        "runsc is not installed (apt-get install runsc)"
    );
    let mut b = Bundle::new(test);
    b.args(args);
    b.set("/annotations/run.oci.handler", json!("gvisor"));
    b
}

/// No runsc process (sandbox, gofer, wait) still names the container.
fn runsc_processes_of(id: &str) -> Vec<(i32, String)> {
    processes_referring_to("/nonexistent-bundle", id)
        .into_iter()
        .filter(|(_, why)| why.contains("runsc"))
        .collect()
}

#[test]
fn lifecycle_through_nucleus() {
    let rt = Runtime::new("gv-life");
    let b = gvisor_bundle("gv-life", &["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    assert_eq!(rt.status(&id).as_deref(), Some("created"));
    let st = rt.state_json(&id);
    assert!(st["pid"].as_i64().unwrap() > 0, "{st}");
    assert_eq!(st["annotations"]["run.oci.handler"], "gvisor");
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    assert!(
        !runsc_processes_of(&id).is_empty(),
        "no runsc sandbox/gofer found"
    );

    // The workload runs under gVisor's kernel, not the host's.
    let out = rt.exec(&id, &["dmesg"]);
    out.ok();
    assert!(
        out.stdout_str()
            .starts_with("[   0.000000] Starting gVisor"),
        "dmesg: {}",
        out.stdout_str()
    );
    // exec: exit codes, environment and working directory flags.
    assert_eq!(rt.exec(&id, &["sh", "-c", "exit 7"]).code(), 7);
    let out = rt.exec_with(
        &id,
        &["--env", "GV=yes", "--cwd", "/tmp"],
        &["sh", "-c", "echo $GV; pwd"],
    );
    out.ok();
    assert_eq!(out.stdout_str(), "yes\n/tmp\n");

    let ps = rt.cmd(&["ps", &id]);
    ps.ok();
    assert!(ps.stdout_str().contains("sleep"), "{}", ps.stdout_str());
    let ps = rt.cmd(&["ps", "--format", "json", &id]);
    ps.ok();
    let pids: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
    assert!(pids.as_array().is_some_and(|a| !a.is_empty()), "{pids}");

    let list = rt.list_json();
    let row = list
        .iter()
        .find(|r| r["id"] == id.as_str())
        .expect("listed");
    assert_eq!(row["status"], "running");
    assert_eq!(row["pid"], st["pid"]);

    rt.cmd(&["pause", &id]).ok();
    assert_eq!(rt.status(&id).as_deref(), Some("paused"));
    rt.cmd(&["resume", &id]).ok();
    assert_eq!(rt.status(&id).as_deref(), Some("running"));
    let ev = rt.cmd(&["events", "--stats", &id]);
    ev.ok();
    let ev: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
    assert_eq!(ev["type"], "stats");

    // A running container cannot be deleted without --force.
    rt.delete(&id).failed();
    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    rt.kill(&id, "KILL").failed();
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
    assert!(
        wait_until(|| runsc_processes_of(&id).is_empty()),
        "{:?}",
        runsc_processes_of(&id)
    );
}

#[test]
fn run_returns_the_exit_code_and_output() {
    let rt = Runtime::new("gv-run");
    let b = gvisor_bundle("gv-run", &["sh", "-c", "dmesg | head -n 1; exit 5"]);
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(out.code(), 5, "stderr: {}", out.stderr_str());
    assert!(
        out.stdout_str().contains("Starting gVisor"),
        "{}",
        out.stdout_str()
    );
    rt.assert_no_leftovers(&id, &b);
    assert!(runsc_processes_of(&id).is_empty());
}

#[test]
fn force_delete_of_a_running_sandbox_leaves_nothing() {
    let rt = Runtime::new("gv-force");
    let b = gvisor_bundle("gv-force", &["sleep", "1000"]);
    let id = rt.new_id();
    rt.run_with(&id, &b, &["-d"]).ok();
    rt.wait_status(&id, "running");
    let pid = rt.state_json(&id)["pid"].as_i64().unwrap() as i32;
    rt.delete_force(&id).ok();
    assert!(!pid_alive(pid), "sandbox {pid} survived delete --force");
    rt.assert_no_leftovers(&id, &b);
    assert!(
        wait_until(|| runsc_processes_of(&id).is_empty()),
        "{:?}",
        runsc_processes_of(&id)
    );
}

#[test]
fn unknown_handler_and_landlock_are_refused_cleanly() {
    let rt = Runtime::new("gv-bad");
    let mut b = Bundle::new("gv-bad");
    b.args(&["true"]);
    b.set("/annotations/run.oci.handler", json!("wasm"));
    let id = rt.new_id();
    let out = rt.create(&id, &b);
    out.failed();
    let err = out.stderr_str();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown handler \\\"wasm\\\"") || err.contains("unknown handler \"wasm\""),
        "{err}"
    );
    rt.assert_no_leftovers(&id, &b);

    let mut b = gvisor_bundle("gv-bad", &["true"]);
    b.set(
        "/annotations/run.oci.landlock",
        json!(r#"{"ruleset":{"scoped":["signal"]}}"#),
    );
    let id = rt.new_id();
    let out = rt.create(&id, &b);
    out.failed();
    assert!(
        out.stderr_str().contains("Landlock"),
        "{}",
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);
}
