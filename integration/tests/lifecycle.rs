//! Container lifecycle: create, start, state, kill, delete, run, list; ids and errors.

use integration::*;
use std::fs;

/// create → created (pid file = state pid, init alive and waiting) → start → running →
/// kill → stopped → delete → nothing left.
#[test]
fn full_lifecycle() {
    let rt = Runtime::new("lifecycle");
    let mut b = Bundle::new("lifecycle");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    let pid_file = rt.dir().join("pidfile");
    let pid_file_s = pid_file.to_string_lossy().into_owned();
    rt.create_with(&id, &b, &["--pid-file", &pid_file_s]).ok();

    let st = rt.state_json(&id);
    assert_eq!(st["status"], "created", "{st}");
    let pid = st["pid"].as_i64().expect("state has a pid") as i32;
    assert!(pid > 0);
    let from_file: i32 = fs::read_to_string(&pid_file)
        .expect("pid file written")
        .trim()
        .parse()
        .expect("pid file holds a number");
    assert_eq!(from_file, pid, "pid file and state pid differ");
    let init = ProcId::of(pid).expect("init process exists after create");
    // Alive and blocked (waiting for start), not running or a zombie.
    assert!(
        matches!(init.state(), Some('S') | Some('D')),
        "init {pid} should be alive and waiting, state {:?}",
        init.state()
    );
    // A created container has not exec'd the user process yet: its cmdline is not `sleep`.
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).starts_with("sleep"),
        "user process already running before start"
    );

    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    // The state may read "running" a moment before the exec completes.
    let runs_sleep = || {
        let c = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        String::from_utf8_lossy(&c).starts_with("sleep")
    };
    assert!(
        wait_until(runs_sleep),
        "after start the init pid never ran the user process"
    );

    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    assert!(!pid_alive(pid));

    rt.delete(&id).ok();
    assert!(!rt.state_dir(&id).exists(), "state dir survives delete");
    rt.state(&id).failed();
    rt.assert_no_leftovers(&id, &b);
}

/// The created container's user process only runs after `start`: its output appears then.
#[test]
fn create_does_not_run_process_until_start() {
    let rt = Runtime::new("createstart");
    let mut b = Bundle::new("createstart");
    b.sh("echo started-output");
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    assert_eq!(rt.status(&id).as_deref(), Some("created"));
    assert!(!rt.container_stdout(&id).contains("started-output"));
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    assert!(wait_until(|| rt
        .container_stdout(&id)
        .contains("started-output")));
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

#[test]
fn run_exit_code_is_propagated() {
    let rt = Runtime::new("runexit");
    let mut b = Bundle::new("runexit");
    b.sh("echo out; echo err >&2; exit 3");
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(out.code(), 3, "stderr: {}", out.stderr_str());
    assert_eq!(out.stdout_str(), "out\n");
    assert!(out.stderr_str().contains("err\n"), "{}", out.stderr_str());
    // run without --keep deletes the container.
    assert!(!rt.state_dir(&id).exists());
    rt.assert_no_leftovers(&id, &b);
}

#[test]
fn run_exit_code_of_signal_is_128_plus_n() {
    let rt = Runtime::new("runsig");
    for (sig, n) in [("KILL", 9), ("TERM", 15), ("USR1", 10)] {
        let mut b = Bundle::new("runsig");
        // Without a pid namespace the shell is not an init process, so a signal it sends
        // itself kills it: the runtime must report that death as 128+N.
        b.remove_namespace("pid");
        b.sh(&format!("kill -{sig} $$; sleep 100"));
        let id = rt.new_id();
        let out = rt.run(&id, &b);
        assert_eq!(out.code(), 128 + n, "signal {sig}: {}", out.stderr_str());
        rt.assert_no_leftovers(&id, &b);
    }
}

/// A foreground `run` whose container is killed from outside (`kill ID KILL`) exits 137.
#[test]
fn run_killed_from_outside_exits_137() {
    let rt = Runtime::new("runkill");
    let mut b = Bundle::new("runkill");
    b.args(&["sleep", "1000"]);
    b.write();
    let id = rt.new_id();
    let child = rt.spawn(&["run", "--bundle", &b.dir_str(), &id]);
    rt.wait_status(&id, "running");
    rt.kill(&id, "KILL").ok();
    let out = wait_output(child);
    assert_eq!(out.code(), 137, "stderr: {}", out.stderr_str());
    rt.assert_no_leftovers(&id, &b);
}
