//! Kernel tests: each runs in a forked child that unshares its mount namespace, builds the
//! container's root in a temporary busybox rootfs and checks the result from inside. The
//! child's mounts die with its namespace; every test also checks that the host's mount table
//! never mentions the temporary directory.

use super::*;
use spec_translate::mounts::{translate_devices, translate_mounts};
use spec_translate::{Namespaces, Plan};
use std::fs;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

type R = std::result::Result<(), String>;

static N: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory with a minimal busybox rootfs under `rootfs/`; removed on drop.
struct Bundle {
    dir: PathBuf,
}

impl Bundle {
    fn new() -> Bundle {
        let dir = PathBuf::from(format!(
            "/tmp/nucleus-rootfs-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        let r = dir.join("rootfs");
        for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "run"] {
            fs::create_dir_all(r.join(d)).unwrap();
        }
        fs::copy("/bin/busybox", r.join("bin/busybox"))
            .expect("busybox-static must be installed at /bin/busybox");
        Bundle { dir }
    }
    fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }
    fn plan(&self, mounts_json: &str) -> Plan {
        let spec = spec_translate::parse_spec(&format!(
            r#"{{"ociVersion":"1.0.2","mounts":{mounts_json}}}"#
        ))
        .unwrap();
        let ms = spec.spec.mounts().clone().unwrap_or_default();
        Plan {
            rootfs: self.rootfs(),
            bundle: self.dir.clone(),
            mounts: translate_mounts(&ms, &self.dir).unwrap(),
            ..Default::default()
        }
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let host = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let leaked = host.contains(self.dir.to_str().unwrap());
        let _ = fs::remove_dir_all(&self.dir);
        if leaked && !std::thread::panicking() {
            panic!(
                "a mount under {} leaked into the host mount namespace",
                self.dir.display()
            );
        }
    }
}

/// Run `f` in a forked child inside a new mount namespace; its Err text (or panic) comes back.
fn in_child(f: impl FnOnce() -> R) -> R {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    // SAFETY: the child runs the test body and leaves with _exit; glibc keeps malloc usable.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(r);
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
                .map_err(|e| format!("unshare: {e}"))?;
            f()
        }))
        .unwrap_or_else(|p| {
            Err(format!(
                "panic: {:?}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or(p.downcast_ref::<&str>().map(|s| s.to_string()))
            ))
        });
        let code = match res {
            Ok(()) => 0,
            Err(msg) => {
                // SAFETY: writing a buffer we own to our pipe.
                unsafe {
                    libc::write(
                        w.as_raw_fd(),
                        msg.as_ptr() as *const libc::c_void,
                        msg.len(),
                    )
                };
                1
            }
        };
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    drop(w);
    let mut msg = String::new();
    fs::File::from(r).read_to_string(&mut msg).unwrap();
    let mut status = 0;
    // SAFETY: pid is our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else if msg.is_empty() {
        Err(format!("child ended with status {status:#x}"))
    } else {
        Err(msg)
    }
}

/// `linux.devices` JSON through the real translation.
fn devices(json: &str) -> Vec<spec_translate::Device> {
    let spec = spec_translate::parse_spec(&format!(
        r#"{{"ociVersion":"1.0.2","linux":{{"devices":{json}}}}}"#
    ))
    .unwrap();
    let d = spec
        .spec
        .linux()
        .as_ref()
        .unwrap()
        .devices()
        .clone()
        .unwrap_or_default();
    translate_devices(&d).unwrap()
}

fn ensure(cond: bool, msg: impl Into<String>) -> R {
    if cond {
        Ok(())
    } else {
        Err(msg.into())
    }
}

fn mi() -> Vec<mountinfo::MountInfo> {
    mountinfo::read_self().unwrap()
}

