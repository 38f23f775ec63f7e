#!/bin/sh
# The cgroup v2 half of the cgroup tests: build the isolation crate's test binary and run its
# `guest_v2_*` tests inside the QEMU guest (real cgroup2 with memory, pids, cpu, io, ...).
# Fails when the guest does not boot, when any test fails, and when fewer tests passed than
# the binary lists (so a filter that matches nothing cannot pass).
#
# Usage (from the repository root): hack/cgroup2-vm/test-isolation.sh   (make test-cgroup2)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.."
BIN=$(cargo test -p isolation --lib --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "test-isolation.sh: could not build the isolation test binary" >&2
    cargo test -p isolation --lib --no-run >&2
    exit 1
fi
want=$("$BIN" --list --ignored guest_v2_ 2>/dev/null | grep -c ': test$' || true)
if [ "$want" -eq 0 ]; then
    echo "test-isolation.sh: FAILED: no guest_v2_ tests in $BIN" >&2
    exit 1
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
set +e
{ "$HERE/run.sh" --bin "$BIN" -- "$(basename "$BIN")" --ignored guest_v2_ --test-threads=2 2>&1
  echo "run.sh status $?" >"$OUT.rc"; } | tee "$OUT"
rc=$(sed -n 's/^run.sh status //p' "$OUT.rc"); rm -f "$OUT.rc"
set -e
passed=$(sed -n 's/.*test result: ok\. \([0-9]*\) passed.*/\1/p' "$OUT" | tail -1)
if [ "$rc" -ne 0 ]; then
    echo "test-isolation.sh: FAILED (status $rc)" >&2
    exit "$rc"
fi
if [ "${passed:-0}" -ne "$want" ]; then
    echo "test-isolation.sh: FAILED: $want guest_v2_ tests listed, ${passed:-0} passed" >&2
    exit 1
fi
echo "test-isolation.sh: $passed cgroup v2 tests passed in the guest"
