//! Landlock against the running kernel. Each test forks a child that applies a policy and checks
//! what it can still do; the child reports failures through a pipe and its exit status, so the
//! test process itself is never restricted.

use super::*;
use serde_json::{json, Value};
use std::ffi::CString;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::os::unix::prelude::OsStrExt;
use std::path::{Path, PathBuf};

type Check = Result<(), String>;

/// Held while a test writes an executable and while a test forks: a child forked while another
/// thread has a copy of busybox open for writing would keep that fd, and exec'ing the copy
/// would then fail with ETXTBSY.
static FILES_VS_FORK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn files_vs_fork() -> std::sync::MutexGuard<'static, ()> {
    FILES_VS_FORK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fails the child's check with a message naming the line.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("line {}: {}", line!(), format!($($msg)+)));
        }
    };
}

fn policy(v: Value) -> LandlockPolicy {
    spec_translate::landlock::parse(&v).expect("test policy parses")
}

/// Run `f` in a forked child and return its verdict. The child never returns into the test
/// harness: it writes its error (if any) to a pipe and `_exit`s.
fn in_child(f: impl FnOnce() -> Check) -> Check {
    let mut fds = [0; 2];
    // SAFETY: plain pipe2 into a local array.
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) },
        0,
        "pipe2"
    );
    // SAFETY: both fds were just created and are owned here.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child only runs `f` (no locks the harness threads could hold are needed:
    // it never prints) and leaves with _exit.
    let pid = {
        let _g = files_vs_fork();
        unsafe { libc::fork() }
    };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(rd);
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err("child panicked".to_string()));
        let code = match verdict {
            Ok(()) => 0,
            Err(msg) => {
                let mut w = std::fs::File::from(wr);
                let _ = w.write_all(msg.as_bytes());
                1
            }
        };
        // SAFETY: leaving the forked child without running the harness's destructors.
        unsafe { libc::_exit(code) };
    }
    drop(wr);
    let mut msg = String::new();
    let _ = std::fs::File::from(rd).read_to_string(&mut msg);
    let status = wait(pid);
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Ok(()),
        (true, _) => Err(msg),
        _ => Err(format!("child died with wait status {status:#x}: {msg}")),
    }
}

fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        assert_eq!(
            std::io::Error::last_os_error().kind(),
            ErrorKind::Interrupted,
            "waitpid({pid})"
        );
    }
}

/// Fork a process that runs `argv` (argv[0] is the path) with stdout/stderr on /dev/null (opened
/// before any restriction, so the workload's output does not need a rule). Returns its exit
/// status, or the errno of a failed execve as a negative number.
fn run(argv: &[&str], devnull: &std::fs::File) -> i32 {
    let cargs: Vec<CString> = argv.iter().map(|a| CString::new(*a).unwrap()).collect();
    let mut ptrs: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let mut fds = [0; 2];
    // SAFETY: see in_child; the grandchild only calls async-signal-safe functions.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::dup2(devnull.as_raw_fd(), 1);
            libc::dup2(devnull.as_raw_fd(), 2);
            libc::execv(ptrs[0], ptrs.as_ptr());
            let errno = *libc::__errno_location();
            libc::write(fds[1], &errno as *const i32 as *const libc::c_void, 4);
            libc::_exit(127);
        }
        libc::close(fds[1]);
        let mut errno = 0i32;
        let n = libc::read(fds[0], &mut errno as *mut i32 as *mut libc::c_void, 4);
        libc::close(fds[0]);
        let status = wait(pid);
        if n == 4 {
            return -errno;
        }
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1000
        }
    }
}

