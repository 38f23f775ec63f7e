//! Shared helpers for the integration tests: bundles, unique ids and roots, cleanup guards.
//!
//! Every test builds its own [`Runtime`] (a private `--root`, unique container ids) and its own
//! [`Bundle`]s (a private copy of a cached busybox rootfs plus a mutable `config.json`), so tests
//! run in parallel without sharing state. Both guards clean up in `Drop`, also when the test
//! panics: containers are force-deleted (and, if the runtime under test fails at that, their
//! recorded processes are SIGKILLed), mounts left under the bundle are detached before anything
//! is removed, and the temporary directories are deleted.
//!
//! The runtime binary is `NUCLEUS_BIN` (default `<workspace>/target/release/nucleus`). Tests are
//! validated against runc (`NUCLEUS_BIN=/usr/sbin/runc`), whose behaviour defines "drop-in";
//! assertions that must differ for nucleus are gated with [`is_nucleus`].
//!
//! Runtime commands never use pipes for stdout/stderr: a container started by `create` or
//! `run -d` inherits the runtime's stdio and would keep a pipe open until it exits. Every command
//! writes to fresh files instead, read back once the runtime process has exited.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The six hook kinds of the OCI runtime spec, in the order they run.
pub const HOOK_KINDS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The workspace root (parent of the `integration` crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("integration crate has a parent directory")
        .to_path_buf()
}

/// The runtime under test: `$NUCLEUS_BIN`, else `<workspace>/target/release/nucleus`.
pub fn nucleus_bin() -> PathBuf {
    match std::env::var_os("NUCLEUS_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("target/release/nucleus"),
    }
}

/// True when the binary under test is nucleus (its file name contains "nucleus"), false for
/// reference runtimes such as runc. Gate only nucleus-specific assertions on this.
pub fn is_nucleus() -> bool {
    nucleus_bin()
        .file_name()
        .map(|n| n.to_string_lossy().contains("nucleus"))
        .unwrap_or(false)
}

/// Upper bound for any single runtime command or wait: a hang guard, not a performance
/// assertion. `NUCLEUS_IT_TIMEOUT_SECS` overrides the default of 30 s.
pub fn timeout() -> Duration {
    let secs = std::env::var("NUCLEUS_IT_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    Duration::from_secs(secs)
}

/// Base directory for all temporary files of the tests (`$NUCLEUS_IT_TMP`, default /tmp/nit).
/// Kept short: some paths (sockets) have length limits.
pub fn tmp_base() -> PathBuf {
    let base = std::env::var_os("NUCLEUS_IT_TMP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/nit"));
    fs::create_dir_all(&base).unwrap_or_else(|e| panic!("mkdir {}: {e}", base.display()));
    base
}

/// A name unique across tests, processes and calls: `it-{test}-{pid}-{n}`. Use it for
/// container ids, netns names, cgroup paths.
pub fn unique_name(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("it-{test}-{}-{n}", std::process::id())
}

/// A fresh, empty temporary directory named after the test; removed by the caller (or by the
/// guards that own it).
pub fn unique_dir(test: &str) -> PathBuf {
    let dir = tmp_base().join(unique_name(test));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir
}

/// A temporary directory removed (after detaching any mounts under it) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh empty directory named after `test`.
    pub fn new(test: &str) -> TempDir {
        TempDir(unique_dir(test))
    }
    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("NUCLEUS_IT_KEEP").is_none() {
            remove_tree(&self.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output helpers

/// Convenience accessors on `std::process::Output`.
pub trait OutputExt {
    fn stdout_str(&self) -> String;
    fn stderr_str(&self) -> String;
    /// Exit code; for a process killed by a signal, `128 + signal` like a shell reports it.
    fn code(&self) -> i32;
    /// Panics with the command's stdout/stderr unless it exited 0; returns self.
    fn ok(&self) -> &Self;
    /// Panics unless it exited non-zero; returns self.
    fn failed(&self) -> &Self;
}

impl OutputExt for Output {
    fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    fn code(&self) -> i32 {
        status_code(&self.status)
    }
    #[track_caller]
    fn ok(&self) -> &Self {
        assert!(
            self.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout_str(),
            self.stderr_str()
        );
        self
    }
    #[track_caller]
    fn failed(&self) -> &Self {
        assert!(
            !self.status.success(),
            "command unexpectedly succeeded:\nstdout: {}\nstderr: {}",
            self.stdout_str(),
            self.stderr_str()
        );
        self
    }
}

/// Exit code of a status; `128 + signal` when killed by a signal.
pub fn status_code(status: &ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => -1,
    }
}

/// Waits for `child` up to [`timeout`]; SIGKILLs it and panics on timeout. Returns its status.
pub fn wait_child(child: Child, what: &str) -> ExitStatus {
    wait_child_for(child, timeout())
        .unwrap_or_else(|| panic!("{what} did not exit within {:?} (killed)", timeout()))
}

/// Waits for `child` up to `limit`; SIGKILLs it and returns None on timeout.
pub fn wait_child_for(mut child: Child, limit: Duration) -> Option<ExitStatus> {
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(status)) => Some(status),
        Ok(Err(e)) => panic!("waiting for child {pid}: {e}"),
        Err(_) => {
            // SAFETY: plain kill(2) on the pid of our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            None
        }
    }
}

