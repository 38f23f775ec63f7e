//! `exec` into running containers: output and exit codes, env/cwd/user, capabilities,
//! namespace and cgroup membership, detached exec with a pid file, preserved fds, the
//! container's seccomp filter and Landlock policy, paused and stopped containers, the clients'
//! process files.

use integration::*;
use serde_json::{json, Value};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn write_json(rt: &Runtime, name: &str, v: &Value) -> String {
    let p = rt.dir().join(name);
    fs::write(&p, v.to_string()).expect("write json file");
    p.to_string_lossy().into_owned()
}

/// `exec -d --pid-file F ID ARGS...`: returns the process (pid + start time) from the file.
fn exec_detached(rt: &Runtime, id: &str, flags: &[&str], args: &[&str]) -> ProcId {
    let pf = rt.dir().join(format!("exec-{}.pid", unique_name("p")));
    let pf_s = pf.to_string_lossy().into_owned();
    let mut f = vec!["--detach", "--pid-file", &pf_s];
    f.extend_from_slice(flags);
    rt.exec_with(id, &f, args).ok();
    let pid: i32 = fs::read_to_string(&pf)
        .expect("pid file written")
        .trim()
        .parse()
        .expect("pid file holds a number");
    ProcId::of(pid).expect("detached exec process exists")
}

fn cmdline_is(pid: i32, want: &[u8]) -> bool {
    fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want)
}