fn find(v: &[mountinfo::MountInfo], mp: &str) -> Result<mountinfo::MountInfo, String> {
    v.iter()
        .rev()
        .find(|m| m.mount_point == mp)
        .cloned()
        .ok_or_else(|| format!("no mount at {mp}"))
}

fn e2s(e: RootfsError) -> String {
    e.to_string()
}

const DOCKER_MOUNTS: &str = r#"[
 {"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
 {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
 {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
 {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
 {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro","nosuid","noexec","nodev"]},
 {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
 {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]}
]"#;

const HOSTS_MOUNT: &str = r#"{"destination":"/etc/hosts","type":"bind","source":"HOSTS","options":["rbind","rprivate","ro"]}"#;

fn docker_plan(b: &Bundle) -> Plan {
    fs::write(b.path("hosts"), "127.0.0.1 localhost\n").unwrap();
    let hosts = HOSTS_MOUNT.replace("HOSTS", b.path("hosts").to_str().unwrap());
    let mut p = b.plan(&format!(
        "{},{hosts}]",
        DOCKER_MOUNTS.trim_end().trim_end_matches(']')
    ));
    p.masked_paths = [
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/nonexistent",
        "/sys/firmware",
    ]
    .map(String::from)
    .to_vec();
    p.readonly_paths = [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ]
    .map(String::from)
    .to_vec();
    p.rootfs_readonly = true;
    p
}

#[test]
fn docker_like_container() {
    let b = Bundle::new();
    let plan = docker_plan(&b);
    let host_root = b.rootfs().to_str().unwrap().to_string();
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        pivot(&plan, false).map_err(e2s)?;
        finish(&plan).map_err(e2s)?;
        let m = mi();
        ensure(
            !m.iter().any(|e| e.mount_point.contains(&host_root)),
            "the host view is still visible after pivot",
        )?;
        ensure(
            fs::metadata("/bin/busybox").is_ok(),
            "busybox not at /bin/busybox: not in the rootfs",
        )?;
        ensure(
            std::env::current_dir().unwrap() == std::path::Path::new("/"),
            "cwd is not /",
        )?;
        let root = find(&m, "/")?;
        ensure(root.has_option("ro"), format!("/ not read-only: {root:?}"))?;
        ensure(
            fs::write("/x", "x").unwrap_err().raw_os_error() == Some(libc::EROFS),
            "write to / did not fail with EROFS",
        )?;
        let proc = find(&m, "/proc")?;
        ensure(
            proc.fstype == "proc"
                && proc.has_option("nosuid")
                && proc.has_option("noexec")
                && proc.has_option("nodev"),
            format!("{proc:?}"),
        )?;
        let dev = find(&m, "/dev")?;
        ensure(
            dev.fstype == "tmpfs"
                && dev.has_option("nosuid")
                && dev.super_options.contains("mode=755"),
            format!("{dev:?}"),
        )?;
        ensure(find(&m, "/dev/pts")?.fstype == "devpts", "/dev/pts")?;
        ensure(find(&m, "/dev/mqueue")?.fstype == "mqueue", "/dev/mqueue")?;
        ensure(find(&m, "/dev/shm")?.fstype == "tmpfs", "/dev/shm")?;
        let sys = find(&m, "/sys")?;
        ensure(
            sys.fstype == "sysfs" && sys.has_option("ro"),
            format!("{sys:?}"),
        )?;
        let cg = find(&m, "/sys/fs/cgroup")?;
        ensure(
            cg.fstype == "tmpfs" && cg.has_option("ro"),
            format!("/sys/fs/cgroup: {cg:?}"),
        )?;
        let mem = find(&m, "/sys/fs/cgroup/memory")?;
        ensure(
            mem.fstype == "cgroup" && mem.has_option("ro"),
            format!("memory hierarchy: {mem:?}"),
        )?;
        let hosts = find(&m, "/etc/hosts")?;
        ensure(hosts.has_option("ro"), format!("{hosts:?}"))?;
        ensure(
            fs::read_to_string("/etc/hosts").unwrap() == "127.0.0.1 localhost\n",
            "/etc/hosts content",
        )?;
        // default devices and links
        for (p, maj, min) in [
            ("/dev/null", 1, 3),
            ("/dev/zero", 1, 5),
            ("/dev/full", 1, 7),
            ("/dev/random", 1, 8),
            ("/dev/urandom", 1, 9),
            ("/dev/tty", 5, 0),
        ] {
            let md = fs::symlink_metadata(p).map_err(|e| format!("{p}: {e}"))?;
            ensure(
                md.file_type().is_char_device(),
                format!("{p} is not a char device"),
            )?;
            ensure(
                md.rdev() == libc::makedev(maj, min),
                format!("{p} has the wrong device number"),
            )?;
            ensure(
                md.permissions().mode() & 0o7777 == 0o666,
                format!("{p} mode {:o}", md.permissions().mode()),
            )?;
        }
        for (l, t) in [
            ("/dev/ptmx", "pts/ptmx"),
            ("/dev/fd", "/proc/self/fd"),
            ("/dev/stdin", "/proc/self/fd/0"),
            ("/dev/stdout", "/proc/self/fd/1"),
            ("/dev/stderr", "/proc/self/fd/2"),
        ] {
            ensure(
                fs::read_link(l).map_err(|e| format!("{l}: {e}"))? == std::path::Path::new(t),
                format!("{l} does not point to {t}"),
            )?;
        }
        // runc links /dev/core only when the kernel has /proc/kcore
        ensure(
            fs::read_link("/dev/core").is_ok() == fs::metadata("/proc/kcore").is_ok(),
            "/dev/core vs /proc/kcore",
        )?;
        // masked and read-only paths
        let keys = find(&m, "/proc/keys")?;
        ensure(
            keys.root == "/null",
            format!("/proc/keys is not masked by /dev/null: {keys:?}"),
        )?;
        ensure(
            fs::read("/proc/keys").unwrap().is_empty(),
            "/proc/keys readable",
        )?;
        let acpi = find(&m, "/proc/acpi");
        if fs::metadata("/proc/acpi").is_ok() {
            let acpi = acpi?;
            ensure(
                acpi.fstype == "tmpfs" && acpi.has_option("ro"),
                format!("{acpi:?}"),
            )?;
        }
        ensure(
            find(&m, "/sys/firmware")?.fstype == "tmpfs",
            "/sys/firmware not masked",
        )?;
        let psys = find(&m, "/proc/sys")?;
        ensure(
            psys.has_option("ro") && psys.has_option("nosuid"),
            format!("/proc/sys: {psys:?}"),
        )?;
        ensure(
            fs::write("/proc/sys/kernel/hostname", "x").is_err(),
            "/proc/sys writable",
        )?;
        ensure(
            !m.iter().any(|e| e.mount_point == "/proc/nonexistent"),
            "a missing masked path was created",
        )
    })
    .unwrap();
}

#[test]
fn rootfs_propagation_default_unshares_and_shared_is_honoured() {
    let b = Bundle::new();
    let mut plan = b.plan("[]");
    in_child(|| {
        // The host / here may be private; make the child's shared first so rslave is visible.
        sys::mount(
            None,
            c"/",
            None,
            (libc::MS_SHARED | libc::MS_REC) as u64,
            None,
        )
        .map_err(|e| e.to_string())?;
        prepare(&plan).map_err(e2s)?;
        // (a lone shared peer made slave turns private: either way nothing flows back)
        let m = mi();
        for p in ["/", plan.rootfs.to_str().unwrap()] {
            let e = find(&m, p)?;
            ensure(
                !e.optional.iter().any(|o| o.starts_with("shared:")),
                format!("{p} still shared: {e:?}"),
            )?;
        }
        Ok(())
    })
    .unwrap();
    plan.rootfs_propagation = (libc::MS_SHARED | libc::MS_REC) as u64;
    in_child(|| {
        // Private first: a shared peer of the host's / would leak the test's mounts to the host.
        sys::mount(
            None,
            c"/",
            None,
            (libc::MS_PRIVATE | libc::MS_REC) as u64,
            None,
        )
        .map_err(|e| e.to_string())?;
        prepare(&plan).map_err(e2s)?;
        // rshared reaches the other mounts; the rootfs' parent mount is made private as runc
        // does, or pivot_root would refuse it.
        let proc = find(&mi(), "/proc")?;
        ensure(
            proc.optional.iter().any(|o| o.starts_with("shared:")),
            format!("not shared: {proc:?}"),
        )?;
        pivot(&plan, false).map_err(e2s)
    })
    .unwrap();
}

/// CVE-2021-30465 pattern: symlinks in the rootfs and `..` in destinations never reach the host.
#[test]
fn symlink_escapes_stay_inside_the_rootfs() {
    let b = Bundle::new();
    let outside = b.path("outside"); // a host directory the symlinks aim at
    fs::create_dir(&outside).unwrap();
    let r = b.rootfs();
    std::os::unix::fs::symlink(&outside, r.join("abs")).unwrap();
    std::os::unix::fs::symlink("../../../../../../..", r.join("up")).unwrap();
    std::os::unix::fs::symlink(b.path("outside/file"), r.join("filelink")).unwrap();
    std::os::unix::fs::symlink("/run/resolve/stub.conf", r.join("etc/resolv.conf")).unwrap();
    fs::write(b.path("src-file"), "bound").unwrap();
    let src = b.path("src-file");
    let o = outside.to_str().unwrap().to_string();
    let plan = b.plan(&format!(
        r#"[{{"destination":"/abs/t1","type":"tmpfs","source":"tmpfs"}},
           {{"destination":"/up{o}/t2","type":"tmpfs","source":"tmpfs"}},
           {{"destination":"/../../../..{o}/t3","type":"tmpfs","source":"tmpfs"}},
           {{"destination":"/filelink","type":"bind","source":"{s}","options":["bind"]}},
           {{"destination":"/etc/resolv.conf","type":"bind","source":"{s}","options":["bind"]}}]"#,
        s = src.display()
    ));
    let mut plan = plan;
    plan.devices = devices(r#"[{"path":"/abs/dev-null","type":"c","major":1,"minor":3}]"#);
    let root = r.to_str().unwrap().to_string();
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        let m = mi();
        for t in ["t1", "t2", "t3"] {
            let inside = format!("{root}{o}/{t}");
            ensure(
                find(&m, &inside).is_ok(),
                format!("{t} not mounted at {inside}"),
            )?;
            ensure(
                !m.iter().any(|e| e.mount_point == format!("{o}/{t}")),
                format!("{t} mounted on the host path"),
            )?;
        }
        ensure(
            find(&m, &format!("{root}{o}/file")).is_ok(),
            "bind through /filelink did not land inside the rootfs",
        )?;
        ensure(
            fs::read_to_string(format!("{root}/run/resolve/stub.conf"))
                .map_err(|e| e.to_string())?
                == "bound",
            "dangling resolv.conf target not created inside",
        )?;
        ensure(
            fs::symlink_metadata(format!("{root}{o}/dev-null"))
                .map(|m| m.file_type().is_char_device())
                .unwrap_or(false),
            "device not created inside",
        )
    })
    .unwrap();
    // Nothing was created in the host directory the symlinks point at.
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "something was created outside the rootfs"
    );
}

