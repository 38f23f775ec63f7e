#!/usr/bin/env bash
# bench-lifecycle.sh [-n ROUNDS]
#
# Times create + start + wait + delete of a busybox container running /bin/true, for nucleus,
# runc and crun, over ROUNDS interleaved rounds (default 50: nucleus, runc, crun, nucleus, ...,
# so drift of the machine hits all three alike). Reports the median per runtime, the ratios
# against runc and crun, and the peak RSS of each runtime's create/start/delete processes
# (GNU time -v).
#
# Every runtime runs inside the same wrapper (see /work/shared/HOST-NOTES.md): a private mount
# namespace with the cgroup2 mount of this hybrid host unmounted, without which crun refuses to
# run. The clock is read inside the wrapper (bash's $EPOCHREALTIME, no fork), so the wrapper's
# own cost is not counted.
#
# Binaries: NUCLEUS_BIN (default <repo>/target/release/nucleus), RUNC (default runc on PATH),
# CRUN (default crun on PATH). A missing binary is reported and the others still run; the
# script then exits 1.
set -euo pipefail

rounds=50
while [ $# -gt 0 ]; do
  case $1 in
    -n) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "usage: $0 [-n ROUNDS]" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
nucleus=${NUCLEUS_BIN:-$repo/target/release/nucleus}
runc=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
crun=${CRUN:-$(command -v crun || echo /usr/bin/crun)}

if [ ! -x /usr/bin/time ]; then
  echo "bench: installing GNU time" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2; }
fi

work=$(mktemp -d /tmp/bench-lifecycle.XXXXXX)
cleanup() {
  for n in "${names[@]:-}"; do
    [ -n "$n" ] || continue
    local bin=${bins[$n]}
    for id in $("$bin" --root "$work/root-$n" list -q 2>/dev/null); do
      wrap "$bin" --root "$work/root-$n" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT

# wrap CMD...: run CMD in the private mount namespace without the cgroup2 mount.
wrap() {
  unshare -m --propagation private bash -c \
    'umount /sys/fs/cgroup/unified 2>/dev/null || true; exec "$@"' bash "$@"
}

# The measured body, run inside the wrapper: prints elapsed microseconds.
cat >"$work/cycle.sh" <<'EOF'
set -eu
bin=$1 root=$2 bundle=$3 id=$4 pidfile=$5
t0=$EPOCHREALTIME
"$bin" --root "$root" create --bundle "$bundle" --pid-file "$pidfile" "$id" </dev/null >/dev/null
pid=$(cat "$pidfile")
"$bin" --root "$root" start "$id"
# wait: the init is not our child (it was reparented), so poll for its exit.
# Builtins only (no fork per iteration): the state letter is the field after "(comm)".
while read -r stat 2>/dev/null <"/proc/$pid/stat"; do
  state=${stat##*) }
  [ "${state%% *}" = Z ] && break
done
"$bin" --root "$root" delete "$id"
t1=$EPOCHREALTIME
echo $(( (${t1/./} - ${t0/./}) ))
EOF

"$here/mkbundle.sh" "$work/bundle" -- /bin/true >/dev/null

declare -A bins=([nucleus]=$nucleus [runc]=$runc [crun]=$crun)
names=()
status=0
for n in nucleus runc crun; do
  if [ -x "${bins[$n]}" ]; then
    names+=("$n")
  else
    echo "error: $n not found at ${bins[$n]} (build it / install it); benchmarking the others" >&2
    status=1
  fi
done
[ ${#names[@]} -gt 0 ] || exit 1

# One warm-up cycle each (page cache, first-run setup), not counted; also a smoke test.
for n in "${names[@]}"; do
  if ! wrap bash "$work/cycle.sh" "${bins[$n]}" "$work/root-$n" "$work/bundle" "warm-$n" \
      "$work/pid-$n" >/dev/null 2>"$work/err-$n"; then
    echo "error: $n failed the warm-up cycle: $(tail -n 3 "$work/err-$n")" >&2
    status=1
    names=("${names[@]/$n}")
  fi
done

declare -A samples
for ((r = 0; r < rounds; r++)); do
  for n in "${names[@]}"; do
    [ -n "$n" ] || continue
    us=$(wrap bash "$work/cycle.sh" "${bins[$n]}" "$work/root-$n" "$work/bundle" "b-$n-$r" \
      "$work/pid-$n")
    samples[$n]+="$us "
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

# Peak RSS (KiB) of each verb's process, measured once outside the timed rounds.
peak_rss() {
  local n=$1 bin=${bins[$1]} root="$work/root-$1" id="rss-$1" max=0 v verb
  for verb in create start delete; do
    case $verb in
      create) set -- create --bundle "$work/bundle" --pid-file "$work/pid-$n" "$id" ;;
      start) set -- start "$id" ;;
      delete) sleep 0.2; set -- delete --force "$id" ;;
    esac
    wrap /usr/bin/time -f '%M' -o "$work/rss" "$bin" --root "$root" "$@" </dev/null >/dev/null 2>&1 || true
    v=$(tail -n 1 "$work/rss" 2>/dev/null || echo 0)
    [[ $v =~ ^[0-9]+$ ]] || v=0
    [ "$v" -gt "$max" ] && max=$v
  done
  echo "$max"
}

declare -A med rss
printf '\n%-8s %12s %14s %12s\n' runtime "median (ms)" "peak RSS (MB)" rounds
for n in "${names[@]}"; do
  [ -n "$n" ] || continue
  med[$n]=$(echo "${samples[$n]}" | median)
  rss[$n]=$(peak_rss "$n")
  printf '%-8s %12.2f %14.1f %12d\n' "$n" "$(echo "${med[$n]} / 1000" | bc -l)" \
    "$(echo "${rss[$n]} / 1024" | bc -l)" "$rounds"
done

ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
echo
for n in "${names[@]}"; do
  [ -n "$n" ] || continue
  for ref in runc crun; do
    [ "$n" != "$ref" ] && [ -n "${med[$ref]:-}" ] || continue
    echo "$n / $ref: time x$(ratio "${med[$n]}" "${med[$ref]}"), peak RSS x$(ratio "${rss[$n]}" "${rss[$ref]}")"
  done
done
exit $status
