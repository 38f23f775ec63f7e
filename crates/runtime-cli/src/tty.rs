//! The foreground terminal driver, for `run` (process.terminal true) and `exec -t` without
//! `--console-socket`: nucleus receives the pty master itself, puts the caller's terminal in
//! raw mode, copies stdin → master and master → stdout, resizes the pty on SIGWINCH, passes
//! other signals on, and restores the terminal on the way out, as runc does.

use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

/// Does the bundle's config.json ask for a terminal? (Errors are left to `create`.)
pub fn bundle_wants_terminal(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["process"]["terminal"].as_bool())
        .unwrap_or(false)
}

/// A console socket of our own in a private directory, for `run`: the container's init
/// connects to it during `create` and sends the pty master.
pub struct ConsoleListener {
    dir: PathBuf,
    listener: UnixListener,
}

impl ConsoleListener {
    pub fn new() -> Result<ConsoleListener> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("nucleus-console-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("create {}", dir.display()))?;
        let listener = match UnixListener::bind(dir.join("console.sock")) {
            Ok(l) => l,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(anyhow!("bind a console socket in {}: {e}", dir.display()));
            }
        };
        Ok(ConsoleListener { dir, listener })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("console.sock")
    }

    /// The pty master the init sent (it connected and sent during `create`).
    pub fn receive(&self) -> Result<OwnedFd> {
        self.listener.set_nonblocking(true)?;
        let (conn, _) = self
            .listener
            .accept()
            .map_err(|e| anyhow!("the container did not connect to its console socket: {e}"))?;
        conn.set_nonblocking(false)?;
        let master = isolation::exec::recv_fd(&OwnedFd::from(conn))?;
        // Before `start`: the program's first look at its terminal sees our size.
        copy_winsize(0, master.as_raw_fd());
        Ok(master)
    }
}

impl Drop for ConsoleListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The caller's terminal in raw mode until dropped.
struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    /// None when `fd` is not a terminal (then there is nothing to restore).
    fn enter(fd: RawFd) -> Option<RawMode> {
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        unsafe { libc::cfmakeraw(&mut t) };
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

/// Our terminal's size as (rows, cols), if stdin is a terminal.
pub fn stdin_size() -> Option<(u16, u16)> {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    (unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_row > 0)
        .then_some((ws.ws_row, ws.ws_col))
}

/// Give the pty the size of our terminal (if stdin is one).
fn copy_winsize(from: RawFd, to: RawFd) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) } == 0 {
        unsafe { libc::ioctl(to, libc::TIOCSWINSZ, &ws) };
    }
}

fn set_nonblocking(fd: RawFd) {
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR))
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> std::io::Result<usize> {
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn exit_code(status: i32) -> Option<i32> {
    if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Some(128 + libc::WTERMSIG(status))
    } else {
        None
    }
}

/// Copy between the caller's stdio and `master` until `pid` exits; returns its exit code
/// (128+N for death by signal N). `set` holds the signals the caller has blocked: SIGCHLD
/// reaps (any child: `run` may be a subreaper), SIGWINCH resizes the pty, the rest are passed
/// to `pid`.
pub fn drive(master: OwnedFd, pid: i32, set: &libc::sigset_t) -> Result<i32> {
    let sfd = unsafe { libc::signalfd(-1, set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if sfd < 0 {
        bail!("signalfd: {}", std::io::Error::last_os_error());
    }
    let sfd = unsafe { OwnedFd::from_raw_fd(sfd) };
    let m = master.as_raw_fd();
    set_nonblocking(m);
    copy_winsize(0, m);
    let _raw = RawMode::enter(0);
    let mut stdout = std::io::stdout().lock();
    let mut stdin_open = true;
    let mut master_open = true;
    let mut to_master: Vec<u8> = Vec::new();
    let mut code: Option<i32> = None;
    let mut buf = vec![0u8; 32 * 1024];
    while code.is_none() {
        let mut fds = [
            libc::pollfd {
                fd: sfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if master_open { m } else { -1 },
                events: libc::POLLIN
                    | if to_master.is_empty() {
                        0
                    } else {
                        libc::POLLOUT
                    },
                revents: 0,
            },
            libc::pollfd {
                // Read more input only once the last is written: the pty applies back-pressure.
                fd: if stdin_open && to_master.is_empty() {
                    0
                } else {
                    -1
                },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        if unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            bail!("poll: {e}");
        }
        if fds[0].revents != 0 {
            code = signals(sfd.as_raw_fd(), pid, m);
        }
        if fds[1].revents & libc::POLLOUT != 0 {
            let n = unsafe { libc::write(m, to_master.as_ptr().cast(), to_master.len()) };
            if n > 0 {
                to_master.drain(..n as usize);
            } else if n < 0 && !would_block(&std::io::Error::last_os_error()) {
                to_master.clear();
            }
        }
        if fds[1].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            match read_fd(m, &mut buf) {
                Ok(0) => master_open = false,
                Ok(n) => {
                    let _ = stdout.write_all(&buf[..n]);
                    let _ = stdout.flush();
                }
                Err(e) if would_block(&e) => {}
                // EIO: every slave fd is closed.
                Err(_) => master_open = false,
            }
        }
        if fds[2].revents != 0 {
            match read_fd(0, &mut buf) {
                Ok(0) => stdin_open = false,
                Ok(n) => to_master.extend_from_slice(&buf[..n]),
                Err(e) if would_block(&e) => {}
                Err(_) => stdin_open = false,
            }
        }
    }
    // What the process wrote before it exited is still in the pty: pass it on.
    if master_open {
        while let Ok(n @ 1..) = read_fd(m, &mut buf) {
            let _ = stdout.write_all(&buf[..n]);
        }
    }
    let _ = stdout.flush();
    Ok(code.unwrap_or(255))
}

/// Handle pending signals; Some(exit code) once `pid` has been reaped.
fn signals(sfd: RawFd, pid: i32, master: RawFd) -> Option<i32> {
    let mut code = None;
    loop {
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let n = unsafe {
            libc::read(
                sfd,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            )
        };
        if n <= 0 {
            return code;
        }
        match info.ssi_signo as i32 {
            libc::SIGCHLD => loop {
                let mut status = 0;
                let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
                if r <= 0 {
                    break;
                }
                if r == pid {
                    code = exit_code(status).or(code);
                }
            },
            libc::SIGWINCH => copy_winsize(0, master),
            sig => unsafe {
                libc::kill(pid, sig);
            },
        }
    }
}
