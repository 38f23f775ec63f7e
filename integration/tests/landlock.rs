//! Landlock in real containers: `process.landlock` and the `run.oci.landlock` annotation
//! (docs/LANDLOCK.md). Filesystem, TCP port and signal rules, best effort versus
//! `disableBestEffort`, exec'd processes, and bad policies that must fail cleanly.
//! nucleus-only: runc has no Landlock support.

use integration::*;
use serde_json::{json, Value};

const FS_ALL: &[&str] = &[
    "execute",
    "write_file",
    "read_file",
    "read_dir",
    "remove_dir",
    "remove_file",
    "make_char",
    "make_dir",
    "make_reg",
    "make_sock",
    "make_fifo",
    "make_block",
    "make_sym",
    "refer",
    "truncate",
];

/// Reads and executes only under /bin, /etc; writes only under /tmp and to /dev/null.
fn fs_policy() -> Value {
    json!({
        "ruleset": {"handledAccessFS": FS_ALL},
        "rules": {"pathBeneath": [
            {"allowedAccess": ["execute", "read_file", "read_dir"], "paths": ["/bin", "/etc"]},
            {"allowedAccess": ["read_file", "write_file", "read_dir", "make_reg", "remove_file", "truncate"], "paths": ["/tmp"]},
            {"allowedAccess": ["read_file", "write_file"], "paths": ["/dev/null"]}
        ]}
    })
}

/// Runs `script` in a container with `policy` as process.landlock; returns (code, stdout, stderr).
fn run_with_policy(
    test: &str,
    policy: Value,
    script: &str,
    edit: impl FnOnce(&mut Bundle),
) -> (i32, String, String) {
    let rt = Runtime::new(test);
    let mut b = Bundle::new(test);
    b.readonly(false);
    b.sh(script);
    b.set("/process/landlock", policy);
    edit(&mut b);
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    rt.assert_no_leftovers(&id, &b);
    (out.code(), out.stdout_str(), out.stderr_str())
}

/// A TCP port nothing listens on right now (the kernel picks it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

#[test]
fn filesystem_rules_allow_and_deny() {
    let script = r#"
        cat /etc/passwd >/dev/null && echo read-allowed
        echo x > /tmp/f && cat /tmp/f >/dev/null && echo write-allowed
        cat /proc/self/status 2>&1 >/dev/null | grep -q 'Permission denied' && echo read-denied
        (echo x > /root/f) 2>&1 | grep -q 'Permission denied' && echo write-denied
        /srv/bb true 2>&1 | grep -q 'Permission denied' && echo exec-denied
        ls /srv >/dev/null 2>&1 || echo list-denied
        true
    "#;
    let (code, out, err) = run_with_policy("ll-fs", fs_policy(), script, |b| {
        let srv = b.rootfs().join("srv");
        std::fs::create_dir_all(&srv).unwrap();
        // A hard link, not a copy: no ETXTBSY race with parallel tests that exec a fresh copy.
        std::fs::hard_link(b.rootfs().join("bin/busybox"), srv.join("bb")).unwrap();
    });
    assert_eq!(code, 0, "stderr: {err}");
    for word in [
        "read-allowed",
        "write-allowed",
        "read-denied",
        "write-denied",
        "exec-denied",
        "list-denied",
    ] {
        assert!(
            out.lines().any(|l| l == word),
            "missing {word} in:\n{out}\nstderr: {err}"
        );
    }
    // Control: without the policy the same operations succeed.
    let rt = Runtime::new("ll-fs-ctl");
    let mut b = Bundle::new("ll-fs-ctl");
    b.readonly(false);
    b.sh("cat /proc/self/status >/dev/null && echo x > /root/f && ls /srv >/dev/null && echo all-allowed");
    std::fs::create_dir_all(b.rootfs().join("srv")).unwrap();
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(out.stdout_str(), "all-allowed\n", "{}", out.stderr_str());
}

#[test]
fn tcp_port_rules() {
    let (ok, denied) = (free_port(), free_port());
    let policy = json!({
        "ruleset": {"handledAccessNet": ["bind_tcp", "connect_tcp"]},
        "rules": {"netPort": [{"allowedAccess": ["bind_tcp", "connect_tcp"], "ports": [ok]}]}
    });
    // The listener on the allowed port answers once bound; the client retries until then.
    let script = format!(
        r#"
        nc -l -p {denied} 2>&1 | grep -q 'Permission denied' && echo bind-denied
        nc 127.0.0.1 {denied} </dev/null 2>&1 | grep -q 'Permission denied' && echo connect-denied
        nc -l -p {ok} -e echo hello-over-tcp &
        i=0; while [ $i -lt 500 ]; do r=$(nc 127.0.0.1 {ok} </dev/null 2>/dev/null) && [ -n "$r" ] && break; i=$((i+1)); usleep 10000; done
        echo "got $r"
        wait
    "#
    );
    // The host's network namespace: loopback is up there, and the ports are ours (free_port).
    let (code, out, err) = run_with_policy("ll-net", policy, &script, |b| {
        b.remove_namespace("network");
    });
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("bind-denied\n"), "{out}\n{err}");
    assert!(out.contains("connect-denied\n"), "{out}\n{err}");
    assert!(out.contains("got hello-over-tcp\n"), "{out}\n{err}");
}

