//! The exec'd process from fork() to execve(). Runs in the child; never returns.

use super::finish::{cstrings, enter_cwd, execve, join_session_keyring, reset_signals, with_home};
use super::namespaces::Joins;
use super::ExecOptions;
use crate::error::{check, Error, Result};
use crate::sync::{Channel, Msg};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

enum Never {}

/// Entry point of the child: any error goes to the parent (which is still listening: it
/// waits for exec), and the child exits.
pub(super) fn run(opts: &ExecOptions, ch: Channel, ns: Joins) -> ! {
    let err = match prepare(opts, &ch, ns) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    if ch
        .send(&Msg::Error {
            msg: err.msg.clone(),
        })
        .is_err()
    {
        eprintln!("nucleus: exec: {}", err.msg);
    }
    unsafe { libc::_exit(127) }
}

fn prepare(opts: &ExecOptions, ch: &Channel, ns: Joins) -> Result<Never> {
    reset_signals();
    let first = 3 + opts.preserve_fds;
    let console: Option<&OwnedFd> = opts.console.as_ref();
    // Nothing the runtime holds (state lock, pidfd, /proc handles) may reach the container.
    let mut keep: Vec<i32> = (0..first as i32).collect();
    keep.push(ch.raw());
    keep.extend(console.map(|c| c.as_raw_fd()));
    keep.extend(ns.raw_fds());
    crate::fds::close_all_except(&keep);
    // If `nucleus exec` dies half-way, the half-set-up process must not linger.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    match ch.recv()?.0 {
        Msg::Proceed { .. } => {}
        Msg::Error { msg } => return Err(Error::new(msg)),
        m => {
            return Err(Error::new(format!(
                "protocol error: expected Proceed, got {m:?}"
            )))
        }
    }
    let p = opts.process;

    // Everything that needs the host's /proc, or the host's privileges, comes first.
    let last_cap = crate::credentials::last_cap();
    crate::process_attrs::set_oom_score_adj(p)?;
    set_lsm_labels(p)?;
    crate::process_attrs::set_rlimits(p)?;

    ns.join()?;
    drop(ns);

    if p.terminal {
        let sock = console.ok_or_else(|| Error::new("terminal requested without a console"))?;
        // /dev/ptmx of the container's root: the pty lives in the container's devpts.
        let pty = crate::console::open_pty(p.console_size)?;
        crate::console::send_fd(sock.as_raw_fd(), &pty.slave_path, pty.master.as_raw_fd())?;
        drop(pty.master);
        crate::console::become_session_leader(&pty.slave)?;
    }

    let cwd =
        CString::new(p.cwd.as_str()).map_err(|_| Error::new("process.cwd contains a NUL byte"))?;
    // As root first (a directory only the user can enter is retried after the switch).
    let cwd_first = enter_cwd(&cwd);
    if let Err(e) = &cwd_first {
        if e.kind() != std::io::ErrorKind::NotFound
            && e.kind() != std::io::ErrorKind::PermissionDenied
        {
            return Err(cwd_error(p, e));
        }
    }
    crate::process_attrs::set_io_priority(p)?;
    crate::process_attrs::set_scheduler(p)?;
    join_session_keyring(opts.id);
    if p.no_new_privileges {
        check(
            unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
            || "set no_new_privs".into(),
        )?;
    }
    let seccomp = opts.container.seccomp.as_ref();
    let late_seccomp = seccomp.filter(|sp| p.no_new_privileges && !sp.uses_notify);
    if let Some(sp) = seccomp.filter(|_| late_seccomp.is_none()) {
        // Without no_new_privs installing a filter needs CAP_SYS_ADMIN: before the
        // capabilities go. A notify listener is handed to the parent, which sends it on.
        let listener = crate::seccomp::install(sp).map_err(|e| Error::new(e.to_string()))?;
        if let Some(fd) = listener {
            ch.send_with_fd(&Msg::SeccompListener, Some(fd.as_raw_fd()))?;
        }
    }
    for pol in opts.landlock {
        // Needs CAP_SYS_ADMIN or no_new_privs: before the capabilities go.
        let report = crate::landlock::apply(pol).map_err(|e| Error::new(e.to_string()))?;
        for d in &report.dropped {
            eprintln!("nucleus: warning: landlock: {d}");
        }
    }
    crate::credentials::apply(p, last_cap)?;
    if cwd_first.is_err() {
        enter_cwd(&cwd).map_err(|e| cwd_error(p, &e))?;
    }
    let prog = crate::exec_path::resolve(&p.args[0], &p.env)?;
    let argv = cstrings(&p.args)?;
    let envp = cstrings(&with_home(&p.env, p.uid))?;
    let prog_c = CString::new(prog).map_err(|_| Error::new("program path contains a NUL byte"))?;
    crate::process_attrs::set_umask(p);
    crate::process_attrs::set_personality(opts.container)?;

    crate::fds::cloexec_from(first)?;
    crate::fds::keep_preserved(opts.preserve_fds);
    if let Some(sp) = late_seccomp {
        // As late as possible: nothing of ours runs under the filter.
        crate::seccomp::install(sp).map_err(|e| Error::new(e.to_string()))?;
    }
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0) };
    Err(execve(&prog_c, &argv, &envp))
}

fn cwd_error(p: &spec_translate::Process, e: &std::io::Error) -> Error {
    Error::new(format!(
        "chdir to cwd (\"{}\") set in config.json failed: {e}",
        p.cwd
    ))
}

/// AppArmor profile / SELinux label for the program about to be exec'd, where the LSM is
/// enabled. (The CLI refuses `--apparmor` / `--process-label` on hosts without them; values
/// inherited from config.json are skipped there, as `create` does.)
fn set_lsm_labels(p: &spec_translate::Process) -> Result<()> {
    if let Some(profile) = &p.apparmor_profile {
        if apparmor_enabled() {
            let text = format!("exec {profile}");
            std::fs::write("/proc/self/attr/apparmor/exec", &text)
                .or_else(|_| std::fs::write("/proc/self/attr/exec", &text))
                .map_err(|e| Error::io(format!("apply AppArmor profile {profile}"), e))?;
        }
    }
    if let Some(label) = &p.selinux_label {
        if selinux_enabled() {
            std::fs::write("/proc/self/attr/exec", label)
                .map_err(|e| Error::io(format!("apply SELinux label {label}"), e))?;
        }
    }
    Ok(())
}

/// Is AppArmor the running LSM (not merely built in)?
pub fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .map(|s| s.trim() == "Y")
        .unwrap_or(false)
        && std::path::Path::new("/sys/kernel/security/apparmor").exists()
}

/// Is SELinux enabled (selinuxfs mounted)?
pub fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}
