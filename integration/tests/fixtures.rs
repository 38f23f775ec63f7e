//! Real client configs (containerd/ctr, Docker, podman; `shared/fixtures/configs`) run through
//! the runtime on a busybox rootfs. Each fixture is kept as the client wrote it except for what
//! cannot exist on a test machine (see [`adapt`]); the original command runs and its output and
//! exit code are checked. The `*-error-nonexistent` fixtures must fail cleanly.

use integration::*;
use serde_json::{json, Value};
use std::fs;
use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex, MutexGuard};

/// SWITCH: drop `linux.seccomp` from every fixture until nucleus implements seccomp. Set to
/// false once it does, so the clients' real filters (Docker's default profile) are exercised.
const DROP_SECCOMP: bool = false;

/// The fixture configs: `$NUCLEUS_FIXTURES`, else `<workspace>/../shared/fixtures/configs`
/// (where both the dev machines and CI keep `shared/`). Missing fixtures fail the tests.
fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("NUCLEUS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/fixtures/configs"));
    assert!(
        dir.join("ctr-default.json").exists(),
        "fixture configs not found in {} (set NUCLEUS_FIXTURES)",
        dir.display()
    );
    dir
}

fn load(name: &str) -> Value {
    let p = fixtures_dir().join(format!("{name}.json"));
    let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Fixtures share cgroup parents (`/docker`, `/default`, `/libpod_parent`) that each test removes
/// when empty; running them one at a time keeps one test's cleanup from racing another's mkdir.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fixture made runnable here, with what it needs kept alive.
struct Fixture {
    bundle: Bundle,
    _netns: Option<NetNs>,
    cgroups_path: Option<String>,
}

/// Rewrites what only existed on the capture machine:
/// - `root.path` → the bundle's busybox rootfs (keeping `readonly`);
/// - `linux.seccomp` dropped while [`DROP_SECCOMP`] is set;
/// - hooks whose binary is absent (Docker's libnetwork-setkey prestart hook calls dockerd's
///   `/proc/PID/exe`) dropped;
/// - namespace paths that do not exist (podman's netavark netns) → a fresh `ip netns add`;
/// - bind-mount sources that do not exist (Docker's hosts/hostname/resolv.conf, podman's
///   userdata) → placeholder files or directories inside the bundle.
///
/// `cgroupsPath` is kept as the client wrote it (and removed after the test).
fn adapt(name: &str) -> Fixture {
    let mut cfg = load(name);
    let mut b = Bundle::new("fx");
    cfg["root"]["path"] = json!("rootfs");
    if DROP_SECCOMP {
        if let Some(l) = cfg["linux"].as_object_mut() {
            l.remove("seccomp");
        }
    }
    if let Some(hooks) = cfg["hooks"].as_object_mut() {
        for list in hooks.values_mut() {
            if let Some(a) = list.as_array_mut() {
                a.retain(|h| {
                    let path = h["path"].as_str().unwrap_or("");
                    let setkey = h["args"].to_string().contains("libnetwork-setkey");
                    Path::new(path).exists() && !setkey
                });
            }
        }
        hooks.retain(|_, l| l.as_array().map(|a| !a.is_empty()).unwrap_or(false));
    }
    let mut netns = None;
    for ns in cfg["linux"]["namespaces"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        let Some(p) = ns["path"].as_str() else {
            continue;
        };
        if Path::new(p).exists() {
            continue;
        }
        assert_eq!(
            ns["type"], "network",
            "{name}: missing non-network ns path {p}"
        );
        let n = NetNs::new("fx");
        ns["path"] = json!(n.path());
        netns = Some(n);
    }
    let host_files = b.dir().join("host-files");
    fs::create_dir_all(&host_files).expect("mkdir host-files");
    for (i, m) in cfg["mounts"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(src) = m["source"].as_str() else {
            continue;
        };
        if !src.starts_with('/') || Path::new(src).exists() {
            continue;
        }
        let base = Path::new(src)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let placeholder = host_files.join(format!("{i}-{base}"));
        if base == "shm" || base == "notify" {
            fs::create_dir_all(&placeholder).expect("mkdir placeholder");
        } else {
            fs::write(&placeholder, format!("fixture {base}\n")).expect("write placeholder");
        }
        m["source"] = json!(placeholder.to_string_lossy());
    }
    let cgroups_path = cfg["linux"]["cgroupsPath"].as_str().map(str::to_string);
    b.config = cfg;
    Fixture {
        bundle: b,
        _netns: netns,
        cgroups_path,
    }
}

/// Cgroup directories `/sys/fs/cgroup/<controller>/<cgroups_path>` that exist now.
fn cgroup_dirs(cgroups_path: &str) -> Vec<PathBuf> {
    let rel = cgroups_path.trim_start_matches('/');
    let mut found = Vec::new();
    for c in fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = c.path().join(rel);
        if p.is_dir() {
            found.push(p);
        }
    }
    found
}

