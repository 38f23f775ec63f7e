//! `run`: create + start; in the foreground, forward signals and return the exit code.

use crate::cli::{Cli, CreateArgs};
use crate::commands::{create, delete, start};
use anyhow::Result;

/// Signals a foreground `run` passes on to the container's init.
pub const FORWARDED: &[i32] = &[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
    libc::SIGALRM,
    libc::SIGPIPE,
    libc::SIGTSTP,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGURG,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGIO,
    libc::SIGPWR,
    libc::SIGSYS,
];

/// The forwarded signals plus SIGCHLD: what a foreground `run` or `exec` blocks and waits for.
pub(crate) fn forwarded_set() -> libc::sigset_t {
    let mut all: Vec<i32> = FORWARDED.to_vec();
    all.push(libc::SIGCHLD);
    sigset(&all)
}

fn sigset(sigs: &[i32]) -> libc::sigset_t {
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        for &g in sigs {
            libc::sigaddset(&mut s, g);
        }
        s
    }
}

pub fn run(cli: &Cli, a: &CreateArgs, detach: bool, keep: bool, no_subreaper: bool) -> Result<i32> {
    if detach {
        let out = create::create(cli, a)?;
        drop(out);
        if let Err(e) = start::start(&cli.root, &a.id) {
            let _ = delete::delete(&cli.root, &a.id, true);
            return Err(e);
        }
        return Ok(0);
    }
    if !no_subreaper {
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    // Block the signals we forward (and SIGCHLD) before the init exists, so none is lost;
    // the init resets its mask before it execs.
    let set = forwarded_set();
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };

    // A terminal and no --console-socket: nucleus takes the pty master and drives it.
    let console = if a.console_socket.is_none() && crate::tty::bundle_wants_terminal(&a.bundle) {
        Some(crate::tty::ConsoleListener::new()?)
    } else {
        None
    };
    let with_console = console.as_ref().map(|c| CreateArgs {
        console_socket: Some(c.path()),
        ..a.clone()
    });
    let out = create::create(cli, with_console.as_ref().unwrap_or(a))?;
    let pid = out.state.pid;
    drop(out);
    let master = match console.as_ref().map(|c| c.receive()).transpose() {
        Ok(m) => m,
        Err(e) => {
            let _ = delete::delete(&cli.root, &a.id, true);
            return Err(e);
        }
    };
    drop(console);
    if let Err(e) = start::start(&cli.root, &a.id) {
        let _ = delete::delete(&cli.root, &a.id, true);
        return Err(e);
    }
    let code = match master {
        Some(m) => crate::tty::drive(m, pid, &set).unwrap_or_else(|e| {
            crate::logging::warn(&format!("terminal: {e}"));
            wait_forwarding(pid, &set)
        }),
        None => wait_forwarding(pid, &set),
    };
    if !keep {
        if let Err(e) = delete::delete(&cli.root, &a.id, true) {
            crate::logging::warn(&format!("delete after run: {e}"));
        }
    }
    Ok(code)
}

/// Wait for `pid`, passing forwarded signals to it; reap any other child (we may be a subreaper).
pub(crate) fn wait_forwarding(pid: i32, set: &libc::sigset_t) -> i32 {
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let sig = unsafe { libc::sigwaitinfo(set, &mut info) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            unsafe { libc::kill(pid, sig) };
            continue;
        }
        loop {
            let mut status = 0;
            let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if r <= 0 {
                break;
            }
            if r == pid {
                if libc::WIFEXITED(status) {
                    return libc::WEXITSTATUS(status);
                }
                if libc::WIFSIGNALED(status) {
                    return 128 + libc::WTERMSIG(status);
                }
            }
        }
    }
}