#[test]
fn proc_destinations_are_guarded() {
    let b = Bundle::new();
    let r = b.rootfs();
    std::os::unix::fs::symlink("/proc/self", r.join("selfproc")).unwrap();
    std::os::unix::fs::symlink("/proc", r.join("procdir")).unwrap();
    fs::write(b.path("f"), "x").unwrap();
    let f = b.path("f");
    let f = f.to_str().unwrap();
    let cases = [
        // a tmpfs is not proc
        (
            r#"[{"destination":"/proc","type":"tmpfs","source":"tmpfs"}]"#.to_string(),
            Some("not of type proc"),
        ),
        // over a /proc file through a symlink into the container's proc
        (
            format!(
                r#"[{{"destination":"/proc","type":"proc","source":"proc"}},{{"destination":"/selfproc/attr/current","type":"bind","source":"{f}","options":["bind"]}}]"#
            ),
            Some("inside /proc"),
        ),
        (
            format!(
                r#"[{{"destination":"/proc","type":"proc","source":"proc"}},{{"destination":"/proc/sys/kernel/core_pattern","type":"bind","source":"{f}","options":["bind"]}}]"#
            ),
            Some("inside /proc"),
        ),
        // proc must not be mounted through a symlink
        (
            r#"[{"destination":"/procdir","type":"proc","source":"proc"}]"#.to_string(),
            Some("ordinary directory"),
        ),
        // lxcfs-style files are allowed
        (
            format!(
                r#"[{{"destination":"/proc","type":"proc","source":"proc"}},{{"destination":"/proc/meminfo","type":"bind","source":"{f}","options":["bind"]}}]"#
            ),
            None,
        ),
        // a bind of a procfs onto /proc is allowed
        (
            r#"[{"destination":"/proc","type":"bind","source":"/proc","options":["rbind"]}]"#
                .to_string(),
            None,
        ),
    ];
    for (json, want) in cases {
        let plan = b.plan(&json);
        let res = in_child(|| prepare(&plan).map_err(e2s));
        match (want, res) {
            (None, Ok(())) => {}
            (Some(w), Err(e)) => {
                assert!(e.contains(w), "{json}: error {e:?} does not mention {w:?}")
            }
            (w, r) => panic!("{json}: expected {w:?}, got {r:?}"),
        }
    }
}