/// Asserts the fixture's cgroup leaf is gone, after removing it and its empty parents (runc
/// leaves the parents it created, e.g. `/docker`; rmdir only removes empty cgroups).
fn check_and_remove_cgroups(f: &Fixture) {
    let Some(cp) = &f.cgroups_path else { return };
    let left = cgroup_dirs(cp);
    for leaf in &left {
        let _ = fs::remove_dir(leaf);
    }
    let rel = cp.trim_start_matches('/');
    let mut parent = Path::new(rel).parent();
    while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
        for c in fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = fs::remove_dir(c.path().join(p));
        }
        parent = p.parent();
    }
    assert!(left.is_empty(), "cgroup leaf left behind: {left:?}");
}

/// Runs fixture `name` with `run` in the foreground; returns (exit code, stdout).
fn run_fixture(name: &str, tweak: impl FnOnce(&mut Bundle)) -> (i32, String, Fixture) {
    let rt = Runtime::new("fx");
    let mut f = adapt(name);
    tweak(&mut f.bundle);
    let id = rt.new_id();
    let out = rt.run(&id, &f.bundle);
    rt.assert_no_leftovers(&id, &f.bundle);
    check_and_remove_cgroups(&f);
    let stdout = out.stdout_str();
    eprintln!(
        "{name}: exit {} stdout {stdout:?} stderr {:?}",
        out.code(),
        out.stderr_str()
    );
    (out.code(), stdout, f)
}

/// Runs `name` and expects exit 0 and exactly `hi` on stdout.
fn expect_hi(name: &str) {
    let _g = serial();
    let (code, stdout, _f) = run_fixture(name, |_| {});
    assert_eq!((code, stdout.as_str()), (0, "hi\n"), "{name}");
}

#[test]
fn ctr_default() {
    expect_hi("ctr-default");
}
#[test]
fn ctr_privileged() {
    expect_hi("ctr-privileged");
}
#[test]
fn ctr_seccomp() {
    expect_hi("ctr-seccomp");
}
#[test]
fn docker_default() {
    expect_hi("docker-default");
}
#[test]
fn docker_memory_pids_cpus() {
    expect_hi("docker-memory-pids-cpus");
}
#[test]
fn docker_capadd() {
    expect_hi("docker-capadd");
}
#[test]
fn docker_unconfined() {
    expect_hi("docker-unconfined");
}
#[test]
fn docker_network_none_without_setkey_hook() {
    expect_hi("docker-network-none");
}
#[test]
fn podman_rootfs_with_netns_path() {
    expect_hi("podman-rootfs");
}
#[test]
fn podman_image() {
    expect_hi("podman-image");
}
#[test]
fn podman_limits() {
    expect_hi("podman-limits");
}
#[test]
fn podman_sdnotify() {
    expect_hi("podman-sdnotify");
}

/// `echo hi; cat /sys/fs/cgroup/memory/memory.limit_in_bytes`: ctr mounts no cgroupfs, so the
/// cat fails and the shell exits 1 (as with runc at capture time).
#[test]
fn ctr_memory() {
    let _g = serial();
    let (code, stdout, _f) = run_fixture("ctr-memory", |_| {});
    assert_eq!((code, stdout.as_str()), (1, "hi\n"));
}

/// `echo hi; id; pwd; echo $FOO` with --env FOO=bar --cwd /tmp.
#[test]
fn ctr_env_cwd() {
    let _g = serial();
    let (code, stdout, _f) = run_fixture("ctr-env-cwd", |_| {});
    assert_eq!(code, 0, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], "hi");
    assert!(lines[1].starts_with("uid=0(root) gid=0(root)"), "{stdout}");
    assert_eq!(&lines[2..], ["/tmp", "bar"]);
}

/// `echo hi; touch /x || true` on a read-only rootfs: the touch fails, nothing lands in the
/// rootfs on the host.
fn expect_readonly(name: &str) {
    let _g = serial();
    let (code, stdout, f) = run_fixture(name, |_| {});
    assert_eq!((code, stdout.as_str()), (0, "hi\n"), "{name}");
    assert!(
        !f.bundle.rootfs().join("x").exists(),
        "{name}: /x was created on a read-only rootfs"
    );
}
#[test]
fn ctr_readonly() {
    expect_readonly("ctr-readonly");
}
#[test]
fn docker_readonly() {
    expect_readonly("docker-readonly");
}
#[test]
fn podman_readonly() {
    expect_readonly("podman-readonly");
}

/// The terminal fixtures with `process.terminal` FORCED FALSE (pipes, no console socket):
/// `echo hi; tty` prints "not a tty" and exits 1. The real console path is
/// [`docker_tty_real_console_socket`].
fn expect_tty_forced_off(name: &str) {
    let _g = serial();
    let (code, stdout, _f) = run_fixture(name, |b| {
        assert_eq!(
            b.config["process"]["terminal"], true,
            "{name} is a tty fixture"
        );
        b.terminal(false);
    });
    assert_eq!((code, stdout.as_str()), (1, "hi\nnot a tty\n"), "{name}");
}
#[test]
fn ctr_tty_terminal_forced_off() {
    expect_tty_forced_off("ctr-tty");
}
#[test]
fn docker_tty_terminal_forced_off() {
    expect_tty_forced_off("docker-tty");
}
#[test]
fn podman_tty_terminal_forced_off() {
    expect_tty_forced_off("podman-tty");
}

