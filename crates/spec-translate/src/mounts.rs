//! `mounts`, `linux.devices`, `linux.rootfsPropagation`, `linux.maskedPaths` and
//! `linux.readonlyPaths`: option strings become kernel flag bits here, once, so the code that
//! runs in the container's init only has numbers to pass on.
//!
//! Option semantics follow runc's `parseMountOptions`: every known option sets or clears a bit
//! (later options win), the propagation and recursive (`r*`) options are collected apart, and
//! anything unknown is filesystem data. `tmpcopyup` has no field of its own in the plan: it is
//! kept as a token in `data` and the isolation crate takes it out before mounting.

// MS_* are c_ulong: the casts to u64 are no-ops on 64-bit targets only.
#![allow(clippy::unnecessary_cast)]

use crate::error::{Result, TranslateError};
use crate::plan::{Device, Mount, MountIdMap};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};
use std::path::{Component, Path};

// Mount attribute bits of mount_setattr(2) (linux/mount.h); kept here so this crate stays
// free of anything newer than what every libc exposes.
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x0020_0000;

/// The token kept in `Mount::data` for the `tmpcopyup` option.
pub const TMPCOPYUP: &str = "tmpcopyup";

const MS_LAZYTIME: u64 = 1 << 25;
const MS_NOSYMFOLLOW: u64 = 256;

/// (set, clear) of MS_* bits for the plain options.
fn flag_option(o: &str) -> Option<(u64, u64)> {
    let f = |x: libc::c_ulong| x as u64;
    Some(match o {
        "ro" => (f(libc::MS_RDONLY), 0),
        "rw" => (0, f(libc::MS_RDONLY)),
        "nosuid" => (f(libc::MS_NOSUID), 0),
        "suid" => (0, f(libc::MS_NOSUID)),
        "nodev" => (f(libc::MS_NODEV), 0),
        "dev" => (0, f(libc::MS_NODEV)),
        "noexec" => (f(libc::MS_NOEXEC), 0),
        "exec" => (0, f(libc::MS_NOEXEC)),
        "sync" => (f(libc::MS_SYNCHRONOUS), 0),
        "async" => (0, f(libc::MS_SYNCHRONOUS)),
        "dirsync" => (f(libc::MS_DIRSYNC), 0),
        "remount" => (f(libc::MS_REMOUNT), 0),
        "mand" => (f(libc::MS_MANDLOCK), 0),
        "nomand" => (0, f(libc::MS_MANDLOCK)),
        "noatime" => (f(libc::MS_NOATIME), 0),
        "atime" => (0, f(libc::MS_NOATIME)),
        "nodiratime" => (f(libc::MS_NODIRATIME), 0),
        "diratime" => (0, f(libc::MS_NODIRATIME)),
        "relatime" => (f(libc::MS_RELATIME), 0),
        "norelatime" => (0, f(libc::MS_RELATIME)),
        "strictatime" => (f(libc::MS_STRICTATIME), 0),
        "nostrictatime" => (0, f(libc::MS_STRICTATIME)),
        "lazytime" => (MS_LAZYTIME, 0),
        "nolazytime" => (0, MS_LAZYTIME),
        "nosymfollow" => (MS_NOSYMFOLLOW, 0),
        "symfollow" => (0, MS_NOSYMFOLLOW),
        "bind" => (f(libc::MS_BIND), 0),
        "rbind" => (f(libc::MS_BIND | libc::MS_REC), 0),
        _ => return None,
    })
}

fn propagation_option(o: &str) -> Option<u64> {
    let rec = libc::MS_REC as u64;
    Some(match o {
        "private" => libc::MS_PRIVATE as u64,
        "rprivate" => libc::MS_PRIVATE as u64 | rec,
        "shared" => libc::MS_SHARED as u64,
        "rshared" => libc::MS_SHARED as u64 | rec,
        "slave" => libc::MS_SLAVE as u64,
        "rslave" => libc::MS_SLAVE as u64 | rec,
        "unbindable" => libc::MS_UNBINDABLE as u64,
        "runbindable" => libc::MS_UNBINDABLE as u64 | rec,
        _ => return None,
    })
}