#[test]
fn bind_flags_recursive_attrs_and_propagation() {
    let b = Bundle::new();
    let src = b.path("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("file"), "x").unwrap();
    let s = src.to_str().unwrap().to_string();
    let plan = b.plan(&format!(
        r#"[{{"destination":"/plain","type":"bind","source":"{s}","options":["rbind","ro","nosuid","nodev","noexec"]}},
           {{"destination":"/rec","type":"bind","source":"{s}","options":["rbind","rro","rnosuid","rprivate"]}},
           {{"destination":"/shared","type":"bind","source":"{s}","options":["bind","rshared"]}},
           {{"destination":"/rw","type":"bind","source":"{s}","options":["rbind","nosuid"]}},
           {{"destination":"/file","type":"bind","source":"{s}/file","options":["bind","ro"]}},
           {{"destination":"/t","type":"tmpfs","source":"tmpfs","options":["ro","noexec","mode=700","size=1m"]}}]"#
    ));
    let root = b.rootfs().to_str().unwrap().to_string();
    in_child(|| {
        sys::mount(
            None,
            c"/",
            None,
            (libc::MS_PRIVATE | libc::MS_REC) as u64,
            None,
        )
        .map_err(|e| e.to_string())?;
        // a submount inside the source, to tell ro from rro
        let sub = sys::cstr(&format!("{s}/sub")).unwrap();
        sys::mount(Some(c"tmpfs"), &sub, Some(c"tmpfs"), 0, None).map_err(|e| e.to_string())?;
        prepare(&plan).map_err(e2s)?;
        let m = mi();
        let at = |p: &str| find(&m, &format!("{root}{p}"));
        let plain = at("/plain")?;
        for o in ["ro", "nosuid", "nodev", "noexec"] {
            ensure(plain.has_option(o), format!("/plain lacks {o}: {plain:?}"))?;
        }
        ensure(
            !at("/plain/sub")?.has_option("ro"),
            "plain ro must not be recursive",
        )?;
        let rsub = at("/rec/sub")?;
        ensure(
            rsub.has_option("ro") && rsub.has_option("nosuid"),
            format!("rro/rnosuid not recursive: {rsub:?}"),
        )?;
        ensure(
            at("/shared")?
                .optional
                .iter()
                .any(|o| o.starts_with("shared:")),
            "rshared not applied",
        )?;
        ensure(at("/rec")?.optional.is_empty(), "rprivate not applied")?;
        let rw = at("/rw")?;
        ensure(
            !rw.has_option("ro") && rw.has_option("nosuid"),
            format!("{rw:?}"),
        )?;
        ensure(at("/file")?.has_option("ro"), "file bind not ro")?;
        ensure(
            fs::read_to_string(format!("{root}/file")).unwrap() == "x",
            "file bind content",
        )?;
        let t = at("/t")?;
        ensure(
            t.fstype == "tmpfs"
                && t.has_option("ro")
                && t.has_option("noexec")
                && t.super_options.contains("mode=700"),
            format!("{t:?}"),
        )
    })
    .unwrap();
}