/// Exit codes pass through; death by signal N is 128+N; a program that cannot be started is
/// one error line and exit 255 (runc's code for a failed exec).
#[test]
fn exit_codes_and_output() {
    let rt = Runtime::new("exexit");
    let mut b = Bundle::new("exexit");
    let (id, _) = running(&rt, &mut b);

    let out = rt.exec(&id, &["sh", "-c", "echo out; echo err >&2; exit 5"]);
    assert_eq!(out.code(), 5, "{}", out.stderr_str());
    assert_eq!(out.stdout_str(), "out\n");
    assert_eq!(out.stderr_str(), "err\n");

    let out = rt.exec(&id, &["sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.code(), 128 + libc::SIGTERM, "{}", out.stderr_str());

    let out = rt.exec(&id, &["no-such-program"]);
    assert_eq!(out.code(), 255, "{}", out.stderr_str());
    let err = out.stderr_str();
    assert!(err.contains("executable file not found"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = rt.exec(&id, &[]);
    out.failed();
    let out = rt.exec_with(&id, &["--cwd", "/no/such/dir"], &["true"]);
    out.failed();
    assert!(
        out.stderr_str().contains("/no/such/dir"),
        "{}",
        out.stderr_str()
    );
    stop_and_delete(&rt, &id, &b);
}

/// A foreground exec passes SIGTERM on to the process and returns its exit code.
#[test]
fn signals_are_forwarded() {
    let rt = Runtime::new("exsig");
    let mut b = Bundle::new("exsig");
    let (id, _) = running(&rt, &mut b);
    let mut child = rt.spawn(&[
        "exec",
        &id,
        "sh",
        "-c",
        "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("read line");
    assert_eq!(first, "ready");
    // SAFETY: kill(2) on our own child (the runtime process).
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = wait_child(child, "exec with a trap");
    assert_eq!(rest, ["got-term"]);
    assert_eq!(status_code(&status), 7);
    stop_and_delete(&rt, &id, &b);
}

/// -e, --cwd, -u uid:gid, -g: environment (the container's plus the new), working directory,
/// user, groups; HOME from the container's /etc/passwd.
#[test]
fn env_cwd_and_user() {
    let rt = Runtime::new("exuser");
    let mut b = Bundle::new("exuser");
    b.env("FROM_CONFIG=yes");
    let (id, _) = running(&rt, &mut b);
    let out = rt.exec_with(
        &id,
        &[
            "-e",
            "FOO=bar",
            "--cwd",
            "/tmp",
            "-u",
            "1000:1000",
            "-g",
            "10",
        ],
        &[
            "sh",
            "-c",
            "echo $FOO $FROM_CONFIG; pwd; id -u; id -g; id -G; echo $HOME",
        ],
    );
    assert_eq!(
        out.ok().stdout_str(),
        "bar yes\n/tmp\n1000\n1000\n1000 10\n/home/user\n"
    );
    // -u with a uid only keeps the config's gid (0), as runc.
    let out = rt.exec_with(&id, &["-u", "1000"], &["sh", "-c", "id -u; id -g"]);
    assert_eq!(out.ok().stdout_str(), "1000\n0\n");
    stop_and_delete(&rt, &id, &b);
}

/// A process file narrows the capabilities to exactly what it lists; `--cap` adds one to the
/// container's sets.
#[test]
fn capabilities_narrowed_and_added() {
    let rt = Runtime::new("excaps");
    let mut b = Bundle::new("excaps");
    let (id, _) = running(&rt, &mut b);
    let kill_only = json!({
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", "grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status"],
        "env": ["PATH=/bin"],
        "cwd": "/",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                         "permitted": ["CAP_KILL"]},
        "noNewPrivileges": true
    });
    let pf = write_json(&rt, "kill-only.json", &kill_only);
    let out = rt.exec_with(&id, &["--process", &pf], &[]);
    // CAP_KILL is bit 5.
    assert_eq!(
        out.ok().stdout_str(),
        "CapPrm:\t0000000000000020\nCapEff:\t0000000000000020\nCapBnd:\t0000000000000020\n"
    );
    // The default config: AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10); --cap adds
    // NET_ADMIN (12).
    let script = "grep '^CapEff' /proc/self/status";
    let out = rt.exec(&id, &["sh", "-c", script]);
    assert_eq!(out.ok().stdout_str(), "CapEff:\t0000000020000420\n");
    let out = rt.exec_with(&id, &["--cap", "CAP_NET_ADMIN"], &["sh", "-c", script]);
    assert_eq!(out.ok().stdout_str(), "CapEff:\t0000000020001420\n");
    stop_and_delete(&rt, &id, &b);
}

/// The exec'd process is in every namespace of the init (compared as /proc/PID/ns links, for
/// a container with user and time namespaces too) and in its cgroups; `--detach` returns at
/// once and the pid file names the process.
#[test]
fn namespaces_cgroup_and_detached_pid_file() {
    let rt = Runtime::new("exns");
    for userns in [false, true] {
        let mut b = Bundle::new("exns");
        if userns {
            b.namespace("user", None);
            if is_nucleus() {
                b.namespace("time", None); // runc 1.1 has no time namespaces
            }
            let map = json!([{"containerID": 0, "hostID": 300000, "size": 65536}]);
            b.set("/linux/uidMappings", map.clone());
            b.set("/linux/gidMappings", map);
        }
        let (id, init) = running(&rt, &mut b);
        let p = exec_detached(&rt, &id, &[], &["sleep", "1000"]);
        assert!(p.alive());
        // (runc's pid file may name its own init a moment before it execs.)
        assert!(wait_until(|| cmdline_is(p.pid, b"sleep\x001000\x00")));
        let kinds: Vec<String> = fs::read_dir(format!("/proc/{init}/ns"))
            .expect("read init ns")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(kinds.len() >= 7, "{kinds:?}");
        for k in &kinds {
            assert_eq!(
                ns_link(&p.pid.to_string(), k),
                ns_link(&init.to_string(), k),
                "namespace {k} (userns: {userns})"
            );
        }
        if userns {
            assert_ne!(ns_link(&init.to_string(), "user"), ns_link("self", "user"));
        }
        let cg = |pid: i32| fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
        assert_eq!(cg(p.pid), cg(init), "cgroups (userns: {userns})");
        // And from inside: the container's pid namespace numbers it, not the host's.
        let out = rt.exec(&id, &["sh", "-c", "readlink /proc/self/ns/pid; echo $$"]);
        let text = out.ok().stdout_str();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], ns_link(&init.to_string(), "pid"));
        assert_ne!(lines[1], "1", "an exec'd process is not the init");
        stop_and_delete(&rt, &id, &b);
        assert!(
            !p.alive(),
            "the detached exec process outlived its container"
        );
    }
}

/// --preserve-fds 1 hands fd 3 to the process, and nothing else but stdio.
#[test]
fn preserve_fds() {
    let rt = Runtime::new("exfds");
    let mut b = Bundle::new("exfds");
    let (id, _) = running(&rt, &mut b);
    let data = rt.dir().join("fd3.txt");
    fs::write(&data, "through fd 3\n").expect("write fd3 data");
    let f = fs::File::open(&data).expect("open fd3 data");
    let raw = std::os::fd::AsRawFd::as_raw_fd(&f);
    let mut c = rt.command();
    c.args([
        "exec",
        "--preserve-fds",
        "1",
        &id,
        "sh",
        "-c",
        "cat <&3; ls /proc/$$/fd; true",
    ]);
    // SAFETY: dup2 between fork and exec of the runtime command; async-signal-safe.
    unsafe {
        c.pre_exec(move || {
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
    let out = run_to_files(&mut c, rt.dir(), "preserve", None);
    let text = out.ok().stdout_str();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("through fd 3"));
    let fds: Vec<&str> = lines.flat_map(|l| l.split_whitespace()).collect();
    assert_eq!(fds, ["0", "1", "2", "3"], "{text}");
    drop(f);
    stop_and_delete(&rt, &id, &b);
}

/// The container's seccomp filter applies to exec'd processes too.
#[test]
fn seccomp_filter_applies() {
    let rt = Runtime::new("exsecc");
    let mut b = Bundle::new("exsecc");
    b.set(
        "/linux/seccomp",
        json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": 1}]
        }),
    );
    let (id, _) = running(&rt, &mut b);
    let out = rt.exec(&id, &["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"]);
    let text = out.ok().stdout_str();
    assert!(text.contains("Operation not permitted"), "{text}");
    assert!(text.ends_with("rc=1\n"), "{text}");
    stop_and_delete(&rt, &id, &b);
}

/// The container's Landlock policy applies to exec'd processes; a process file can add one.
#[test]
fn landlock_policy_applies() {
    if !is_nucleus() {
        return; // process.landlock is a nucleus extension: runc ignores it
    }
    let rt = Runtime::new("exll");
    let mut b = Bundle::new("exll");
    let policy = json!({
        "ruleset": {"handledAccessFS": ["write_file", "make_reg", "make_dir"]},
        "rules": {"pathBeneath": [
            {"allowedAccess": ["write_file", "make_reg", "make_dir"], "paths": ["/tmp"]},
            {"allowedAccess": ["write_file"], "paths": ["/dev/null"]}
        ]}
    });
    b.set("/process/landlock", policy).readonly(false);
    let (id, _) = running(&rt, &mut b);
    let out = rt.exec(
        &id,
        &[
            "sh",
            "-c",
            "touch /tmp/ok && echo tmp-ok; touch /nope 2>/dev/null || echo root-denied",
        ],
    );
    assert_eq!(out.ok().stdout_str(), "tmp-ok\nroot-denied\n");
    // A process file's policy stacks on top: /tmp is closed too.
    let tighter = json!({
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", "touch /tmp/again 2>/dev/null || echo tmp-denied"],
        "env": ["PATH=/bin"],
        "cwd": "/",
        "landlock": {"ruleset": {"handledAccessFS": ["make_reg"]}}
    });
    let pf = write_json(&rt, "tighter.json", &tighter);
    let out = rt.exec_with(&id, &["--process", &pf], &[]);
    assert_eq!(out.ok().stdout_str(), "tmp-denied\n");
    stop_and_delete(&rt, &id, &b);
}

/// The v1 freezer cgroup directory of a process.
fn freezer_dir(pid: i32) -> PathBuf {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read cgroup");
    let rel = text
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrl, path) = (f.next()?, f.next()?, f.next()?);
            ctrl.split(',')
                .any(|c| c == "freezer")
                .then(|| path.to_string())
        })
        .expect("process has a freezer cgroup");
    Path::new("/sys/fs/cgroup/freezer").join(rel.trim_start_matches('/'))
}

