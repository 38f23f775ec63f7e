#!/bin/sh
# Boot a Debian 6.1 kernel under QEMU (software emulation) with a pure cgroup v2 tree and run
# one command in it; its output comes back over the serial console.
#
#   run.sh [--bin FILE]... [--file SRC:DEST]... -- COMMAND [ARGS...]
#
# --bin copies an executable (stripped) and the shared libraries it needs into the guest's
# /opt/bin; --file copies anything to DEST. The guest has busybox as /bin/*, /proc, /sys,
# /dev, /tmp, cgroup2 on /sys/fs/cgroup, and a real (tmpfs) root, so pivot_root works.
# Exit status: COMMAND's. When the guest does not boot or never reports, exit 125: a v2 run
# that did not happen is a failure, never a skip.
#
#   VM_DIR        (from fetch.sh)  QEMU_TIMEOUT (default 900 s)  QEMU_MEM (default 1024)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
VM_DIR=$("$HERE/fetch.sh")
QEMU_TIMEOUT=${QEMU_TIMEOUT:-900}
QEMU_MEM=${QEMU_MEM:-1024}

WORK=$(mktemp -d /var/tmp/nucleus-vm-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
INITRD_ROOT="$WORK/initrd"
mkdir -p "$INITRD_ROOT/bin" "$INITRD_ROOT/opt/bin" "$INITRD_ROOT/etc" "$INITRD_ROOT/newroot"
for d in proc sys dev tmp; do mkdir -p "$INITRD_ROOT/$d"; done

# busybox-static: the guest has no libc of its own besides what --bin copies.
BUSYBOX=${BUSYBOX:-/usr/bin/busybox}
cp "$BUSYBOX" "$INITRD_ROOT/bin/busybox"
for a in $("$BUSYBOX" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$INITRD_ROOT/bin/$a"
done

copy_libs() {
    # ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)".
    ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
        [ -e "$INITRD_ROOT$lib" ] && continue
        mkdir -p "$INITRD_ROOT$(dirname "$lib")"
        cp -L "$lib" "$INITRD_ROOT$lib"
    done
}

while [ $# -gt 0 ]; do
    case "$1" in
        --bin)
            dest="$INITRD_ROOT/opt/bin/$(basename "$2")"
            cp "$2" "$dest"
            strip --strip-debug "$dest" 2>/dev/null || true
            copy_libs "$2"
            shift 2 ;;
        --file)
            src=${2%%:*}; dst=${2#*:}
            mkdir -p "$INITRD_ROOT$(dirname "$dst")"
            cp -a "$src" "$INITRD_ROOT$dst"
            shift 2 ;;
        --) shift; break ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "run.sh: no command" >&2; exit 2; }

# The command, quoted for the guest shell.
CMD=""
for a in "$@"; do CMD="$CMD '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"; done

cat > "$INITRD_ROOT/init" <<INIT
#!/bin/busybox sh
export PATH=/opt/bin:/bin HOME=/root
if [ ! -e /.switched ]; then
    # An initramfs root cannot be pivot_root'ed: move everything to a tmpfs and switch.
    mount -t tmpfs -o size=80% tmpfs /newroot
    for d in bin opt etc lib lib64 usr init; do [ -e /\$d ] && cp -a /\$d /newroot/; done
    mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/root
    touch /newroot/.switched
    exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "NUCLEUS-GUEST: kernel \$(uname -r), cgroup controllers: \$(cat /sys/fs/cgroup/cgroup.controllers)"
cd /tmp
$CMD
echo "NUCLEUS-GUEST-RESULT: rc=\$?"
sync
poweroff -f
INIT
chmod +x "$INITRD_ROOT/init"
(cd "$INITRD_ROOT" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) > "$WORK/initrd.gz"

KERNEL=$(ls "$VM_DIR"/root/boot/vmlinuz-* | sort -V | tail -1)
Q="$VM_DIR/root/usr/bin/qemu-system-x86_64"
LOG="$WORK/serial.log"
start=$(date +%s)
set +e
{ timeout "$QEMU_TIMEOUT" "$Q" -L "$VM_DIR/root/usr/share/qemu" -L "$VM_DIR/root/usr/share/seabios" \
    -accel tcg -cpu max -smp 2 -m "$QEMU_MEM" -nographic -no-reboot -nic none -display none \
    -serial stdio -monitor none -kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 loglevel=3" </dev/null
  echo $? >"$WORK/qemu.rc"; } | tee "$LOG"
qrc=$(cat "$WORK/qemu.rc")
set -e
echo "run.sh: guest ran $(( $(date +%s) - start )) s (qemu status $qrc)" >&2
rc=$(sed -n 's/.*NUCLEUS-GUEST-RESULT: rc=\([0-9]*\).*/\1/p' "$LOG" | tail -1)
if [ -z "$rc" ]; then
    echo "run.sh: FAILED: the guest did not boot or never reported a result" >&2
    exit 125
fi
exit "$rc"
