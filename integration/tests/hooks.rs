//! OCI hooks: all six kinds run, in order, with the container state on stdin; args and env
//! are passed; a failing or timed-out hook makes create fail without leftovers.

use integration::*;
use serde_json::{json, Value};
use std::fs;

/// Host-side hook: saves stdin as $OUT/KIND.json and appends KIND and its env marker to
/// $OUT/order.
const HOST_HOOK: &str = r#"kind=$1
cat > "$HOOK_OUT/$kind.json"
echo "$kind $HOOK_MARK" >> "$HOOK_OUT/order""#;

#[test]
fn all_six_hooks_get_state_on_stdin() {
    let rt = Runtime::new("hooks");
    let mut b = Bundle::new("hooks");
    b.readonly(false);
    b.sh("echo container-ran >> /tmp/order");
    // The container-side hook (startContainer) resolves its path in the container, and
    // writes to the container's /tmp, which is <rootfs>/tmp on the host. Host-side hooks write
    // to the same directory through the host path, so one `order` file sees every hook.
    let out_host = b.rootfs().join("tmp");
    let out_host_s = out_host.to_string_lossy().into_owned();
    let host_hook = write_script(rt.dir(), "hook.sh", HOST_HOOK);
    let host_hook_s = host_hook.to_string_lossy().into_owned();
    fs::create_dir_all(b.rootfs().join("hooks")).expect("mkdir");
    write_script(&b.rootfs().join("hooks"), "hook.sh", HOST_HOOK);
    for kind in HOOK_KINDS {
        let (path, out) = if kind == "startContainer" {
            ("/hooks/hook.sh".to_string(), "/tmp".to_string())
        } else {
            (host_hook_s.clone(), out_host_s.clone())
        };
        b.hook(
            kind,
            json!({
                "path": path,
                "args": ["hook.sh", kind],
                "env": [format!("HOOK_OUT={out}"), format!("HOOK_MARK=mark-{kind}"),
                        "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
            }),
        );
    }
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let pid = rt.state_json(&id)["pid"].as_i64().expect("pid");
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id).ok();

    let order = fs::read_to_string(out_host.join("order")).expect("order file");
    let kinds: Vec<&str> = order
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    let pos = |k: &str| {
        let found: Vec<usize> = (0..kinds.len()).filter(|i| kinds[*i] == k).collect();
        assert_eq!(found.len(), 1, "{k} ran {} times:\n{order}", found.len());
        found[0]
    };
    // The creation hooks run in this order, before the user process; startContainer runs
    // in the container just before it. poststart runs after start (concurrently with the
    // container, so its place relative to the container's output is not fixed); poststop
    // runs last, at delete.
    let seq = [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "container-ran",
    ];
    for w in seq.windows(2) {
        assert!(
            pos(w[0]) < pos(w[1]),
            "{} must run before {}:\n{order}",
            w[0],
            w[1]
        );
    }
    assert!(pos("createContainer") < pos("poststart"), "{order}");
    assert_eq!(pos("poststop"), kinds.len() - 1, "{order}");
    for line in order.lines().filter(|l| !l.starts_with("container-ran")) {
        let mut parts = line.split(' ');
        let kind = parts.next().unwrap_or("");
        assert_eq!(
            parts.next(),
            Some(format!("mark-{kind}").as_str()),
            "env not passed: {line}"
        );
    }
    for kind in HOOK_KINDS {
        let text = fs::read_to_string(out_host.join(format!("{kind}.json")))
            .unwrap_or_else(|e| panic!("{kind} hook wrote nothing: {e}"));
        let st: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{kind} stdin is not JSON ({e}): {text}"));
        assert_eq!(st["id"], id.as_str(), "{kind}: {st}");
        assert_eq!(st["bundle"], b.dir_str().as_str(), "{kind}: {st}");
        assert!(st["ociVersion"].is_string(), "{kind}: {st}");
        let want_status = match kind {
            "prestart" | "createRuntime" | "createContainer" => "creating",
            "startContainer" => "created",
            // runc 1.1 sends "created" (its state is taken before the exec fifo opens); the
            // spec's intent is "running". Either is a faithful value.
            "poststart" if st["status"] == "created" => "created",
            "poststart" => "running",
            _ => "stopped",
        };
        assert_eq!(st["status"], want_status, "{kind}: {st}");
        match kind {
            // These run inside the container's pid namespace, where the init is pid 1; runc
            // reports the pid as seen there.
            "createContainer" | "startContainer" => {
                assert_eq!(st["pid"].as_i64(), Some(1), "{kind}: {st}")
            }
            "poststop" => {}
            _ => assert_eq!(st["pid"].as_i64(), Some(pid), "{kind}: {st}"),
        }
    }
    rt.assert_no_leftovers(&id, &b);
}

/// A createRuntime hook that outlives its timeout makes create fail and leaves nothing.
#[test]
fn hook_timeout_fails_create() {
    let rt = Runtime::new("hooktimeout");
    let mut b = Bundle::new("hooktimeout");
    b.args(&["true"]);
    let marker = rt.dir().join("hook-finished");
    let hook = write_script(
        rt.dir(),
        "slow.sh",
        // exec: the runtime kills the hook process; a child holding the hook's pipes would
        // keep the runtime waiting.
        &format!("exec sleep 30; touch {}", marker.display()),
    );
    b.hook(
        "createRuntime",
        json!({"path": hook.to_string_lossy(), "args": ["slow.sh"], "timeout": 1}),
    );
    let id = rt.new_id();
    let out = rt.create(&id, &b);
    out.failed();
    let err = out.stderr_str();
    assert!(
        err.contains("timeout") || err.contains("timed out"),
        "{err}"
    );
    rt.cmd(&["delete", "--force", &id]);
    rt.assert_no_leftovers(&id, &b);
    // The hook process itself was killed, not left sleeping.
    let hook_s = hook.to_string_lossy().into_owned();
    let alive: Vec<_> = processes_referring_to(&hook_s, &hook_s);
    assert!(alive.is_empty(), "timed-out hook still running: {alive:?}");
}

/// A prestart hook that exits non-zero makes create fail (runc reports the hook error).
#[test]
fn failing_hook_fails_create() {
    let rt = Runtime::new("hookfail");
    let mut b = Bundle::new("hookfail");
    b.args(&["true"]);
    let hook = write_script(rt.dir(), "fail.sh", "echo hook-said-no >&2; exit 7");
    b.hook(
        "prestart",
        json!({"path": hook.to_string_lossy(), "args": ["fail.sh"]}),
    );
    let id = rt.new_id();
    let out = rt.create(&id, &b);
    out.failed();
    assert!(!out.stderr_str().is_empty());
    rt.cmd(&["delete", "--force", &id]);
    rt.assert_no_leftovers(&id, &b);
}

/// A failing poststop hook does not stop `delete` from removing the container.
#[test]
fn failing_poststop_does_not_block_delete() {
    let rt = Runtime::new("poststopfail");
    let mut b = Bundle::new("poststopfail");
    b.args(&["true"]);
    let hook = write_script(rt.dir(), "fail.sh", "exit 1");
    b.hook(
        "poststop",
        json!({"path": hook.to_string_lossy(), "args": ["fail.sh"]}),
    );
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id);
    assert!(
        rt.state(&id).status.code() != Some(0),
        "container survived delete"
    );
    rt.assert_no_leftovers(&id, &b);
}
