//! Terminals: the pty master over `--console-socket` (exec and create), consoleSize, the pty
//! in the container's own devpts and as controlling terminal; foreground `run` and `exec -t`
//! without a console socket, driven through a real pty (`script`, or one made here): raw mode,
//! input, resize on SIGWINCH, exit code, terminal state restored.

use integration::*;
use serde_json::{json, Value};
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// A console socket: `accept()` + `recv_fd` in a thread; `master()` waits for the fd.
struct ConsoleSocket {
    path: PathBuf,
    rx: mpsc::Receiver<OwnedFd>,
}

impl ConsoleSocket {
    fn new(rt: &Runtime, name: &str) -> ConsoleSocket {
        let path = rt.dir().join(name);
        let listener = UnixListener::bind(&path).expect("bind console socket");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok((s, _)) = listener.accept() {
                let _ = tx.send(recv_fd(&s));
            }
        });
        ConsoleSocket { path, rx }
    }
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
    fn master(&self) -> OwnedFd {
        self.rx
            .recv_timeout(timeout())
            .expect("the runtime never sent a pty master")
    }
}

/// Reads a pty master in a thread; text arrives on the channel chunk by chunk (ends at EIO).
fn reader(master: &OwnedFd) -> mpsc::Receiver<String> {
    let mut f = fs::File::from(master.try_clone().expect("dup master"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Collects from `rx` until the text contains `want` (hang guard: [`timeout`]).
fn read_until(rx: &mpsc::Receiver<String>, seen: &mut String, want: &str) {
    let deadline = std::time::Instant::now() + timeout();
    while !seen.contains(want) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(s) => seen.push_str(&s),
            Err(_) => panic!("never saw {want:?}; got {seen:?}"),
        }
    }
}

/// Everything until the writer side closes.
fn read_all(rx: &mpsc::Receiver<String>) -> String {
    let mut all = String::new();
    loop {
        match rx.recv_timeout(timeout()) {
            Ok(s) => all.push_str(&s),
            Err(mpsc::RecvTimeoutError::Disconnected) => return all,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("pty output never ended: {all:?}"),
        }
    }
}

fn dev_of(path: &str) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).unwrap_or_else(|e| panic!("stat {path}: {e}"));
    (m.dev(), m.rdev())
}

