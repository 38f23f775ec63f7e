//! Hostile and malformed config.json: every case of `integration/corpus` (see its README) must
//! be refused by `create` and by `run` with a one-line error naming the problem, no panic, and
//! nothing left behind. Plus confinement tests for configs that are valid but try to escape.

use integration::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus");

/// What the base config prints when it runs.
const BASE_OUTPUT: &str = "corpus-base-ok";

fn base_config() -> Value {
    let text = fs::read_to_string(Path::new(CORPUS).join("base.json")).expect("read base.json");
    serde_json::from_str(&text).expect("base.json parses")
}

fn load_case(name: &str) -> Value {
    let p = Path::new(CORPUS).join("cases").join(format!("{name}.json"));
    let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let t = target.as_object_mut().expect("object");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Replaces `${BUNDLE}` and `${ID}` in every string of `v`.
fn substitute(v: &Value, bundle: &str, id: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("${BUNDLE}", bundle).replace("${ID}", id)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, bundle, id)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, bundle, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// The runtime must refuse the config.
    Error,
    /// Refusing is fine; accepting is fine if nothing escapes and delete cleans up.
    ErrorOrOk,
}

fn expectation(case: &Value, verb: &str) -> Expect {
    let e = &case["expect"];
    let s = e.as_str().or_else(|| e[verb].as_str()).unwrap_or("error");
    match s {
        "error" => Expect::Error,
        "error-or-ok" => Expect::ErrorOrOk,
        other => panic!("unknown expect {other:?}"),
    }
}

/// Fills bundle `b` for container `id` as case `case` describes.
fn prepare(case: &Value, b: &mut Bundle, id: &str) {
    let bundle = b.dir_str();
    let case = substitute(case, &bundle, id);
    for s in case["setup"].as_array().into_iter().flatten() {
        let rel = s["file"].as_str().expect("setup entry has a file");
        let p = b.dir().join(rel);
        fs::write(&p, s["content"].as_str().unwrap_or("")).expect("write setup file");
        let mode = s["mode"].as_u64().unwrap_or(0o644) as u32;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod setup file");
    }
    let mut cfg = base_config();
    cfg["linux"]["cgroupsPath"] = json!(format!("/{id}"));
    if let Some(raw) = case["raw"].as_str() {
        b.write_raw(raw);
        return;
    }
    match case["generate"].as_str() {
        None => {}
        Some("huge-env") => {
            let env = cfg["process"]["env"].as_array_mut().expect("env array");
            env.extend((0..100_000).map(|i| json!(format!("V{i:06}={}", "x".repeat(20)))));
        }
        Some("huge-arg") => {
            cfg["process"]["args"] = json!(["/bin/echo", "y".repeat(10 << 20)]);
        }
        Some("deep-nesting") => {
            let text = serde_json::to_string(&cfg).expect("serialize");
            let depth = 100_000;
            let deep = format!(
                "{},\"x-deep\":{}{}}}",
                &text[..text.len() - 1],
                "[".repeat(depth),
                "]".repeat(depth)
            );
            b.write_raw(&deep);
            return;
        }
        Some(other) => panic!("unknown generator {other:?}"),
    }
    if let Some(patch) = case.get("patch") {
        merge_patch(&mut cfg, patch);
    }
    b.config = cfg;
}

/// Lines of a runtime's stderr that are not warnings.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let low = l.to_ascii_lowercase();
            !(low.contains("level=warn")
                || low.contains("\"level\":\"warn")
                || low.starts_with("warn"))
        })
        .collect()
}

/// Markers of a crash instead of an error: Rust panics/backtraces and Go panics.
const CRASH_MARKERS: [&str; 7] = [
    "panicked at",
    "stack backtrace",
    "RUST_BACKTRACE",
    "panic:",
    "goroutine ",
    "SIGSEGV",
    "fatal error:",
];

/// Problems with the stderr of a refused command.
fn check_error_output(stderr: &str, mentions: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for m in CRASH_MARKERS {
        if stderr.contains(m) {
            problems.push(format!("stderr shows a crash ({m:?})"));
        }
    }
    let lines = error_lines(stderr);
    if lines.len() != 1 {
        problems.push(format!(
            "expected exactly one error line on stderr, got {}",
            lines.len()
        ));
    }
    let low = stderr.to_lowercase();
    if !mentions.is_empty() && !mentions.iter().any(|m| low.contains(&m.to_lowercase())) {
        problems.push(format!(
            "error does not name the problem (none of {mentions:?})"
        ));
    }
    problems
}