fn set_frozen(dir: &Path, frozen: bool) {
    let want = if frozen { "FROZEN" } else { "THAWED" };
    fs::write(dir.join("freezer.state"), want).expect("write freezer.state");
    assert!(wait_until(|| fs::read_to_string(dir.join("freezer.state"))
        .map(|s| s.trim() == want)
        .unwrap_or(false)));
}

/// exec into a paused container fails clearly; with --ignore-paused it goes ahead (the new
/// process is frozen with the rest, and runs once the container is thawed).
#[test]
fn paused_container() {
    let rt = Runtime::new("expause");
    let mut b = Bundle::new("expause");
    let (id, init) = running(&rt, &mut b);
    let fz = freezer_dir(init);
    assert!(
        fz != Path::new("/sys/fs/cgroup/freezer"),
        "container in the root freezer"
    );
    set_frozen(&fz, true);
    assert_eq!(rt.status(&id).as_deref(), Some("paused"));
    let out = rt.exec(&id, &["true"]);
    out.failed();
    assert!(out.stderr_str().contains("paused"), "{}", out.stderr_str());

    let child = rt.spawn(&[
        "exec",
        "--ignore-paused",
        &id,
        "sh",
        "-c",
        "echo thawed-run",
    ]);
    let procs = || {
        fs::read_to_string(fz.join("cgroup.procs"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    // The new process joined the frozen cgroup (so the pause check is behind us).
    assert!(wait_until(|| procs() >= 2), "exec never joined the cgroup");
    set_frozen(&fz, false);
    let out = wait_output(child);
    assert_eq!(out.ok().stdout_str(), "thawed-run\n");

    // The same through `pause` / `resume`: a frozen exec must not keep `resume` waiting.
    rt.cmd(&["pause", &id]).ok();
    assert_eq!(rt.status(&id).as_deref(), Some("paused"));
    rt.exec(&id, &["true"]).failed();
    let child = rt.spawn(&[
        "exec",
        "--ignore-paused",
        &id,
        "sh",
        "-c",
        "echo resumed-run",
    ]);
    assert!(wait_until(|| procs() >= 2), "exec never joined the cgroup");
    rt.cmd(&["resume", &id]).ok();
    let out = wait_output(child);
    assert_eq!(out.ok().stdout_str(), "resumed-run\n");
    stop_and_delete(&rt, &id, &b);
}

/// exec into a stopped container, or one that does not exist, fails with runc's words.
#[test]
fn stopped_and_missing_containers() {
    let rt = Runtime::new("exstop");
    let mut b = Bundle::new("exstop");
    let (id, _) = running(&rt, &mut b);
    rt.kill(&id, "KILL").ok();
    rt.wait_status(&id, "stopped");
    let out = rt.exec(&id, &["true"]);
    out.failed();
    if is_nucleus() {
        assert!(
            out.stderr_str()
                .contains("cannot exec in a stopped container"),
            "{}",
            out.stderr_str()
        );
    }
    rt.delete(&id).ok();
    let out = rt.exec("it-exstop-no-such", &["true"]);
    out.failed();
    assert!(
        out.stderr_str().contains("does not exist"),
        "{}",
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);
}

fn fixture_process(name: &str) -> Value {
    let dir = std::env::var_os("NUCLEUS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/fixtures/configs"));
    let p = dir.join(format!("{name}.json"));
    let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The clients' process files as they send them: `exec --process F --detach --pid-file P`
/// (podman's `exec -d sleep 5` file), and the foreground ones with their output; Docker's
/// privileged exec asks for capabilities root lacks here and must fail with one clean line.
#[test]
fn client_process_files() {
    let rt = Runtime::new("exfx");
    let mut b = Bundle::new("exfx");
    let (id, init) = running(&rt, &mut b);
    let pf = write_json(
        &rt,
        "podman-detach.json",
        &fixture_process("podman-exec-detach-process"),
    );
    let p = exec_detached(&rt, &id, &["--process", &pf], &[]);
    assert!(wait_until(|| cmdline_is(p.pid, b"sleep\x005\x00")));
    assert_eq!(
        ns_link(&p.pid.to_string(), "mnt"),
        ns_link(&init.to_string(), "mnt")
    );
    // podman's rlimits reached the process.
    let limits = fs::read_to_string(format!("/proc/{}/limits", p.pid)).expect("limits");
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains("20000")),
        "{limits}"
    );
    for (name, want) in [
        ("ctr-exec-process", "exec-hi\n"),
        ("docker-exec-process", "exec-hi\n"),
        ("podman-exec-process", "exec-hi\n"),
    ] {
        let pf = write_json(&rt, &format!("{name}.json"), &fixture_process(name));
        let out = rt.exec_with(&id, &["--process", &pf], &[]);
        assert_eq!(out.ok().stdout_str(), want, "{name}");
    }
    let pf = write_json(
        &rt,
        "docker-priv.json",
        &fixture_process("docker-exec-privileged-process"),
    );
    let out = rt.exec_with(&id, &["--process", &pf], &[]);
    out.failed();
    let err = out.stderr_str();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    stop_and_delete(&rt, &id, &b);
}

/// Several execs at once into one container all run and report their own exit codes.
#[test]
fn concurrent_execs() {
    let rt = Runtime::new("exconc");
    let mut b = Bundle::new("exconc");
    let (id, _) = running(&rt, &mut b);
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut c = rt.command();
            c.args(["exec", &id, "sh", "-c", &format!("echo n{i}; exit {i}")]);
            c.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (i, c.spawn().expect("spawn exec"))
        })
        .collect();
    for (i, c) in children {
        let out = wait_output(c);
        assert_eq!(out.code(), i, "{}", out.stderr_str());
        assert_eq!(out.stdout_str(), format!("n{i}\n"));
    }
    stop_and_delete(&rt, &id, &b);
}

