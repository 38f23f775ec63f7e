//! Everything that touches the kernel. `spec-translate` decides; this crate does.
//!
//! The container's init is created by [`container::create`] (one clone, no re-exec of the
//! binary); the modules below are the steps it runs between clone and exec.

pub mod cgroups;
pub mod landlock;
pub mod rootfs;
pub mod seccomp;

pub mod console;
pub mod container;
pub mod credentials;
pub mod error;
pub mod exec;
pub mod exec_path;
pub mod fds;
pub mod fifo;
pub mod hooks;
pub mod namespaces;
pub mod process_attrs;
pub mod scm;
pub mod sync;
