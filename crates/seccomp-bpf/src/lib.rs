//! The seccomp compiler: rules in, classic BPF out (see issue "Seccomp").
