//! Namespaces: created, shared with the host when absent, joined by path; user namespace id
//! mappings; time namespace; sysctl in a new network namespace.

use integration::*;
use serde_json::json;
use std::fs;
use std::os::unix::fs::MetadataExt;

/// Creates a `sleep` container from `b`, returns (id, init pid).
fn created_sleep(rt: &Runtime, b: &mut Bundle) -> (String, i32) {
    b.args(&["sleep", "1000"]);
    let id = rt.new_id();
    rt.create(&id, b).ok();
    let pid = rt.state_json(&id)["pid"].as_i64().expect("pid") as i32;
    (id, pid)
}

/// proc ns file names for the config's namespace types.
fn proc_name(kind: &str) -> &str {
    match kind {
        "network" => "net",
        "mount" => "mnt",
        other => other,
    }
}

/// With a namespace in the config the container's link differs from the host's; without it
/// the container shares the host's.
#[test]
fn namespaces_created_or_shared() {
    let rt = Runtime::new("nskinds");
    for kind in ["pid", "network", "ipc", "uts", "mount", "cgroup"] {
        let mut b = Bundle::new("nskinds");
        let (id, pid) = created_sleep(&rt, &mut b);
        let name = proc_name(kind);
        assert_ne!(
            ns_link(&pid.to_string(), name),
            ns_link("self", name),
            "{kind} namespace not created"
        );
        rt.delete(&id).ok();
        rt.assert_no_leftovers(&id, &b);

        let mut b = Bundle::new("nskinds");
        b.remove_namespace(kind);
        if kind == "uts" {
            // A hostname needs a private UTS namespace.
            if let Some(obj) = b.config.as_object_mut() {
                obj.remove("hostname");
            }
        }
        if kind == "mount" {
            // Without a mount namespace there can be no pivot_root: runc uses chroot(2) with
            // the mounts made in the host namespace, which this test does not want to leak.
            continue;
        }
        let (id, pid) = created_sleep(&rt, &mut b);
        assert_eq!(
            ns_link(&pid.to_string(), name),
            ns_link("self", name),
            "{kind} namespace created although absent from the config"
        );
        rt.delete(&id).ok();
        rt.assert_no_leftovers(&id, &b);
    }
}

/// A user namespace with uid/gid mappings: the maps inside, the host ids of the process.
#[test]
fn user_namespace_with_mappings() {
    let rt = Runtime::new("userns");
    let mut b = Bundle::new("userns");
    b.namespace("user", None);
    b.set(
        "/linux/uidMappings",
        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]),
    );
    b.set(
        "/linux/gidMappings",
        json!([{"containerID": 0, "hostID": 200000, "size": 65536}]),
    );
    let (id, pid) = created_sleep(&rt, &mut b);
    assert_ne!(ns_link(&pid.to_string(), "user"), ns_link("self", "user"));
    let uid_map = fs::read_to_string(format!("/proc/{pid}/uid_map")).expect("uid_map");
    let gid_map = fs::read_to_string(format!("/proc/{pid}/gid_map")).expect("gid_map");
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(norm(&uid_map), "0 100000 65536");
    assert_eq!(norm(&gid_map), "0 200000 65536");
    rt.start(&id).ok();
    rt.wait_status(&id, "running");
    // Seen from the host, the container's root is uid 100000 / gid 200000.
    let meta = fs::metadata(format!("/proc/{pid}")).expect("proc dir");
    assert_eq!(meta.uid(), 100000);
    assert_eq!(meta.gid(), 200000);
    // Inside, it is root, and exec'd processes see the same maps.
    let out = rt.exec(&id, &["sh", "-c", "id -u; id -g; cat /proc/self/uid_map"]);
    let text = out.ok().stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(lines[1], "0");
    assert_eq!(norm(lines[2]), "0 100000 65536");
    rt.delete_force(&id).ok();
    rt.assert_no_leftovers(&id, &b);
}

