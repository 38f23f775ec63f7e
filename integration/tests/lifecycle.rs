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
    let mut child = rt.spawn(&["run", "--bundle", &b.dir_str(), &id]);
    if !wait_until_or_exit(&mut child, || rt.status(&id).as_deref() == Some("running")) {
        let out = wait_output(child);
        panic!("container never ran: {}", out.stderr_str());
    }
    rt.kill(&id, "KILL").ok();
    let out = wait_output(child);
    assert_eq!(out.code(), 137, "stderr: {}", out.stderr_str());
    rt.assert_no_leftovers(&id, &b);
}

/// A foreground `run` forwards signals it receives to the container: the container's shell
/// traps TERM, prints, and exits with its own code, which `run` returns.
#[test]
fn run_forwards_signals_to_container() {
    let rt = Runtime::new("sigfwd");
    let mut b = Bundle::new("sigfwd");
    b.readonly(false);
    b.sh("trap 'echo got-term; exit 42' TERM; touch /tmp/ready; while :; do sleep 0.05; done");
    b.write();
    let id = rt.new_id();
    let mut child = rt.spawn(&["run", "--bundle", &b.dir_str(), &id]);
    let ready = b.rootfs().join("tmp/ready");
    if !wait_until_or_exit(&mut child, || ready.exists()) {
        let out = wait_output(child);
        panic!("container never became ready: {}", out.stderr_str());
    }
    // SAFETY: kill(2) on our own child (the runtime process).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = wait_output(child);
    assert_eq!(out.code(), 42, "stderr: {}", out.stderr_str());
    assert!(
        out.stdout_str().contains("got-term"),
        "{}",
        out.stdout_str()
    );
    rt.assert_no_leftovers(&id, &b);
}

/// `kill` accepts KILL, SIGKILL and 9 and the container dies.
#[test]
fn kill_sigkill_by_name_and_number() {
    let rt = Runtime::new("killkill");
    for sig in ["KILL", "SIGKILL", "9"] {
        let mut b = Bundle::new("killkill");
        b.args(&["sleep", "1000"]);
        let id = rt.new_id();
        rt.create(&id, &b).ok();
        rt.start(&id).ok();
        rt.wait_status(&id, "running");
        rt.kill(&id, sig).ok();
        rt.wait_status(&id, "stopped");
        rt.delete(&id).ok();
        rt.assert_no_leftovers(&id, &b);
    }
}

/// `kill` accepts TERM, SIGTERM, 15 and no signal at all (default SIGTERM); the container's
/// TERM handler sees it.
#[test]
fn kill_sigterm_forms_reach_the_handler() {
    let rt = Runtime::new("killterm");
    for sig in [Some("TERM"), Some("SIGTERM"), Some("15"), None] {
        let mut b = Bundle::new("killterm");
        b.readonly(false);
        b.sh("trap 'echo term > /tmp/got; exit 0' TERM; touch /tmp/ready; while :; do sleep 0.05; done");
        let id = rt.new_id();
        rt.create(&id, &b).ok();
        rt.start(&id).ok();
        let ready = b.rootfs().join("tmp/ready");
        wait_until(|| ready.exists() || rt.status(&id).as_deref() != Some("running"));
        assert!(ready.exists(), "container never became ready");
        match sig {
            Some(s) => rt.kill(&id, s).ok(),
            None => rt.cmd(&["kill", &id]).ok(),
        };
        rt.wait_status(&id, "stopped");
        let got = std::fs::read_to_string(b.rootfs().join("tmp/got")).unwrap_or_default();
        assert_eq!(
            got, "term\n",
            "signal {sig:?} did not reach the TERM handler"
        );
        rt.delete(&id).ok();
        rt.assert_no_leftovers(&id, &b);
    }
}

/// Plain `delete` of a running container fails and leaves it running; `delete --force` kills
/// and removes it.
#[test]
fn delete_force_of_running_container() {
    let rt = Runtime::new("delforce");
    let mut b = Bundle::new("delforce");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    let init = rt.recorded_proc(&id).expect("init pid recorded");
    rt.delete(&id).failed();
    assert_eq!(rt.status(&id).as_deref(), Some("running"));
    rt.delete_force(&id).ok();
    assert!(!init.alive(), "init survived delete --force");
    rt.state(&id).failed();
    rt.assert_no_leftovers(&id, &b);
}