/// docker-tty as written (terminal true) through a real `--console-socket`: the test receives
/// the pty master, the container's `tty` names a /dev/pts device and its output arrives on the
/// master.
#[test]
fn docker_tty_real_console_socket() {
    let _g = serial();
    let rt = Runtime::new("fxtty");
    let f = adapt("docker-tty");
    assert_eq!(f.bundle.config["process"]["terminal"], true);
    let sock = rt.dir().join("console.sock");
    let listener = UnixListener::bind(&sock).expect("bind console socket");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let res = listener.accept().map(|(s, _)| recv_fd(&s));
        let _ = tx.send(res);
    });
    let id = rt.new_id();
    let sock_s = sock.to_string_lossy().into_owned();
    rt.create_with(&id, &f.bundle, &["--console-socket", &sock_s])
        .ok();
    let master = rx
        .recv_timeout(timeout())
        .expect("runtime never connected to the console socket")
        .expect("accept on console socket");
    // Read the master until the slave side closes (EIO) in a thread: a hang guard.
    let (otx, orx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut file = fs::File::from(master);
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match file.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
        let _ = otx.send(String::from_utf8_lossy(&all).into_owned());
    });
    rt.start(&id).ok();
    let output = orx
        .recv_timeout(timeout())
        .expect("console output never ended");
    rt.wait_status(&id, "stopped");
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &f.bundle);
    check_and_remove_cgroups(&f);
    let lines: Vec<&str> = output.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert_eq!(lines.first(), Some(&"hi"), "{output:?}");
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with("/dev/pts/")),
        "tty did not name a pty: {output:?}"
    );
}

/// The detached fixtures (`sleep 100`) through create/start, then the same client's captured
/// exec process files with `exec --process`, then kill and delete, as the clients did.
fn detached(client: &str, execs: &[(&str, &[&str])]) {
    let _g = serial();
    let rt = Runtime::new("fxdet");
    let f = adapt(&format!("{client}-detached"));
    let id = rt.new_id();
    rt.create(&id, &f.bundle).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    for (file, want) in execs {
        let pf = fixtures_dir().join(format!("{file}.json"));
        let pf_s = pf.to_string_lossy().into_owned();
        let out = rt.cmd(&["exec", "--process", &pf_s, &id]);
        out.ok();
        let lines: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
        assert_eq!(lines.len(), want.len(), "{file}: {}", out.stdout_str());
        for (got, w) in lines.iter().zip(want.iter()) {
            assert!(
                got.starts_with(w),
                "{file}: line {got:?} should start with {w:?}"
            );
        }
    }
    rt.kill(&id, "9").ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &f.bundle);
    check_and_remove_cgroups(&f);
}

#[test]
fn ctr_detached_with_exec() {
    detached("ctr", &[("ctr-exec-process", &["exec-hi"])]);
}
#[test]
fn docker_detached_with_exec() {
    detached(
        "docker",
        &[
            ("docker-exec-process", &["exec-hi"]),
            (
                "docker-exec-user-env-workdir-process",
                &["exec-hi", "uid=1000(user) gid=1000(user)", "/tmp"],
            ),
        ],
    );
}
#[test]
fn podman_detached_with_exec() {
    detached(
        "podman",
        &[
            ("podman-exec-process", &["exec-hi"]),
            (
                "podman-exec-user-env-workdir-process",
                &["exec-hi", "uid=1000(user) gid=1000(user)", "/tmp"],
            ),
        ],
    );
}

/// The `/nonexistent` fixtures: create and run must fail with one error line naming the path,
/// no crash, nothing left behind (and the cgroup removed).
fn expect_clean_failure(name: &str) {
    let _g = serial();
    for verb in ["create", "run"] {
        let rt = Runtime::new("fxerr");
        let f = adapt(name);
        let id = rt.new_id();
        let out = match verb {
            "create" => rt.create(&id, &f.bundle),
            _ => rt.run(&id, &f.bundle),
        };
        let stderr = out.stderr_str();
        let leftovers = rt.leftovers(&id, &f.bundle);
        check_and_remove_cgroups(&f);
        out.failed();
        assert!(leftovers.is_empty(), "{name} {verb}: {leftovers:?}");
        for m in ["panicked at", "stack backtrace", "goroutine ", "panic:"] {
            assert!(!stderr.contains(m), "{name} {verb}: crash: {stderr}");
        }
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.contains("level=warn"))
            .collect();
        assert_eq!(lines.len(), 1, "{name} {verb}: {stderr}");
        assert!(lines[0].contains("/nonexistent"), "{name} {verb}: {stderr}");
    }
}
#[test]
fn ctr_error_nonexistent() {
    expect_clean_failure("ctr-error-nonexistent");
}
#[test]
fn docker_error_nonexistent() {
    expect_clean_failure("docker-error-nonexistent");
}
#[test]
fn podman_error_nonexistent() {
    expect_clean_failure("podman-error-nonexistent");
}