fn errno_of<T>(r: std::io::Result<T>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

/// Put busybox-static at `to`: a hard link when /tmp shares its filesystem (no fd open for
/// writing, so no ETXTBSY at exec), else a copy made under [`files_vs_fork`].
fn install_busybox(to: &Path) {
    if std::fs::hard_link("/bin/busybox", to).is_ok() {
        return;
    }
    let _g = files_vs_fork();
    std::fs::copy("/bin/busybox", to).expect("busybox-static is installed");
}

/// A scratch directory tree, removed on drop:
///   rw/  (file "data", busybox)   ro/ (file "data", busybox)   hidden/ (file "secret", busybox)
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(tag: &str) -> Tree {
        let root =
            std::env::temp_dir().join(format!("nucleus-landlock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["rw", "ro", "hidden"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            install_busybox(&root.join(d).join("busybox"));
        }
        std::fs::write(root.join("rw/data"), "rw data").unwrap();
        std::fs::write(root.join("ro/data"), "ro data").unwrap();
        std::fs::write(root.join("hidden/secret"), "secret").unwrap();
        Tree { root }
    }
    fn p(&self, rel: &str) -> String {
        self.root.join(rel).to_str().unwrap().to_string()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Every filesystem right this kernel knows, spelled for the policy.
fn all_fs_rights() -> Vec<&'static str> {
    let abi = abi_version();
    spec_translate::landlock::FsRight::ALL
        .iter()
        .filter(|r| r.min_abi() <= abi)
        .map(|r| r.name())
        .collect()
}

fn read(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

#[test]
fn kernel_has_the_abi_these_tests_need() {
    let abi = abi_version();
    assert!(
        abi >= 6,
        "these tests need Landlock ABI >= 6 (scopes); this kernel reports {abi}"
    );
    let s = supported();
    assert_eq!(s["enabled"], json!(true));
    assert_eq!(s["abi"], json!(abi));
    let fs: Vec<&str> = s["handledAccessFS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(fs, all_fs_rights());
    assert!(fs.contains(&"ioctl_dev") && fs.contains(&"refer") && fs.contains(&"truncate"));
    assert_eq!(fs.contains(&"resolve_unix"), abi >= 9);
    assert_eq!(
        s["handledAccessNet"],
        json!(if abi >= 10 {
            vec!["bind_tcp", "connect_tcp", "bind_udp", "connect_send_udp"]
        } else {
            vec!["bind_tcp", "connect_tcp"]
        })
    );
    assert_eq!(s["scoped"], json!(["abstract_unix_socket", "signal"]));
}

#[test]
fn filesystem_rules_allow_and_deny() {
    let t = Tree::new("fs");
    let p = policy(json!({
        "ruleset": {"handledAccessFS": all_fs_rights()},
        "rules": {"pathBeneath": [
            {"allowedAccess": ["execute", "read_file", "read_dir", "write_file", "make_reg", "remove_file", "truncate"],
             "paths": [t.p("rw")]},
            {"allowedAccess": ["read_file", "read_dir"], "paths": [t.p("ro")]}
        ]},
        "disableBestEffort": true
    }));
    in_child(|| {
        let devnull = std::fs::File::options()
            .write(true)
            .open("/dev/null")
            .map_err(|e| e.to_string())?;
        // Controls: before the policy, everything below is allowed.
        ensure!(
            read(&t.p("hidden/secret")).is_ok(),
            "control: hidden/secret unreadable before the policy"
        );
        ensure!(
            run(&[&t.p("hidden/busybox"), "true"], &devnull) == 0,
            "control: hidden/busybox does not run"
        );

        let report = apply(&p).map_err(|e| e.to_string())?;
        ensure!(
            report.enforced && report.dropped.is_empty(),
            "report: {report:?}"
        );
        ensure!(
            report.kernel_abi == abi_version() && report.abi_used == abi_version(),
            "report: {report:?}"
        );

        // Reads.
        ensure!(
            read(&t.p("rw/data")).map_err(|e| e.to_string())? == "rw data",
            "rw/data content"
        );
        ensure!(
            read(&t.p("ro/data")).map_err(|e| e.to_string())? == "ro data",
            "ro/data content"
        );
        ensure!(
            errno_of(read(&t.p("hidden/secret"))) == Some(libc::EACCES),
            "read hidden/secret not EACCES"
        );
        ensure!(
            errno_of(std::fs::read_dir(t.p("hidden"))) == Some(libc::EACCES),
            "read_dir hidden not EACCES"
        );
        ensure!(std::fs::read_dir(t.p("ro")).is_ok(), "read_dir ro refused");
        // Writes.
        ensure!(
            std::fs::write(t.p("rw/data"), "new").is_ok(),
            "write rw/data refused"
        );
        ensure!(
            std::fs::write(t.p("rw/created"), "x").is_ok(),
            "create rw/created refused"
        );
        ensure!(
            std::fs::remove_file(t.p("rw/created")).is_ok(),
            "remove rw/created refused"
        );
        let w = std::fs::OpenOptions::new().write(true).open(t.p("ro/data"));
        ensure!(
            errno_of(w) == Some(libc::EACCES),
            "open ro/data for writing not EACCES"
        );
        ensure!(
            errno_of(std::fs::write(t.p("hidden/new"), "x")) == Some(libc::EACCES),
            "create hidden/new not EACCES"
        );
        ensure!(
            errno_of(std::fs::create_dir(t.p("rw/dir"))) == Some(libc::EACCES),
            "mkdir without make_dir not EACCES"
        );
        ensure!(
            errno_of(std::fs::remove_file(t.p("ro/data"))) == Some(libc::EACCES),
            "unlink in ro not EACCES"
        );
        // Exec, and exec'd processes stay confined.
        ensure!(
            run(&[&t.p("rw/busybox"), "true"], &devnull) == 0,
            "exec rw/busybox refused"
        );
        ensure!(
            run(&[&t.p("ro/busybox"), "true"], &devnull) == -libc::EACCES,
            "exec ro/busybox not EACCES"
        );
        ensure!(
            run(&[&t.p("hidden/busybox"), "true"], &devnull) == -libc::EACCES,
            "exec hidden/busybox not EACCES"
        );
        ensure!(
            run(&[&t.p("rw/busybox"), "cat", &t.p("ro/data")], &devnull) == 0,
            "exec'd cat of ro/data failed"
        );
        let code = run(
            &[&t.p("rw/busybox"), "cat", &t.p("hidden/secret")],
            &devnull,
        );
        ensure!(
            code == 1,
            "exec'd cat of hidden/secret exited {code}, expected the refusal (1)"
        );
        Ok(())
    })
    .unwrap();
}

/// Two distinct ports that were free a moment ago (both held while picking, so they differ).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

#[test]
fn tcp_port_rules_allow_and_deny() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let (connect_ok, connect_denied) = (
        open.local_addr().unwrap().port(),
        closed.local_addr().unwrap().port(),
    );
    let (bind_ok, bind_denied) = free_ports();
    let p = policy(json!({
        "ruleset": {"handledAccessNet": ["bind_tcp", "connect_tcp"]},
        "rules": {"netPort": [
            {"allowedAccess": ["bind_tcp"], "ports": [bind_ok]},
            {"allowedAccess": ["connect_tcp"], "ports": [connect_ok]}
        ]},
        "disableBestEffort": true
    }));
    in_child(|| {
        ensure!(
            TcpStream::connect(("127.0.0.1", connect_denied)).is_ok(),
            "control: connect refused before the policy"
        );
        apply(&p).map_err(|e| e.to_string())?;
        ensure!(
            TcpListener::bind(("127.0.0.1", bind_ok)).is_ok(),
            "bind to the allowed port {bind_ok} refused"
        );
        let e = errno_of(TcpListener::bind(("127.0.0.1", bind_denied)));
        ensure!(
            e == Some(libc::EACCES),
            "bind to port {bind_denied}: {e:?}, expected EACCES"
        );
        ensure!(
            TcpStream::connect(("127.0.0.1", connect_ok)).is_ok(),
            "connect to the allowed port refused"
        );
        let e = errno_of(TcpStream::connect(("127.0.0.1", connect_denied)));
        ensure!(
            e == Some(libc::EACCES),
            "connect to port {connect_denied}: {e:?}, expected EACCES"
        );
        // Filesystem is not handled by this policy, so it is untouched.
        ensure!(
            read("/proc/self/status").is_ok(),
            "unhandled filesystem access refused"
        );
        Ok(())
    })
    .unwrap();
}

/// A process that waits to be killed, outside any Landlock domain. Killed and reaped on drop.
struct Sibling(libc::pid_t);

impl Sibling {
    fn spawn() -> Sibling {
        // SAFETY: the child only calls pause() until it is killed.
        let pid = {
            let _g = files_vs_fork();
            unsafe { libc::fork() }
        };
        assert!(pid >= 0);
        if pid == 0 {
            loop {
                unsafe { libc::pause() };
            }
        }
        Sibling(pid)
    }
}

impl Drop for Sibling {
    fn drop(&mut self) {
        // SAFETY: our own child, killed by pid and reaped.
        unsafe { libc::kill(self.0, libc::SIGKILL) };
        wait(self.0);
    }
}

fn kill(pid: libc::pid_t, sig: i32) -> Option<i32> {
    // SAFETY: sending a signal; the result is inspected.
    if unsafe { libc::kill(pid, sig) } == 0 {
        None
    } else {
        std::io::Error::last_os_error().raw_os_error()
    }
}

#[test]
fn scoped_signals_and_abstract_sockets_stay_inside() {
    let sibling = Sibling::spawn();
    let name = format!("nucleus-landlock-test-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let listener = UnixListener::bind_addr(&addr).unwrap();
    let p = policy(json!({
        "ruleset": {"scoped": ["signal", "abstract_unix_socket"]},
        "disableBestEffort": true
    }));
    in_child(|| {
        ensure!(
            kill(sibling.0, libc::SIGCONT).is_none(),
            "control: cannot signal the sibling before the policy"
        );
        ensure!(
            UnixStream::connect_addr(&addr).is_ok(),
            "control: cannot reach the abstract socket before the policy"
        );
        apply(&p).map_err(|e| e.to_string())?;
        let e = kill(sibling.0, libc::SIGCONT);
        ensure!(
            e == Some(libc::EPERM),
            "signal to a process outside the domain: {e:?}, expected EPERM"
        );
        let e = errno_of(UnixStream::connect_addr(&addr));
        ensure!(
            e == Some(libc::EPERM),
            "connect to an outside abstract socket: {e:?}, expected EPERM"
        );
        // Inside the domain, signals still work.
        let inner = Sibling::spawn();
        ensure!(
            kill(inner.0, libc::SIGCONT).is_none(),
            "signal to a process inside the domain refused"
        );
        Ok(())
    })
    .unwrap();
    drop(listener);
}

#[test]
fn best_effort_drops_rights_the_kernel_lacks_and_hard_mode_fails() {
    let abi = abi_version();
    assert!(
        abi < 9,
        "this test needs a kernel without resolve_unix (ABI < 9); it has ABI {abi}"
    );
    let t = Tree::new("compat");
    let v = |hard: bool| {
        json!({
            "ruleset": {"handledAccessFS": ["read_file", "resolve_unix"]},
            "rules": {"pathBeneath": [{"allowedAccess": ["read_file", "resolve_unix"], "paths": [t.p("ro")]}]},
            "disableBestEffort": hard
        })
    };
    let (soft, hard) = (policy(v(false)), policy(v(true)));
    in_child(|| {
        let e = apply(&hard)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        ensure!(
            e.contains("disableBestEffort is set")
                && e.contains("handledAccessFS: resolve_unix (needs ABI 9)"),
            "hard: {e}"
        );
        // Nothing was applied.
        ensure!(
            read(&t.p("hidden/secret")).is_ok(),
            "a failed apply left a restriction behind"
        );

        let report = apply(&soft).map_err(|e| e.to_string())?;
        ensure!(report.enforced, "best effort enforced nothing: {report:?}");
        ensure!(
            report.dropped.len() == 1
                && report.dropped[0].contains("resolve_unix (needs ABI 9) dropped"),
            "{report:?}"
        );
        ensure!(read(&t.p("ro/data")).is_ok(), "allowed read refused");
        ensure!(
            errno_of(read(&t.p("hidden/secret"))) == Some(libc::EACCES),
            "the rest of the policy is not enforced"
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn best_effort_below_a_simulated_abi() {
    // Pretend the kernel stops at ABI 5: scopes (6) go, filesystem rules stay.
    let sibling = Sibling::spawn();
    let t = Tree::new("cap");
    let v = |hard: bool| {
        json!({
            "ruleset": {"handledAccessFS": ["read_file", "ioctl_dev"], "scoped": ["signal"]},
            "rules": {"pathBeneath": [{"allowedAccess": ["read_file"], "paths": [t.p("ro")]}]},
            "disableBestEffort": hard
        })
    };
    let (soft, hard) = (policy(v(false)), policy(v(true)));
    in_child(|| {
        let e = apply_up_to(&hard, 5).err().map(|e| e.to_string()).unwrap_or_default();
        ensure!(e.contains("(Landlock ABI 5) lacks scoped: signal (needs ABI 6)"), "hard: {e}");
        let report = apply_up_to(&soft, 5).map_err(|e| e.to_string())?;
        ensure!(report.abi_used == 5 && report.enforced, "{report:?}");
        ensure!(report.dropped == vec!["process.landlock.ruleset.scoped: signal (needs ABI 6) dropped: this kernel has Landlock ABI 5".to_string()], "{report:?}");
        ensure!(kill(sibling.0, libc::SIGCONT).is_none(), "the dropped signal scope is enforced anyway");
        ensure!(errno_of(read(&t.p("hidden/secret"))) == Some(libc::EACCES), "filesystem rules not enforced");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_missing_path_is_named_and_nothing_is_applied() {
    let t = Tree::new("missing");
    let p = policy(json!({
        "ruleset": {"handledAccessFS": ["read_file"]},
        "rules": {"pathBeneath": [{"allowedAccess": ["read_file"], "paths": [t.p("ro"), t.p("nope")]}]}
    }));
    in_child(|| {
        let e = apply(&p).err().map(|e| e.to_string()).unwrap_or_default();
        let want = format!("landlock: process.landlock.rules.pathBeneath[0].paths[1]: cannot open {} inside the container: No such file or directory", t.p("nope"));
        ensure!(e.starts_with(&want), "got: {e}");
        ensure!(read(&t.p("hidden/secret")).is_ok(), "a failed apply left a restriction behind");
        Ok(())
    })
    .unwrap();
}

#[test]
fn directory_rights_on_a_file() {
    let t = Tree::new("file");
    let v = |hard: bool| {
        json!({
            "ruleset": {"handledAccessFS": ["read_file", "read_dir"]},
            "rules": {"pathBeneath": [{"allowedAccess": ["read_file", "read_dir"], "paths": [t.p("ro/data")]}]},
            "disableBestEffort": hard
        })
    };
    let (soft, hard) = (policy(v(false)), policy(v(true)));
    in_child(|| {
        let e = apply(&hard)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        ensure!(
            e.contains("paths[0]") && e.contains("is not a directory, so read_dir cannot apply"),
            "hard: {e}"
        );
        let report = apply(&soft).map_err(|e| e.to_string())?;
        ensure!(
            report.dropped.len() == 1 && report.dropped[0].contains("read_dir dropped for it"),
            "{report:?}"
        );
        ensure!(
            read(&t.p("ro/data")).is_ok(),
            "the file rule does not allow reading it"
        );
        ensure!(
            errno_of(read(&t.p("rw/data"))) == Some(libc::EACCES),
            "other files are readable"
        );
        Ok(())
    })
    .unwrap();
}

fn no_new_privs() -> bool {
    // SAFETY: a read-only prctl.
    unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 }
}

#[test]
fn without_no_new_privs_or_cap_sys_admin_the_error_explains() {
    assert!(
        !no_new_privs(),
        "the test process must not run with no_new_privs for this test to mean anything"
    );
    let p = policy(json!({"ruleset": {"handledAccessFS": ["make_block"]}}));
    in_child(|| {
        caps::drop(
            None,
            caps::CapSet::Effective,
            caps::Capability::CAP_SYS_ADMIN,
        )
        .map_err(|e| e.to_string())?;
        let e = apply(&p).err().map(|e| e.to_string()).unwrap_or_default();
        ensure!(
            e.contains("EPERM")
                && e.contains(
                    "no_new_privs (set process.noNewPrivileges to true) or CAP_SYS_ADMIN"
                ),
            "got: {e}"
        );
        ensure!(!no_new_privs(), "apply set no_new_privs on its own");
        // With no_new_privs, the same policy applies.
        // SAFETY: setting no_new_privs on this child only.
        ensure!(
            unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } == 0,
            "PR_SET_NO_NEW_PRIVS"
        );
        let r = apply(&p).map_err(|e| e.to_string())?;
        ensure!(r.enforced, "{r:?}");
        Ok(())
    })
    .unwrap();
}

#[test]
fn paths_follow_the_current_root() {
    // After pivot_root the init opens "/x" inside the container; here a chroot plays that part.
    let t = Tree::new("root");
    let p = policy(json!({
        "ruleset": {"handledAccessFS": ["read_file"]},
        "rules": {"pathBeneath": [{"allowedAccess": ["read_file"], "paths": ["/ro"]}]}
    }));
    let root = CString::new(t.root.as_os_str().as_bytes()).unwrap();
    in_child(|| {
        // SAFETY: chroot of this child only.
        ensure!(
            unsafe { libc::chroot(root.as_ptr()) } == 0 && std::env::set_current_dir("/").is_ok(),
            "chroot"
        );
        apply(&p).map_err(|e| e.to_string())?;
        ensure!(read("/ro/data").is_ok(), "/ro/data inside the root refused");
        ensure!(
            errno_of(read("/rw/data")) == Some(libc::EACCES),
            "/rw/data inside the root readable"
        );
        ensure!(!Path::new("/bin/busybox").exists(), "not inside the chroot");
        Ok(())
    })
    .unwrap();
}

#[test]
fn the_docs_annotation_example_confines_a_busybox_workload() {
    // docs/LANDLOCK.md's --annotation example, end to end: annotation string → parse → apply in
    // a process chrooted into a tiny rootfs → exec'd busybox.
    let policy_text = r#"{"ruleset":{"handledAccessFS":["write_file","make_reg","make_dir","remove_file","remove_dir","truncate"],"scoped":["signal"]},"rules":{"pathBeneath":[{"allowedAccess":["write_file","make_reg","make_dir","remove_file","remove_dir","truncate"],"paths":["/tmp"]},{"allowedAccess":["write_file","truncate"],"paths":["/dev/null"]}]}}"#;
    let config =
        json!({"process": {"args": ["sh"]}, "annotations": {"run.oci.landlock": policy_text}});
    let p = spec_translate::landlock::parse_config(&config)
        .unwrap()
        .unwrap();
    let t = Tree::new("docs");
    for d in ["bin", "tmp", "dev"] {
        std::fs::create_dir_all(t.root.join(d)).unwrap();
    }
    install_busybox(&t.root.join("bin/busybox"));
    let null = CString::new(t.root.join("dev/null").as_os_str().as_bytes()).unwrap();
    // SAFETY: mknod of a character device node in our scratch tree.
    assert_eq!(
        unsafe { libc::mknod(null.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) },
        0,
        "mknod"
    );
    let root = CString::new(t.root.as_os_str().as_bytes()).unwrap();
    in_child(|| {
        // SAFETY: chroot of this child only.
        ensure!(
            unsafe { libc::chroot(root.as_ptr()) } == 0 && std::env::set_current_dir("/").is_ok(),
            "chroot"
        );
        let devnull = std::fs::File::options()
            .write(true)
            .open("/dev/null")
            .map_err(|e| e.to_string())?;
        let r = apply(&p).map_err(|e| e.to_string())?;
        ensure!(r.enforced && r.dropped.is_empty(), "{r:?}");
        let code = run(
            &[
                "/bin/busybox",
                "sh",
                "-c",
                "touch /tmp/ok && echo hi > /dev/null && touch /x",
            ],
            &devnull,
        );
        ensure!(
            code == 1,
            "the workload exited {code}, expected touch /x to fail with 1"
        );
        ensure!(Path::new("/tmp/ok").exists(), "touch /tmp/ok did not work");
        ensure!(!Path::new("/x").exists(), "touch /x worked");
        Ok(())
    })
    .unwrap();
}