/// Runs `cmd` with stdin from `stdin` (or /dev/null) and stdout/stderr into fresh files
/// `<dir>/<tag>.out|.err`; waits (hang guard: [`timeout`]) and returns the files' contents.
/// Processes left behind by the command (a created container) may keep writing to the files.
pub fn run_to_files(cmd: &mut Command, dir: &Path, tag: &str, stdin: Option<&[u8]>) -> Output {
    let what = format!("{cmd:?}");
    run_to_files_for(cmd, dir, tag, stdin, timeout())
        .unwrap_or_else(|| panic!("{what} did not exit within {:?} (killed)", timeout()))
}

/// Like [`run_to_files`] with an explicit limit; None (after SIGKILL) on timeout.
pub fn run_to_files_for(
    cmd: &mut Command,
    dir: &Path,
    tag: &str,
    stdin: Option<&[u8]>,
    limit: Duration,
) -> Option<Output> {
    let out_path = dir.join(format!("{tag}.out"));
    let err_path = dir.join(format!("{tag}.err"));
    let out = File::create(&out_path).expect("create stdout file");
    let err = File::create(&err_path).expect("create stderr file");
    let input = match stdin {
        Some(bytes) => {
            let in_path = dir.join(format!("{tag}.in"));
            fs::write(&in_path, bytes).expect("write stdin file");
            Stdio::from(File::open(&in_path).expect("open stdin file"))
        }
        None => Stdio::null(),
    };
    cmd.stdin(input).stdout(out).stderr(err);
    let what = format!("{cmd:?}");
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let status = wait_child_for(child, limit)?;
    Some(Output {
        status,
        stdout: fs::read(&out_path).unwrap_or_default(),
        stderr: fs::read(&err_path).unwrap_or_default(),
    })
}

/// Like [`wait_until`], but gives up early (returning false) once `child` has exited: a
/// runtime that died cannot make the condition true any more.
pub fn wait_until_or_exit(child: &mut Child, mut cond: impl FnMut() -> bool) -> bool {
    wait_until(|| cond() || matches!(child.try_wait(), Ok(Some(_))))
        && (cond() || !matches!(child.try_wait(), Ok(Some(_))))
}

/// Polls `cond` every 10 ms until it is true or [`timeout`] passes; returns whether it became
/// true. A hang guard for asynchronous state changes, not a timing assertion.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout();
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------------
// Processes

/// Field 22 of /proc/PID/stat (start time in clock ticks) and the state letter (field 3).
fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// A process identity that survives pid reuse: pid plus start time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcId {
    pub pid: i32,
    pub start: u64,
}

impl ProcId {
    /// Captures pid `pid` now, if it exists.
    pub fn of(pid: i32) -> Option<ProcId> {
        proc_stat(pid).map(|(_, start)| ProcId { pid, start })
    }
    /// True while the same process exists and is not a zombie.
    pub fn alive(&self) -> bool {
        matches!(proc_stat(self.pid), Some((st, start)) if start == self.start && st != 'Z' && st != 'X')
    }
    /// The process state letter (R, S, D, Z, ...) if the same process still exists.
    pub fn state(&self) -> Option<char> {
        match proc_stat(self.pid) {
            Some((st, start)) if start == self.start => Some(st),
            _ => None,
        }
    }
}

/// True if `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    matches!(proc_stat(pid), Some((st, _)) if st != 'Z' && st != 'X')
}

/// The `/proc/PID/ns/KIND` link of a process (e.g. `net:[4026531840]`).
pub fn ns_link(pid: &str, kind: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{kind}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Mounts

/// Mount points (field 5 of /proc/self/mountinfo, unescaped) that are `path` or under it,
/// deepest first.
pub fn mounts_under(path: &Path) -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let prefix = path.to_string_lossy().into_owned();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|m| m == &prefix || m.starts_with(&format!("{prefix}/")))
        .map(PathBuf::from)
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found
}

