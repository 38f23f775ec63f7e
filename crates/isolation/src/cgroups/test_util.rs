//! Helpers for the cgroup tests: temp dirs, unique cgroup names, guards that always clean up.

use super::Cgroup;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A unique name containing "nucleus-test" (leak checks look for it).
pub fn unique(name: &str) -> String {
    format!(
        "nucleus-test-{}-{}-{name}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(name));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A real cgroup at `/<unique name>` that is killed and removed on drop, even when the test
/// fails; the drop also checks that no directory was left behind.
pub struct CgGuard(pub Cgroup);

impl CgGuard {
    pub fn create(name: &str) -> CgGuard {
        let cg = Cgroup::resolve(Some(&format!("/{}", unique(name))), "unused").expect("resolve");
        cg.create().expect("create cgroup");
        CgGuard(cg)
    }
}

impl Drop for CgGuard {
    fn drop(&mut self) {
        let _ = self.0.thaw();
        let _ = self.0.kill_all(libc::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.0.pids().map(|p| !p.is_empty()).unwrap_or(false) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let r = self.0.destroy();
        let left: Vec<_> = self.0.dirs().into_iter().filter(|d| d.exists()).collect();
        if !std::thread::panicking() {
            r.expect("destroy cgroup");
            assert!(left.is_empty(), "cgroup directories left behind: {left:?}");
        }
    }
}

/// A `sh -c SCRIPT` child that waits on stdin until it has been moved into the cgroup.
/// Killed and reaped on drop.
pub struct Kid {
    pub child: Child,
    pub stdout: Option<BufReader<ChildStdout>>,
}

impl Kid {
    pub fn spawn_in(cg: &Cgroup, script: &str) -> Kid {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("read _go; {script}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        cg.add_pid(child.id() as i32).expect("add_pid");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").expect("release child");
        drop(stdin);
        let stdout = child.stdout.take().map(BufReader::new);
        Kid { child, stdout }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn read_line(&mut self) -> String {
        let mut s = String::new();
        self.stdout
            .as_mut()
            .expect("stdout")
            .read_line(&mut s)
            .expect("read child stdout");
        s.trim_end().to_string()
    }

    /// Wait for exit; returns (exit code, signal, stdout rest, stderr).
    pub fn finish(mut self) -> (Option<i32>, Option<i32>, String, String) {
        use std::io::Read;
        use std::os::unix::process::ExitStatusExt;
        let mut out = String::new();
        if let Some(o) = self.stdout.as_mut() {
            let _ = o.read_to_string(&mut out);
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let st = self.child.wait().expect("wait child");
        (st.code(), st.signal(), out, err)
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

/// Poll `f` until it returns true; panics with `what` after 10 s.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
