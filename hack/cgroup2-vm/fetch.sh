#!/bin/sh
# Fetch QEMU (x86 system emulator) and a Debian 6.1 kernel into a private folder, without
# installing qemu-system-x86 system-wide (it conflicts with the backports qemu-utils).
# Prints the folder. Idempotent: a second run only checks.
#
#   VM_DIR (default /var/tmp/nucleus-cgroup2-vm)  where everything goes
set -eu
VM_DIR=${VM_DIR:-/var/tmp/nucleus-cgroup2-vm}
mkdir -p "$VM_DIR/debs" "$VM_DIR/root"

# Shared libraries qemu-system-x86_64 links against (small, harmless system-wide).
LIBS="libcapstone4 libfdt1 libpmem1 librdmacm1 libibverbs1 libslirp0 libvdeplug2"
missing=""
for l in $LIBS; do dpkg -s "$l" >/dev/null 2>&1 || missing="$missing $l"; done
if [ -n "$missing" ]; then
    apt-get update -qq >&2 || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
fi

if [ ! -x "$VM_DIR/root/usr/bin/qemu-system-x86_64" ] || ! ls "$VM_DIR"/root/boot/vmlinuz-* >/dev/null 2>&1; then
    kernel=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    if [ -z "$kernel" ]; then
        echo "fetch.sh: no linux-image-6.1.0-N-amd64 package in the apt lists (run apt-get update)" >&2
        exit 1
    fi
    cd "$VM_DIR/debs"
    apt-get download qemu-system-x86 qemu-system-common qemu-system-data seabios "$kernel" >&2
    for d in ./*.deb; do dpkg -x "$d" "$VM_DIR/root"; done
fi
test -x "$VM_DIR/root/usr/bin/qemu-system-x86_64"
ls "$VM_DIR"/root/boot/vmlinuz-* >/dev/null
echo "$VM_DIR"
