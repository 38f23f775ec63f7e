//! `list`: every container under --root, as runc's table or JSON.

use crate::state;
use anyhow::Result;
use std::path::Path;

fn owner_name(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
        })
        .unwrap_or_else(|| format!("#{uid}"))
}

pub fn list(root: &Path, format: &str, quiet: bool) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut rows = Vec::new();
    let mut entries: Vec<_> = match std::fs::read_dir(root) {
        Ok(rd) => rd.filter_map(|e| e.ok()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let dir = e.path();
        let Ok(Some(st)) = state::read_state(&dir) else {
            continue;
        };
        let status = st.status(&dir);
        let mut j = st.oci_json(status);
        let uid = e.metadata().map(|m| m.uid()).unwrap_or(0);
        j["owner"] = serde_json::Value::String(owner_name(uid));
        if st.annotations.is_empty() {
            j.as_object_mut().map(|o| o.remove("annotations"));
        }
        rows.push(j);
    }
    if quiet {
        for r in &rows {
            println!("{}", r["id"].as_str().unwrap_or(""));
        }
        return Ok(());
    }
    if format == "json" {
        // runc encodes a nil slice: `null` when there are no containers.
        if rows.is_empty() {
            println!("null");
        } else {
            println!("{}", serde_json::to_string(&rows)?);
        }
        return Ok(());
    }
    let cols = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];
    let keys = ["id", "pid", "status", "bundle", "created", "owner"];
    let table: Vec<Vec<String>> = std::iter::once(cols.iter().map(|s| s.to_string()).collect())
        .chain(rows.iter().map(|r| {
            keys.iter()
                .map(|k| match &r[*k] {
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect()
        }))
        .collect();
    // Go's tabwriter(minwidth 12, padding 3), as runc uses.
    let widths: Vec<usize> = (0..cols.len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].len() + 3)
                .max()
                .unwrap_or(0)
                .max(12)
        })
        .collect();
    for r in &table {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}", w = widths[c]));
            }
        }
        println!("{line}");
    }
    Ok(())
}