/// Host paths named by `must_not_exist` that exist (escapes); removes what it finds.
fn escaped_paths(case: &Value, bundle: &str, id: &str) -> Vec<String> {
    let mut found = Vec::new();
    let list = substitute(&case["must_not_exist"], bundle, id);
    for p in list.as_array().into_iter().flatten() {
        let p = PathBuf::from(p.as_str().expect("must_not_exist entries are strings"));
        if p.symlink_metadata().is_ok() {
            found.push(format!("escaped onto the host: {} exists", p.display()));
            remove_tree(&p);
            let _ = fs::remove_file(&p);
        }
    }
    found
}

/// Removes (rmdir, deepest first) cgroup directories named after `id` that a runtime left; the
/// leftover itself is reported by `Runtime::leftovers`. rmdir only succeeds on empty cgroups.
fn remove_cgroups_named(id: &str) {
    let mut dirs = cgroup_dirs_named(id);
    dirs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for d in dirs {
        let _ = fs::remove_dir(&d);
    }
}

/// Runs `verb` on case `name`; returns every problem found (empty: the runtime behaved).
fn check_verb(name: &str, case: &Value, verb: &str) -> Vec<String> {
    let rt = Runtime::new("hostile");
    let mut b = Bundle::new("hostile");
    let id = rt.new_id();
    prepare(case, &mut b, &id);
    let out = match verb {
        "create" => rt.create(&id, &b),
        "run" => rt.run(&id, &b),
        _ => unreachable!(),
    };
    let stderr = out.stderr_str();
    let mentions: Vec<String> = case["mentions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    let mut problems = Vec::new();
    if out.status.success() {
        if expectation(case, verb) == Expect::Error {
            problems.push("accepted the config (exit 0)".to_string());
        }
        if verb == "create" {
            let del = rt.delete_force(&id);
            if !del.status.success() {
                problems.push(format!(
                    "delete --force failed: {}",
                    del.stderr_str().trim()
                ));
            }
        }
        for m in CRASH_MARKERS {
            if stderr.contains(m) {
                problems.push(format!("stderr shows a crash ({m:?})"));
            }
        }
    } else {
        problems.extend(check_error_output(&stderr, &mentions));
    }
    problems.extend(rt.leftovers(&id, &b));
    problems.extend(escaped_paths(case, &b.dir_str(), &id));
    remove_cgroups_named(&id);
    // The shared parent of the cgroups-path-escape case (runc leaves parents it created).
    remove_cgroups_named("nucleus-corpus-cg-escape");
    problems
        .into_iter()
        .map(|p| {
            format!(
                "{name} / {verb} (exit {}): {p}\n    stderr: {}",
                out.code(),
                stderr.trim().chars().take(600).collect::<String>()
            )
        })
        .collect()
}

fn check_case(name: &str) {
    let case = load_case(name);
    let mut problems = check_verb(name, &case, "create");
    problems.extend(check_verb(name, &case, "run"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

macro_rules! corpus_cases {
    ($($case:ident,)*) => {
        /// Names of the cases that have a test, as file stems.
        const CASES: &[&str] = &[$(stringify!($case),)*];
        $(
            #[test]
            fn $case() {
                check_case(&stringify!($case).replace('_', "-"));
            }
        )*
    };
}

corpus_cases! {
    args_string_not_array,
    args0_is_directory,
    args0_not_executable,
    args0_not_found,
    bind_source_missing,
    capability_unknown,
    cgroups_path_escape,
    console_size_without_terminal,
    cwd_empty,
    cwd_relative,
    deep_nesting,
    device_bad_type,
    device_negative_major,
    device_path_escape,
    device_relative_path,
    empty_args,
    empty_file,
    env_without_equals,
    hook_fails,
    hook_missing,
    hook_not_executable,
    hook_relative_path,
    hook_timeout_negative,
    hook_timeout_zero,
    hostname_without_utsns,
    huge_arg_string,
    huge_env,
    json_array,
    json_null,
    mappings_without_userns,
    masked_path_relative,
    missing_args,
    missing_ociversion,
    missing_process,
    missing_root,
    mount_bad_propagation,
    mount_destination_dotdot_escape,
    mount_destination_relative,
    mount_no_destination,
    mount_source_missing,
    mount_unknown_fstype,
    namespace_duplicate,
    namespace_path_missing,
    namespace_path_not_nsfile,
    namespace_path_wrong_type,
    namespace_unknown_type,
    not_json,
    oom_score_adj_high,
    oom_score_adj_low,
    personality_bad_domain,
    readonly_path_relative,
    rlimit_duplicate,
    rlimit_soft_above_hard,
    rlimit_unknown_type,
    root_path_is_file,
    root_path_missing,
    seccomp_arg_index_out_of_range,
    seccomp_unknown_arch,
    seccomp_unknown_default_action,
    seccomp_unknown_operator,
    seccomp_unknown_rule_action,
    sysctl_net_without_netns,
    sysctl_not_namespaced,
    sysctl_uts_without_utsns,
    terminal_without_console_socket,
    time_offsets_bad_clock,
    truncated_json,
    uid_huge,
    uid_minus_one_u32,
    uid_negative,
    uid_string,
    userns_mapping_size_zero,
    userns_without_mappings,
}

/// Every file in corpus/cases has a test above, and every test has a file.
#[test]
fn corpus_lists_every_case_file() {
    let mut files: Vec<String> = fs::read_dir(Path::new(CORPUS).join("cases"))
        .expect("read corpus/cases")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .map(|n| {
            n.strip_suffix(".json")
                .unwrap_or_else(|| panic!("corpus/cases/{n} is not a .json file"))
                .to_string()
        })
        .collect();
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.replace('_', "-")).collect();
    listed.sort();
    assert_eq!(files, listed, "corpus/cases and corpus_cases! disagree");
    assert!(files.len() >= 35, "the corpus shrank to {}", files.len());
    for f in &files {
        let c = load_case(f);
        assert!(c["what"].is_string(), "{f}: no what");
        let kinds = ["patch", "raw", "generate"]
            .iter()
            .filter(|k| c.get(**k).is_some())
            .count();
        assert_eq!(kinds, 1, "{f}: needs exactly one of patch/raw/generate");
    }
}

/// The control: the base config runs, prints its line and leaves nothing; so each refusal in
/// the corpus is caused by the case's change, not by a broken base.
#[test]
fn corpus_base_config_runs() {
    let rt = Runtime::new("hostile-base");
    for verb in ["run", "create"] {
        let mut b = Bundle::new("hostile-base");
        let id = rt.new_id();
        b.config = base_config();
        b.config["linux"]["cgroupsPath"] = json!(format!("/{id}"));
        if verb == "run" {
            let out = rt.run(&id, &b);
            out.ok();
            assert_eq!(out.stdout_str().trim(), BASE_OUTPUT);
        } else {
            rt.create(&id, &b).ok();
            rt.start(&id).ok();
            rt.wait_status(&id, "stopped");
            assert!(wait_until(|| rt
                .container_stdout(&id)
                .contains(BASE_OUTPUT)));
            rt.delete(&id).ok();
        }
        rt.assert_no_leftovers(&id, &b);
    }
}

/// process.cwd through a rootfs symlink that points outside (absolute and `..` forms): the
/// container must start in a directory inside its rootfs, never in the host directory the link
/// names, and the host directory must be untouched.
#[test]
fn cwd_symlink_escape_is_confined() {
    let host = unique_dir("hostile-cwd-host");
    fs::write(host.join("HOST-MARKER"), "host").expect("write marker");
    let rt = Runtime::new("hostile-cwd");
    let targets = [
        host.to_string_lossy().into_owned(),
        format!("../../../../../../../../..{}", host.display()),
    ];
    for target in &targets {
        let mut b = Bundle::new("hostile-cwd");
        std::os::unix::fs::symlink(target, b.rootfs().join("escape")).expect("symlink");
        let id = rt.new_id();
        b.config = base_config();
        b.config["linux"]["cgroupsPath"] = json!(format!("/{id}"));
        b.cwd("/escape");
        b.sh("ls -a .; echo cwd-done");
        let out = rt.run(&id, &b);
        let stdout = out.stdout_str();
        assert!(
            !stdout.contains("HOST-MARKER"),
            "cwd via symlink {target} reached the host dir: {stdout}"
        );
        if out.status.success() {
            assert!(stdout.contains("cwd-done"), "{stdout}");
        } else {
            let problems = check_error_output(&out.stderr_str(), &["cwd".into(), "escape".into()]);
            assert!(problems.is_empty(), "{problems:?}: {}", out.stderr_str());
        }
        rt.assert_no_leftovers(&id, &b);
        let entries: Vec<_> = fs::read_dir(&host)
            .expect("read host dir")
            .flatten()
            .collect();
        assert_eq!(entries.len(), 1, "host dir changed: {entries:?}");
    }
    remove_tree(&host);
}
