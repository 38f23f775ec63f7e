//! Issue-2 items not covered elsewhere: `--no-pivot`, `--preserve-fds` on run, the session
//! keyring (`--no-new-keyring`), `linux.personality`, `process.ioPriority`,
//! `process.scheduler` and `linux.rootfsPropagation`, each observed from inside the container
//! or, for scheduling, on the init from outside.

use integration::*;
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

/// Run `script` in a fresh container with `setup` applied and `extra` create flags; return
/// stdout after checking success and that nothing is left behind.
fn run_sh(test: &str, script: &str, extra: &[&str], setup: impl FnOnce(&mut Bundle)) -> String {
    let rt = Runtime::new(test);
    let mut b = Bundle::new(test);
    b.sh(script);
    setup(&mut b);
    let id = rt.new_id();
    let out = rt.run_with(&id, &b, extra);
    assert!(
        out.status.success(),
        "run failed ({}): {}",
        out.status,
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);
    out.stdout_str()
}

/// `--no-pivot`: the rootfs becomes `/` by MS_MOVE + chroot; the container still sees only its
/// rootfs (the host's /work is not reachable) and runs normally.
#[test]
fn no_pivot_chroots_into_the_rootfs() {
    let out = run_sh(
        "nopivot",
        "ls /; test -e /work && echo HOST-VISIBLE; echo done",
        &["--no-pivot"],
        |_| {},
    );
    assert!(out.contains("bin"), "{out}");
    assert!(!out.contains("HOST-VISIBLE"), "{out}");
    assert!(out.trim_end().ends_with("done"), "{out}");
}

/// `run --preserve-fds 1`: fd 3 of the caller reaches the container, nothing above it does.
#[test]
fn preserve_fds_hands_fd_3_to_the_container() {
    let rt = Runtime::new("preserve");
    let mut b = Bundle::new("preserve");
    b.sh("cat <&3; ls /proc/self/fd | tr '\\n' ' '");
    b.write();
    let dir = tempfile_with("preserve", "secret-through-fd3\n");
    let f = std::fs::File::open(&dir).expect("open payload");
    let raw = std::os::fd::AsRawFd::as_raw_fd(&f);
    let id = rt.new_id();
    let mut c = rt.command();
    c.args(["run", "--preserve-fds", "1", "--bundle", &b.dir_str(), &id]);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: dup2 between fork and exec, async-signal-safe.
    unsafe {
        c.pre_exec(move || {
            // dup2 onto itself keeps FD_CLOEXEC: clear it explicitly in that case.
            let r = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = c.output().expect("spawn runtime");
    let _ = std::fs::remove_file(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("secret-through-fd3"), "{stdout}");
    // `ls` itself opens one fd for /proc/self/fd (3 is taken, so 4): nothing else.
    let fds: Vec<&str> = stdout
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(fds, ["0", "1", "2", "3", "4"], "{stdout}");
    rt.assert_no_leftovers(&id, &b);
}

fn tempfile_with(test: &str, text: &str) -> std::path::PathBuf {
    let p = std::path::PathBuf::from(format!("/tmp/{}", unique_name(test)));
    std::fs::write(&p, text).expect("write payload");
    p
}

/// A new session keyring named after the container unless `--no-new-keyring`.
#[test]
fn session_keyring_follows_no_new_keyring() {
    let unmask = |b: &mut Bundle| {
        b.set("/linux/maskedPaths", json!([]));
    };
    let with = run_sh("keyring", "cat /proc/keys", &[], unmask);
    assert!(with.contains("_ses.it-keyring"), "{with}");
    let without = run_sh("nokeyring", "cat /proc/keys", &["--no-new-keyring"], unmask);
    assert!(!without.contains("_ses.it-nokeyring"), "{without}");
}

/// `linux.personality` LINUX32: the container sees a 32-bit machine.
#[test]
fn personality_linux32() {
    let out = run_sh("persona", "uname -m", &[], |b| {
        b.set("/linux/personality", json!({"domain": "LINUX32"}));
    });
    assert_eq!(out.trim(), "i686", "{out}");
    let native = run_sh("persona64", "uname -m", &[], |_| {});
    assert_eq!(native.trim(), "x86_64");
}

/// `process.ioPriority` and `process.scheduler` are set on the init before `start`: read them
/// from outside with ioprio_get / sched_getscheduler / getpriority.
#[test]
fn io_priority_and_scheduler_on_the_init() {
    let rt = Runtime::new("sched");
    let mut b = Bundle::new("sched");
    b.args(&["sleep", "1000"]);
    b.set(
        "/process/ioPriority",
        json!({"class": "IOPRIO_CLASS_BE", "priority": 6}),
    );
    b.set(
        "/process/scheduler",
        json!({"policy": "SCHED_BATCH", "nice": 7}),
    );
    let id = rt.new_id();
    rt.create(&id, &b).ok();
    let pid = rt.recorded_proc(&id).expect("init").pid;
    const IOPRIO_WHO_PROCESS: i64 = 1;
    // SAFETY: plain syscalls on a pid, no memory passed.
    let (io, policy, nice) = unsafe {
        *libc::__errno_location() = 0;
        (
            libc::syscall(libc::SYS_ioprio_get, IOPRIO_WHO_PROCESS, pid as i64),
            libc::sched_getscheduler(pid),
            libc::getpriority(libc::PRIO_PROCESS, pid as libc::id_t),
        )
    };
    assert_eq!(io, (2 << 13) | 6, "ioprio of {pid}");
    assert_eq!(policy, libc::SCHED_BATCH, "policy of {pid}");
    assert_eq!(nice, 7, "nice of {pid}");
    rt.delete_force(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// `linux.rootfsPropagation`: "shared" makes `/` a shared mount inside, the default does not.
#[test]
fn rootfs_propagation_shared_and_default() {
    let root_line = "awk '$5 == \"/\"' /proc/self/mountinfo";
    let shared = run_sh("propshared", root_line, &[], |b| {
        b.set("/linux/rootfsPropagation", json!("shared"));
    });
    assert!(shared.contains("shared:"), "{shared}");
    let default = run_sh("propdefault", root_line, &[], |_| {});
    assert!(!default.contains("shared:"), "{default}");
}
