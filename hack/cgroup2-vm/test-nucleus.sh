#!/bin/sh
# The cgroup v2 half of the container-level cgroup tests: boot the QEMU guest (run.sh) with the
# real nucleus binary and busybox bundles, run guest-nucleus.sh there (memory.max + OOM kill,
# pids.max, cpu.max, the device BPF program, freeze/thaw, cgroup.kill, update, events, ps).
# Fails when the guest does not boot (run.sh exits 125), when any check fails, and when the
# guest reports fewer passed checks than expected.
#
#   NUCLEUS_BIN  the binary (default: target/release/nucleus; built by `make build`)
set -eu
# The number of "ok" lines guest-nucleus.sh prints when everything passes.
EXPECTED=41
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${NUCLEUS_BIN:-$ROOT/target/release/nucleus}
[ -x "$BIN" ] || { echo "test-nucleus.sh: no nucleus binary at $BIN (make build)" >&2; exit 1; }
FIX=${NUCLEUS_FIXTURES:-$ROOT/../shared/fixtures/configs}
[ -f "$FIX/docker-update-resources.json" ] || { echo "test-nucleus.sh: fixtures not found in $FIX" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/nucleus-v2-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$ROOT/hack/mkbundle.sh" "$WORK/b" -- sh >/dev/null
B="$WORK/b"
# bundle NAME JQ-FILTER: /opt/b/NAME/config.json, the shared rootfs at /opt/b/rootfs (the guest keeps only /opt, /bin, /etc, /lib* across its switch_root).
bundle() {
    mkdir -p "$B/$1"
    jq '.root.path = "/opt/b/rootfs" | .process.terminal = false' "$B/config.json" \
        | jq --arg s "$DEVSCRIPT" "$2" >"$B/$1/config.json"
}
DEVSCRIPT='(exec 3>/dev/kmsg) && echo kmsg-w-ok || echo kmsg-w-denied; (exec 3</dev/kmsg) && echo kmsg-r-ok || echo kmsg-r-denied; (exec 3<>/dev/net/tun) && echo tun-ok || echo tun-denied'
bundle oom '.process.args = ["sh","-c","sleep 1; dd if=/dev/zero of=/dev/null bs=128M count=1"] | .linux.resources.memory = {"limit":33554432,"swap":33554432}'
bundle pids '.process.args = ["sh","-c","for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; wait"] | .linux.resources.pids = {"limit":5}'
bundle cpu '.process.args = ["sleep","100"] | .linux.resources.cpu = {"quota":25000,"period":50000,"shares":512,"cpus":"0","mems":"0"}'
DEVNODES='[{"path":"/dev/net/tun","type":"c","major":10,"minor":200,"fileMode":438},{"path":"/dev/kmsg","type":"c","major":1,"minor":11,"fileMode":438}]'
bundle dev ".process.args = [\"sh\",\"-c\",\$s] | .linux.devices = $DEVNODES | .linux.resources.devices = [{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"w\"}]"
bundle dev-tun ".process.args = [\"sh\",\"-c\",\$s] | .linux.devices = $DEVNODES | .linux.resources.devices = [{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":200,\"access\":\"rwm\"}]"
bundle sleep '.process.args = ["sleep","100"]'
bundle nopidns '.process.args = ["sh","-c","sleep 100 & sleep 100 & wait"] | .linux.namespaces |= map(select(.type != "pid"))'
cp "$FIX/docker-update-resources.json" "$B/docker-update.json"
rm "$B/config.json"

OUT="$WORK/out"
set +e
"$HERE/run.sh" --bin "$BIN" --file "$B:/opt/b" --file "$HERE/guest-nucleus.sh:/opt/bin/guest-nucleus.sh" \
    -- sh /opt/bin/guest-nucleus.sh 2>&1 | tee "$OUT"
set -e
passed=$(sed -n 's/^guest-nucleus: \([0-9]*\) passed, 0 failed.*/\1/p' "$OUT" | tail -1)
if ! grep -q 'NUCLEUS-GUEST-RESULT' "$OUT"; then
    echo "test-nucleus.sh: FAILED: the guest did not boot or never reported" >&2
    exit 1
fi
if ! grep -q 'NUCLEUS-GUEST-RESULT: rc=0' "$OUT"; then
    echo "test-nucleus.sh: FAILED: $(grep -c '^not ok - ' "$OUT") check(s) failed in the guest" >&2
    exit 1
fi
# Every check must have run: a script cut short (or edited without updating this) cannot pass.
if [ "${passed:-0}" -ne "$EXPECTED" ]; then
    echo "test-nucleus.sh: FAILED: ${passed:-0} checks passed in the guest, expected $EXPECTED" >&2
    exit 1
fi
echo "test-nucleus.sh: $passed cgroup v2 checks passed in the guest"