/// `delete` of a created (never started) container kills its waiting init.
#[test]
fn delete_created_container() {
    let rt = Runtime::new("delcreated");
    let mut b = Bundle::new("delcreated");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let init = rt.recorded_proc(&id).expect("init pid recorded");
    rt.delete(&id).ok();
    assert!(!init.alive());
    rt.assert_no_leftovers(&id, &b);
}

/// 20 creates at once from one bundle, distinct ids: all created, all listed, all deleted.
#[test]
fn concurrent_creates_with_distinct_ids() {
    let rt = Runtime::new("concurrent");
    let mut b = Bundle::new("concurrent");
    b.args(&["sleep", "1000"]);
    b.write();
    let ids: Vec<String> = (0..20).map(|_| rt.new_id()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .iter()
            .map(|id| {
                let (rt, b) = (&rt, &b);
                s.spawn(move || rt.create(id, b))
            })
            .collect();
        for (h, id) in handles.into_iter().zip(&ids) {
            let out = h.join().expect("create thread");
            assert!(out.status.success(), "create {id}: {}", out.stderr_str());
        }
    });
    let listed = rt.list_json();
    let mut listed_ids: Vec<String> = listed
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    listed_ids.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(listed_ids, want);
    let pids: std::collections::HashSet<i64> =
        listed.iter().filter_map(|c| c["pid"].as_i64()).collect();
    assert_eq!(pids.len(), 20, "pids are not distinct: {pids:?}");
    for c in &listed {
        assert_eq!(c["status"], "created", "{c}");
    }
    std::thread::scope(|s| {
        for id in &ids {
            let rt = &rt;
            s.spawn(move || rt.delete(id).ok().status);
        }
    });
    assert!(rt.list_json().is_empty());
    for id in &ids {
        rt.assert_no_leftovers(id, &b);
    }
}

