//! create, run, start, kill and delete of a gVisor container: nucleus's state directory and
//! checks, runsc's sandbox.

use super::runsc::{last_line, Runsc};
use super::settings::Requested;
use crate::cli::{Cli, CreateArgs};
use crate::state::{self, State, Status};
use anyhow::{anyhow, bail, Context, Result};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Removes what a failed create made: runsc's half-built sandbox, then the state directory.
struct Undo {
    dir: Option<PathBuf>,
    runsc: Option<(Runsc, String)>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if let Some((r, id)) = self.runsc.take() {
            let _ = r.quiet(&["delete", "--force", &id]);
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// runsc writes its own errors (it has no separate log for them) to this file in the state
/// directory, so a failed create can report runsc's reason in one line.
const CREATE_LOG: &str = "runsc-create.log";

pub fn create(cli: &Cli, a: &CreateArgs, req: &Requested) -> Result<(state::Locked, State)> {
    state::validate_id(&a.id)?;
    crate::commands::create::check_systemd(cli)?;
    if a.preserve_fds > 0 {
        bail!("--preserve-fds: runsc cannot pass extra file descriptors into a gVisor sandbox (run.oci.handler=gvisor)");
    }
    let bundle = std::fs::canonicalize(&a.bundle)
        .map_err(|e| anyhow!("bundle {}: {e}", a.bundle.display()))?;
    // The same validation as a native container: a bad config fails the same way.
    let cfg = spec_translate::load_spec(&bundle)?;
    let plan = spec_translate::translate(&cfg, &bundle)?;

    let (dir, lock) = state::new_container_dir(&cli.root, &a.id)?;
    let mut undo = Undo {
        dir: Some(dir.clone()),
        runsc: None,
    };
    let r = req.runsc(&dir);
    r.save(&dir)?;

    // runsc's stdio is the container's: inherit ours, as a native init would.
    let mut c = r.command();
    c.arg(format!("--log={}", dir.join(CREATE_LOG).display()));
    // runsc writes the sandbox pid here: one `runsc state` call fewer (each costs ~25 ms).
    let pid_file = dir.join("runsc.pid");
    c.arg("create").arg("--bundle").arg(&bundle);
    c.arg("--pid-file").arg(&pid_file);
    if let Some(s) = &a.console_socket {
        c.arg("--console-socket").arg(s);
    }
    c.arg(&a.id);
    undo.runsc = Some((r.clone(), a.id.clone()));
    let status = c
        .status()
        .map_err(|e| anyhow!("run {}: {e}", r.bin.display()))?;
    if !status.success() {
        let why = std::fs::read_to_string(dir.join(CREATE_LOG))
            .ok()
            .and_then(|l| {
                l.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| format!("exit status {status}"));
        bail!("runsc create: {}", why.trim());
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| {
            anyhow!(
                "runsc create succeeded but wrote no pid to {}",
                pid_file.display()
            )
        })?;
    let start_time = state::proc_start_time(pid)
        .ok_or_else(|| anyhow!("gVisor sandbox {pid} vanished during create"))?;
    let st = State {
        oci_version: plan.oci_version.clone(),
        id: a.id.clone(),
        pid,
        start_time,
        bundle,
        rootfs: plan.rootfs.clone(),
        created: crate::timefmt::now_rfc3339(),
        owner: String::new(),
        annotations: plan.annotations.clone(),
        // runsc makes, fills and removes the cgroup itself.
        cgroup: None,
        // runsc runs every hook of the config itself.
        poststart: Vec::new(),
        poststop: Vec::new(),
        config: cfg.raw.clone(),
    };
    state::write_state(&dir, &st)?;
    if let Some(p) = &a.pid_file {
        crate::commands::create::write_pid_file(p, pid)?;
    }
    undo.dir = None;
    undo.runsc = None;
    Ok((lock, st))
}

/// Signals a foreground `run` passes on to the container (through `runsc kill`): the same
/// set as a native `run`.
use crate::commands::run::FORWARDED;

/// Foreground `run` learns the exit code from the sandbox process itself: runsc's sandbox
/// exits with its container's status (128+N for death by signal N), and `runsc wait` cannot be
/// trusted for it (it refuses a created container and loses the status of one that exits
/// fast). So `run` is a subreaper (whatever `--no-subreaper` says) and the sandbox, orphaned
/// by `runsc create`, becomes its child.
pub fn run(cli: &Cli, a: &CreateArgs, req: &Requested, detach: bool, keep: bool) -> Result<i32> {
    if detach {
        let (lock, _) = create(cli, a, req)?;
        drop(lock);
        if let Err(e) = start(&cli.root, &a.id) {
            let _ = delete(&cli.root, &a.id, true);
            return Err(e);
        }
        return Ok(0);
    }
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    // Blocked before anything exists so none is lost; children get an empty mask from std.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigemptyset(&mut set);
        for &s in FORWARDED.iter().chain(&[libc::SIGCHLD]) {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let (lock, st) = create(cli, a, req)?;
    let r = Runsc::load(&lock.dir)?;
    // Just created under our lock: start it without asking runsc for its status first.
    let started = r.quiet(&["start", &a.id]);
    drop(lock);
    if let Err(e) = started {
        let _ = delete(&cli.root, &a.id, true);
        return Err(e);
    }
    let code = 'wait: loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            let _ = r.quiet(&["kill", &a.id, &sig.to_string()]);
            continue;
        }
        loop {
            let mut ws = 0;
            let pid = unsafe { libc::waitpid(-1, &mut ws, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == st.pid {
                break 'wait if libc::WIFSIGNALED(ws) {
                    128 + libc::WTERMSIG(ws)
                } else {
                    libc::WEXITSTATUS(ws)
                };
            }
        }
    };
    reap_orphans();
    if !keep {
        if let Err(e) = delete(&cli.root, &a.id, true) {
            crate::logging::warn(&format!("delete after run: {e}"));
        }
    }
    Ok(code)
}

/// The gofer, orphaned by `runsc create` too, is our child: reap it (by pid, so the waits of
/// our own runsc commands are untouched) or `runsc delete` waits for a zombie until it times out.
fn reap_orphans() {
    let mut kids = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc/self/task") {
        for t in rd.flatten() {
            let list = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            kids.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    if kids.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        for k in kids {
            let mut ws = 0;
            unsafe { libc::waitpid(k, &mut ws, 0) };
        }
    });
}

/// Open a handed-off container: its lock, nucleus state (None while created half-way) and runsc.
pub(super) fn open(root: &Path, id: &str) -> Result<(state::Locked, Option<State>, Runsc)> {
    let (lock, st) = state::open(root, id)?;
    let r = Runsc::load(&lock.dir)?;
    Ok((lock, st, r))
}

pub fn start(root: &Path, id: &str) -> Result<()> {
    let (lock, st, r) = open(root, id)?;
    let Some(st) = st else {
        bail!("container {id} is still being created")
    };
    st.status(&lock.dir).check_startable(id)?;
    r.quiet(&["start", id])?;
    Ok(())
}

pub fn kill(root: &Path, id: &str, signal: Option<&str>, all: bool) -> Result<()> {
    let sig = crate::signals::parse(signal.unwrap_or("SIGTERM")).map_err(|e| anyhow!(e))?;
    let (lock, st, r) = open(root, id)?;
    let Some(st) = st else {
        bail!("container not running")
    };
    if st.status(&lock.dir) == Status::Stopped {
        if all {
            // As the native path: --all on a stopped container is tolerated.
            return Ok(());
        }
        bail!("container not running");
    }
    let sig = sig.to_string();
    let mut args = vec!["kill"];
    if all {
        args.push("--all");
    }
    args.extend([id, &sig]);
    r.quiet(&args)?;
    Ok(())
}

pub fn delete(root: &Path, id: &str, force: bool) -> Result<()> {
    let (lock, st, r) = match open(root, id) {
        Ok(x) => x,
        Err(e) if force && e.to_string().contains("does not exist") => return Ok(()),
        Err(e) => return Err(e),
    };
    if let Some(st) = &st {
        match st.status(&lock.dir) {
            Status::Stopped | Status::Created => {}
            _ if force => {}
            s => bail!(
                "cannot delete container {id} that is not stopped: {}",
                s.as_str()
            ),
        }
    }
    // runsc kills what is left, waits for the sandbox and gofer, removes its cgroup and state.
    let out = r
        .command()
        .args(["delete", "--force", id])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| anyhow!("run {}: {e}", r.bin.display()))?;
    if !out.status.success() {
        let why = last_line(&out);
        // A sandbox runsc never finished creating is not an error to delete.
        if st.is_some() && !why.contains("does not exist") && !why.contains("cannot load") {
            crate::logging::warn(&format!("runsc delete: {why}"));
        }
    }
    if let Some(st) = &st {
        // Never leave a sandbox behind: if runsc could not stop it, kill it ourselves.
        if st.alive() {
            let _ = st.signal(libc::SIGKILL);
        }
    }
    std::fs::remove_dir_all(&lock.dir)
        .with_context(|| format!("remove state directory {}", lock.dir.display()))?;
    Ok(())
}

/// Exit code of a finished child as a shell reports it (128+N for death by signal N).
pub(super) fn exit_code(s: std::process::ExitStatus) -> i32 {
    s.code()
        .or_else(|| s.signal().map(|n| 128 + n))
        .unwrap_or(1)
}

/// A runsc command with our stdio, run to completion; its exit code.
pub(super) fn foreground(mut c: Command, bin: &Path) -> Result<i32> {
    let s = c
        .status()
        .map_err(|e| anyhow!("run {}: {e}", bin.display()))?;
    Ok(exit_code(s))
}
