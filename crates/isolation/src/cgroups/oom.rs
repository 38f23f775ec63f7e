//! OOM kills: counting them and waiting for the next one (runc's `events` "oom" type).

use super::{fs, Cgroup, CgroupError, Mode};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

pub fn kill_count(cg: &Cgroup) -> Result<Option<u64>, CgroupError> {
    let (dir, file) = memory_events_file(cg)?;
    Ok(fs::keyed(&fs::read_keyed(&dir, file), "oom_kill"))
}

fn memory_events_file(cg: &Cgroup) -> Result<(PathBuf, &'static str), CgroupError> {
    if cg.mode == Mode::V2 {
        let u = cg
            .unified
            .clone()
            .ok_or_else(|| CgroupError::new("no cgroup2 tree"))?;
        return Ok((u, "memory.events"));
    }
    let d = cg
        .v1
        .get("memory")
        .cloned()
        .ok_or_else(|| CgroupError::new("the memory controller is not mounted"))?;
    Ok((d, "memory.oom_control"))
}

/// Waits for OOM events of one cgroup.
pub struct OomWatcher {
    /// v1: the eventfd registered through cgroup.event_control; v2: an inotify fd.
    fd: OwnedFd,
    /// v1: memory.oom_control must stay open for the registration to live.
    _control: Option<std::fs::File>,
    /// v2: memory.events and the oom_kill count already reported.
    events: Option<(PathBuf, u64)>,
}

impl OomWatcher {
    pub fn new(cg: &Cgroup) -> Result<OomWatcher, CgroupError> {
        let (dir, file) = memory_events_file(cg)?;
        let err = |what: &str, e: std::io::Error| {
            CgroupError::new(format!(
                "cannot watch OOM events of {}: {what}: {e}",
                dir.display()
            ))
        };
        if cg.mode != Mode::V2 {
            // SAFETY: plain syscalls; fds are checked and owned right away.
            let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
            if efd < 0 {
                return Err(err("eventfd", std::io::Error::last_os_error()));
            }
            let efd = unsafe { OwnedFd::from_raw_fd(efd) };
            let control = std::fs::File::open(dir.join(file)).map_err(|e| err(file, e))?;
            let line = format!("{} {}", efd.as_raw_fd(), control.as_raw_fd());
            fs::write_raw(&dir, "cgroup.event_control", &line)
                .map_err(|e| err("cgroup.event_control", e))?;
            return Ok(OomWatcher {
                fd: efd,
                _control: Some(control),
                events: None,
            });
        }
        let ifd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        if ifd < 0 {
            return Err(err("inotify", std::io::Error::last_os_error()));
        }
        let ifd = unsafe { OwnedFd::from_raw_fd(ifd) };
        let path = dir.join(file);
        let cpath = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| CgroupError::new("cgroup path contains a NUL byte"))?;
        let wd =
            unsafe { libc::inotify_add_watch(ifd.as_raw_fd(), cpath.as_ptr(), libc::IN_MODIFY) };
        if wd < 0 {
            return Err(err(file, std::io::Error::last_os_error()));
        }
        let seen = fs::keyed(&fs::read_keyed(&dir, file), "oom_kill").unwrap_or(0);
        Ok(OomWatcher {
            fd: ifd,
            _control: None,
            events: Some((dir, seen)),
        })
    }

    /// The fd to poll for readability (then call [`OomWatcher::wait`] with a zero timeout).
    pub fn as_raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Wait up to `timeout` (`None`: for ever) for OOM kills; returns how many happened.
    /// Returns 0 on timeout. v1 counts OOM *events* (the kernel signals each one).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<u64, CgroupError> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            if let Some((dir, seen)) = &mut self.events {
                let now = fs::keyed(&fs::read_keyed(dir, "memory.events"), "oom_kill").unwrap_or(0);
                if now > *seen {
                    let n = now - *seen;
                    *seen = now;
                    return Ok(n);
                }
            }
            let ms = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() && self.events.is_some() {
                        return Ok(0);
                    }
                    left.as_millis().min(i32::MAX as u128) as i32
                }
            };
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, ms) };
            if r < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(CgroupError::new(format!("poll on OOM watcher: {e}")));
            }
            if r == 0 && self.events.is_none() {
                return Ok(0);
            }
            let mut buf = [0u8; 4096];
            let mut f = std::fs::File::from(
                self.fd
                    .try_clone()
                    .map_err(|e| CgroupError::new(format!("OOM watcher fd: {e}")))?,
            );
            if r > 0 {
                match f.read(&mut buf) {
                    Ok(n) if self.events.is_none() && n == 8 => {
                        return Ok(u64::from_ne_bytes(buf[..8].try_into().unwrap_or([0; 8])));
                    }
                    _ => {}
                }
            }
            if r == 0 {
                // v2 timeout: loop once more to re-read the count, then report 0.
                if let Some((dir, seen)) = &mut self.events {
                    let now =
                        fs::keyed(&fs::read_keyed(dir, "memory.events"), "oom_kill").unwrap_or(0);
                    let n = now.saturating_sub(*seen);
                    *seen = now.max(*seen);
                    return Ok(n);
                }
            }
        }
    }
}