/// (set, clear) of MOUNT_ATTR_* bits for the recursive options. Any atime option clears the
/// whole atime field because the kernel insists on that (EINVAL otherwise).
fn recursive_option(o: &str) -> Option<(u64, u64)> {
    Some(match o {
        "rro" => (MOUNT_ATTR_RDONLY, 0),
        "rrw" => (0, MOUNT_ATTR_RDONLY),
        "rnosuid" => (MOUNT_ATTR_NOSUID, 0),
        "rsuid" => (0, MOUNT_ATTR_NOSUID),
        "rnodev" => (MOUNT_ATTR_NODEV, 0),
        "rdev" => (0, MOUNT_ATTR_NODEV),
        "rnoexec" => (MOUNT_ATTR_NOEXEC, 0),
        "rexec" => (0, MOUNT_ATTR_NOEXEC),
        "rnodiratime" => (MOUNT_ATTR_NODIRATIME, 0),
        "rdiratime" => (0, MOUNT_ATTR_NODIRATIME),
        "rnoatime" => (MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME),
        "rstrictatime" => (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME),
        // "Not noatime", "not relatime", "not strictatime" and "relatime" all land on the
        // kernel default, relatime.
        "rrelatime" | "ratime" | "rnorelatime" | "rnostrictatime" => {
            (MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME)
        }
        "rnosymfollow" => (MOUNT_ATTR_NOSYMFOLLOW, 0),
        "rsymfollow" => (0, MOUNT_ATTR_NOSYMFOLLOW),
        _ => return None,
    })
}

fn check_abs_path(field: &str, p: &str) -> Result<()> {
    if p.contains('\0') {
        return Err(TranslateError::new(field, "path contains a NUL byte"));
    }
    if !p.starts_with('/') {
        return Err(TranslateError::new(
            field,
            format!("{p:?} is not an absolute path"),
        ));
    }
    Ok(())
}

fn path_str<'a>(field: &str, p: &'a Path) -> Result<&'a str> {
    p.to_str()
        .ok_or_else(|| TranslateError::new(field, format!("{} is not valid UTF-8", p.display())))
}

/// Translate `mounts` in order. Relative bind sources are taken relative to `bundle`.
pub fn translate_mounts(mounts: &[oci_spec::runtime::Mount], bundle: &Path) -> Result<Vec<Mount>> {
    mounts
        .iter()
        .enumerate()
        .map(|(i, m)| translate_mount(i, m, bundle))
        .collect()
}

fn translate_mount(i: usize, m: &oci_spec::runtime::Mount, bundle: &Path) -> Result<Mount> {
    let field = format!("mounts[{i}]");
    let destination = path_str(&format!("{field}.destination"), m.destination())?.to_string();
    check_abs_path(&format!("{field}.destination"), &destination)?;

    let mut out = Mount {
        destination,
        ..Default::default()
    };
    let mut data: Vec<&str> = Vec::new();
    let mut idmap: Option<bool> = None;
    for (j, o) in m.options().iter().flatten().enumerate() {
        let o = o.as_str();
        if let Some((set, clr)) = flag_option(o) {
            out.flags = (out.flags & !clr) | set;
        } else if let Some(p) = propagation_option(o) {
            out.propagation.push(p);
        } else if let Some((set, clr)) = recursive_option(o) {
            out.rec_attr_set = (out.rec_attr_set & !clr) | set;
            out.rec_attr_clr = (out.rec_attr_clr & !set) | clr;
        } else if o == "idmap" || o == "ridmap" {
            idmap = Some(o == "ridmap");
        } else if o.contains('\0') {
            return Err(TranslateError::new(
                format!("{field}.options[{j}]"),
                "option contains a NUL byte",
            ));
        } else if !o.is_empty() {
            data.push(o);
        }
    }
    out.data = data.join(",");

    let typ = m.typ().as_deref().unwrap_or("");
    out.is_bind = typ == "bind" || out.flags & libc::MS_BIND as u64 != 0;
    if out.is_bind {
        // `"type": "bind"` without a bind option still means a (non-recursive) bind.
        out.flags |= libc::MS_BIND as u64;
        out.fstype = "bind".to_string();
        let src = m.source().as_deref().ok_or_else(|| {
            TranslateError::new(format!("{field}.source"), "a bind mount needs a source")
        })?;
        let src = if src.is_absolute() {
            src.to_path_buf()
        } else {
            bundle.join(src)
        };
        out.source = path_str(&format!("{field}.source"), &src)?.to_string();
        if out.source.contains('\0') {
            return Err(TranslateError::new(
                format!("{field}.source"),
                "path contains a NUL byte",
            ));
        }
    } else {
        if typ.is_empty() {
            return Err(TranslateError::new(
                format!("{field}.type"),
                "a type is required unless the mount is a bind mount",
            ));
        }
        out.fstype = typ.to_string();
        out.source = match m.source() {
            Some(s) => path_str(&format!("{field}.source"), s)?.to_string(),
            None => typ.to_string(),
        };
        if out.source.contains('\0') || out.fstype.contains('\0') {
            return Err(TranslateError::new(
                field,
                "type or source contains a NUL byte",
            ));
        }
    }
    if data.contains(&TMPCOPYUP) && out.fstype != "tmpfs" {
        return Err(TranslateError::new(
            format!("{field}.options"),
            "tmpcopyup applies only to tmpfs mounts",
        ));
    }

    let uid = crate::namespaces::id_maps(&format!("{field}.uidMappings"), m.uid_mappings())?;
    let gid = crate::namespaces::id_maps(&format!("{field}.gidMappings"), m.gid_mappings())?;
    if uid.is_empty() != gid.is_empty() {
        return Err(TranslateError::new(
            &field,
            "uidMappings and gidMappings must be given together",
        ));
    }
    if idmap.is_some() || !uid.is_empty() {
        if !out.is_bind {
            return Err(TranslateError::new(
                &field,
                "idmapped mounts are supported for bind mounts only",
            ));
        }
        out.idmap = Some(MountIdMap {
            recursive: idmap.unwrap_or(false),
            uid_mappings: uid,
            gid_mappings: gid,
        });
    }
    Ok(out)
}

