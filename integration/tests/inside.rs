//! What the container process sees: capabilities, mounts, hostname, user, rlimits, /dev,
//! masked and read-only paths, no_new_privs, oom score, umask, cwd, env.

use integration::*;
use serde_json::json;
use std::fs;

/// Runs `script` with `sh -c` in a fresh container configured by `setup`; asserts exit 0 and
/// that nothing is left behind; returns stdout.
fn sh_in(test: &str, script: &str, setup: impl FnOnce(&mut Bundle)) -> String {
    let rt = Runtime::new(test);
    let mut b = Bundle::new(test);
    b.sh(script);
    setup(&mut b);
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert!(
        out.status.success(),
        "container failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        out.stdout_str(),
        out.stderr_str()
    );
    rt.assert_no_leftovers(&id, &b);
    out.stdout_str()
}

/// The value of `Key:` in a /proc/PID/status text.
fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in status:\n{status}"))
}

const CAP_KILL: u32 = 5;
const CAP_NET_BIND_SERVICE: u32 = 10;
const CAP_NET_RAW: u32 = 13;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_AUDIT_WRITE: u32 = 29;

fn cap_mask(caps: &[u32]) -> String {
    format!("{:016x}", caps.iter().fold(0u64, |m, c| m | (1u64 << c)))
}

#[test]
fn capabilities_default_match_config() {
    let status = sh_in("capsdef", "cat /proc/self/status", |_| {});
    let want = cap_mask(&[CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE]);
    assert_eq!(status_field(&status, "CapBnd"), want);
    assert_eq!(status_field(&status, "CapEff"), want);
    assert_eq!(status_field(&status, "CapPrm"), want);
    assert_eq!(status_field(&status, "CapInh"), cap_mask(&[]));
    assert_eq!(status_field(&status, "CapAmb"), cap_mask(&[]));
}

fn custom_caps(b: &mut Bundle) {
    b.set(
        "/process/capabilities",
        json!({
            "bounding": ["CAP_KILL", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
            "effective": ["CAP_KILL", "CAP_NET_RAW"],
            "permitted": ["CAP_KILL", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
            "inheritable": ["CAP_NET_RAW"],
            "ambient": ["CAP_NET_RAW"]
        }),
    );
}

/// The sets seen after execve follow the kernel's rules: for uid 0 the permitted and effective
/// sets become the bounding set; for uid 1000 they become the ambient set.
#[test]
fn capabilities_custom_sets_and_ambient() {
    let status = sh_in("capscustom", "cat /proc/self/status", custom_caps);
    let bounding = cap_mask(&[CAP_KILL, CAP_NET_RAW, CAP_SYS_ADMIN]);
    assert_eq!(status_field(&status, "CapBnd"), bounding);
    assert_eq!(status_field(&status, "CapPrm"), bounding);
    assert_eq!(status_field(&status, "CapEff"), bounding);
    assert_eq!(status_field(&status, "CapAmb"), cap_mask(&[CAP_NET_RAW]));
    assert_eq!(status_field(&status, "CapInh"), cap_mask(&[CAP_NET_RAW]));

    let status = sh_in("capscustom1000", "cat /proc/self/status", |b| {
        custom_caps(b);
        b.user(1000, 1000, &[]);
    });
    let raw = cap_mask(&[CAP_NET_RAW]);
    assert_eq!(status_field(&status, "CapBnd"), bounding);
    assert_eq!(status_field(&status, "CapPrm"), raw);
    assert_eq!(status_field(&status, "CapEff"), raw);
    assert_eq!(status_field(&status, "CapAmb"), raw);
    assert_eq!(status_field(&status, "CapInh"), raw);
}

/// /proc/self/mountinfo shows the rootfs as / and every configured mount with its type.
#[test]
fn mountinfo_shows_configured_mounts() {
    let host_dir = TempDir::new("mountsrc");
    fs::write(host_dir.path().join("hello"), "from-host\n").expect("write");
    let host_s = host_dir.path().to_string_lossy().into_owned();
    let mut bundle_dir = String::new();
    let out = sh_in(
        "mountinfo",
        "cat /proc/self/mountinfo; echo ---; cat /data/hello; touch /data/x 2>&1; \
         echo ---; echo hi > /scratch/f && cat /scratch/f",
        |b| {
            bundle_dir = b.dir_str();
            fs::create_dir_all(b.rootfs().join("data")).expect("mkdir");
            fs::create_dir_all(b.rootfs().join("scratch")).expect("mkdir");
            b.mount(
                json!({"destination": "/data", "type": "bind", "source": host_s,
                           "options": ["rbind", "ro"]}),
            );
            b.mount(
                json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                           "options": ["nosuid", "nodev", "size=1m"]}),
            );
        },
    );
    drop(host_dir);
    let parts: Vec<&str> = out.split("---\n").collect();
    assert_eq!(parts.len(), 3, "{out}");
    let mounts: Vec<Vec<&str>> = parts[0].lines().map(|l| l.split(' ').collect()).collect();
    let find = |dest: &str| {
        mounts
            .iter()
            .find(|f| f.get(4) == Some(&dest))
            .unwrap_or_else(|| panic!("no mount at {dest}:\n{}", parts[0]))
    };
    // The fstype follows the " - " separator.
    let fstype = |f: &Vec<&str>| {
        let sep = f.iter().position(|x| *x == "-").expect("separator");
        f[sep + 1].to_string()
    };
    let root = find("/");
    assert!(
        root[3].ends_with(&format!("{bundle_dir}/rootfs")) || root[3].ends_with("/rootfs"),
        "/ is not the bundle rootfs: {root:?}"
    );
    assert!(
        root[5].split(',').any(|o| o == "ro"),
        "rootfs not read-only: {root:?}"
    );
    for (dest, ty) in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
        ("/sys", "sysfs"),
        ("/scratch", "tmpfs"),
    ] {
        assert_eq!(fstype(find(dest)), ty, "type of {dest}");
    }
    // /sys/fs/cgroup exists (runc binds the v1 hierarchies under a tmpfs here).
    find("/sys/fs/cgroup");
    let sys = find("/sys");
    assert!(sys[5].split(',').any(|o| o == "ro"), "/sys not ro: {sys:?}");
    let data = find("/data");
    assert!(
        data[5].split(',').any(|o| o == "ro"),
        "/data not ro: {data:?}"
    );
    assert!(parts[1].starts_with("from-host\n"), "{}", parts[1]);
    assert!(parts[1].contains("Read-only file system"), "{}", parts[1]);
    assert_eq!(parts[2], "hi\n");
}

