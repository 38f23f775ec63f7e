//! Command-line surface: list formats, logs, spec, flag spellings, version.

use integration::*;
use serde_json::Value;
use std::fs;

/// A created `sleep` container from a fresh bundle.
fn created(rt: &Runtime, test: &str) -> (String, Bundle) {
    let mut b = Bundle::new(test);
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    (id, b)
}

/// `list` prints runc's tabwriter table: the header, then one aligned row per container.
#[test]
fn list_table_format() {
    let rt = Runtime::new("listtable");
    let (id, b) = created(&rt, "listtable");
    let pid = rt.state_json(&id)["pid"].as_i64().expect("pid");
    let out = rt.list(&[]);
    out.ok();
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row.len(), 6, "{text}");
    assert_eq!(row[0], id);
    assert_eq!(row[1], pid.to_string());
    assert_eq!(row[2], "created");
    assert_eq!(row[3], b.dir_str());
    assert_eq!(row[5], "root");
    // Columns are aligned: every header word starts where its row value starts.
    for (h, v) in header.iter().zip(&row) {
        let hcol = lines[0].find(h).expect("header word");
        let vcol = lines[1].find(v).expect("row value");
        assert_eq!(hcol, vcol, "column {h} misaligned:\n{text}");
    }
    // `--format table` is the same as the default.
    assert_eq!(rt.list(&["--format", "table"]).ok().stdout, out.stdout);
    rt.delete(&id).ok();
}

/// `list -q` prints only the ids, one per line.
#[test]
fn list_quiet() {
    let rt = Runtime::new("listquiet");
    let (a, _ba) = created(&rt, "listquiet");
    let (b, _bb) = created(&rt, "listquiet");
    for flag in ["-q", "--quiet"] {
        let out = rt.list(&[flag]);
        let mut ids: Vec<String> = out.ok().stdout_str().lines().map(str::to_string).collect();
        ids.sort();
        let mut want = vec![a.clone(), b.clone()];
        want.sort();
        assert_eq!(ids, want, "{flag}");
    }
    rt.delete(&a).ok();
    rt.delete(&b).ok();
}

/// `list --format json` (and `-f json`) prints an array of state objects.
#[test]
fn list_json_format() {
    let rt = Runtime::new("listjson");
    // With nothing created, the list is empty (runc prints `null`).
    let empty = rt.list(&["--format", "json"]);
    let v: Value = serde_json::from_slice(&empty.ok().stdout).expect("empty list is JSON");
    assert!(v.is_null() || v == Value::Array(vec![]), "{v}");

    let (id, b) = created(&rt, "listjson");
    for args in [["--format", "json"], ["-f", "json"]] {
        let out = rt.list(&args);
        let v: Value = serde_json::from_slice(&out.ok().stdout).expect("list json parses");
        let arr = v.as_array().expect("list json is an array");
        assert_eq!(arr.len(), 1);
        let c = &arr[0];
        assert_eq!(c["id"], id.as_str());
        assert_eq!(c["status"], "created");
        assert_eq!(c["bundle"], b.dir_str().as_str());
        assert!(c["pid"].as_i64().is_some_and(|p| p > 0));
        assert!(c["created"].is_string());
        assert_eq!(c["owner"], "root");
    }
    rt.delete(&id).ok();
}

/// With `--log FILE --log-format json`, errors are JSON lines with level, msg and time.
#[test]
fn log_json_error_lines() {
    let rt = Runtime::new("logjson");
    let log = rt.dir().join("log.json");
    let log_s = log.to_string_lossy().into_owned();
    let out = rt.cmd(&[
        "--log",
        &log_s,
        "--log-format",
        "json",
        "start",
        "it-logjson-nope",
    ]);
    out.failed();
    let text = fs::read_to_string(&log).expect("log file written");
    let errors: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v: &Value| v["level"] == "error")
        .collect();
    assert!(!errors.is_empty(), "no error line in {text}");
    let last = errors.last().expect("an error line");
    assert!(
        last["msg"]
            .as_str()
            .is_some_and(|m| m.contains("does not exist")),
        "{last}"
    );
    assert!(
        last["time"].as_str().is_some_and(|t| !t.is_empty()),
        "{last}"
    );

    // The `--flag=value` spelling podman uses.
    let log2 = rt.dir().join("log2.json");
    let arg = format!("--log={}", log2.display());
    rt.cmd(&["--log-format=json", &arg, "kill", "it-logjson-nope", "9"])
        .failed();
    let text = fs::read_to_string(&log2).expect("log file written");
    let v: Value = serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
    assert_eq!(v["level"], "error");
}