/// Translate `linux.devices`.
pub fn translate_devices(devices: &[LinuxDevice]) -> Result<Vec<Device>> {
    let mut out: Vec<Device> = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        let field = format!("linux.devices[{i}]");
        let path = path_str(&format!("{field}.path"), d.path())?.to_string();
        check_abs_path(&format!("{field}.path"), &path)?;
        if Path::new(&path)
            .components()
            .any(|c| c == Component::ParentDir)
        {
            return Err(TranslateError::new(
                format!("{field}.path"),
                format!("{path:?} contains \"..\""),
            ));
        }
        if Path::new(&path)
            .components()
            .all(|c| c == Component::RootDir)
        {
            return Err(TranslateError::new(
                format!("{field}.path"),
                "must name a file, not /",
            ));
        }
        let kind = match d.typ() {
            LinuxDeviceType::C => 'c',
            LinuxDeviceType::B => 'b',
            LinuxDeviceType::U => 'u',
            LinuxDeviceType::P => 'p',
            LinuxDeviceType::A => {
                return Err(TranslateError::new(
                    format!("{field}.type"),
                    "must be one of c, b, u, p",
                ))
            }
        };
        let (major, minor) = (d.major(), d.minor());
        if kind != 'p' && (!(0..=0xfff).contains(&major) || !(0..=0xfffff).contains(&minor)) {
            return Err(TranslateError::new(
                &field,
                format!("device number {major}:{minor} is out of range"),
            ));
        }
        let file_mode = d.file_mode().unwrap_or(0o666);
        if file_mode & !0o7777 != 0 {
            return Err(TranslateError::new(
                format!("{field}.fileMode"),
                format!("{file_mode:#o} has bits beyond the permission bits"),
            ));
        }
        let dev = Device {
            path,
            kind,
            major,
            minor,
            file_mode,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        };
        // A path listed twice: the later entry wins, as a second mknod would fail.
        out.retain(|o| o.path != dev.path);
        out.push(dev);
    }
    Ok(out)
}

/// `linux.rootfsPropagation`; absent or empty means MS_SLAVE|MS_REC as runc does, so host
/// mount events still reach the container but nothing flows back.
pub fn rootfs_propagation(s: Option<&str>) -> Result<u64> {
    match s {
        None | Some("") => Ok((libc::MS_SLAVE | libc::MS_REC) as u64),
        Some(v) => propagation_option(v).ok_or_else(|| {
            TranslateError::new(
                "linux.rootfsPropagation",
                format!("unknown propagation {v:?}"),
            )
        }),
    }
}