#[test]
fn tmpcopyup_copies_the_image_content() {
    let b = Bundle::new();
    let run = b.rootfs().join("run");
    fs::create_dir_all(run.join("d/e")).unwrap();
    fs::write(run.join("a"), "hello").unwrap();
    fs::set_permissions(run.join("a"), fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(run.join("a"), Some(12), Some(34)).unwrap();
    std::os::unix::fs::symlink("a", run.join("l")).unwrap();
    fs::write(run.join("d/e/f"), "deep").unwrap();
    let plan = b.plan(r#"[{"destination":"/run","type":"tmpfs","source":"tmpfs","options":["rw","rprivate","nosuid","nodev","tmpcopyup"]}]"#);
    let root = b.rootfs().to_str().unwrap().to_string();
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        let t = find(&mi(), &format!("{root}/run"))?;
        ensure(
            t.fstype == "tmpfs" && t.has_option("nosuid") && t.has_option("nodev"),
            format!("{t:?}"),
        )?;
        let a = fs::metadata(format!("{root}/run/a")).map_err(|e| e.to_string())?;
        ensure(
            a.permissions().mode() & 0o7777 == 0o640 && a.uid() == 12 && a.gid() == 34,
            "mode/owner not copied",
        )?;
        ensure(
            fs::read_to_string(format!("{root}/run/a")).unwrap() == "hello",
            "content",
        )?;
        ensure(
            fs::read_link(format!("{root}/run/l")).unwrap() == std::path::Path::new("a"),
            "symlink",
        )?;
        ensure(
            fs::read_to_string(format!("{root}/run/d/e/f")).unwrap() == "deep",
            "nested",
        )?;
        // it is a real tmpfs: writes do not reach the image
        fs::write(format!("{root}/run/new"), "n").map_err(|e| e.to_string())
    })
    .unwrap();
    assert!(!b.rootfs().join("run/new").exists());
}

