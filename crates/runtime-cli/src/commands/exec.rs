//! `exec`: run a process in a running container.
//!
//! The process comes from `--process FILE` (an OCI `process` object, as containerd, Docker and
//! podman send it) or from the container's own `process` with the command and flags applied;
//! either way it goes through `spec_translate::process::translate`, so validation is the one
//! `create` uses. The work between fork and execve is `isolation::exec`.
//!
//! Like runc, a failed exec logs one error line and exits 255; otherwise the exit code is the
//! process's (128+N for death by signal N), or 0 at once with `--detach`.

use crate::cli::{Cli, ExecArgs};
use crate::state::{self, Status};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;

pub fn exec(cli: &Cli, a: &ExecArgs) -> Result<i32> {
    match exec_inner(cli, a) {
        Ok(code) => Ok(code),
        Err(e) => {
            crate::logging::error(&format!("exec failed: {e:#}").replace('\n', " "));
            Ok(255)
        }
    }
}

fn exec_inner(cli: &Cli, a: &ExecArgs) -> Result<i32> {
    // Before anything else is opened: see reserve_preserved_fds.
    isolation::exec::reserve_preserved_fds(a.preserve_fds)?;
    if let Some(p) = &a.apparmor {
        if !isolation::exec::apparmor_enabled() {
            bail!("--apparmor {p}: AppArmor is not enabled on this host");
        }
    }
    if let Some(l) = &a.process_label {
        if !isolation::exec::selinux_enabled() {
            bail!("--process-label {l}: selinux label is specified, but selinux is disabled or not supported");
        }
    }
    let (lock, st) = state::open(&cli.root, &a.id)?;
    let Some(st) = st else {
        bail!("container {} is still being created", a.id)
    };
    let status = st.status(&lock.dir);
    // Not held while the process starts: with --ignore-paused it waits, frozen, for a
    // `resume` that needs this lock. The init is checked again (pidfd + start time).
    drop(lock);
    match status {
        Status::Stopped => bail!("cannot exec in a stopped container"),
        Status::Paused if !a.ignore_paused => {
            bail!("cannot exec in a paused container (use --ignore-paused to override)")
        }
        _ => {}
    }

    let (mut raw_process, from_file) = process_json(a, &st.config)?;
    let foreground_tty =
        raw_process["terminal"] == json!(true) && a.console_socket.is_none() && !a.detach;
    if foreground_tty && raw_process.get("consoleSize").is_none() {
        // Born with our terminal's size: the program may look before the first SIGWINCH.
        if let Some((rows, cols)) = crate::tty::stdin_size() {
            raw_process["consoleSize"] = json!({"height": rows, "width": cols});
        }
    }
    let oci: oci_spec::runtime::Process =
        serde_json::from_value(raw_process.clone()).map_err(|e| anyhow!("process: {e}"))?;
    let process = spec_translate::process::translate(&oci).map_err(|e| {
        let msg = e.to_string();
        anyhow!(if from_file {
            msg.replacen("config.json: ", "process file: ", 1)
        } else {
            msg
        })
    })?;
    let cfg = spec_translate::parse_spec(&st.config.to_string())?;
    let container = spec_translate::translate(&cfg, &st.bundle)?;
    let own = spec_translate::landlock::parse_config(&st.config)?;
    // Only a process file can add a policy; the config's own is `own`.
    let extra = if from_file {
        &raw_process
    } else {
        &Value::Null
    };
    let landlock = spec_translate::landlock::for_exec(extra, own.as_ref())?;

    // Where the pty master goes: the caller's socket, or ours for a foreground terminal.
    let mut local_console = None;
    let console = if process.terminal {
        match &a.console_socket {
            Some(p) => Some(isolation::console::connect(p)?),
            None if a.detach => {
                bail!("cannot allocate tty if nucleus will detach without setting console socket")
            }
            None => {
                let (theirs, ours) = isolation::exec::console_pair()?;
                local_console = Some(ours);
                Some(theirs)
            }
        }
    } else {
        if let Some(p) = &a.console_socket {
            crate::logging::debug(&format!(
                "--console-socket {} given but the process has no terminal",
                p.display()
            ));
        }
        None
    };

    let cgroup = match &st.cgroup {
        Some(cg) => Some(sub_cgroup(cg, &a.cgroup)?),
        None => None,
    };
    let place = |pid: i32| match &cgroup {
        Some(cg) => cg.add_pid(pid).map_err(|e| e.to_string()),
        None => Ok(()),
    };
    let state_json = st.oci_json(status).to_string();
    let opts = isolation::exec::ExecOptions {
        id: &a.id,
        init_pid: st.pid,
        init_start_time: st.start_time,
        process: &process,
        container: &container,
        landlock: &landlock,
        console,
        preserve_fds: a.preserve_fds,
        place_in_cgroup: &place,
        state_json: &state_json,
    };

    // Block what a foreground exec forwards before the process exists, so nothing is lost.
    let set = crate::commands::run::forwarded_set();
    if !a.detach {
        unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    }
    let spawned = isolation::exec::spawn(opts)
        .map_err(|e| anyhow!("unable to start container process: {e}"))?;
    if let Some(p) = &a.pid_file {
        crate::commands::create::write_pid_file(p, spawned.pid)?;
    }
    if a.detach {
        return Ok(0);
    }
    match local_console {
        Some(sock) => {
            let master = isolation::exec::recv_fd(&sock)?;
            drop(sock);
            crate::tty::drive(master, spawned.pid, &set)
        }
        None => Ok(crate::commands::run::wait_forwarding(spawned.pid, &set)),
    }
}