/// `linux.maskedPaths` and `linux.readonlyPaths` must be absolute paths.
pub fn validate_paths(masked: &[String], readonly: &[String]) -> Result<()> {
    for (name, list) in [("maskedPaths", masked), ("readonlyPaths", readonly)] {
        for (i, p) in list.iter().enumerate() {
            check_abs_path(&format!("linux.{name}[{i}]"), p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Mount as OciMount;

    fn mounts(json: &str) -> Vec<OciMount> {
        serde_json::from_str(json).unwrap()
    }
    fn one(json: &str) -> Result<Mount> {
        translate_mounts(&mounts(&format!("[{json}]")), Path::new("/bundle"))
            .map(|mut v| v.remove(0))
    }
    const MS: fn(libc::c_ulong) -> u64 = |x| x as u64;

    #[test]
    fn docker_defaults() {
        let m = one(r#"{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}"#).unwrap();
        assert_eq!(m.fstype, "tmpfs");
        assert_eq!(m.source, "tmpfs");
        assert_eq!(m.flags, MS(libc::MS_NOSUID | libc::MS_STRICTATIME));
        assert_eq!(m.data, "mode=755,size=65536k");
        assert!(!m.is_bind);
        let m = one(r#"{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]}"#).unwrap();
        assert_eq!(m.flags, MS(libc::MS_NOSUID | libc::MS_NOEXEC));
        assert_eq!(m.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        let m = one(r#"{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["rprivate","nosuid","noexec","nodev","relatime","ro"]}"#).unwrap();
        assert_eq!(
            m.flags,
            MS(libc::MS_NOSUID
                | libc::MS_NOEXEC
                | libc::MS_NODEV
                | libc::MS_RELATIME
                | libc::MS_RDONLY)
        );
        assert_eq!(m.propagation, vec![MS(libc::MS_PRIVATE | libc::MS_REC)]);
        assert_eq!(m.data, "");
    }

    #[test]
    fn binds() {
        let m = one(r#"{"destination":"/etc/hosts","type":"bind","source":"/x/hosts","options":["rbind","rprivate"]}"#).unwrap();
        assert!(m.is_bind);
        assert_eq!(m.fstype, "bind");
        assert_eq!(m.flags, MS(libc::MS_BIND | libc::MS_REC));
        // type bind alone is a non-recursive bind
        let m = one(r#"{"destination":"/a","type":"bind","source":"/x"}"#).unwrap();
        assert_eq!(m.flags, MS(libc::MS_BIND));
        // option bind with another type is a bind too
        let m =
            one(r#"{"destination":"/a","type":"none","source":"rel/dir","options":["bind","ro"]}"#)
                .unwrap();
        assert!(m.is_bind);
        assert_eq!(m.source, "/bundle/rel/dir");
        assert_eq!(m.flags, MS(libc::MS_BIND | libc::MS_RDONLY));
        let e = one(r#"{"destination":"/a","type":"bind"}"#).unwrap_err();
        assert_eq!(e.field, "mounts[0].source");
    }

    #[test]
    fn later_options_win() {
        let m = one(
            r#"{"destination":"/a","type":"tmpfs","options":["ro","rw","nosuid","suid","noexec"]}"#,
        )
        .unwrap();
        assert_eq!(m.flags, MS(libc::MS_NOEXEC));
        assert_eq!(m.source, "tmpfs");
        let m = one(r#"{"destination":"/a","type":"tmpfs","options":["sync","dirsync","mand","noatime","nodiratime","lazytime","nosymfollow","remount"]}"#).unwrap();
        assert_eq!(
            m.flags,
            MS(libc::MS_SYNCHRONOUS
                | libc::MS_DIRSYNC
                | libc::MS_MANDLOCK
                | libc::MS_NOATIME
                | libc::MS_NODIRATIME
                | libc::MS_REMOUNT)
                | MS_LAZYTIME
                | MS_NOSYMFOLLOW
        );
        let m = one(r#"{"destination":"/a","type":"tmpfs","options":["sync","async","mand","nomand","noatime","atime","lazytime","nolazytime","strictatime","nostrictatime","relatime","norelatime","nodiratime","diratime","nosymfollow","symfollow","dev","exec"]}"#).unwrap();
        assert_eq!(m.flags, 0);
    }

    #[test]
    fn propagation_and_recursive() {
        let m = one(r#"{"destination":"/a","type":"bind","source":"/s","options":["rbind","shared","rslave","unbindable","runbindable","private","rshared","slave","rprivate"]}"#).unwrap();
        let p = |x: libc::c_ulong| x as u64;
        let r = libc::MS_REC;
        assert_eq!(
            m.propagation,
            vec![
                p(libc::MS_SHARED),
                p(libc::MS_SLAVE | r),
                p(libc::MS_UNBINDABLE),
                p(libc::MS_UNBINDABLE | r),
                p(libc::MS_PRIVATE),
                p(libc::MS_SHARED | r),
                p(libc::MS_SLAVE),
                p(libc::MS_PRIVATE | r)
            ]
        );
        let m = one(r#"{"destination":"/a","type":"bind","source":"/s","options":["rbind","rro","rnosuid","rnodev","rnoexec","rnodiratime","rnoatime","rnosymfollow"]}"#).unwrap();
        assert_eq!(
            m.rec_attr_set,
            MOUNT_ATTR_RDONLY
                | MOUNT_ATTR_NOSUID
                | MOUNT_ATTR_NODEV
                | MOUNT_ATTR_NOEXEC
                | MOUNT_ATTR_NODIRATIME
                | MOUNT_ATTR_NOATIME
                | MOUNT_ATTR_NOSYMFOLLOW
        );
        assert_eq!(m.rec_attr_clr, MOUNT_ATTR__ATIME);
        assert_eq!(
            m.flags,
            MS(libc::MS_BIND | libc::MS_REC),
            "recursive options do not leak into mount(2) flags"
        );
        let m = one(r#"{"destination":"/a","type":"bind","source":"/s","options":["rro","rrw","rsuid","rdev","rexec","rdiratime","rsymfollow","rstrictatime","rrelatime"]}"#).unwrap();
        assert_eq!(m.rec_attr_set, MOUNT_ATTR_RELATIME);
        assert_eq!(
            m.rec_attr_clr,
            MOUNT_ATTR_RDONLY
                | MOUNT_ATTR_NOSUID
                | MOUNT_ATTR_NODEV
                | MOUNT_ATTR_NOEXEC
                | MOUNT_ATTR_NODIRATIME
                | MOUNT_ATTR_NOSYMFOLLOW
                | MOUNT_ATTR__ATIME
        );
        let m =
            one(r#"{"destination":"/a","type":"bind","source":"/s","options":["rstrictatime"]}"#)
                .unwrap();
        assert_eq!(
            (m.rec_attr_set, m.rec_attr_clr),
            (MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME)
        );
    }

    #[test]
    fn idmap() {
        let m = one(r#"{"destination":"/a","type":"bind","source":"/s","options":["rbind","ridmap"],"uidMappings":[{"containerID":0,"hostID":1000,"size":10}],"gidMappings":[{"containerID":0,"hostID":2000,"size":5}]}"#).unwrap();
        let id = m.idmap.unwrap();
        assert!(id.recursive);
        assert_eq!(id.uid_mappings[0].host_id, 1000);
        assert_eq!(id.gid_mappings[0].size, 5);
        let m =
            one(r#"{"destination":"/a","type":"bind","source":"/s","options":["idmap"]}"#).unwrap();
        assert_eq!(m.idmap, Some(MountIdMap::default()));
        assert!(one(r#"{"destination":"/a","type":"tmpfs","options":["idmap"]}"#).is_err());
        assert!(one(r#"{"destination":"/a","type":"bind","source":"/s","options":["idmap"],"uidMappings":[{"containerID":0,"hostID":1,"size":0}],"gidMappings":[{"containerID":0,"hostID":1,"size":1}]}"#).is_err());
    }

    #[test]
    fn tmpcopyup_is_carried_in_data() {
        let m = one(r#"{"destination":"/run","type":"tmpfs","source":"tmpfs","options":["rw","rprivate","nosuid","nodev","tmpcopyup"]}"#).unwrap();
        assert_eq!(m.data, "tmpcopyup");
        assert!(one(r#"{"destination":"/run","type":"proc","options":["tmpcopyup"]}"#).is_err());
    }

    #[test]
    fn refused() {
        let e = one(r#"{"destination":"relative","type":"tmpfs"}"#).unwrap_err();
        assert_eq!(e.field, "mounts[0].destination");
        assert!(e.to_string().contains("absolute"), "{e}");
        assert!(one(r#"{"destination":"/a\u0000b","type":"tmpfs"}"#).is_err());
        assert!(one(r#"{"destination":"/a","type":"tmpfs","options":["x\u0000"]}"#).is_err());
        let e = one(r#"{"destination":"/a"}"#).unwrap_err();
        assert_eq!(e.field, "mounts[0].type");
        // index appears in the field name
        let e = translate_mounts(
            &mounts(r#"[{"destination":"/a","type":"tmpfs"},{"destination":"b","type":"tmpfs"}]"#),
            Path::new("/b"),
        )
        .unwrap_err();
        assert_eq!(e.field, "mounts[1].destination");
    }

    #[test]
    fn podman_readonly_fixture() {
        // mounts of /work/shared/fixtures/configs/podman-readonly.json (podman 4.3 --read-only)
        let ms = mounts(
            r#"[{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["rw","rprivate","nosuid","nodev","tmpcopyup"]},{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/etc/hosts","type":"bind","source":"/run/x/hosts","options":["bind","rprivate","ro","nosuid","noexec","nodev"]}]"#,
        );
        let t = translate_mounts(&ms, Path::new("/b")).unwrap();
        assert_eq!(t.len(), 5);
        assert_eq!(t[0].data, TMPCOPYUP);
        assert_eq!(t[0].flags, MS(libc::MS_NOSUID | libc::MS_NODEV));
        assert_eq!(
            t[2].flags,
            MS(libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV | libc::MS_RDONLY)
        );
        assert_eq!(
            t[4].flags,
            MS(libc::MS_BIND
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NOEXEC
                | libc::MS_NODEV)
        );
        assert_eq!(t[4].propagation, vec![MS(libc::MS_PRIVATE | libc::MS_REC)]);
    }

    fn devs(json: &str) -> Result<Vec<Device>> {
        translate_devices(&serde_json::from_str::<Vec<LinuxDevice>>(json).unwrap())
    }

    #[test]
    fn devices() {
        let d = devs(r#"[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":384,"uid":1,"gid":2},{"path":"/dev/fifo","type":"p"}]"#).unwrap();
        assert_eq!(
            d[0],
            Device {
                path: "/dev/fuse".into(),
                kind: 'c',
                major: 10,
                minor: 229,
                file_mode: 0o600,
                uid: 1,
                gid: 2
            }
        );
        assert_eq!(d[1].file_mode, 0o666);
        assert_eq!(d[1].kind, 'p');
        assert_eq!(
            devs(r#"[{"path":"dev/x","type":"c","major":1,"minor":3}]"#)
                .unwrap_err()
                .field,
            "linux.devices[0].path"
        );
        assert!(devs(r#"[{"path":"/dev/../etc/x","type":"c","major":1,"minor":3}]"#).is_err());
        assert!(devs(r#"[{"path":"/","type":"c","major":1,"minor":3}]"#).is_err());
        assert_eq!(
            devs(r#"[{"path":"/dev/x","type":"a"}]"#).unwrap_err().field,
            "linux.devices[0].type"
        );
        assert!(devs(r#"[{"path":"/dev/x","type":"c","major":-1,"minor":3}]"#).is_err());
        assert!(
            devs(r#"[{"path":"/dev/x","type":"c","major":1,"minor":3,"fileMode":8630}]"#).is_err()
        );
        let d = devs(r#"[{"path":"/dev/x","type":"c","major":1,"minor":3},{"path":"/dev/x","type":"c","major":1,"minor":5}]"#).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].minor, 5);
    }

    #[test]
    fn propagation() {
        assert_eq!(
            rootfs_propagation(None).unwrap(),
            (libc::MS_SLAVE | libc::MS_REC) as u64
        );
        assert_eq!(
            rootfs_propagation(Some("")).unwrap(),
            (libc::MS_SLAVE | libc::MS_REC) as u64
        );
        assert_eq!(
            rootfs_propagation(Some("private")).unwrap(),
            libc::MS_PRIVATE as u64
        );
        assert_eq!(
            rootfs_propagation(Some("rshared")).unwrap(),
            (libc::MS_SHARED | libc::MS_REC) as u64
        );
        assert_eq!(
            rootfs_propagation(Some("bogus")).unwrap_err().field,
            "linux.rootfsPropagation"
        );
    }

    #[test]
    fn paths() {
        validate_paths(&["/proc/kcore".into()], &["/proc/sys".into()]).unwrap();
        assert_eq!(
            validate_paths(&["proc/kcore".into()], &[])
                .unwrap_err()
                .field,
            "linux.maskedPaths[0]"
        );
        assert_eq!(
            validate_paths(&[], &["/a".into(), "b".into()])
                .unwrap_err()
                .field,
            "linux.readonlyPaths[1]"
        );
    }
}
