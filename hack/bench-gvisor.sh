#!/usr/bin/env bash
# bench-gvisor.sh [ROUNDS]
#
# Lifecycle cost (create + start + wait + delete, as one foreground `run`) of /bin/true for:
#   nucleus        native container
#   nucleus+gvisor the same bundle with run.oci.handler=gvisor (nucleus hands it to runsc)
#   runsc          `runsc --network=none run` called directly
# Rounds are interleaved so that drift hits all three alike. Prints the median and mean in ms.
# Env: NUCLEUS_BIN (default target/release/nucleus), RUNSC (default runsc on PATH).
set -euo pipefail
rounds=${1:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
nucleus=${NUCLEUS_BIN:-$here/target/release/nucleus}
runsc=${RUNSC:-$(command -v runsc)}
work=$(mktemp -d /tmp/bench-gvisor.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$here/hack/mkbundle.sh" "$work/native" -- /bin/true >/dev/null
mkdir "$work/gvisor"
cp -a "$work/native/rootfs" "$work/gvisor/rootfs"
jq '.annotations["run.oci.handler"] = "gvisor"' "$work/native/config.json" >"$work/gvisor/config.json"

now() { date +%s%N; }
declare -A times
one() { # name cmd...
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$@" </dev/null >/dev/null 2>"$work/err" || { echo "$name failed: $(cat "$work/err")" >&2; exit 1; }
  t1=$(now)
  times[$name]+="$(( (t1 - t0) / 1000 )) "
}
for i in $(seq "$rounds"); do
  one nucleus "$nucleus" --root "$work/root-n" run --bundle "$work/native" "bn-$i"
  one nucleus+gvisor "$nucleus" --root "$work/root-g" --runsc "$runsc" run --bundle "$work/gvisor" "bg-$i"
  one runsc "$runsc" --root "$work/root-r" --network=none run -bundle "$work/native" "br-$i"
done
printf '%-16s %10s %10s  (%s rounds, /bin/true, create+start+wait+delete)\n' runtime median_ms mean_ms "$rounds"
for name in nucleus nucleus+gvisor runsc; do
  # shellcheck disable=SC2086
  printf '%s\n' ${times[$name]} | sort -n | awk -v n="$name" '
    { v[NR] = $1; s += $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          printf "%-16s %10.1f %10.1f\n", n, m / 1000, s / NR / 1000 }'
done