#[test]
fn scoped_signals_stay_inside_the_sandbox() {
    // Shares the host pid namespace so that a process outside the container is visible.
    let me = std::process::id();
    let script = format!(
        "kill -0 {me} 2>&1 | grep -q 'not permitted' && echo outside-denied; \
         sleep 100 & kill $! && wait $!; echo inside-signal-status=$?"
    );
    let scoped = json!({"ruleset": {"scoped": ["signal"]}});
    let (code, out, err) = run_with_policy("ll-sig", scoped, &script, |b| {
        b.remove_namespace("pid");
    });
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("outside-denied\n"), "{out}\n{err}");
    assert!(out.contains("inside-signal-status=143\n"), "{out}\n{err}");
    // Control: a policy without the scope lets the same kill -0 through.
    let other = json!({"ruleset": {"handledAccessFS": ["make_block"]}});
    let (_, out, err) = run_with_policy(
        "ll-sig",
        other,
        &format!("kill -0 {me} && echo outside-allowed"),
        |b| {
            b.remove_namespace("pid");
        },
    );
    assert_eq!(out, "outside-allowed\n", "{err}");
}

/// A right this kernel's ABI lacks (resolve_unix needs ABI 9): dropped with one warning by
/// default, a failed create with disableBestEffort.
#[test]
fn best_effort_drops_and_disable_best_effort_fails() {
    let abi = isolation_abi();
    assert!(
        abi < 9,
        "this test needs a kernel older than Landlock ABI 9 (has {abi})"
    );
    let policy = json!({
        "ruleset": {"handledAccessFS": ["write_file", "resolve_unix"]},
        "rules": {"pathBeneath": [{"allowedAccess": ["write_file"], "paths": ["/tmp", "/dev/null"]}]}
    });
    let (code, out, err) = run_with_policy(
        "ll-be",
        policy.clone(),
        "echo > /tmp/x && echo tmp-ok; (echo > /etc/x) 2>&1 | grep -q 'Permission denied' && echo etc-denied",
        |_| {},
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "tmp-ok\netc-denied\n", "{err}");
    assert!(
        err.contains("resolve_unix (needs ABI 9) dropped"),
        "no warning about the dropped right: {err}"
    );

    let mut hard = policy;
    hard["disableBestEffort"] = json!(true);
    let rt = Runtime::new("ll-hard");
    let mut b = Bundle::new("ll-hard");
    b.args(&["true"]);
    b.set("/process/landlock", hard);
    let id = rt.new_id();
    let out = rt.create(&id, &b);
    out.failed();
    let e = out.stderr_str();
    assert_eq!(e.trim().lines().count(), 1, "not one line: {e}");
    assert!(
        e.contains(&format!(
            "landlock: disableBestEffort is set but this kernel (Landlock ABI {abi}) lacks handledAccessFS: resolve_unix (needs ABI 9)"
        )),
        "{e}"
    );
    rt.assert_no_leftovers(&id, &b);
}

/// The kernel's Landlock ABI, as `nucleus features` reports it (checked against the syscall).
fn isolation_abi() -> i64 {
    // SAFETY: the version query takes no attribute and creates no fd.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    assert!(v >= 1, "Landlock is not available on this kernel");
    v
}

#[test]
fn features_report_the_kernel_abi_and_rights() {
    let rt = Runtime::new("ll-feat");
    let out = rt.bare(&["features"]);
    out.ok();
    let f: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ann = &f["annotations"];
    assert!(
        ann.as_object().unwrap().values().all(Value::is_string),
        "annotations must be strings: {ann}"
    );
    let ll: Value =
        serde_json::from_str(ann["io.github.nucleus.landlock"].as_str().unwrap()).unwrap();
    let abi = isolation_abi();
    assert_eq!(ll["enabled"], true);
    assert_eq!(ll["abi"], abi);
    let fs: Vec<&str> = ll["handledAccessFS"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        fs.contains(&"execute") && fs.contains(&"ioctl_dev"),
        "{fs:?}"
    );
    assert_eq!(fs.contains(&"resolve_unix"), abi >= 9, "{fs:?}");
    assert_eq!(
        ll["scoped"].as_array().unwrap().len(),
        if abi >= 6 { 2 } else { 0 }
    );
}