fn unescape_mountinfo(s: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Detaches every mount at or under `path` (deepest first) so a recursive delete can never
/// reach through a leaked bind mount into the host.
pub fn detach_mounts_under(path: &Path) {
    for m in mounts_under(path) {
        if let Ok(c) = std::ffi::CString::new(m.to_string_lossy().as_bytes()) {
            // SAFETY: umount2 with a valid NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// Removes a directory tree after detaching mounts under it; errors are ignored (cleanup).
pub fn remove_tree(path: &Path) {
    if path.as_os_str().is_empty() || path == Path::new("/") {
        return;
    }
    detach_mounts_under(path);
    if mounts_under(path).is_empty() {
        let _ = fs::remove_dir_all(path);
    }
}

// ---------------------------------------------------------------------------------------------
// Bundles

/// The template bundle built once per test process by `hack/mkbundle.sh` (which itself caches
/// the rootfs across processes). Its config.json is the default spec every [`Bundle`] starts from.
fn template() -> &'static (PathBuf, Value) {
    static T: OnceLock<(PathBuf, Value)> = OnceLock::new();
    T.get_or_init(|| {
        remove_stale_templates();
        let dir = tmp_base().join(format!("template-{}", std::process::id()));
        remove_tree(&dir);
        let script = workspace_root().join("hack/mkbundle.sh");
        let out = Command::new(&script)
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "mkbundle.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs::read_to_string(dir.join("config.json")).expect("template config.json");
        let cfg = serde_json::from_str(&text).expect("template config.json parses");
        (dir, cfg)
    })
}

/// Removes template bundles of test processes that no longer exist (a static cannot be dropped,
/// so each process cleans up after its dead predecessors).
fn remove_stale_templates() {
    let Ok(rd) = fs::read_dir(tmp_base()) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("template-")
            .and_then(|p| p.parse::<i32>().ok())
        {
            if !pid_alive(pid) {
                remove_tree(&e.path());
            }
        }
    }
}

/// The default config (as `hack/mkbundle.sh` writes it) with `args` as the command.
pub fn default_config(args: &[&str]) -> Value {
    let mut cfg = template().1.clone();
    cfg["process"]["args"] = json!(args);
    cfg
}

/// An OCI bundle in a private temporary directory: `rootfs/` (a copy of the busybox template)
/// and `config` (mutable JSON, written to `config.json` by [`Bundle::write`], which the
/// [`Runtime`] helpers call before create/run). Removed on drop.
pub struct Bundle {
    dir: PathBuf,
    /// The config that will be written as config.json. Mutate freely.
    pub config: Value,
    raw: bool,
}

impl Bundle {
    /// A bundle running `sh` with the default config; `test` names the directory.
    pub fn new(test: &str) -> Bundle {
        let (tdir, cfg) = template();
        let dir = unique_dir(test);
        let st = Command::new("cp")
            .arg("-a")
            .arg(tdir.join("rootfs"))
            .arg(dir.join("rootfs"))
            .status()
            .expect("run cp");
        assert!(st.success(), "copying the template rootfs failed");
        Bundle {
            dir,
            config: cfg.clone(),
            raw: false,
        }
    }

    /// The bundle directory (what `--bundle` gets).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The rootfs directory on the host.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
    /// The bundle directory as a string.
    pub fn dir_str(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    /// Sets `process.args`.
    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.config["process"]["args"] = json!(args);
        self
    }
    /// Runs `sh -c script`.
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.args(&["sh", "-c", script])
    }
    /// Adds `KEY=VALUE` to `process.env`, replacing an existing KEY.
    pub fn env(&mut self, kv: &str) -> &mut Self {
        let key = kv.split('=').next().unwrap_or(kv).to_string();
        let env = self.config["process"]["env"]
            .as_array_mut()
            .expect("process.env is an array");
        env.retain(|e| {
            e.as_str()
                .map(|s| s.split('=').next() != Some(&key))
                .unwrap_or(true)
        });
        env.push(json!(kv));
        self
    }
    /// Sets `process.terminal`.
    pub fn terminal(&mut self, on: bool) -> &mut Self {
        self.config["process"]["terminal"] = json!(on);
        self
    }
    /// Sets `process.cwd`.
    pub fn cwd(&mut self, cwd: &str) -> &mut Self {
        self.config["process"]["cwd"] = json!(cwd);
        self
    }
    /// Sets `process.user`.
    pub fn user(&mut self, uid: u32, gid: u32, additional_gids: &[u32]) -> &mut Self {
        let mut u = json!({"uid": uid, "gid": gid});
        if !additional_gids.is_empty() {
            u["additionalGids"] = json!(additional_gids);
        }
        self.config["process"]["user"] = u;
        self
    }
    /// Sets `root.readonly`.
    pub fn readonly(&mut self, ro: bool) -> &mut Self {
        self.config["root"]["readonly"] = json!(ro);
        self
    }
    /// Appends a mount (`{"destination":..,"type":..,"source":..,"options":[..]}`).
    pub fn mount(&mut self, m: Value) -> &mut Self {
        self.config["mounts"]
            .as_array_mut()
            .expect("mounts is an array")
            .push(m);
        self
    }
    /// Appends a hook (`{"path":..,"args":[..],"env":[..],"timeout":N}`) of `kind`
    /// (one of [`HOOK_KINDS`]).
    pub fn hook(&mut self, kind: &str, h: Value) -> &mut Self {
        let hooks = &mut self.config["hooks"];
        if !hooks.is_object() {
            *hooks = json!({});
        }
        let list = &mut hooks[kind];
        if !list.is_array() {
            *list = json!([]);
        }
        list.as_array_mut().expect("array").push(h);
        self
    }
    /// Adds namespace `kind` (pid, network, ipc, uts, mount, cgroup, user, time), replacing an
    /// existing entry of that kind; `path` joins an existing namespace.
    pub fn namespace(&mut self, kind: &str, path: Option<&str>) -> &mut Self {
        self.remove_namespace(kind);
        let mut ns = json!({"type": kind});
        if let Some(p) = path {
            ns["path"] = json!(p);
        }
        self.config["linux"]["namespaces"]
            .as_array_mut()
            .expect("linux.namespaces is an array")
            .push(ns);
        self
    }
    /// Removes namespace `kind` from the config (the container shares the host's).
    pub fn remove_namespace(&mut self, kind: &str) -> &mut Self {
        if let Some(list) = self.config["linux"]["namespaces"].as_array_mut() {
            list.retain(|n| n["type"] != kind);
        }
        self
    }
    /// Sets the value at JSON pointer `pointer` (e.g. `/process/oomScoreAdj`), creating
    /// intermediate objects.
    pub fn set(&mut self, pointer: &str, v: Value) -> &mut Self {
        let mut cur = &mut self.config;
        for part in pointer.trim_start_matches('/').split('/') {
            let key = part.replace("~1", "/").replace("~0", "~");
            if !cur.is_object() {
                *cur = json!({});
            }
            cur = cur
                .as_object_mut()
                .expect("object")
                .entry(key)
                .or_insert(Value::Null);
        }
        *cur = v;
        self
    }
    /// Writes `config` as `config.json`. Skipped after [`Bundle::write_raw`].
    pub fn write(&self) {
        if self.raw {
            return;
        }
        let text = serde_json::to_string_pretty(&self.config).expect("serialize config");
        // Write-then-rename: several threads may create containers from one bundle at once,
        // and a runtime must never read a half-written config.json.
        let tmp = self.dir.join(format!(
            ".config.json.{}.{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        fs::write(&tmp, text).expect("write config.json");
        fs::rename(&tmp, self.dir.join("config.json")).expect("rename config.json");
    }
    /// Writes `text` verbatim as config.json and stops [`Bundle::write`] from overwriting it.
    pub fn write_raw(&mut self, text: &str) {
        fs::write(self.dir.join("config.json"), text).expect("write config.json");
        self.raw = true;
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        if std::env::var_os("NUCLEUS_IT_KEEP").is_some() {
            return;
        }
        remove_tree(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime

/// The runtime under test with a private `--root` and a registry of the containers a test made.
/// Dropping it force-deletes them all, kills what the runtime could not, and removes the root.
pub struct Runtime {
    bin: PathBuf,
    test: String,
    dir: PathBuf,
    root: PathBuf,
    ids: Mutex<Vec<String>>,
    procs: Mutex<HashMap<String, ProcId>>,
    stdio: Mutex<HashMap<String, (PathBuf, PathBuf)>>,
    calls: AtomicUsize,
}

impl Runtime {
    /// A runtime wrapper for test `test` (used in directory names and ids).
    pub fn new(test: &str) -> Runtime {
        let dir = unique_dir(test);
        let root = dir.join("root");
        Runtime {
            bin: nucleus_bin(),
            test: test.to_string(),
            dir,
            root,
            ids: Mutex::new(Vec::new()),
            procs: Mutex::new(HashMap::new()),
            stdio: Mutex::new(HashMap::new()),
            calls: AtomicUsize::new(0),
        }
    }

    /// The binary under test.
    pub fn bin(&self) -> &Path {
        &self.bin
    }
    /// The `--root` directory (not created in advance: the runtime creates it).
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// A private scratch directory of this test (logs, pid files, captured stdio).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The state directory the runtime keeps for `id` (`<root>/<id>`, as runc does).
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// A fresh unique container id (`it-{test}-{pid}-{n}`), registered for cleanup.
    pub fn new_id(&self) -> String {
        let id = unique_name(&self.test);
        self.register(&id);
        id
    }

    /// Registers `id` for force-deletion on drop (done automatically by create/run).
    pub fn register(&self, id: &str) {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    /// `BIN --root ROOT` with no arguments yet (stdio not configured).
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root);
        c
    }

    fn next_tag(&self, verb: &str) -> String {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        format!("call{n}-{verb}")
    }

    /// Runs `BIN --root ROOT args...` to completion (stdin /dev/null, output via files).
    pub fn cmd(&self, args: &[&str]) -> Output {
        self.cmd_stdin(args, None)
    }

    /// Like [`Runtime::cmd`] with `stdin` fed from a file.
    pub fn cmd_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let verb = args
            .iter()
            .find(|a| !a.starts_with('-'))
            .copied()
            .unwrap_or("x");
        let tag = self.next_tag(&verb.replace('/', "_"));
        let mut c = self.command();
        c.args(args);
        run_to_files(&mut c, &self.dir, &tag, stdin)
    }

    /// Runs `BIN args...` WITHOUT `--root` (for `--version`, `spec`, `features`, ...).
    pub fn bare(&self, args: &[&str]) -> Output {
        let tag = self.next_tag("bare");
        let mut c = Command::new(&self.bin);
        c.args(args);
        run_to_files(&mut c, &self.dir, &tag, None)
    }

    /// Spawns `BIN --root ROOT args...` without waiting, stdout/stderr piped (for signal tests).
    /// Collect it with [`wait_output`].
    pub fn spawn(&self, args: &[&str]) -> Child {
        for a in args {
            // Register anything that looks like one of our ids.
            if a.starts_with("it-") {
                self.register(a);
            }
        }
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()))
    }

    /// Remembers the container init process of `id` (via `state`) for cleanup and leak checks.
    fn remember_pid(&self, id: &str) {
        // Never panics: a runtime whose `state` hangs fails the test's own calls instead.
        let tag = self.next_tag("state-remember");
        let mut c = self.command();
        c.args(["state", id]);
        let Some(out) = run_to_files_for(&mut c, &self.dir, &tag, None, Duration::from_secs(10))
        else {
            return;
        };
        if !out.status.success() {
            return;
        }
        if let Ok(v) = serde_json::from_slice::<Value>(&out.stdout) {
            if let Some(pid) = v["pid"].as_i64().filter(|p| *p > 0) {
                if let Some(p) = ProcId::of(pid as i32) {
                    self.procs
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id.to_string(), p);
                }
            }
        }
    }

    /// The init process recorded for `id` after create/run -d, if any.
    pub fn recorded_proc(&self, id: &str) -> Option<ProcId> {
        self.procs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .copied()
    }

    fn run_container_cmd(&self, id: &str, args: &[&str]) -> Output {
        self.register(id);
        let tag = self.next_tag(&format!("{}-{id}", args[0]));
        let mut c = self.command();
        c.args(args);
        let out = run_to_files(&mut c, &self.dir, &tag, None);
        self.stdio.lock().unwrap_or_else(|e| e.into_inner()).insert(
            id.to_string(),
            (
                self.dir.join(format!("{tag}.out")),
                self.dir.join(format!("{tag}.err")),
            ),
        );
        out
    }

    /// `create --bundle DIR ID` (writes config.json first). The container's stdout/stderr go to
    /// files read by [`Runtime::container_stdout`] / [`Runtime::container_stderr`].
    pub fn create(&self, id: &str, b: &Bundle) -> Output {
        self.create_with(id, b, &[])
    }

    /// `create EXTRA... --bundle DIR ID`.
    pub fn create_with(&self, id: &str, b: &Bundle, extra: &[&str]) -> Output {
        b.write();
        let dir = b.dir_str();
        let mut args = vec!["create"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--bundle", &dir, id]);
        let out = self.run_container_cmd(id, &args);
        if out.status.success() {
            self.remember_pid(id);
        }
        out
    }

    /// `start ID`.
    pub fn start(&self, id: &str) -> Output {
        self.cmd(&["start", id])
    }

    /// `run --bundle DIR ID` in the foreground; returns when the container exits.
    pub fn run(&self, id: &str, b: &Bundle) -> Output {
        self.run_with(id, b, &[])
    }

    /// `run EXTRA... --bundle DIR ID`. With `-d` in EXTRA, the container keeps running and its
    /// output goes to files read by [`Runtime::container_stdout`].
    pub fn run_with(&self, id: &str, b: &Bundle, extra: &[&str]) -> Output {
        b.write();
        let dir = b.dir_str();
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--bundle", &dir, id]);
        let out = self.run_container_cmd(id, &args);
        if out.status.success() && extra.iter().any(|a| *a == "-d" || *a == "--detach") {
            self.remember_pid(id);
        }
        out
    }

    /// `kill ID SIGNAL`.
    pub fn kill(&self, id: &str, signal: &str) -> Output {
        self.cmd(&["kill", id, signal])
    }

    /// `delete ID`.
    pub fn delete(&self, id: &str) -> Output {
        self.cmd(&["delete", id])
    }

    /// `delete --force ID`.
    pub fn delete_force(&self, id: &str) -> Output {
        self.cmd(&["delete", "--force", id])
    }

    /// `state ID`.
    pub fn state(&self, id: &str) -> Output {
        self.cmd(&["state", id])
    }

    /// `state ID` parsed; panics if the command fails or prints invalid JSON.
    #[track_caller]
    pub fn state_json(&self, id: &str) -> Value {
        let out = self.state(id);
        out.ok();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("state output is not JSON ({e}): {}", out.stdout_str()))
    }

    /// The `status` field of `state ID`, or None if `state` fails.
    pub fn status(&self, id: &str) -> Option<String> {
        let out = self.state(id);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_string))
    }

    /// Polls `state` until the status is `want`; panics (with the last status) if it never is.
    #[track_caller]
    pub fn wait_status(&self, id: &str, want: &str) {
        let mut last = None;
        // Stop early once `state` fails: a container that does not exist never gets there.
        let mut misses = 0;
        let ok = wait_until(|| {
            last = self.status(id);
            if last.is_none() {
                misses += 1;
            }
            last.as_deref() == Some(want) || misses > 3
        }) && last.as_deref() == Some(want);
        assert!(
            ok,
            "container {id} never reached {want:?}; last status {last:?}"
        );
    }

    /// `list ARGS...`.
    pub fn list(&self, args: &[&str]) -> Output {
        let mut a = vec!["list"];
        a.extend_from_slice(args);
        self.cmd(&a)
    }

    /// `list --format json` parsed (an empty list for runc's `null`).
    #[track_caller]
    pub fn list_json(&self) -> Vec<Value> {
        let out = self.list(&["--format", "json"]);
        out.ok();
        match serde_json::from_slice::<Value>(&out.stdout) {
            Ok(Value::Array(a)) => a,
            Ok(Value::Null) => Vec::new(),
            other => panic!(
                "list json is not an array: {other:?} ({})",
                out.stdout_str()
            ),
        }
    }

    /// `exec ID ARGS...` in the foreground.
    pub fn exec(&self, id: &str, args: &[&str]) -> Output {
        self.exec_with(id, &[], args)
    }

    /// `exec FLAGS... ID ARGS...` in the foreground (flags such as `--env K=V`, `--cwd`,
    /// `--user`, `--process FILE` must precede the id).
    pub fn exec_with(&self, id: &str, flags: &[&str], args: &[&str]) -> Output {
        let mut a = vec!["exec"];
        a.extend_from_slice(flags);
        a.push(id);
        a.extend_from_slice(args);
        self.cmd(&a)
    }

    /// What the container `id` wrote to stdout so far (for create / run -d).
    pub fn container_stdout(&self, id: &str) -> String {
        self.read_stdio(id, true)
    }
    /// What the container `id` wrote to stderr so far (for create / run -d).
    pub fn container_stderr(&self, id: &str) -> String {
        self.read_stdio(id, false)
    }
    fn read_stdio(&self, id: &str, out: bool) -> String {
        let map = self.stdio.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some((o, e)) => fs::read_to_string(if out { o } else { e }).unwrap_or_default(),
            None => String::new(),
        }
    }

    /// Everything left behind by container `id` run from bundle `b`: its state directory,
    /// mounts naming the id or the bundle, cgroup directories named after the id, and live
    /// processes that are the recorded init or whose cmdline/cwd/root refer to the bundle.
    /// Empty means clean.
    pub fn leftovers(&self, id: &str, b: &Bundle) -> Vec<String> {
        let mut found = Vec::new();
        let sd = self.state_dir(id);
        if sd.exists() {
            found.push(format!("state dir {} still exists", sd.display()));
        }
        let bundle = b.dir_str();
        let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        for line in info.lines() {
            if mentions(line, &bundle) || mentions(line, id) {
                found.push(format!("mount left: {line}"));
            }
        }
        found.extend(
            cgroup_dirs_named(id)
                .into_iter()
                .map(|p| format!("cgroup left: {}", p.display())),
        );
        if let Some(p) = self.recorded_proc(id) {
            if p.alive() {
                found.push(format!("container init pid {} still alive", p.pid));
            }
        }
        for (pid, why) in processes_referring_to(&bundle, id) {
            found.push(format!("process {pid} refers to the container: {why}"));
        }
        found
    }

    /// Panics listing [`Runtime::leftovers`] if there are any.
    #[track_caller]
    pub fn assert_no_leftovers(&self, id: &str, b: &Bundle) {
        let l = self.leftovers(id, b);
        assert!(
            l.is_empty(),
            "container {id} left things behind:\n{}",
            l.join("\n")
        );
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let ids = self.ids.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for id in &ids {
            if self.state_dir(id).exists() || self.root.exists() {
                let mut c = self.command();
                c.args(["delete", "--force", id]);
                c.stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                if let Ok(child) = c.spawn() {
                    // Never panic in drop: a hang here is only bounded by the child exiting.
                    let pid = child.id() as i32;
                    let (tx, rx) = mpsc::channel();
                    let mut child = child;
                    std::thread::spawn(move || {
                        let _ = tx.send(child.wait());
                    });
                    if rx.recv_timeout(timeout()).is_err() {
                        // SAFETY: kill(2) on our own child.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
            }
            // If the runtime could not delete it, do not leave its init running.
            if let Some(p) = self.recorded_proc(id) {
                if p.alive() {
                    // SAFETY: kill(2) of a process we identified by pid and start time.
                    unsafe { libc::kill(p.pid, libc::SIGKILL) };
                }
            }
        }
        // Last resort for a runtime that could neither report nor delete its containers: its
        // own processes carry `--root <our unique root>` (or one of our unique ids) on their
        // command line.
        let root = self.root.to_string_lossy().into_owned();
        for (pid, _) in processes_referring_to(&root, &root) {
            // SAFETY: kill(2) of a process whose cmdline names this test's private root.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        for id in &ids {
            for (pid, _) in processes_referring_to(&self.dir.to_string_lossy(), id) {
                // SAFETY: kill(2) of a process whose cmdline names this test's unique id.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if std::env::var_os("NUCLEUS_IT_KEEP").is_none() {
            remove_tree(&self.dir);
        }
    }
}

/// Waits for a spawned child (hang guard [`timeout`]) and collects its output.
pub fn wait_output(child: Child) -> Output {
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout()) {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => panic!("waiting for child {pid}: {e}"),
        Err(_) => {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("child {pid} did not exit within {:?} (killed)", timeout());
        }
    }
}

/// True if `hay` contains `needle` as a whole name: the character after the match (if any) is
/// not one that could continue an id (so `it-x-1` does not match `it-x-10`).
pub fn mentions(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    hay.match_indices(needle).any(|(i, _)| {
        hay[i + needle.len()..]
            .chars()
            .next()
            .map(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(true)
    })
}

/// Directories under /sys/fs/cgroup/*/ (up to 4 levels deep) whose name [`mentions`] `id`.
pub fn cgroup_dirs_named(id: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, id: &str, depth: usize, found: &mut Vec<PathBuf>) {
        if depth == 0 {
            return;
        }
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            let p = e.path();
            if mentions(&e.file_name().to_string_lossy(), id) {
                found.push(p.clone());
            }
            walk(&p, id, depth - 1, found);
        }
    }
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), id, 5, &mut found);
    found
}

