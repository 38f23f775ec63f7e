//! The container's init, from clone() to execve(). Runs in the child; never returns.

use super::spawn::NsSetup;
use super::CreateOptions;
use crate::error::{check, Error, Result};
use crate::exec::finish::{cstrings, join_session_keyring, reset_signals, with_home};
use crate::namespaces::{flags_of, setns, unshare};
use crate::sync::{Channel, Msg};
use spec_translate::{NsKind, Plan};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

/// Entry point of the child. Any error goes to the parent while it still listens, to stderr
/// after that, and the child exits.
pub(super) fn run(
    plan: &Plan,
    opts: &CreateOptions,
    ch: Channel,
    console: Option<OwnedFd>,
    fifo: crate::fifo::InitEnd,
    ns: NsSetup,
) -> ! {
    let mut ready_sent = false;
    let err = match build(plan, opts, &ch, console, fifo, ns, &mut ready_sent) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    if ready_sent {
        eprintln!("nucleus: {}", err.msg);
    } else {
        let _ = ch.send(&Msg::Error { msg: err.msg });
    }
    unsafe { libc::_exit(127) }
}

enum Never {}

/// Become root of the user namespace we are in (ids as mapped), as runc does.
fn become_ns_root() -> Result<()> {
    check(unsafe { libc::setresgid(0, 0, 0) }, || {
        "setgid 0 in the user namespace (is 0 mapped?)".into()
    })?;
    check(unsafe { libc::setresuid(0, 0, 0) }, || {
        "setuid 0 in the user namespace (is 0 mapped?)".into()
    })?;
    Ok(())
}

fn enter_namespaces(plan: &Plan, ch: &Channel, ns: NsSetup, ready_sent: &mut bool) -> Result<()> {
    let creates = &plan.namespaces.create;
    if !ns.fast {
        for (k, fd) in &ns.joins {
            setns(fd, *k)?;
        }
        let later = [NsKind::Pid, NsKind::Time, NsKind::Cgroup];
        let now = flags_of(creates.iter().copied().filter(|k| !later.contains(k)));
        if now != 0 {
            unshare(now)?;
        }
        if plan.namespaces.creates(NsKind::User) {
            ch.send(&Msg::MapIds)?;
            ch.expect(&Msg::IdsMapped)?;
        }
        if plan.namespaces.has_userns() {
            become_ns_root()?;
        }
        if plan.namespaces.creates(NsKind::Pid) {
            unshare(libc::CLONE_NEWPID)?;
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                return Err(Error::last_os("fork the container init"));
            }
            if pid > 0 {
                // The intermediate: report the real init and leave.
                let _ = ch.send(&Msg::InitPid { pid });
                *ready_sent = true; // nothing more to say on the channel
                unsafe { libc::_exit(0) };
            }
            // No PDEATHSIG here: our parent, the intermediate, exits at once and would take us
            // with it. If `nucleus create` dies, the socketpair reaches EOF and the next recv()
            // ends this process.
        }
    } else if plan.namespaces.has_userns() {
        become_ns_root()?;
    }
    if plan.namespaces.creates(NsKind::Cgroup) {
        // After the parent placed us in our cgroup, so that it is the namespace's root.
        unshare(libc::CLONE_NEWCGROUP)?;
    }
    Ok(())
}

