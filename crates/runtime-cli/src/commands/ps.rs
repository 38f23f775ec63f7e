//! `ps`: the container's processes, as runc prints them.
//!
//! `--format json` prints the host pids of every process in the cgroup as a JSON array (Go's
//! `null` when there are none). `table` runs the host's `ps` with the given arguments (default
//! `-ef`), prints its header and only the rows whose PID column is one of those pids.

use crate::state;
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;

pub fn ps(root: &Path, id: &str, format: &str, args: &[String]) -> Result<()> {
    let (_lock, st) = state::open(root, id)?;
    let Some(st) = st else {
        bail!("container {id} is still being created")
    };
    let Some(cg) = &st.cgroup else {
        bail!("container {id} has no cgroup")
    };
    let pids = cg.pids().map_err(|e| anyhow!("{e}"))?;
    if format == "json" {
        if pids.is_empty() {
            println!("null");
        } else {
            println!("{}", serde_json::to_string(&pids)?);
        }
        return Ok(());
    }
    let args: Vec<&str> = if args.is_empty() {
        vec!["-ef"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("run ps")?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("ps {}: {}: {}", args.join(" "), out.status, text.trim());
    }
    print!("{}", filter_rows(&text, &pids)?);
    Ok(())
}

/// The header line plus the rows whose PID field is in `pids`.
pub fn filter_rows(text: &str, pids: &[i32]) -> Result<String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let col = header
        .split_whitespace()
        .position(|f| f == "PID")
        .ok_or_else(|| anyhow!("couldn't find PID field in ps output"))?;
    let mut out = format!("{header}\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let pid = line
            .split_whitespace()
            .nth(col)
            .and_then(|f| f.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::filter_rows;

    #[test]
    fn keeps_header_and_matching_rows() {
        let t = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sh\nroot 420 1 x\n";
        assert_eq!(
            filter_rows(t, &[42]).unwrap(),
            "UID PID PPID CMD\nroot 42 1 sh\n"
        );
        assert!(filter_rows("USER CMD\n", &[1]).is_err());
    }
}