#[test]
fn hostname_and_domainname() {
    let out = sh_in("hostname", "hostname", |_| {});
    assert_eq!(out, "nucleus\n");
    let out = sh_in(
        "hostname2",
        "hostname; cat /proc/sys/kernel/domainname",
        |b| {
            b.set("/hostname", json!("box-1"));
            b.set("/domainname", json!("example.test"));
        },
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "box-1");
    if is_nucleus() {
        // runc 1.1 ignores `domainname` (added in runc 1.2); nucleus sets it.
        assert_eq!(lines[1], "example.test");
    }
}

/// user 1000:1000 with additionalGids: `id`, the status ids, HOME from /etc/passwd.
#[test]
fn user_and_additional_gids() {
    let out = sh_in(
        "user",
        "id; grep -E '^(Uid|Gid|Groups):' /proc/self/status; echo HOME=$HOME",
        |b| {
            b.user(1000, 1000, &[10, 29]);
        },
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "uid=1000(user) gid=1000(user) groups=10(wheel),29(audio)"
    );
    assert_eq!(status_field(&out, "Uid"), "1000\t1000\t1000\t1000");
    assert_eq!(status_field(&out, "Gid"), "1000\t1000\t1000\t1000");
    assert_eq!(status_field(&out, "Groups"), "10 29");
    assert!(lines.contains(&"HOME=/home/user"), "{out}");
}

#[test]
fn rlimits_applied() {
    let out = sh_in(
        "rlimits",
        "ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc",
        |b| {
            b.set(
                "/process/rlimits",
                json!([
                    {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768},
                    {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}
                ]),
            );
        },
    );
    assert_eq!(out, "512\n768\n0\n0\n");
    let out = sh_in("rlimitsdef", "ulimit -n; ulimit -Hn", |_| {});
    assert_eq!(out, "1024\n1024\n");
}

/// Raising a hard limit above the host's needs CAP_SYS_RESOURCE, which root lacks here: the
/// container must fail to start rather than run with a silently different limit.
#[test]
fn rlimit_above_host_hard_limit_fails() {
    let rt = Runtime::new("rlimithigh");
    let mut b = Bundle::new("rlimithigh");
    b.args(&["true"]);
    let mut host = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we pass.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut host) };
    if host.rlim_max == libc::RLIM_INFINITY {
        panic!("host RLIMIT_NOFILE is unlimited: this test needs a finite hard limit");
    }
    let too_high = host.rlim_max + 1000;
    b.set(
        "/process/rlimits",
        json!([{"type": "RLIMIT_NOFILE", "soft": too_high, "hard": too_high}]),
    );
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    out.failed();
    let err = out.stderr_str();
    assert!(err.contains("rlimit") || err.contains("RLIMIT"), "{err}");
    rt.cmd(&["delete", "--force", &id]);
    rt.assert_no_leftovers(&id, &b);
}