/// Live processes (other than this one) whose cmdline mentions `bundle` or `id`, or whose cwd
/// or root is inside `bundle`; with the reason.
pub fn processes_referring_to(bundle: &str, id: &str) -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return found;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me || !pid_alive(pid) {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if mentions(&cmdline, bundle) || mentions(&cmdline, id) {
            found.push((pid, format!("cmdline {cmdline:?}")));
            continue;
        }
        for link in ["cwd", "root"] {
            if let Ok(t) = fs::read_link(format!("/proc/{pid}/{link}")) {
                let t = t.to_string_lossy();
                if t == bundle || t.starts_with(&format!("{bundle}/")) {
                    found.push((pid, format!("{link} -> {t} (cmdline {cmdline:?})")));
                    break;
                }
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Network namespaces

/// A named network namespace (`ip netns add`), deleted on drop.
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `ip netns add it-{test}-{pid}-{n}`.
    pub fn new(test: &str) -> NetNs {
        let name = unique_name(test);
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("run ip netns add");
        assert!(st.success(), "ip netns add {name} failed");
        NetNs { name }
    }
    /// The netns name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its bind-mounted path (`/var/run/netns/NAME`), usable as a namespace `path`.
    pub fn path(&self) -> String {
        format!("/var/run/netns/{}", self.name)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Writes an executable shell script `name` into `dir` and returns its path (for hooks).
pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    let mut f = File::create(&p).expect("create script");
    write!(f, "#!/bin/sh\n{body}\n").expect("write script");
    drop(f);
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod script");
    p
}

/// Receives one fd sent with SCM_RIGHTS (runc's console-socket protocol).
pub fn recv_fd(stream: &std::os::unix::net::UnixStream) -> std::os::fd::OwnedFd {
    let mut data = [0u8; 256];
    let mut cmsg = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; zeroed is a valid empty header we fill below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg);
    // SAFETY: recvmsg into buffers that outlive the call.
    let n = unsafe { libc::recvmsg(std::os::fd::AsRawFd::as_raw_fd(stream), &mut msg, 0) };
    assert!(n >= 0, "recvmsg: {}", std::io::Error::last_os_error());
    // SAFETY: walking the control buffer the kernel filled, as CMSG_* are meant to be used.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        assert!(!c.is_null(), "console socket message carried no fd");
        assert_eq!(
            ((*c).cmsg_level, (*c).cmsg_type),
            (libc::SOL_SOCKET, libc::SCM_RIGHTS)
        );
        <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(std::ptr::read_unaligned(
            libc::CMSG_DATA(c) as *const i32,
        ))
    }
}

/// A running `sleep 1000` container (created and started); force-deleted by the guard.
pub fn running(rt: &Runtime, b: &mut Bundle) -> (String, i32) {
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, b).ok();
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    let pid = rt.recorded_proc(&id).expect("init recorded").pid;
    (id, pid)
}

