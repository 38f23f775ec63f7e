//! Installing compiled seccomp filters. (Owned by the seccomp work.)
