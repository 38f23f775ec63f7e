//! Regression tests for container-escape CVEs of runc:
//! - CVE-2019-5736: the container overwriting the runtime binary through /proc/PID/exe;
//! - CVE-2024-21626: a leaked host fd used as process.cwd (`/proc/self/fd/N`) and fds leaking
//!   into the container (runc 1.1.5 as shipped by Debian 12 is VULNERABLE: expected to fail);
//! - CVE-2021-30465: rootfs symlinks used as mount destinations to reach host paths.
//!
//! The runtime binary is copied to a private path first (see [`private_runtime`]) so a
//! vulnerable runtime corrupts only the copy, never the installed binary.

use integration::*;
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The runtime under test, copied once to a private file that `NUCLEUS_BIN` then points to for
/// every test of this binary; returns (copy path, its original bytes). A local helper: the
/// shared harness has no way to pick the binary per Runtime.
fn private_runtime() -> &'static (PathBuf, Vec<u8>) {
    static COPY: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    COPY.get_or_init(|| {
        let orig = nucleus_bin();
        let bytes = fs::read(&orig).unwrap_or_else(|e| panic!("read {}: {e}", orig.display()));
        let dir = unique_dir("cve-bin");
        let _ = CVE_BIN_DIR.set(dir.clone());
        // SAFETY: registers a plain extern "C" fn; it runs once at process exit.
        unsafe { libc::atexit(remove_private_runtime) };
        let copy = dir.join("cve-runtime-copy");
        fs::write(&copy, &bytes).expect("write runtime copy");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).expect("chmod copy");
        // Set before any Runtime of this binary exists: every test calls this first.
        std::env::set_var("NUCLEUS_BIN", &copy);
        (copy, bytes)
    })
}

static CVE_BIN_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Removes the private runtime copy when the test process exits (the copy outlives each test).
extern "C" fn remove_private_runtime() {
    if let Some(d) = CVE_BIN_DIR.get() {
        let _ = fs::remove_dir_all(d);
    }
}

/// A file or directory on the host that is removed when the test ends, even on panic.
struct HostPath(PathBuf);
impl Drop for HostPath {
    fn drop(&mut self) {
        if self.0.is_dir() {
            remove_tree(&self.0);
        } else {
            let _ = fs::remove_file(&self.0);
        }
    }
}

/// CVE-2019-5736: while `exec` processes come and go (including one that execs a
/// `#!/proc/self/exe` script, the original exploit's trigger), the container tries to open
/// `/proc/PID/exe` of every process it can see for writing. No write may succeed, no visible
/// process may have the runtime binary itself as its exe, and the binary must be unchanged.
#[test]
fn cve_2019_5736_runtime_binary_not_writable_from_container() {
    let (copy, original) = private_runtime();
    let rt = Runtime::new("cve5736");
    let mut b = Bundle::new("cve5736");
    b.readonly(false);
    fs::write(b.rootfs().join("evil"), "#!/proc/self/exe\n").expect("write evil");
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(b.rootfs().join("evil"), fs::Permissions::from_mode(0o755))
            .expect("chmod evil");
    }
    let copy_s = copy.to_string_lossy().into_owned();
    b.env(&format!("RUNTIME_PATH={copy_s}"));
    // Bounded loop (stops on /tmp/stop or after 20000 rounds): report any successful write and
    // any exe link that is the runtime binary's host path.
    b.sh(concat!(
        "i=0; touch /tmp/ready; ",
        "while [ ! -e /tmp/stop ] && [ $i -lt 20000 ]; do ",
        "for p in /proc/[0-9]*; do ",
        "l=$(readlink $p/exe 2>/dev/null); ",
        "[ \"$l\" = \"$RUNTIME_PATH\" ] && echo SAW-RUNTIME:$p:$l; ",
        "(echo x > $p/exe) 2>/dev/null && echo WROTE:$p:$l; ",
        "done; i=$((i+1)); done; echo loop-done"
    ));
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    // The created container's init is the runtime itself (waiting for start): its exe must not
    // be the host binary either, and it must not be writable through /proc from the host view.
    let pid = rt.state_json(&id)["pid"].as_i64().expect("pid") as i32;
    let init_exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    rt.start(&id).ok();
    assert!(wait_until(|| b.rootfs().join("tmp/ready").exists()));
    for _ in 0..10 {
        rt.exec(&id, &["true"]).ok();
        // Fails (the runtime's init is not meant to run this way); it must not write anything.
        let _ = rt.exec(&id, &["/evil"]);
    }
    rt.exec(&id, &["touch", "/tmp/stop"]).ok();
    rt.wait_status(&id, "stopped");
    let out = rt.container_stdout(&id);
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);

    assert!(
        out.contains("loop-done"),
        "container loop did not finish: {out}"
    );
    assert!(
        !out.contains("WROTE:"),
        "container wrote to a /proc/PID/exe: {out}"
    );
    assert!(
        !out.contains("SAW-RUNTIME:"),
        "container saw the runtime binary: {out}"
    );
    let now = fs::read(copy).expect("read runtime copy");
    assert!(
        now == *original,
        "the runtime binary was modified from inside the container"
    );
    println!(
        "created init exe as seen from the host: {}",
        init_exe.display()
    );
}

