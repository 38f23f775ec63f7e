//! `create`: build the container and leave its init waiting for `start`.

use crate::cli::{Cli, CreateArgs};
use crate::state::{self, State};
use anyhow::{anyhow, bail, Context, Result};
use isolation::cgroups::Cgroup;
use std::path::{Path, PathBuf};

/// Removes what a failed create made: the cgroup and the state directory.
struct Undo {
    dir: Option<PathBuf>,
    cgroup: Option<Cgroup>,
}

impl Drop for Undo {
    fn drop(&mut self) {
        if let Some(cg) = self.cgroup.take() {
            let _ = cg.destroy();
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

pub struct Outcome {
    pub state: State,
    _lock: state::Locked,
}

/// Refuse the systemd cgroup driver with a clear reason: it needs systemd as PID 1 and D-Bus.
pub fn check_systemd(cli: &Cli) -> Result<()> {
    if cli.systemd_cgroup {
        let why = if Path::new("/run/systemd/system").exists() {
            "nucleus has no systemd cgroup driver yet"
        } else {
            "systemd is not running on this host (PID 1 is not systemd)"
        };
        bail!("--systemd-cgroup: the systemd cgroup driver is not available: {why}; use the cgroupfs driver (drop --systemd-cgroup)");
    }
    Ok(())
}

pub fn create(cli: &Cli, a: &CreateArgs) -> Result<Outcome> {
    // First, before this process opens anything: fds 3..3+N belong to the caller, and a gap
    // there must not be filled by one of ours that would then reach the container.
    isolation::exec::reserve_preserved_fds(a.preserve_fds)?;
    state::validate_id(&a.id)?;
    check_systemd(cli)?;
    let bundle = std::fs::canonicalize(&a.bundle)
        .map_err(|e| anyhow!("bundle {}: {e}", a.bundle.display()))?;
    let cfg = spec_translate::load_spec(&bundle)?;
    let plan = spec_translate::translate(&cfg, &bundle)?;
    if let Some(cg) = &plan.cgroups_path {
        if cg.contains(':') && !cg.starts_with('/') {
            bail!("cgroupsPath {cg:?} is in the systemd form slice:prefix:name, but the systemd cgroup driver is not available here");
        }
    }
    match std::fs::metadata(&plan.rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("root.path {} is not a directory", plan.rootfs.display()),
        Err(e) => bail!("root.path {}: {e}", plan.rootfs.display()),
    }
    if let Some(s) = &a.console_socket {
        if !plan.process.terminal {
            crate::logging::debug(&format!(
                "--console-socket {} given but process.terminal is false",
                s.display()
            ));
        }
    }

    let (dir, lock) = state::new_container_dir(&cli.root, &a.id)?;
    let mut undo = Undo {
        dir: Some(dir.clone()),
        cgroup: None,
    };

    let cg = Cgroup::resolve(plan.cgroups_path.as_deref(), &a.id).map_err(|e| anyhow!("{e}"))?;
    cg.create().map_err(|e| anyhow!("{e}"))?;
    undo.cgroup = Some(cg.clone());
    // runc's default device rules (null, zero, tty, ptmx, ...) always apply, even when the
    // config denies every device first.
    let resources = spec_translate::resources::with_runc_default_devices(
        &plan.resources.clone().unwrap_or_default(),
    );
    cg.apply(&resources).map_err(|e| anyhow!("{e}"))?;
    let place = |pid: i32| cg.add_pid(pid).map_err(|e| e.to_string());
    let opts = isolation::container::CreateOptions {
        id: &a.id,
        state_dir: &dir,
        console_socket: a.console_socket.as_deref(),
        no_pivot: a.no_pivot,
        no_new_keyring: a.no_new_keyring,
        preserve_fds: a.preserve_fds,
        place_in_cgroup: &place,
        cgroup_dir: cg.unified.as_deref(),
    };
    let created = isolation::container::create(&plan, &opts)?;
    let start_time = state::proc_start_time(created.pid)
        .ok_or_else(|| anyhow!("container init {} vanished during create", created.pid))?;
    let st = State {
        oci_version: plan.oci_version.clone(),
        id: a.id.clone(),
        pid: created.pid,
        start_time,
        bundle: bundle.clone(),
        rootfs: plan.rootfs.clone(),
        created: crate::timefmt::now_rfc3339(),
        owner: String::new(),
        annotations: plan.annotations.clone(),
        cgroup: Some(cg),
        poststart: plan.hooks.poststart.clone(),
        poststop: plan.hooks.poststop.clone(),
        config: cfg.raw.clone(),
    };
    state::write_state(&dir, &st)?;
    if let Some(p) = &a.pid_file {
        write_pid_file(p, created.pid)?;
    }
    undo.dir = None;
    undo.cgroup = None;
    Ok(Outcome {
        state: st,
        _lock: lock,
    })
}

/// Atomically, as runc: a reader never sees a half-written pid.
pub fn write_pid_file(p: &Path, pid: i32) -> Result<()> {
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = parent.join(format!(
        ".{}.tmp",
        p.file_name().and_then(|n| n.to_str()).unwrap_or("pid")
    ));
    std::fs::write(&tmp, pid.to_string())
        .with_context(|| format!("write pid file {}", p.display()))?;
    std::fs::rename(&tmp, p).with_context(|| format!("write pid file {}", p.display()))?;
    Ok(())
}