/// The container's v1 cgroup directory for `ctrl` (`/sys/fs/cgroup/CTRL/...`) of process `pid`.
fn v1_cgroup_dir(pid: i32, ctrl: &str) -> PathBuf {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read cgroup");
    let rel = text
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            ctrls
                .split(',')
                .any(|c| c == ctrl)
                .then(|| path.to_string())
        })
        .unwrap_or_else(|| panic!("process {pid} has no {ctrl} cgroup"));
    Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join(rel.trim_start_matches('/'))
}

/// `--cgroup pids:sub` puts the process into an existing sub-cgroup for that controller and
/// leaves it in the container's cgroup for the others; a missing sub-cgroup is refused.
#[test]
fn sub_cgroup() {
    let rt = Runtime::new("excg");
    let mut b = Bundle::new("excg");
    let (id, init) = running(&rt, &mut b);
    let pids_dir = v1_cgroup_dir(init, "pids");
    let sub = pids_dir.join("sub");
    fs::create_dir(&sub).expect("mkdir sub-cgroup");
    let p = exec_detached(&rt, &id, &["--cgroup", "pids:sub"], &["sleep", "1000"]);
    assert_eq!(v1_cgroup_dir(p.pid, "pids"), sub);
    assert_eq!(
        v1_cgroup_dir(p.pid, "memory"),
        v1_cgroup_dir(init, "memory")
    );
    let out = rt.exec_with(&id, &["--cgroup", "pids:no-such-sub"], &["true"]);
    out.failed();
    // SAFETY: kill(2) of the process identified by pid and start time just above.
    if p.alive() {
        unsafe { libc::kill(p.pid, libc::SIGKILL) };
    }
    assert!(wait_until(|| !p.alive()));
    assert!(
        wait_until(|| fs::remove_dir(&sub).is_ok()),
        "sub-cgroup busy"
    );
    stop_and_delete(&rt, &id, &b);
}