/// `exec --detach --tty --console-socket S --pid-file P --process F` as containerd and
/// conmon call it: the master arrives on the socket, the pty is in the container's devpts
/// (not the host's), has consoleSize, is the process's controlling terminal, and carries its
/// output.
#[test]
fn exec_console_socket_round_trip() {
    let rt = Runtime::new("ttyexec");
    let mut b = Bundle::new("ttyexec");
    let (id, _) = running(&rt, &mut b);
    let sock = ConsoleSocket::new(&rt, "exec.sock");
    let process = json!({
        "terminal": true,
        "consoleSize": {"height": 33, "width": 101},
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c",
                 "echo hello; tty; stty size; echo sid=$(cut -d' ' -f6 /proc/$$/stat) pid=$$; \
                  echo ttynr=$(cut -d' ' -f7 /proc/$$/stat); read x; echo got-$x"],
        "env": ["PATH=/bin:/usr/bin", "TERM=xterm"],
        "cwd": "/"
    });
    let pf = rt.dir().join("tty-process.json");
    fs::write(&pf, process.to_string()).expect("write process file");
    let pidf = rt.dir().join("tty.pid");
    let (pf_s, pid_s, sock_s) = (
        pf.to_string_lossy().into_owned(),
        pidf.to_string_lossy().into_owned(),
        sock.path(),
    );
    rt.cmd(&[
        "exec",
        "--process",
        &pf_s,
        "--console-socket",
        &sock_s,
        "--detach",
        "--tty",
        "--pid-file",
        &pid_s,
        &id,
    ])
    .ok();
    let master = sock.master();
    let rx = reader(&master);
    let mut seen = String::new();
    read_until(&rx, &mut seen, "ttynr=");
    while !seen[seen.find("ttynr=").unwrap_or(0)..].contains('\n') {
        seen.push_str(&rx.recv_timeout(timeout()).expect("rest of the ttynr line"));
    }
    let pid: i32 = fs::read_to_string(&pidf)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    // The pty is in the container's devpts instance, not the host's.
    let fd0 = format!("/proc/{pid}/fd/0");
    let (pty_dev, pty_rdev) = dev_of(&fd0);
    let (container_devpts, _) = dev_of(&format!("/proc/{pid}/root/dev/pts/ptmx"));
    let (host_devpts, _) = dev_of("/dev/pts/ptmx");
    assert_eq!(
        pty_dev, container_devpts,
        "pty not in the container's devpts"
    );
    assert_ne!(pty_dev, host_devpts, "pty allocated in the host's devpts");
    // Input typed on the master reaches the process.
    let mut m = fs::File::from(master.try_clone().expect("dup master"));
    m.write_all(b"typed\n").expect("write to master");
    let rest = read_all(&rx);
    drop(m);
    drop(master);
    let all = format!("{seen}{rest}");
    let lines: Vec<&str> = all.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert_eq!(lines.first(), Some(&"hello"), "{all:?}");
    assert!(lines[1].starts_with("/dev/pts/"), "{all:?}");
    assert_eq!(lines[2], "33 101", "consoleSize: {all:?}");
    // Session leader, with the pty as controlling terminal (tty_nr = its device number).
    let sid_pid: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(
        sid_pid[0].trim_start_matches("sid="),
        sid_pid[1].trim_start_matches("pid="),
        "{all:?}"
    );
    let tty_nr: u64 = lines[4]
        .trim_start_matches("ttynr=")
        .parse()
        .expect("tty_nr");
    let (maj, min) = (libc::major(pty_rdev) as u64, libc::minor(pty_rdev) as u64);
    assert_eq!(tty_nr, (maj << 8) | (min & 0xff) | ((min & !0xff) << 12));
    assert!(all.contains("got-typed"), "{all:?}");
    stop_and_delete(&rt, &id, &b);
}

/// The clients' own terminal exec process files, through a console socket.
#[test]
fn client_tty_process_files() {
    let rt = Runtime::new("ttyfx");
    let mut b = Bundle::new("ttyfx");
    let (id, _) = running(&rt, &mut b);
    let dir = std::env::var_os("NUCLEUS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/fixtures/configs"));
    for name in [
        "ctr-exec-tty-process",
        "docker-exec-tty-process",
        "podman-exec-tty-process",
    ] {
        let pf = dir.join(format!("{name}.json"));
        let v: Value =
            serde_json::from_str(&fs::read_to_string(&pf).expect("fixture")).expect("fixture json");
        assert_eq!(v["terminal"], true);
        let sock = ConsoleSocket::new(&rt, &format!("{name}.sock"));
        let pf_s = pf.to_string_lossy().into_owned();
        let sock_s = sock.path();
        rt.cmd(&[
            "exec",
            "--process",
            &pf_s,
            "--console-socket",
            &sock_s,
            "--detach",
            "--tty",
            &id,
        ])
        .ok();
        let master = sock.master();
        let out = read_all(&reader(&master));
        let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
        assert_eq!(lines.first(), Some(&"exec-tty"), "{name}: {out:?}");
        assert!(
            lines.get(1).is_some_and(|l| l.starts_with("/dev/pts/")),
            "{name}: {out:?}"
        );
    }
    stop_and_delete(&rt, &id, &b);
}

/// `create --console-socket` with consoleSize: the init's terminal has that size.
#[test]
fn create_console_size() {
    let rt = Runtime::new("ttycreate");
    let mut b = Bundle::new("ttycreate");
    b.terminal(true)
        .set("/process/consoleSize", json!({"height": 24, "width": 132}))
        .sh("stty size; tty");
    let sock = ConsoleSocket::new(&rt, "create.sock");
    let id = rt.new_id();
    rt.create_with(&id, &b, &["--console-socket", &sock.path()])
        .ok();
    let master = sock.master();
    let rx = reader(&master);
    rt.start(&id).ok();
    let out = read_all(&rx);
    rt.wait_status(&id, "stopped");
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert_eq!(lines.first(), Some(&"24 132"), "{out:?}");
    assert!(lines[1].starts_with("/dev/pts/"), "{out:?}");
}