#[test]
fn devices_are_created_with_mode_and_owner() {
    let b = Bundle::new();
    let mut plan = b.plan(r#"[{"destination":"/proc","type":"proc","source":"proc"}]"#);
    plan.devices = devices(
        r#"[{"path":"/dev/mynull","type":"c","major":1,"minor":3,"fileMode":384,"uid":7,"gid":8},
                {"path":"/dev/a/b/fifo","type":"p","fileMode":420},
                {"path":"/dev/null","type":"c","major":1,"minor":5,"fileMode":438}]"#,
    );
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        pivot(&plan, false).map_err(e2s)?;
        let m = fs::symlink_metadata("/dev/mynull").map_err(|e| e.to_string())?;
        ensure(
            m.file_type().is_char_device() && m.rdev() == libc::makedev(1, 3),
            "mynull type",
        )?;
        ensure(
            m.permissions().mode() & 0o7777 == 0o600 && m.uid() == 7 && m.gid() == 8,
            format!("mynull mode {:o} {}:{}", m.mode(), m.uid(), m.gid()),
        )?;
        let f = fs::symlink_metadata("/dev/a/b/fifo").map_err(|e| e.to_string())?;
        ensure(
            f.file_type().is_fifo() && f.permissions().mode() & 0o7777 == 0o644,
            "fifo",
        )?;
        // the config's /dev/null replaces the default one
        ensure(
            fs::symlink_metadata("/dev/null").unwrap().rdev() == libc::makedev(1, 5),
            "config device did not win over the default",
        )?;
        let dev = find(&mi(), "/dev")?;
        ensure(dev.fstype == "tmpfs", "no default /dev tmpfs")?;
        ensure(
            find(&mi(), "/dev/pts")?.fstype == "devpts"
                && find(&mi(), "/dev/shm")?.fstype == "tmpfs",
            "default pts/shm",
        )
    })
    .unwrap();
}

