//! Root filesystem: mounts, /dev, devices, masked and read-only paths, pivot_root. (Owned by the rootfs work.)
