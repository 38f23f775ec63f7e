//! pause/resume: v1 `freezer.state` or v2 `cgroup.freeze`, waiting for the kernel to finish.

use super::{fs, Cgroup, CgroupError};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long to wait for a freeze before giving up (runc also gives up, then thaws back).
const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

enum Backend<'a> {
    V1(&'a Path),
    V2(&'a Path),
}

fn backend(cg: &Cgroup) -> Result<Backend<'_>, CgroupError> {
    if let Some(d) = cg.v1.get("freezer") {
        return Ok(Backend::V1(d));
    }
    match &cg.unified {
        Some(u) if u.join("cgroup.freeze").exists() || cg.mode == super::Mode::V2 => {
            Ok(Backend::V2(u))
        }
        _ => Err(CgroupError::new(
            "no freezer: neither the v1 freezer nor cgroup.freeze exists",
        )),
    }
}

pub fn set(cg: &Cgroup, frozen: bool) -> Result<(), CgroupError> {
    let start = Instant::now();
    match backend(cg)? {
        Backend::V1(d) => {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            let mut rewrite_in = 0u32;
            loop {
                // A task forking while FREEZING can keep the state there; rewriting nudges it.
                if rewrite_in == 0 {
                    fs::write(d, "freezer.state", want)?;
                    rewrite_in = 50;
                }
                rewrite_in -= 1;
                if fs::read(d, "freezer.state")?.trim() == want {
                    return Ok(());
                }
                if start.elapsed() > FREEZE_TIMEOUT {
                    if frozen {
                        let _ = fs::write(d, "freezer.state", "THAWED");
                    }
                    return Err(CgroupError::new(format!(
                        "{}: the cgroup did not reach {want}",
                        d.join("freezer.state").display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Backend::V2(d) => {
            fs::write(d, "cgroup.freeze", if frozen { "1" } else { "0" })?;
            let want = if frozen { 1 } else { 0 };
            loop {
                let ev = fs::read_keyed(d, "cgroup.events");
                // A fake tree or an old kernel without the "frozen" key: trust cgroup.freeze.
                match fs::keyed(&ev, "frozen") {
                    Some(v) if v == want => return Ok(()),
                    None => return Ok(()),
                    _ => {}
                }
                if start.elapsed() > FREEZE_TIMEOUT {
                    if frozen {
                        let _ = fs::write(d, "cgroup.freeze", "0");
                    }
                    return Err(CgroupError::new(format!(
                        "{}: the cgroup did not become {}",
                        d.join("cgroup.events").display(),
                        if frozen { "frozen" } else { "thawed" }
                    )));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

pub fn is_frozen(cg: &Cgroup) -> Result<bool, CgroupError> {
    match backend(cg)? {
        Backend::V1(d) => Ok(fs::read(d, "freezer.state")?.trim() == "FROZEN"),
        Backend::V2(d) => Ok(fs::read(d, "cgroup.freeze")?.trim() == "1"),
    }
}