/// Errors without `--log` go to stderr in text form: `level=error msg="..."`.
#[test]
fn error_text_on_stderr() {
    let rt = Runtime::new("errtext");
    let out = rt.cmd(&["state", "it-errtext-nope"]);
    out.failed();
    assert_eq!(out.code(), 1);
    let err = out.stderr_str();
    assert!(err.contains("level=error"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(out.stdout.is_empty());
}

/// `spec -b DIR` writes runc's default config; a second call refuses to overwrite it.
#[test]
fn spec_default_config() {
    let rt = Runtime::new("spec");
    let dir = rt.dir().join("specdir");
    fs::create_dir_all(&dir).expect("mkdir");
    let dir_s = dir.to_string_lossy().into_owned();
    rt.bare(&["spec", "-b", &dir_s]).ok();
    let text = fs::read_to_string(dir.join("config.json")).expect("config.json written");
    let c: Value = serde_json::from_str(&text).expect("spec is JSON");
    assert!(c["ociVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("1.")));
    assert_eq!(c["process"]["terminal"], true);
    assert_eq!(c["process"]["args"], serde_json::json!(["sh"]));
    assert_eq!(c["process"]["cwd"], "/");
    assert_eq!(c["process"]["noNewPrivileges"], true);
    assert_eq!(c["root"]["path"], "rootfs");
    assert_eq!(c["root"]["readonly"], true);
    let caps = &c["process"]["capabilities"]["bounding"];
    assert_eq!(
        caps,
        &serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    );
    assert_eq!(c["process"]["rlimits"][0]["type"], "RLIMIT_NOFILE");
    let ns: Vec<&str> = c["linux"]["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .filter_map(|n| n["type"].as_str())
        .collect();
    for want in ["pid", "network", "ipc", "uts", "mount"] {
        assert!(ns.contains(&want), "{ns:?}");
    }
    let dests: Vec<&str> = c["mounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .filter_map(|m| m["destination"].as_str())
        .collect();
    assert_eq!(
        dests,
        [
            "/proc",
            "/dev",
            "/dev/pts",
            "/dev/shm",
            "/dev/mqueue",
            "/sys",
            "/sys/fs/cgroup"
        ]
    );
    assert!(c["linux"]["maskedPaths"]
        .as_array()
        .is_some_and(|a| a.iter().any(|p| p == "/proc/kcore")));
    assert!(c["linux"]["readonlyPaths"]
        .as_array()
        .is_some_and(|a| a.iter().any(|p| p == "/proc/sys")));
    let again = rt.bare(&["spec", "-b", &dir_s]);
    again.failed();
    assert!(
        again.stderr_str().contains("exists"),
        "{}",
        again.stderr_str()
    );
}

/// `spec --rootless` adds a user namespace with mappings and drops the network namespace.
#[test]
fn spec_rootless() {
    let rt = Runtime::new("specrootless");
    let dir = rt.dir().join("specdir");
    fs::create_dir_all(&dir).expect("mkdir");
    let dir_s = dir.to_string_lossy().into_owned();
    rt.bare(&["spec", "--rootless", "--bundle", &dir_s]).ok();
    let c: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("config.json")).expect("written"))
            .expect("JSON");
    let ns: Vec<&str> = c["linux"]["namespaces"]
        .as_array()
        .expect("namespaces")
        .iter()
        .filter_map(|n| n["type"].as_str())
        .collect();
    assert!(ns.contains(&"user"), "{ns:?}");
    assert!(!ns.contains(&"network"), "{ns:?}");
    assert_eq!(c["linux"]["uidMappings"][0]["containerID"], 0);
    assert_eq!(c["linux"]["uidMappings"][0]["size"], 1);
    assert_eq!(c["linux"]["gidMappings"][0]["containerID"], 0);
    // The sysfs mount cannot be made in a rootless container: it is a bind instead.
    let sys = c["mounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .find(|m| m["destination"] == "/sys")
        .expect("/sys mount");
    assert_eq!(sys["type"], "none", "{sys}");
}

/// Flags are accepted as `--flag value`, `--flag=value`, `-flag value` (single-dash long, as
/// urfave/cli accepts) and single-dash booleans like `-no-subreaper`.
#[test]
fn flag_spellings() {
    let rt = Runtime::new("flags");
    let mut b = Bundle::new("flags");
    b.args(&["sleep", "1000"]);
    b.write();
    let dir = b.dir_str();
    let root = rt.root().to_string_lossy().into_owned();

    let id1 = rt.new_id();
    rt.cmd(&["create", "--bundle", &dir, &id1]).ok();
    let id2 = rt.new_id();
    rt.cmd(&["create", &format!("--bundle={dir}"), &id2]).ok();
    let id3 = rt.new_id();
    rt.cmd(&["create", "-bundle", &dir, &id3]).ok();
    let id4 = rt.new_id();
    rt.cmd(&["create", "-b", &dir, &id4]).ok();
    for id in [&id1, &id2, &id3, &id4] {
        assert_eq!(rt.state_json(id)["bundle"], dir.as_str());
    }

    // Global flags in the = and single-dash forms.
    let out = rt.bare(&[&format!("--root={root}"), "list", "-q"]);
    assert_eq!(out.ok().stdout_str().lines().count(), 4);
    let out = rt.bare(&["-root", &root, "list", "-q"]);
    assert_eq!(out.ok().stdout_str().lines().count(), 4);

    // Booleans: -no-subreaper, --no-subreaper, -d with run.
    let mut b2 = Bundle::new("flags");
    b2.args(&["true"]);
    b2.write();
    let id5 = rt.new_id();
    rt.cmd(&["run", "-no-subreaper", "-bundle", &b2.dir_str(), &id5])
        .ok();
    let id6 = rt.new_id();
    rt.cmd(&["run", "--no-subreaper", "--bundle", &b2.dir_str(), &id6])
        .ok();

    // kill --all / -a and delete -f.
    rt.cmd(&["kill", "-a", &id1, "KILL"]).ok();
    rt.wait_status(&id1, "stopped");
    for id in [&id1, &id2, &id3, &id4] {
        rt.cmd(&["delete", "-f", id]).ok();
    }
    // Checked once all are gone: the four share a bundle, so a live sibling would be
    // reported as referring to it.
    for id in [&id1, &id2, &id3, &id4] {
        rt.assert_no_leftovers(id, &b);
    }
}

/// `--version` prints `NAME version X` first and a `spec: ` line; `-v` is the same.
#[test]
fn version_output() {
    let rt = Runtime::new("version");
    let out = rt.bare(&["--version"]);
    let text = out.ok().stdout_str();
    let first = text.lines().next().expect("a first line");
    if is_nucleus() {
        assert!(first.starts_with("nucleus version "), "{first}");
    } else {
        assert!(first.contains(" version "), "{first}");
    }
    assert!(
        text.lines().any(|l| l.starts_with("spec: 1.")),
        "no spec line: {text}"
    );
    assert_eq!(rt.bare(&["-v"]).ok().stdout, out.stdout);
}

/// `--help` succeeds and names the verbs; an unknown verb fails.
#[test]
fn help_and_unknown_command() {
    let rt = Runtime::new("help");
    let out = rt.bare(&["--help"]);
    let text = out.ok().stdout_str();
    for verb in [
        "create", "start", "run", "kill", "delete", "state", "list", "exec", "spec", "pause",
        "resume", "ps", "update", "events",
    ] {
        assert!(text.contains(verb), "help does not mention {verb}:\n{text}");
    }
    rt.bare(&["no-such-verb"]).failed();
}

/// `features` prints the OCI features JSON (runc 1.1 marks it experimental).
#[test]
fn features_json() {
    let rt = Runtime::new("features");
    let out = rt.bare(&["features"]);
    let v: Value = serde_json::from_slice(&out.ok().stdout).expect("features is JSON");
    assert!(v["ociVersionMin"].as_str().is_some(), "{v}");
    assert!(v["ociVersionMax"].as_str().is_some(), "{v}");
    let hooks = v["hooks"].as_array().expect("hooks array");
    for h in HOOK_KINDS {
        assert!(hooks.iter().any(|x| x == h), "features lacks hook {h}");
    }
    let ns = v["linux"]["namespaces"].as_array().expect("namespaces");
    for n in ["pid", "network", "ipc", "uts", "mount", "cgroup", "user"] {
        assert!(ns.iter().any(|x| x == n), "features lacks namespace {n}");
    }
    if is_nucleus() {
        // nucleus supports the time namespace; runc 1.1 does not list it.
        assert!(ns.iter().any(|x| x == "time"), "{v}");
    }
}