/// CVE-2024-21626: `process.cwd` = `/proc/self/fd/N` for N in 3..=10 must never give the
/// container a working directory on the host: either the runtime refuses, or climbing `..`
/// from the cwd stays in the container (the host-root marker is never visible). runc 1.1.5
/// (Debian 12) is vulnerable: this test is expected to FAIL against it.
#[test]
fn cve_2024_21626_cwd_via_leaked_fd() {
    private_runtime();
    let marker_name = format!("nucleus-cve-21626-marker-{}", std::process::id());
    let marker = HostPath(Path::new("/").join(&marker_name));
    fs::write(&marker.0, "host root").expect("write host-root marker");
    let rt = Runtime::new("cve21626");
    let mut escapes = Vec::new();
    for n in 3..=10 {
        let mut b = Bundle::new("cve21626");
        b.cwd(&format!("/proc/self/fd/{n}"));
        b.sh("cd ../../../../../../../..; ls -a; echo listed");
        let id = rt.new_id();
        let out = rt.run(&id, &b);
        let stdout = out.stdout_str();
        if stdout.contains(&marker_name) {
            escapes.push(format!(
                "fd {n}: host / listed: {}",
                stdout.replace('\n', " ")
            ));
        }
        if !out.status.success() {
            let stderr = out.stderr_str();
            assert!(
                !stderr.contains("panicked at") && !stderr.contains("goroutine "),
                "fd {n}: crash: {stderr}"
            );
        }
        rt.assert_no_leftovers(&id, &b);
    }
    assert!(
        escapes.is_empty(),
        "container reached the host fs:\n{}",
        escapes.join("\n")
    );
}

/// Lists the fd numbers of the shell itself, one per line. `ls` of the *shell's* fd dir, so the
/// directory fd `ls` opens is not counted (a shell glob would count its own opendir); `; true`
/// keeps the shell from exec'ing `ls` in its place.
const LIST_FDS: &str = "ls /proc/$$/fd; true";