/// The process as JSON: the `--process` file, or the container's `process` with the command;
/// then the flags given on the command line. Returns whether it came from a file.
fn process_json(a: &ExecArgs, config: &Value) -> Result<(Value, bool)> {
    let (mut p, from_file) = match &a.process {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("read process file {}", f.display()))?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow!("process file {}: {e}", f.display()))?;
            if !v.is_object() {
                bail!("process file {}: not a JSON object", f.display());
            }
            (v, true)
        }
        None => {
            if a.command.is_empty() {
                bail!("process args cannot be empty");
            }
            let mut p = config.get("process").cloned().unwrap_or_else(|| json!({}));
            if !p.is_object() {
                p = json!({});
            }
            p["args"] = json!(a.command);
            // The container's terminal is not the exec's: only -t asks for one.
            p["terminal"] = json!(false);
            // consoleSize belongs to the container's terminal too.
            if let Some(o) = p.as_object_mut() {
                o.remove("consoleSize");
            }
            (p, false)
        }
    };
    if a.tty {
        p["terminal"] = json!(true);
    }
    if let Some(cwd) = &a.cwd {
        p["cwd"] = json!(cwd);
    }
    if !a.env.is_empty() {
        let mut env: Vec<Value> = p["env"].as_array().cloned().unwrap_or_default();
        env.extend(a.env.iter().map(|e| json!(e)));
        p["env"] = Value::Array(env);
    }
    if let Some(u) = &a.user {
        let (uid, gid) = parse_user(u)?;
        if !p["user"].is_object() {
            p["user"] = json!({"uid": 0, "gid": 0});
        }
        p["user"]["uid"] = json!(uid);
        if let Some(g) = gid {
            p["user"]["gid"] = json!(g);
        }
    }
    if !a.additional_gids.is_empty() {
        if !p["user"].is_object() {
            p["user"] = json!({"uid": 0, "gid": 0});
        }
        p["user"]["additionalGids"] = json!(a.additional_gids);
    }
    if !a.cap.is_empty() {
        if !p["capabilities"].is_object() {
            p["capabilities"] = json!({});
        }
        // As runc: added to bounding, effective and permitted (ambient would need
        // inheritable, which exec does not grant).
        for set in ["bounding", "effective", "permitted"] {
            let mut list: Vec<Value> = p["capabilities"][set]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for c in &a.cap {
                let name = cap_name(c);
                if !list.iter().any(|v| v.as_str() == Some(name.as_str())) {
                    list.push(json!(name));
                }
            }
            p["capabilities"][set] = Value::Array(list);
        }
    }
    if a.no_new_privs {
        p["noNewPrivileges"] = json!(true);
    }
    if let Some(x) = &a.apparmor {
        p["apparmorProfile"] = json!(x);
    }
    if let Some(x) = &a.process_label {
        p["selinuxLabel"] = json!(x);
    }
    Ok((p, from_file))
}

/// `CAP_NET_ADMIN`, `net_admin` and `NET_ADMIN` all name CAP_NET_ADMIN.
fn cap_name(c: &str) -> String {
    let up = c.to_ascii_uppercase();
    if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

/// `-u uid[:gid]`, numeric as with runc.
fn parse_user(u: &str) -> Result<(u32, Option<u32>)> {
    let bad = || anyhow!("--user {u:?}: expected uid[:gid] (numbers)");
    let (uid, gid) = match u.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (u, None),
    };
    let uid = uid.parse().map_err(|_| bad())?;
    let gid = gid.map(|g| g.parse()).transpose().map_err(|_| bad())?;
    Ok((uid, gid))
}

/// `--cgroup [controller[,controller]:]path`: put the process in an existing sub-cgroup of the
/// container's cgroup (for the named v1 controllers, or everywhere).
fn sub_cgroup(
    cg: &isolation::cgroups::Cgroup,
    specs: &[String],
) -> Result<isolation::cgroups::Cgroup> {
    let mut out = cg.clone();
    for s in specs {
        let (ctrls, path) = match s.split_once(':') {
            Some((c, p)) => (Some(c), p),
            None => (None, s.as_str()),
        };
        let rel = Path::new(path.trim_start_matches('/'));
        if rel.as_os_str().is_empty()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            bail!("--cgroup {s:?}: the path must name a sub-cgroup of the container's cgroup");
        }
        let check = |d: &Path| -> Result<std::path::PathBuf> {
            let sub = d.join(rel);
            if !sub.is_dir() {
                bail!("--cgroup {s:?}: {} does not exist", sub.display());
            }
            Ok(sub)
        };
        match ctrls {
            Some(list) => {
                for c in list.split(',') {
                    let Some(dir) = cg.v1.get(c) else {
                        bail!("--cgroup {s:?}: the container has no {c:?} cgroup controller");
                    };
                    let sub = check(dir)?;
                    // Co-mounted controllers share a directory: move them together.
                    for (k, d) in cg.v1.iter() {
                        if d == dir {
                            out.v1.insert(k.clone(), sub.clone());
                        }
                    }
                }
            }
            None => {
                for (k, d) in cg.v1.iter() {
                    out.v1.insert(k.clone(), check(d)?);
                }
                if let Some(u) = &cg.unified {
                    if cg.mode == isolation::cgroups::Mode::V2 || u.join(rel).is_dir() {
                        out.unified = Some(check(u)?);
                    }
                }
            }
        }
    }
    Ok(out)
}