fn build(
    plan: &Plan,
    opts: &CreateOptions,
    ch: &Channel,
    console: Option<OwnedFd>,
    fifo: crate::fifo::InitEnd,
    ns: NsSetup,
    ready_sent: &mut bool,
) -> Result<Never> {
    reset_signals();
    let mut keep: Vec<i32> = (0..3 + opts.preserve_fds as i32).collect();
    keep.push(ch.raw());
    keep.push(fifo.raw());
    keep.extend(console.as_ref().map(|c| c.as_raw_fd()));
    keep.extend(ns.joins.iter().map(|(_, fd)| fd.as_raw_fd()));
    crate::fds::close_all_except(&keep);
    // If `nucleus create` dies half-way, the half-built container must not linger.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    let state = match ch.recv()?.0 {
        Msg::Proceed { state } => state,
        Msg::Error { msg } => return Err(Error::new(msg)),
        m => {
            return Err(Error::new(format!(
                "protocol error: expected Proceed, got {m:?}"
            )))
        }
    };
    enter_namespaces(plan, ch, ns, ready_sent)?;
    let p = &plan.process;
    let landlock = match &plan.landlock {
        Some(v) => Some(spec_translate::landlock::parse(v).map_err(|e| Error::new(e.to_string()))?),
        None => None,
    };
    crate::process_attrs::set_uts_and_sysctl(plan)?;
    crate::rootfs::prepare(plan).map_err(|e| Error::new(e.to_string()))?;

    ch.send(&Msg::RunCreateRuntimeHooks)?;
    ch.expect(&Msg::HooksDone)?;
    crate::hooks::run_all(
        "createContainer",
        &plan.hooks.create_container,
        &container_view(&state, "creating"),
    )?;

    // Everything that needs the host's /proc happens before pivot_root.
    let last_cap = crate::credentials::last_cap();
    crate::process_attrs::set_oom_score_adj(p)?;

    crate::rootfs::pivot(plan, opts.no_pivot).map_err(|e| Error::new(e.to_string()))?;
    crate::rootfs::finish(plan).map_err(|e| Error::new(e.to_string()))?;

    if p.terminal {
        let sock = console
            .as_ref()
            .ok_or_else(|| Error::new("terminal requested without a console socket"))?;
        let pty = crate::console::open_pty(p.console_size)?;
        crate::rootfs::setup_console(&pty.slave_path).map_err(|e| Error::new(e.to_string()))?;
        crate::console::send_fd(sock.as_raw_fd(), &pty.slave_path, pty.master.as_raw_fd())?;
        drop(pty.master);
        crate::console::become_session_leader(&pty.slave)?;
    }
    drop(console);

    let cwd =
        CString::new(p.cwd.as_str()).map_err(|_| Error::new("process.cwd contains a NUL byte"))?;
    let cwd_done = unsafe { libc::chdir(cwd.as_ptr()) } == 0;
    crate::process_attrs::set_rlimits(p)?;
    crate::process_attrs::set_io_priority(p)?;
    crate::process_attrs::set_scheduler(p)?;
    if !opts.no_new_keyring {
        join_session_keyring(opts.id);
    }
    if p.no_new_privileges {
        check(
            unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
            || "set no_new_privs".into(),
        )?;
    }
    if let Some(sp) = &plan.seccomp {
        // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it before the
        // capabilities go. A NOTIFY listener must reach the parent, which waits only until
        // Ready, so such filters are installed here too.
        if !p.no_new_privileges || sp.uses_notify {
            install_seccomp(sp, ch)?;
        }
    }
    if let Some(pol) = &landlock {
        // Needs CAP_SYS_ADMIN or no_new_privs: before the capabilities go.
        let report = crate::landlock::apply(pol).map_err(|e| Error::new(e.to_string()))?;
        for d in &report.dropped {
            eprintln!("nucleus: warning: landlock: {d}");
        }
    }
    crate::credentials::apply(p, last_cap)?;
    if !cwd_done && unsafe { libc::chdir(cwd.as_ptr()) } != 0 {
        return Err(Error::last_os(format!(
            "chdir to cwd ({}) set in config.json failed",
            p.cwd
        )));
    }
    let prog = crate::exec_path::resolve(&p.args[0], &p.env)?;
    let argv = cstrings(&p.args)?;
    let envp = cstrings(&with_home(&p.env, p.uid))?;
    let prog_c = CString::new(prog).map_err(|_| Error::new("program path contains a NUL byte"))?;

    crate::fds::cloexec_from(3 + opts.preserve_fds)?;
    crate::fds::keep_preserved(opts.preserve_fds);
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0) };
    ch.send(&Msg::Ready)?;
    *ready_sent = true;

    fifo.wait_for_start()?;
    crate::hooks::run_all(
        "startContainer",
        &plan.hooks.start_container,
        &container_view(&state, "created"),
    )?;
    if let Some(sp) = &plan.seccomp {
        if p.no_new_privileges && !sp.uses_notify {
            // As late as possible: nothing of ours runs under the filter.
            crate::seccomp::install(sp).map_err(|e| Error::new(e.to_string()))?;
        }
    }
    crate::process_attrs::set_umask(p);
    crate::process_attrs::set_personality(plan)?;
    exec(&prog_c, &argv, &envp)
}

/// The state as hooks inside the container see it: the pid is ours as the container sees it.
fn container_view(state: &str, status: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(state).unwrap_or_default();
    v["pid"] = serde_json::json!(unsafe { libc::getpid() });
    v["status"] = serde_json::json!(status);
    v.to_string()
}

fn install_seccomp(sp: &spec_translate::seccomp::SeccompPlan, ch: &Channel) -> Result<()> {
    let listener = crate::seccomp::install(sp).map_err(|e| Error::new(e.to_string()))?;
    if let Some(fd) = listener {
        ch.send_with_fd(&Msg::SeccompListener, Some(fd.as_raw_fd()))?;
    }
    Ok(())
}

fn exec(prog: &CString, argv: &[CString], envp: &[CString]) -> Result<Never> {
    Err(crate::exec::finish::execve(prog, argv, envp))
}
