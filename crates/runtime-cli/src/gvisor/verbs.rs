//! pause, resume, ps, events and update of a gVisor container.

use super::lifecycle::{foreground, open};
use crate::state::Status;
use anyhow::{bail, Result};
use std::path::Path;

pub fn pause(root: &Path, id: &str, pause: bool) -> Result<()> {
    let (lock, st, r) = open(root, id)?;
    let status = st.map(|s| s.status(&lock.dir)).unwrap_or(Status::Creating);
    match (pause, status) {
        (true, Status::Running | Status::Created) => r.quiet(&["pause", id]).map(|_| ()),
        (true, _) => bail!("container not running"),
        (false, Status::Paused) => r.quiet(&["resume", id]).map(|_| ()),
        (false, _) => bail!("container not paused"),
    }
}

/// runsc lists the sandbox's processes with the sandbox's own pids (they have no host pids), in
/// runc's table or JSON shape; `ps` arguments are not supported.
pub fn ps(root: &Path, id: &str, format: &str, ps_args: &[String]) -> Result<()> {
    let (lock, st, r) = open(root, id)?;
    if matches!(
        st.map(|s| s.status(&lock.dir)),
        None | Some(Status::Stopped)
    ) {
        bail!("container not running");
    }
    if !ps_args.is_empty() && ps_args != ["-ef"] {
        crate::logging::warn("ps arguments are ignored for a gVisor container");
    }
    let mut args = vec!["ps"];
    if format == "json" {
        args.extend(["--format", "json"]);
    }
    args.push(id);
    let out = r.quiet(&args)?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

pub fn events(root: &Path, id: &str, stats: bool, interval: &str) -> Result<()> {
    let (lock, st, r) = open(root, id)?;
    if st.map(|s| s.status(&lock.dir)).unwrap_or(Status::Stopped) == Status::Stopped {
        bail!("container with id {id} is not running");
    }
    // Streaming can last forever: do not hold the container's lock meanwhile.
    drop(lock);
    let mut c = r.command();
    c.arg("events");
    if stats {
        c.arg("--stats");
    }
    c.arg(format!("--interval={}", whole_seconds(interval)?))
        .arg(id);
    let code = foreground(c, &r.bin)?;
    if code != 0 {
        bail!("runsc events exited with {code}");
    }
    Ok(())
}

/// runc takes a Go duration (`5s`, `500ms`, `1m`); runsc whole seconds (at least 1).
fn whole_seconds(interval: &str) -> Result<u64> {
    let bad =
        || anyhow::anyhow!("--interval {interval:?}: expected a duration such as 5s or 500ms");
    let (num, scale_ms) = if let Some(n) = interval.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = interval.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = interval.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = interval.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        return Err(bad());
    };
    let v: f64 = num.parse().map_err(|_| bad())?;
    if v.is_nan() || v <= 0.0 {
        return Err(bad());
    }
    Ok(((v * scale_ms as f64) / 1000.0).ceil().max(1.0) as u64)
}

pub fn update(id: &str) -> Result<()> {
    bail!("update: container {id} runs under gVisor (run.oci.handler=gvisor) and runsc cannot change its resources")
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals_become_whole_seconds() {
        assert_eq!(super::whole_seconds("5s").unwrap(), 5);
        assert_eq!(super::whole_seconds("500ms").unwrap(), 1);
        assert_eq!(super::whole_seconds("1.5s").unwrap(), 2);
        assert_eq!(super::whole_seconds("2m").unwrap(), 120);
        assert!(super::whole_seconds("5").is_err());
        assert!(super::whole_seconds("-1s").is_err());
    }
}