/// The time namespace with offsets (runc 1.1 does not know it and must refuse the config).
#[test]
fn time_namespace() {
    let rt = Runtime::new("timens");
    let mut b = Bundle::new("timens");
    b.namespace("time", None);
    b.set(
        "/linux/timeOffsets",
        json!({"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 172800, "nanosecs": 0}}),
    );
    b.sh("readlink /proc/self/ns/time; cat /proc/self/timens_offsets");
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    if is_nucleus() {
        out.ok();
        let text = out.stdout_str();
        let mut lines = text.lines();
        let link = lines.next().expect("ns link");
        assert_ne!(link, ns_link("self", "time"), "time namespace not created");
        let offsets: Vec<String> = lines
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert!(
            offsets.contains(&"monotonic 86400 0".to_string()),
            "{offsets:?}"
        );
        assert!(
            offsets.contains(&"boottime 172800 0".to_string()),
            "{offsets:?}"
        );
    } else {
        // runc 1.1.5: `namespace {"time" ""} does not exist`.
        out.failed();
        assert!(out.stderr_str().contains("time"), "{}", out.stderr_str());
    }
    rt.assert_no_leftovers(&id, &b);
}

/// Joining a named network namespace (`ip netns add`) by path.
#[test]
fn join_netns_by_path() {
    let netns = NetNs::new("joinns");
    let rt = Runtime::new("joinns");
    let mut b = Bundle::new("joinns");
    b.namespace("network", Some(&netns.path()));
    let (id, pid) = created_sleep(&rt, &mut b);
    let want = fs::metadata(netns.path()).expect("netns file").ino();
    let link = ns_link(&pid.to_string(), "net");
    assert_eq!(
        link,
        format!("net:[{want}]"),
        "did not join {}",
        netns.path()
    );
    assert_ne!(link, ns_link("self", "net"));
    rt.delete(&id).ok();
    rt.assert_no_leftovers(&id, &b);
    // The named namespace survives the container.
    assert!(fs::metadata(netns.path()).is_ok());
}

/// A second container joins the first one's ipc, uts, net and pid namespaces by
/// /proc/PID/ns path.
#[test]
fn join_other_container_namespaces() {
    let rt = Runtime::new("joinctr");
    let mut a = Bundle::new("joinctr");
    let (ida, pida) = created_sleep(&rt, &mut a);
    let mut b = Bundle::new("joinctr");
    for kind in ["ipc", "uts", "network", "pid"] {
        b.namespace(kind, Some(&format!("/proc/{pida}/ns/{}", proc_name(kind))));
    }
    let (idb, pidb) = created_sleep(&rt, &mut b);
    for kind in ["ipc", "uts", "net", "pid"] {
        assert_eq!(
            ns_link(&pidb.to_string(), kind),
            ns_link(&pida.to_string(), kind),
            "{kind} not joined"
        );
    }
    // The mount namespace was not joined: each has its own.
    assert_ne!(
        ns_link(&pidb.to_string(), "mnt"),
        ns_link(&pida.to_string(), "mnt")
    );
    rt.delete(&idb).ok();
    rt.delete(&ida).ok();
    rt.assert_no_leftovers(&ida, &a);
    rt.assert_no_leftovers(&idb, &b);
}

/// net.ipv4.ip_forward set in the container's new network namespace; the host is unchanged.
#[test]
fn sysctl_in_new_netns() {
    let host_before = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("host value");
    let rt = Runtime::new("sysctl");
    let mut b = Bundle::new("sysctl");
    b.set("/linux/sysctl", json!({"net.ipv4.ip_forward": "1"}));
    b.sh("cat /proc/sys/net/ipv4/ip_forward");
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    assert_eq!(out.ok().stdout_str(), "1\n");
    let host_after = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("host value");
    assert_eq!(host_before, host_after, "sysctl leaked to the host");
    rt.assert_no_leftovers(&id, &b);
}

/// A net.* sysctl without a new network namespace would change the host: refused.
#[test]
fn sysctl_for_host_netns_refused() {
    let host_before = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("host value");
    let rt = Runtime::new("sysctlhost");
    let mut b = Bundle::new("sysctlhost");
    b.remove_namespace("network");
    let flipped = if host_before.trim() == "1" { "0" } else { "1" };
    b.set("/linux/sysctl", json!({"net.ipv4.ip_forward": flipped}));
    b.args(&["true"]);
    let id = rt.new_id();
    let out = rt.run(&id, &b);
    out.failed();
    assert!(
        out.stderr_str().contains("net.ipv4.ip_forward"),
        "{}",
        out.stderr_str()
    );
    let host_after = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("host value");
    assert_eq!(host_before, host_after, "sysctl changed the host");
    rt.cmd(&["delete", "--force", &id]);
    rt.assert_no_leftovers(&id, &b);
}
