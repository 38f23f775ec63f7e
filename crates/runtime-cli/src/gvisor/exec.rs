//! `exec` into a gVisor container. runsc's exec lacks runc's `--tty`, `--preserve-fds` and
//! `--ignore-paused`, so the process is always described in full by a process.json that nucleus
//! writes (runc's flags folded into the container's own `process`, or into `--process`).

use super::lifecycle::{exit_code, open};
use crate::cli::ExecArgs;
use crate::state::Status;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;

pub fn exec(root: &Path, a: &ExecArgs) -> Result<i32> {
    let (lock, st, r) = open(root, &a.id)?;
    let Some(st) = st else {
        bail!("container {} is still being created", a.id)
    };
    match st.status(&lock.dir) {
        Status::Stopped => bail!("cannot exec in a stopped container"),
        Status::Paused if a.ignore_paused => bail!(
            "--ignore-paused: runsc cannot exec into a paused gVisor sandbox; resume it first"
        ),
        Status::Paused => {
            bail!("cannot exec in a paused container (use --ignore-paused to override)")
        }
        _ => {}
    }
    if a.preserve_fds > 0 {
        bail!("--preserve-fds: runsc cannot pass extra file descriptors into a gVisor sandbox");
    }
    let process = process_json(&st.config["process"], a)?;
    let file = lock.dir.join(format!("exec-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&process)?)
        .with_context(|| format!("write {}", file.display()))?;
    // Other verbs (kill, state, delete) must work while this exec runs in the foreground.
    drop(lock);

    let mut c = r.command();
    c.arg("exec").arg("--process").arg(&file);
    if a.detach {
        c.arg("--detach");
    }
    if let Some(p) = &a.pid_file {
        c.arg("--pid-file").arg(p);
    }
    if let Some(s) = &a.console_socket {
        c.arg("--console-socket").arg(s);
    }
    c.arg(&a.id);
    let status = c.status();
    let _ = std::fs::remove_file(&file);
    let status = status.map_err(|e| anyhow!("run {}: {e}", r.bin.display()))?;
    if a.detach && !status.success() {
        bail!("runsc exec failed ({status})");
    }
    Ok(exit_code(status))
}

/// The process to run: `--process FILE` or the container's `process` with the command; then
/// runc's flags on top, as `runc exec` applies them.
fn process_json(container: &Value, a: &ExecArgs) -> Result<Value> {
    let mut p = match &a.process {
        Some(f) => {
            let text = std::fs::read(f).map_err(|e| anyhow!("--process {}: {e}", f.display()))?;
            serde_json::from_slice::<Value>(&text)
                .map_err(|e| anyhow!("--process {}: not valid JSON: {e}", f.display()))?
        }
        None => {
            if a.command.is_empty() {
                bail!("exec: no command given (give one after the container id, or --process)");
            }
            let mut p = container.clone();
            if !p.is_object() {
                p = json!({});
            }
            p["args"] = json!(a.command);
            p.as_object_mut().map(|o| o.remove("consoleSize"));
            p
        }
    };
    if !p["landlock"].is_null() {
        bail!("--process: a Landlock policy cannot be enforced inside a gVisor sandbox");
    }
    if a.process.is_none() || a.tty {
        p["terminal"] = json!(a.tty);
    }
    if !a.env.is_empty() {
        let mut env: Vec<Value> = p["env"].as_array().cloned().unwrap_or_default();
        for kv in &a.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|e| e.as_str().and_then(|s| s.split('=').next()) != Some(key));
            env.push(json!(kv));
        }
        p["env"] = json!(env);
    }
    if let Some(cwd) = &a.cwd {
        p["cwd"] = json!(cwd);
    }
    if let Some(u) = &a.user {
        let (uid, gid) = match u.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (u.as_str(), None),
        };
        let num = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| anyhow!("--user {u:?}: expected uid[:gid] (numbers)"))
        };
        p["user"]["uid"] = json!(num(uid)?);
        if let Some(g) = gid {
            p["user"]["gid"] = json!(num(g)?);
        }
    }
    if !a.additional_gids.is_empty() {
        p["user"]["additionalGids"] = json!(a.additional_gids);
    }
    for cap in &a.cap {
        for set in ["bounding", "effective", "permitted"] {
            let list = &mut p["capabilities"][set];
            if !list.is_array() {
                *list = json!([]);
            }
            let arr = list.as_array_mut().expect("array");
            if !arr.iter().any(|c| c == cap) {
                arr.push(json!(cap));
            }
        }
    }
    if a.no_new_privs {
        p["noNewPrivileges"] = json!(true);
    }
    if p["cwd"].as_str().is_none_or(str::is_empty) {
        p["cwd"] = json!("/");
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_fold_into_the_container_process() {
        let container = json!({"args": ["sh"], "env": ["PATH=/bin", "A=1"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "terminal": true});
        let a = ExecArgs {
            id: "x".into(),
            command: vec!["env".into()],
            env: vec!["A=2".into()],
            user: Some("1000:100".into()),
            cwd: Some("/tmp".into()),
            ..Default::default()
        };
        let p = process_json(&container, &a).unwrap();
        assert_eq!(p["args"], json!(["env"]));
        assert_eq!(p["env"], json!(["PATH=/bin", "A=2"]));
        assert_eq!(p["user"], json!({"uid": 1000, "gid": 100}));
        assert_eq!(p["cwd"], "/tmp");
        assert_eq!(p["terminal"], false);
        let bad = ExecArgs {
            user: Some("bob".into()),
            ..a
        };
        assert!(process_json(&container, &bad).is_err());
    }
}