#[test]
fn bound_dev_is_left_alone() {
    let b = Bundle::new();
    let d = b.path("mydev");
    fs::create_dir(&d).unwrap();
    let plan = b.plan(&format!(
        r#"[{{"destination":"/dev","type":"bind","source":"{}","options":["rbind"]}}]"#,
        d.display()
    ));
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        pivot(&plan, false).map_err(e2s)?;
        ensure(
            fs::read_dir("/dev").unwrap().count() == 0,
            "devices were added to a bound /dev",
        )
    })
    .unwrap();
}

#[test]
fn no_pivot_and_console() {
    let b = Bundle::new();
    let plan = b.plan(DOCKER_MOUNTS);
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        pivot(&plan, true).map_err(e2s)?;
        finish(&plan).map_err(e2s)?;
        ensure(
            fs::metadata("/bin/busybox").is_ok(),
            "not in the rootfs after MS_MOVE+chroot",
        )?;
        let master =
            nix::pty::posix_openpt(nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY)
                .map_err(|e| e.to_string())?;
        nix::pty::grantpt(&master).map_err(|e| e.to_string())?;
        nix::pty::unlockpt(&master).map_err(|e| e.to_string())?;
        let slave = nix::pty::ptsname_r(&master).map_err(|e| e.to_string())?;
        ensure(slave.starts_with("/dev/pts/"), format!("slave {slave}"))?;
        setup_console(&slave).map_err(e2s)?;
        let c = fs::metadata("/dev/console").map_err(|e| e.to_string())?;
        ensure(
            c.rdev() == fs::metadata(&slave).unwrap().rdev(),
            "/dev/console is not the pty slave",
        )
    })
    .unwrap();
}

#[test]
fn idmapped_bind() {
    let b = Bundle::new();
    let src = b.path("owned");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("f"), "x").unwrap();
    std::os::unix::fs::chown(src.join("f"), Some(0), Some(0)).unwrap();
    let plan = b.plan(&format!(
        r#"[{{"destination":"/idm","type":"bind","source":"{}","options":["bind","idmap"],
             "uidMappings":[{{"containerID":0,"hostID":1000,"size":1}}],"gidMappings":[{{"containerID":0,"hostID":2000,"size":1}}]}}]"#,
        src.display()
    ));
    let root = b.rootfs().to_str().unwrap().to_string();
    in_child(|| {
        prepare(&plan).map_err(e2s)?;
        let m = fs::metadata(format!("{root}/idm/f")).map_err(|e| e.to_string())?;
        // on-disk 0 is the mapping's container side: it shows as host 1000:2000
        ensure(
            m.uid() == 1000 && m.gid() == 2000,
            format!("idmapped owner is {}:{}, want 1000:2000", m.uid(), m.gid()),
        )?;
        ensure(
            find(&mi(), &format!("{root}/idm"))?.has_option("idmapped"),
            "mount not flagged idmapped",
        )
    })
    .unwrap();
}