/// The fds listed by [`LIST_FDS`], space-separated.
fn fd_list(stdout: &str) -> String {
    stdout.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// No fd other than 0, 1, 2 reaches the container process, on `run`, on `create`+`start` and
/// on `exec` (the class of leak CVE-2024-21626 exploited).
#[test]
fn cve_2024_21626_no_leaked_fds() {
    private_runtime();
    let rt = Runtime::new("cvefds");
    let mut b = Bundle::new("cvefds");
    b.sh(LIST_FDS);
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    out.ok();
    assert_eq!(fd_list(&out.stdout_str()), "0 1 2", "run");
    rt.assert_no_leftovers(&id, &b);

    let mut b = Bundle::new("cvefds");
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    let out = rt.exec(&id, &["sh", "-c", LIST_FDS]);
    out.ok();
    assert_eq!(fd_list(&out.stdout_str()), "0 1 2", "exec");
    let pid = rt.state_json(&id)["pid"].as_i64().expect("pid");
    let init_fds: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read init fds")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = init_fds.clone();
    sorted.sort();
    assert_eq!(sorted, ["0", "1", "2"], "init (sleep) has extra fds");
    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// CVE-2021-30465: rootfs symlinks (absolute and `..`-relative) pointing at a host directory,
/// used as bind-mount destinations. The mounts must land inside the rootfs (the container sees
/// the source's marker there), nothing may be created in the host directory, and no host mount
/// may appear on it. A `/proc` replaced by such a symlink must be refused or stay inside too.
#[test]
fn cve_2021_30465_symlink_mount_destinations_stay_in_rootfs() {
    private_runtime();
    let host = HostPath(unique_dir("cve30465-host"));
    fs::write(host.0.join("HOST-MARKER"), "host").expect("host marker");
    let host_s = host.0.to_string_lossy().into_owned();
    let rt = Runtime::new("cve30465");
    let mut b = Bundle::new("cve30465");
    let src = b.dir().join("src");
    fs::create_dir(&src).expect("mkdir src");
    fs::write(src.join("SRC-MARKER"), "src").expect("src marker");
    let rel = format!("../../../../../../../../..{host_s}");
    std::os::unix::fs::symlink(&host_s, b.rootfs().join("evil-abs")).expect("symlink abs");
    std::os::unix::fs::symlink(&rel, b.rootfs().join("evil-rel")).expect("symlink rel");
    let src_s = src.to_string_lossy().into_owned();
    for dest in [
        "/evil-abs/sub/dir",
        "/evil-rel/sub/dir",
        "/evil-abs",
        "/evil-rel",
    ] {
        b.mount(json!({"destination": dest, "type": "bind", "source": src_s,
            "options": ["rbind", "ro"]}));
    }
    b.sh("ls /evil-abs/sub/dir /evil-rel/sub/dir /evil-abs /evil-rel; echo listed");
    let id = rt.new_id();
    let out = rt.create(&id, &b);
    let host_mounts = mounts_under(&host.0);
    let host_entries: Vec<String> = fs::read_dir(&host.0)
        .expect("read host dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if out.status.success() {
        rt.start(&id).ok();
        rt.wait_status(&id, "stopped");
        let stdout = rt.container_stdout(&id);
        assert!(stdout.contains("listed"), "{stdout}");
        assert!(
            !stdout.contains("HOST-MARKER"),
            "container sees the host dir: {stdout}"
        );
        assert!(
            stdout.contains("SRC-MARKER"),
            "mounts did not land in the container: {stdout}"
        );
        rt.delete(&id).ok();
    }
    rt.assert_no_leftovers(&id, &b);
    assert!(
        host_mounts.is_empty(),
        "mounted onto the host dir: {host_mounts:?}"
    );
    assert_eq!(host_entries, ["HOST-MARKER"], "the host dir was modified");

    // /proc as a symlink to the host dir: refused, or proc lands inside the rootfs.
    let mut b = Bundle::new("cve30465");
    fs::remove_dir(b.rootfs().join("proc")).expect("rmdir rootfs/proc");
    std::os::unix::fs::symlink(&rel, b.rootfs().join("proc")).expect("symlink proc");
    b.sh("echo ran");
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    let host_mounts = mounts_under(&host.0);
    let entries: Vec<String> = fs::read_dir(&host.0)
        .expect("read host dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    rt.assert_no_leftovers(&id, &b);
    assert!(
        host_mounts.is_empty(),
        "proc mounted onto the host dir: {host_mounts:?}"
    );
    assert_eq!(
        entries,
        ["HOST-MARKER"],
        "the host dir was modified via /proc symlink"
    );
    if !out.status.success() {
        assert!(
            !out.stderr_str().contains("panicked at"),
            "{}",
            out.stderr_str()
        );
    }
}