/// Kill, wait for `stopped`, delete, and check nothing is left.
pub fn stop_and_delete(rt: &Runtime, id: &str, b: &Bundle) {
    rt.kill(id, "KILL").ok();
    rt.wait_status(id, "stopped");
    rt.delete(id).ok();
    rt.assert_no_leftovers(id, b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_needs_a_boundary() {
        assert!(mentions("x it-a-1-2 y", "it-a-1-2"));
        assert!(mentions("/tmp/nit/it-a-1-2/rootfs", "/tmp/nit/it-a-1-2"));
        assert!(mentions("it-a-1-2", "it-a-1-2"));
        assert!(!mentions("it-a-1-20", "it-a-1-2"));
        assert!(!mentions("/tmp/nit/it-a-1-23/rootfs", "/tmp/nit/it-a-1-2"));
        assert!(mentions("it-a-1-20 it-a-1-2", "it-a-1-2"));
        assert!(!mentions("anything", ""));
    }

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_mountinfo(r"/a\040b\011c\134d"), "/a b\tc\\d");
        assert_eq!(unescape_mountinfo(r"/plain\0"), r"/plain\0");
    }

    #[test]
    fn set_creates_intermediate_objects() {
        let mut b = Bundle {
            dir: PathBuf::from("/nonexistent"),
            config: json!({"process": {}}),
            raw: true,
        };
        b.set("/linux/sysctl/net.ipv4.ip_forward", json!("1"));
        b.set("/process/user~1x", json!(1));
        assert_eq!(b.config["linux"]["sysctl"]["net.ipv4.ip_forward"], "1");
        assert_eq!(b.config["process"]["user/x"], 1);
        std::mem::forget(b); // nothing on disk to remove
    }
}