/// /dev holds exactly the OCI default devices and links, with the right numbers.
#[test]
fn dev_contents() {
    let out = sh_in(
        "devs",
        "ls -A /dev | sort | tr '\\n' ' '; echo; \
         for d in null zero full random urandom tty; do echo $d $(stat -c '%F %t:%T %a' /dev/$d); done; \
         for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done; \
         echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c",
        |_| {},
    );
    let mut lines = out.lines();
    let listing = lines.next().expect("listing");
    assert_eq!(
        listing.trim(),
        "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
    );
    let rest: Vec<&str> = lines.collect();
    for want in [
        "null character special file 1:3 666",
        "zero character special file 1:5 666",
        "full character special file 1:7 666",
        "random character special file 1:8 666",
        "urandom character special file 1:9 666",
        "tty character special file 5:0 666",
        "fd /proc/self/fd",
        "stdin /proc/self/fd/0",
        "stdout /proc/self/fd/1",
        "stderr /proc/self/fd/2",
        "ptmx pts/ptmx",
        "null-ok",
        "4",
    ] {
        assert!(rest.contains(&want), "missing {want:?} in:\n{out}");
    }
}

/// Masked paths read empty; read-only paths refuse writes.
#[test]
fn masked_and_readonly_paths() {
    let out = sh_in(
        "masked",
        "for f in /proc/keys /proc/timer_list /proc/kcore; do \
           echo $f $(cat $f 2>/dev/null | wc -c); done; \
         echo firmware $(ls -A /sys/firmware | wc -l); \
         echo acpi $(ls -A /proc/acpi 2>/dev/null | wc -l); \
         echo x > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-ro; \
         echo x > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable || echo sysrq-ro; \
         grep -E ' /proc/(sys|bus|fs|irq) ' /proc/self/mountinfo | cut -d' ' -f5,6",
        |_| {},
    );
    for want in [
        "/proc/keys 0",
        "/proc/timer_list 0",
        "/proc/kcore 0",
        "firmware 0",
        "acpi 0",
        "sys-ro",
        "sysrq-ro",
    ] {
        assert!(
            out.lines().any(|l| l == want),
            "missing {want:?} in:\n{out}"
        );
    }
    for p in ["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{p} ")))
            .unwrap_or_else(|| panic!("{p} not a mount:\n{out}"));
        assert!(
            line.split(' ')
                .nth(1)
                .unwrap_or("")
                .split(',')
                .any(|o| o == "ro"),
            "{line}"
        );
    }
    // On the host the masked files are not empty (so the test can tell).
    assert!(!fs::read_to_string("/proc/timer_list")
        .unwrap_or_default()
        .is_empty());
}

#[test]
fn readonly_rootfs() {
    let out = sh_in("rootro", "touch /x 2>&1 || echo refused", |_| {});
    assert!(
        out.contains("Read-only file system") && out.contains("refused"),
        "{out}"
    );
    let out = sh_in("rootrw", "touch /x && echo made", |b| {
        b.readonly(false);
    });
    assert_eq!(out, "made\n");
}

#[test]
fn no_new_privileges() {
    let out = sh_in("nnp", "grep NoNewPrivs /proc/self/status", |_| {});
    assert_eq!(status_field(&out, "NoNewPrivs"), "1");
    let out = sh_in("nnp0", "grep NoNewPrivs /proc/self/status", |b| {
        b.set("/process/noNewPrivileges", json!(false));
    });
    assert_eq!(status_field(&out, "NoNewPrivs"), "0");
}

#[test]
fn oom_score_adj() {
    // Raising the score needs no privilege (lowering would need CAP_SYS_RESOURCE).
    let out = sh_in("oom", "cat /proc/self/oom_score_adj", |b| {
        b.set("/process/oomScoreAdj", json!(500));
    });
    assert_eq!(out, "500\n");
}

#[test]
fn umask_default_and_configured() {
    assert_eq!(sh_in("umask", "umask", |_| {}), "0022\n");
    let out = sh_in("umask2", "umask; touch /tmp/f; stat -c %a /tmp/f", |b| {
        b.readonly(false);
        b.set("/process/user/umask", json!(0o027));
    });
    assert_eq!(out, "0027\n640\n");
}

#[test]
fn cwd_is_configured() {
    assert_eq!(
        sh_in("cwd", "pwd", |b| {
            b.cwd("/tmp");
        }),
        "/tmp\n"
    );
    assert_eq!(
        sh_in("cwd2", "pwd", |b| {
            b.cwd("/home/user");
        }),
        "/home/user\n"
    );
}

/// The process gets exactly the configured environment plus HOME (from /etc/passwd).
#[test]
fn env_is_configured() {
    let rt = Runtime::new("env");
    let mut b = Bundle::new("env");
    b.args(&["env"]);
    b.env("FOO=bar baz");
    b.env("EMPTY=");
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    out.ok();
    let mut got: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    got.sort();
    let mut want = vec![
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        "TERM=xterm".to_string(),
        "FOO=bar baz".to_string(),
        "EMPTY=".to_string(),
        "HOME=/root".to_string(),
    ];
    want.sort();
    assert_eq!(got, want);
}
