//! File descriptors that must not reach the container (the CVE-2024-21626 pattern).

/// Mark every fd from `first` up as close-on-exec: only stdio and `--preserve-fds` survive the
/// exec of the user's program; the runtime's own fds (state dir, socketpair, /proc handles)
/// vanish at that moment even if something forgot O_CLOEXEC.
pub fn cloexec_from(first: u32) -> crate::error::Result<()> {
    const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if r < 0 {
        // Kernels before 5.11: walk /proc/self/fd instead.
        let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
            .map_err(|e| crate::error::Error::io("list /proc/self/fd", e))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|&fd: &i32| fd >= first as i32)
            .collect();
        for fd in fds {
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
    Ok(())
}

/// Clear close-on-exec on the preserved fds 3..3+n, which the caller hands to the container.
pub fn keep_preserved(n: u32) {
    for fd in 3..3 + n as i32 {
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
}

/// Close every fd not in `keep` (the child's first act: fds the runtime held, such as the
/// lock on the state directory, must not be shared with the container's init).
pub fn close_all_except(keep: &[i32]) {
    let mut k: Vec<u32> = keep
        .iter()
        .filter(|&&f| f >= 0)
        .map(|&f| f as u32)
        .collect();
    k.sort_unstable();
    k.dedup();
    let mut from = 0u32;
    for fd in k {
        if fd > from {
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0) };
        }
        from = fd + 1;
    }
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0) };
}