/// Foreground `run` of a terminal container without --console-socket, inside `script`: input
/// reaches the container's shell, its output comes back, the exit code is the shell's and the
/// terminal settings are restored afterwards.
#[test]
fn run_terminal_under_script() {
    let rt = Runtime::new("ttyrun");
    let mut b = Bundle::new("ttyrun");
    b.terminal(true).args(&["sh"]);
    b.write();
    let id = rt.new_id();
    let inner = format!(
        "stty -g; {} --root {} run --bundle {} {id}; echo code=$?; stty -g",
        rt.bin().display(),
        rt.root().display(),
        b.dir().display()
    );
    let mut c = Command::new("script");
    c.args(["-qec", &inner, "/dev/null"]);
    let out = run_to_files(
        &mut c,
        rt.dir(),
        "script-run",
        Some(b"echo run-$((6*7)); tty\nexit 4\n"),
    );
    let text = out.stdout_str();
    assert!(text.contains("run-42"), "{text:?}");
    assert!(text.contains("/dev/pts/"), "{text:?}");
    assert!(text.contains("code=4"), "{text:?}");
    let settings: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.matches(':').count() > 10)
        .collect();
    assert_eq!(settings.len(), 2, "{text:?}");
    assert_eq!(settings[0], settings[1], "terminal settings not restored");
    rt.assert_no_leftovers(&id, &b);
}

/// A pty pair made here, with a size.
fn openpty(rows: u16, cols: u16) -> (OwnedFd, OwnedFd) {
    let (mut m, mut s) = (0, 0);
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two fds; null name and termios are allowed.
    let r = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: fresh fds we own.
    unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
}

fn lflag(fd: &OwnedFd) -> libc::tcflag_t {
    // SAFETY: tcgetattr into a zeroed termios.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }, 0);
    t.c_lflag
}

/// Foreground `exec -t` without --console-socket on a pty of our own (the runtime is the
/// session leader, the pty its controlling terminal): the container's pty starts with our
/// size, follows a resize (SIGWINCH), the exit code comes back and our pty leaves raw mode.
/// runc 1.1.5 fails this one: it sizes the pty only after the program has started, so the
/// first `stty size` sees 0x0 ("stty: standard input").
#[test]
fn exec_tty_foreground_resize() {
    let rt = Runtime::new("ttyfg");
    let mut b = Bundle::new("ttyfg");
    let (id, _) = running(&rt, &mut b);
    let (master, slave) = openpty(40, 100);
    let before = lflag(&slave);
    assert!(before & libc::ICANON != 0);
    let mut c = rt.command();
    c.args([
        "exec",
        "-t",
        &id,
        "sh",
        "-c",
        "stty size; read x; stty size; exit 6",
    ]);
    let s = slave.as_raw_fd();
    c.stdin(Stdio::from(slave.try_clone().expect("dup slave")))
        .stdout(Stdio::from(slave.try_clone().expect("dup slave")))
        .stderr(Stdio::from(slave.try_clone().expect("dup slave")));
    // SAFETY: setsid and TIOCSCTTY between fork and exec; async-signal-safe.
    unsafe {
        c.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(s, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = c.spawn().expect("spawn exec -t");
    let rx = reader(&master);
    let mut seen = String::new();
    read_until(&rx, &mut seen, "40 100");
    let ws = libc::winsize {
        ws_row: 50,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ with a valid winsize; the kernel signals the foreground group.
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
        0
    );
    let mut m = fs::File::from(master.try_clone().expect("dup master"));
    m.write_all(b"\n").expect("write newline");
    read_until(&rx, &mut seen, "50 120");
    let status = wait_child(child, "exec -t");
    assert_eq!(status_code(&status), 6, "{seen:?}");
    assert_eq!(lflag(&slave), before, "raw mode not undone");
    stop_and_delete(&rt, &id, &b);
}