#[test]
fn annotation_policy_and_precedence() {
    let deny_root = json!({
        "ruleset": {"handledAccessFS": ["write_file", "make_reg"]},
        "rules": {"pathBeneath": [{"allowedAccess": ["write_file", "make_reg"], "paths": ["/tmp", "/dev/null"]}]}
    });
    let script = "echo > /tmp/a && echo tmp-ok; (echo > /root/a) 2>&1 | grep -q 'Permission denied' && echo root-denied; true";
    let rt = Runtime::new("ll-ann");
    let mut b = Bundle::new("ll-ann");
    b.readonly(false);
    b.sh(script);
    b.set(
        "/annotations/run.oci.landlock",
        json!(deny_root.to_string()),
    );
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(
        out.stdout_str(),
        "tmp-ok\nroot-denied\n",
        "{}",
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);

    // process.landlock wins over the annotation: here it allows /root too.
    let mut allow_root = deny_root.clone();
    allow_root["rules"]["pathBeneath"][0]["paths"] = json!(["/tmp", "/dev/null", "/root"]);
    b.set("/process/landlock", allow_root);
    b.sh("echo > /root/a && echo root-ok");
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(out.stdout_str(), "root-ok\n", "{}", out.stderr_str());
}

/// exec'd processes get the container's policy (and a domain of their own: a scoped signal
/// cannot reach the container's init).
#[test]
fn exec_is_confined_too() {
    let rt = Runtime::new("ll-exec");
    let mut b = Bundle::new("ll-exec");
    b.readonly(false);
    b.args(&["sleep", "1000"]);
    let mut p = fs_policy();
    p["ruleset"]["scoped"] = json!(["signal"]);
    b.set("/process/landlock", p);
    let id = rt.new_id();
    rt.run_with(&id, &b, &["-d"]).ok();
    rt.wait_status(&id, "running");
    let out = rt.exec(&id, &["sh", "-c", "echo > /tmp/ok && echo tmp-ok; (echo > /root/x) 2>&1 | grep -q 'Permission denied' && echo root-denied; kill -0 1 2>&1 | grep -q 'not permitted' && echo init-unreachable; true"]);
    assert_eq!(
        out.stdout_str(),
        "tmp-ok\nroot-denied\ninit-unreachable\n",
        "{}",
        out.stderr_str()
    );
    rt.delete_force(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// Each bad policy: create fails with one line naming the problem, and nothing is left.
#[test]
fn bad_policies_fail_cleanly() {
    let rt = Runtime::new("ll-bad");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown right",
            json!({"ruleset": {"handledAccessFS": ["fly"]}}),
            "process.landlock.ruleset.handledAccessFS[0]: unknown right \"fly\"",
        ),
        (
            "relative path",
            json!({"ruleset": {"handledAccessFS": ["read_file"]}, "rules": {"pathBeneath": [{"allowedAccess": ["read_file"], "paths": ["usr/lib"]}]}}),
            "process.landlock.rules.pathBeneath[0].paths[0]: \"usr/lib\" is not an absolute path",
        ),
        (
            "missing path",
            json!({"ruleset": {"handledAccessFS": ["read_file"]}, "rules": {"pathBeneath": [{"allowedAccess": ["read_file"], "paths": ["/bin", "/opt/nothing"]}]}}),
            "landlock: process.landlock.rules.pathBeneath[0].paths[1]: cannot open /opt/nothing inside the container",
        ),
    ];
    for (what, policy, want) in cases {
        let mut b = Bundle::new("ll-bad");
        b.args(&["true"]);
        b.set("/process/landlock", policy);
        check_refused(&rt, &b, what, want);
    }
    let mut b = Bundle::new("ll-bad");
    b.args(&["true"]);
    b.set("/annotations/run.oci.landlock", json!("{\"ruleset\": "));
    check_refused(
        &rt,
        &b,
        "malformed annotation",
        "annotations.\"run.oci.landlock\": is not valid JSON",
    );
}

#[track_caller]
fn check_refused(rt: &Runtime, b: &Bundle, what: &str, want: &str) {
    let id = rt.new_id();
    let out = rt.create(&id, b);
    out.failed();
    let e = out.stderr_str();
    // The message may be logfmt-quoted (msg="..."): compare with quotes unescaped.
    let plain = e.replace("\\\"", "\"");
    assert_eq!(e.trim().lines().count(), 1, "{what}: not one line: {e}");
    assert!(plain.contains(want), "{what}: want {want:?} in: {e}");
    rt.assert_no_leftovers(&id, b);
}
