//! `events`: runc's event stream as JSON lines.
//!
//! `{"type":"stats","id":ID,"data":{...}}` every `--interval` (the data is runc's stats shape,
//! from the cgroup files) and `{"type":"oom","id":ID}` when the kernel OOM-kills in the
//! container's cgroup. `--stats` prints one stats line and exits. Without it the stream runs
//! until the container's init exits. The lock on the container is held only while reading the
//! state: `events` must not block `pause`, `update` or `delete`.

use crate::state::{self, State, Status};
use anyhow::{anyhow, bail, Result};
use serde_json::json;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

pub fn events(root: &Path, id: &str, stats_once: bool, interval: &str) -> Result<()> {
    let every = parse_duration(interval)?;
    if every.is_zero() {
        bail!("duration interval must be greater than 0");
    }
    let st = {
        let (lock, st) = state::open(root, id)?;
        let Some(st) = st else {
            bail!("container with id {id} is not running")
        };
        if st.status(&lock.dir) == Status::Stopped {
            bail!("container with id {id} is not running");
        }
        st
    };
    let Some(cg) = st.cgroup.clone() else {
        bail!("container {id} has no cgroup")
    };
    let stats_line = || -> Result<String> {
        let data = cg.stats().map_err(|e| anyhow!("{e}"))?;
        // runc's field order: type, id, data.
        Ok(format!(
            r#"{{"type":"stats","id":{},"data":{data}}}"#,
            json!(id)
        ))
    };
    if stats_once {
        println!("{}", stats_line()?);
        return Ok(());
    }
    // Open the pidfd before re-checking that the init is ours, so exit is seen even if the
    // pid is recycled later.
    let pidfd = open_pidfd(&st)?;
    let mut oom = cg.oom_watcher().ok();
    let oom_line = format!(r#"{{"type":"oom","id":{}}}"#, json!(id));
    let mut out = std::io::stdout().lock();
    let mut next_stats = Instant::now();
    loop {
        if Instant::now() >= next_stats {
            writeln!(out, "{}", stats_line()?)?;
            out.flush()?;
            next_stats += every;
        }
        let wait = next_stats.saturating_duration_since(Instant::now());
        let mut fds = vec![libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some(w) = &oom {
            fds.push(libc::pollfd {
                fd: w.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: a valid array of pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            bail!("poll: {e}");
        }
        let exited = fds[0].revents != 0;
        if fds.get(1).is_some_and(|f| f.revents != 0) || exited {
            if let Some(w) = &mut oom {
                let n = w.wait(Some(Duration::ZERO)).unwrap_or(0);
                // v1 also signals the eventfd when the cgroup goes away: not an OOM.
                let gone = !cg.dirs().iter().all(|d| d.exists());
                if gone {
                    oom = None;
                } else {
                    for _ in 0..n.min(1) {
                        writeln!(out, "{oom_line}")?;
                    }
                    out.flush()?;
                }
            }
        }
        if exited {
            return Ok(());
        }
    }
}

fn open_pidfd(st: &State) -> Result<OwnedFd> {
    // SAFETY: pidfd_open has no memory effects; the fd is owned right away.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, st.pid, 0) };
    if fd < 0 || !st.alive() {
        bail!("container with id {} is not running", st.id);
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Go's `time.ParseDuration` for what people type: `5s`, `500ms`, `1m30s`, `1.5s`, `2h`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || anyhow!("invalid duration {s:?} (use e.g. 5s, 500ms, 1m)");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..n_end].parse().map_err(|_| bad())?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[u_end..];
        total += n * unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "5", "s", "5x", "1.2.3s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
