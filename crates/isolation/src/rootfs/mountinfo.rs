//! /proc/self/mountinfo, parsed: the cgroup v1 code looks up the host hierarchies here and
//! the tests read back what was mounted.

use std::io;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub id: u32,
    pub parent: u32,
    /// Root of the mount within its filesystem.
    pub root: String,
    pub mount_point: String,
    /// Per-mount options (`ro,nosuid,...`).
    pub options: String,
    /// Optional fields (`shared:1`, `master:2`).
    pub optional: Vec<String>,
    pub fstype: String,
    pub source: String,
    /// Superblock options.
    pub super_options: String,
}

impl MountInfo {
    pub fn has_option(&self, o: &str) -> bool {
        self.options.split(',').any(|x| x == o)
    }
    pub fn has_super_option(&self, o: &str) -> bool {
        self.super_options.split(',').any(|x| x == o)
    }
}

/// Undo the kernel's octal escapes (`\040` for space etc.).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse(text: &str) -> Vec<MountInfo> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MountInfo> {
    let (left, right) = line.split_once(" - ")?;
    let l: Vec<&str> = left.split(' ').collect();
    let r: Vec<&str> = right.split(' ').collect();
    if l.len() < 6 || r.len() < 3 {
        return None;
    }
    Some(MountInfo {
        id: l[0].parse().ok()?,
        parent: l[1].parse().ok()?,
        root: unescape(l[3]),
        mount_point: unescape(l[4]),
        options: l[5].to_string(),
        optional: l[6..].iter().map(|s| s.to_string()).collect(),
        fstype: r[0].to_string(),
        source: unescape(r[1]),
        super_options: r[2].to_string(),
    })
}

pub fn read_self() -> io::Result<Vec<MountInfo>> {
    Ok(parse(&std::fs::read_to_string("/proc/self/mountinfo")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let v = parse(
            "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n\
             40 30 0:33 /a\\040b /sys/fs/cgroup/cpu,cpuacct ro,nosuid master:3 - cgroup cgroup rw,cpu,cpuacct\n\
             garbage\n",
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].optional, vec!["shared:1"]);
        assert_eq!(v[1].root, "/a b");
        assert_eq!(v[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
        assert!(v[1].has_option("ro"));
        assert!(v[1].has_super_option("cpuacct"));
        assert_eq!(v[1].fstype, "cgroup");
    }
}