/// Creating a second container with an existing id fails with a clear error and leaves the
/// first one unharmed (still created, same pid, startable).
#[test]
fn duplicate_id_is_refused() {
    let rt = Runtime::new("dupid");
    let mut b = Bundle::new("dupid");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let before = rt.state_json(&id);

    let mut b2 = Bundle::new("dupid");
    b2.args(&["sleep", "1000"]);
    let out = rt.create(&id, &b2);
    out.failed();
    let err = out.stderr_str();
    assert!(err.contains("exists"), "{err}");
    if is_nucleus() {
        assert!(
            err.contains(&format!("container with id exists: {id}")),
            "{err}"
        );
    }

    let after = rt.state_json(&id);
    assert_eq!(after["status"], "created");
    assert_eq!(after["pid"], before["pid"]);
    assert_eq!(after["bundle"], before["bundle"]);
    assert!(pid_alive(before["pid"].as_i64().unwrap_or(0) as i32));
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    rt.delete_force(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// Every verb on an unknown id fails with "does not exist".
#[test]
fn unknown_id_errors() {
    let rt = Runtime::new("unknown");
    // Make sure the root exists, so the error is about the id, not the root.
    let mut b = Bundle::new("unknown");
    b.args(&["sleep", "1000"]);
    let other = rt.new_id();
    rt.create(&other, &b).ok();
    let id = "it-unknown-no-such-container";
    for args in [
        vec!["state", id],
        vec!["start", id],
        vec!["kill", id, "9"],
        vec!["delete", id],
        vec!["exec", id, "true"],
        vec!["pause", id],
        vec!["resume", id],
        vec!["ps", id],
    ] {
        let out = rt.cmd(&args);
        out.failed();
        let err = out.stderr_str();
        assert!(err.contains("does not exist"), "{args:?}: {err}");
        if is_nucleus() {
            // The message is `container "ID" does not exist`; the text log format quotes
            // the msg value and escapes its inner quotes.
            let plain = format!("container \"{id}\" does not exist");
            let escaped = format!("container \\\"{id}\\\" does not exist");
            assert!(
                err.contains(&plain) || err.contains(&escaped),
                "{args:?}: {err}"
            );
        }
    }
    // runc: `delete --force` of an unknown id succeeds silently (idempotent cleanup).
    rt.delete_force(id).ok();
    assert_eq!(rt.status(&other).as_deref(), Some("created"));
    rt.delete(&other).ok();
}

/// `start` on a running or stopped container fails; the container is unaffected.
#[test]
fn start_twice_fails() {
    let rt = Runtime::new("starttwice");
    let mut b = Bundle::new("starttwice");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    let out = rt.start(&id);
    out.failed();
    assert!(!out.stderr_str().is_empty());
    assert_eq!(rt.status(&id).as_deref(), Some("running"));
    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    rt.start(&id).failed();
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// `state` prints the OCI state: ociVersion id status pid bundle annotations created owner.
#[test]
fn state_json_fields() {
    let rt = Runtime::new("statefields");
    let mut b = Bundle::new("statefields");
    b.args(&["sleep", "1000"]);
    b.set(
        "/annotations",
        serde_json::json!({"org.nucleus.test": "value-1"}),
    );
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let st = rt.state_json(&id);
    assert!(
        st["ociVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("1.")),
        "{st}"
    );
    assert_eq!(st["id"], id.as_str());
    assert_eq!(st["status"], "created");
    assert!(st["pid"].as_i64().is_some_and(|p| p > 0), "{st}");
    assert_eq!(st["bundle"], b.dir_str().as_str());
    assert_eq!(st["annotations"]["org.nucleus.test"], "value-1", "{st}");
    let created = st["created"].as_str().expect("created is a string");
    assert!(is_rfc3339(created), "created is not RFC 3339: {created}");
    assert!(st["owner"].is_string(), "{st}");
    rt.delete(&id).ok();
}

/// YYYY-MM-DDTHH:MM:SS(.frac)?(Z|±HH:MM)
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let head = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &r[n..];
    }
    head && (rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':'))
}

/// `exec` runs a process in a running container: its namespaces, exit code, env, cwd, user;
/// and `exec --process FILE` as containerd/Docker/podman send it.
#[test]
fn exec_into_running_container() {
    let rt = Runtime::new("exec");
    let mut b = Bundle::new("exec");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    let init = rt.recorded_proc(&id).expect("init recorded").pid;

    let out = rt.exec(
        &id,
        &["sh", "-c", "hostname; readlink /proc/self/ns/pid; exit 5"],
    );
    assert_eq!(out.code(), 5, "{}", out.stderr_str());
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "nucleus");
    assert_eq!(lines[1], ns_link(&init.to_string(), "pid"));

    // Flags go before the id.
    let out = rt.cmd(&[
        "exec",
        "--env",
        "FOO=bar",
        "--cwd",
        "/tmp",
        "--user",
        "1000:1000",
        &id,
        "sh",
        "-c",
        "echo $FOO; pwd; id -u; id -g",
    ]);
    assert_eq!(out.ok().stdout_str(), "bar\n/tmp\n1000\n1000\n");

    let process = serde_json::json!({
        "terminal": false,
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "echo from-process-file; id -u"],
        "env": ["PATH=/bin:/usr/bin"],
        "cwd": "/",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                         "permitted": ["CAP_KILL"]},
        "noNewPrivileges": true
    });
    let pfile = rt.dir().join("process.json");
    std::fs::write(&pfile, process.to_string()).expect("write process file");
    let out = rt.cmd(&["exec", "--process", &pfile.to_string_lossy(), &id]);
    assert_eq!(out.ok().stdout_str(), "from-process-file\n1000\n");

    // exec into a stopped container fails.
    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    rt.exec(&id, &["true"]).failed();
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// The leak check itself can fail: a live container is reported (state dir, live init,
/// cgroup), and the same container is clean once deleted.
#[test]
fn leak_check_sees_a_live_container() {
    let rt = Runtime::new("leakcheck");
    let mut b = Bundle::new("leakcheck");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let found = rt.leftovers(&id, &b);
    assert!(
        found.iter().any(|l| l.starts_with("state dir")),
        "{found:?}"
    );
    assert!(found.iter().any(|l| l.contains("still alive")), "{found:?}");
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}