#[test]
fn user_namespace_binds_devices_and_falls_back_for_sysfs() {
    let b = Bundle::new();
    let mut plan = b.plan(
        r#"[{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]},
            {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}]"#,
    );
    plan.namespaces = Namespaces {
        create: vec![NsKind::User, NsKind::Mount],
        join: vec![],
    };
    let root = b.rootfs().to_str().unwrap().to_string();
    in_child(|| {
        // Become root of a fresh user namespace (own ids only), then a mount namespace owned
        // by it: host mounts are locked and mknod is refused, as in a real userns container.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).map_err(|e| e.to_string())?;
        fs::write("/proc/self/setgroups", "deny").map_err(|e| e.to_string())?;
        fs::write("/proc/self/uid_map", "0 0 1").map_err(|e| e.to_string())?;
        fs::write("/proc/self/gid_map", "0 0 1").map_err(|e| e.to_string())?;
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| e.to_string())?;
        prepare(&plan).map_err(e2s)?;
        let m = mi();
        let null = find(&m, &format!("{root}/dev/null"))?;
        ensure(
            null.fstype == "devtmpfs" || null.root == "/null",
            format!("/dev/null is not a bind of the host node: {null:?}"),
        )?;
        ensure(
            fs::metadata(format!("{root}/dev/null")).unwrap().rdev() == libc::makedev(1, 3),
            "bound /dev/null rdev",
        )?;
        let sys = find(&m, &format!("{root}/sys"))?;
        ensure(
            sys.fstype == "sysfs" && sys.has_option("ro"),
            format!("/sys: {sys:?}"),
        )
    })
    .unwrap();
}

#[test]
fn resolve_in_root_never_leaves_the_root() {
    let b = Bundle::new();
    let r = b.rootfs();
    fs::write(r.join("etc/marker"), "inside").unwrap();
    std::os::unix::fs::symlink("/../../../../etc", r.join("etclink")).unwrap();
    let fd = resolve_in_root(&r, "/etclink/marker").unwrap();
    let real = fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    assert_eq!(real, r.join("etc/marker"));
    let fd = resolve_in_root(&r, "../../../etc").unwrap();
    assert_eq!(
        fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap(),
        r.join("etc")
    );
    assert!(resolve_in_root(&r, "/missing").is_err());
}

#[test]
fn cgroup_namespace_gets_fresh_v1_hierarchies() {
    let b = Bundle::new();
    let mut plan = b.plan(r#"[{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro","nosuid","noexec","nodev"]}]"#);
    plan.namespaces = Namespaces {
        create: vec![NsKind::Mount, NsKind::Cgroup],
        join: vec![],
    };
    let root = b.rootfs().to_str().unwrap().to_string();
    in_child(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP).map_err(|e| e.to_string())?;
        prepare(&plan).map_err(e2s)?;
        let m = mi();
        let cg = find(&m, &format!("{root}/sys/fs/cgroup"))?;
        ensure(
            cg.fstype == "tmpfs" && cg.has_option("ro"),
            format!("{cg:?}"),
        )?;
        let host_v1 = fs::read_to_string("/proc/self/cgroup")
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("0::"))
            .count();
        let shown = m
            .iter()
            .filter(|e| {
                e.fstype == "cgroup" && e.mount_point.starts_with(&format!("{root}/sys/fs/cgroup/"))
            })
            .collect::<Vec<_>>();
        ensure(
            shown.len() == host_v1,
            format!("{} hierarchies shown, {host_v1} on the host", shown.len()),
        )?;
        // a fresh mount in the cgroup namespace is rooted at the namespace's cgroup
        ensure(
            shown.iter().all(|e| e.root == "/" && e.has_option("ro")),
            format!("{shown:?}"),
        )
    })
    .unwrap();
}
