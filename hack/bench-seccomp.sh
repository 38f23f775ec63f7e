#!/usr/bin/env bash
# bench-seccomp.sh [-n ROUNDS] [-i ITERATIONS]
#
# Cost of a syscall under seccomp, side by side in one run, inside busybox containers that carry
# Docker's default profile (the seccomp section of shared/fixtures/configs/docker-default.json).
# Three raw syscalls: getppid, clock_gettime (the syscall, not the vDSO) and
# personality(0xffffffff) (argument-checked under Docker's profile). Filters:
#   none         no filter at all (a nucleus container without linux.seccomp)
#   nucleus      nucleus's compiler, installed by `nucleus run` from the config
#   bitmap       the textbook bitmap layout for the same profile (installed by the bench
#                program itself inside a filter-less nucleus container)
#   seccompiler  seccompiler's linear output for the same profile (likewise)
#   runc         runc + libseccomp, from the same config
#   crun         crun + libseccomp, from the same config (in HOST-NOTES' private-mount wrapper)
# ROUNDS (default 5) interleave every filter; a cell is the median over rounds of the best of
# 7 batches of ITERATIONS (default 300000) calls. Also prints the programs' sizes and longest
# paths, and nucleus's compile+install time for Docker's profile.
#
# Needs: gcc + libc6-dev (static bench program), cargo, runc, crun, jq. Binaries: NUCLEUS_BIN
# (default <repo>/target/release/nucleus), RUNC, CRUN. CARGO_TARGET_DIR is honoured.
set -euo pipefail

rounds=5
iters=300000
while [ $# -gt 0 ]; do
  case $1 in
    -n) rounds=$2; shift 2 ;;
    -i) iters=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "usage: $0 [-n ROUNDS] [-i ITERATIONS]" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
nucleus=${NUCLEUS_BIN:-$repo/target/release/nucleus}
runc=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
crun=${CRUN:-$(command -v crun || echo /usr/bin/crun)}
profile_config=${DOCKER_CONFIG:-$repo/../shared/fixtures/configs/docker-default.json}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
for b in "$nucleus" "$runc" "$crun"; do
  [ -x "$b" ] || { echo "bench-seccomp: $b is missing" >&2; exit 1; }
done
[ -f "$profile_config" ] || { echo "bench-seccomp: $profile_config is missing" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-seccomp.XXXXXX)
ids=()
cleanup() {
  for id in "${ids[@]}"; do
    "$nucleus" --root "$work/nroot" delete --force "$id" >/dev/null 2>&1 || true
    "$runc" --root "$work/rroot" delete --force "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench-seccomp: building helpers" >&2
(cd "$repo" && cargo build --release -q -p seccomp-bpf --example bench_filters)
filters_bin=$target_dir/release/examples/bench_filters
gcc -static -O2 -o "$work/bench_syscalls" "$repo/crates/seccomp-bpf/examples/bench_syscalls.c"

echo "== programs for Docker's default profile (x86_64) =="
"$filters_bin" emit "$profile_config" "$work/filters"

# Two bundles from one config: the runc-spec default with Docker's seccomp section, and the
# same without it. The bench program and the filters go into the rootfs.
"$here/mkbundle.sh" "$work/docker" -- /bench >/dev/null
cp "$work/bench_syscalls" "$work/docker/rootfs/bench"
cp -r "$work/filters" "$work/docker/rootfs/filters"
jq --slurpfile d "$profile_config" '.linux.seccomp = $d[0].linux.seccomp' \
  "$work/docker/config.json" >"$work/docker/config.tmp" && mv "$work/docker/config.tmp" "$work/docker/config.json"
mkdir -p "$work/plain"
cp -a "$work/docker/rootfs" "$work/plain/rootfs"
jq 'del(.linux.seccomp)' "$work/docker/config.json" >"$work/plain/config.json"

set_args() { # BUNDLE ARGS...: process.args of BUNDLE's config
  local b=$1; shift
  jq --args '.process.args = $ARGS.positional' "$@" <"$b/config.json" >"$b/config.tmp"
  mv "$b/config.tmp" "$b/config.json"
}
set_args "$work/plain" /bench "$iters" none=- bitmap=/filters/bitmap.bpf seccompiler=/filters/seccompiler.bpf
n=0
run_in() { # RUNTIME BUNDLE NAME: run the bench in a fresh container, output to results
  local rt=$1 bundle=$2 name=$3 id=bench-seccomp-$$-$n
  n=$((n + 1))
  ids+=("$id")
  set_args "$work/docker" /bench "$iters" "$name=-"
  case $rt in
    nucleus) "$nucleus" --root "$work/nroot" run --bundle "$bundle" "$id" ;;
    runc) "$runc" --root "$work/rroot" run --bundle "$bundle" "$id" ;;
    crun) unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh \
        "$crun" --root "$work/croot" run --bundle "$bundle" "$id" ;;
  esac >>"$work/results"
}
echo "bench-seccomp: $rounds rounds of $iters calls x 7 batches" >&2
for r in $(seq "$rounds"); do
  run_in nucleus "$work/plain" none
  run_in nucleus "$work/docker" nucleus
  run_in runc "$work/docker" runc
  run_in crun "$work/docker" crun
  echo "bench-seccomp: round $r done" >&2
done

echo
echo "== cost per syscall, ns (median of $rounds rounds; +ns over no filter, x ratio to no filter) =="
awk '
  { v[$1 " " $2] = v[$1 " " $2] " " $3 }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END {
    split("none nucleus bitmap seccompiler runc crun", f, " ")
    split("getppid clock_gettime personality", s, " ")
    printf "| filter | getppid | clock_gettime (raw) | personality(0xffffffff) |\n|---|---|---|---|\n"
    for (i = 1; i <= 6; i++) {
      printf "| %s |", f[i]
      for (j = 1; j <= 3; j++) {
        m = median(v[f[i] " " s[j]]); b = median(v["none " s[j]])
        if (f[i] == "none") printf " %.0f ns |", m
        else printf " %.0f ns (%+.0f, x%.2f) |", m, m - b, m / b
      }
      printf "\n"
    }
  }' "$work/results"

echo
echo "== nucleus: compile (config.json text -> program) + install (seccomp(2)) of Docker's profile =="
"$filters_bin" time "$profile_config" 200
