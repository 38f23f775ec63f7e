#!/usr/bin/env bash
# fixture-bundle.sh FIXTURE DIR [--keep-seccomp]
#
# Turns a captured client config (shared/fixtures/configs/FIXTURE.json, or a path) into a
# runnable bundle in DIR for manual debugging, with the same rewrites as
# integration/tests/fixtures.rs: root.path -> DIR/rootfs (busybox, via hack/mkbundle.sh),
# linux.seccomp dropped (unless --keep-seccomp), hooks whose binary is missing (and Docker's
# libnetwork-setkey hook) dropped, namespace paths that do not exist turned into fresh
# namespaces (path removed), missing bind-mount sources replaced by placeholders in
# DIR/host-files. cgroupsPath is kept: remove its cgroup dirs after use.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 FIXTURE DIR [--keep-seccomp]" >&2; exit 2; }
fixture=$1 dir=$2 keep_seccomp=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$fixture" ]; then
  fixture="${NUCLEUS_FIXTURES:-$here/../../shared/fixtures/configs}/$fixture.json"
fi
[ -f "$fixture" ] || { echo "fixture-bundle: no such fixture: $fixture" >&2; exit 1; }
"$here/mkbundle.sh" "$dir" >/dev/null
mkdir -p "$dir/host-files"

cfg=$(jq '.root.path = "rootfs"' "$fixture")
[ "$keep_seccomp" = "--keep-seccomp" ] || cfg=$(jq 'del(.linux.seccomp)' <<<"$cfg")

# Hooks: keep those whose binary exists, never libnetwork-setkey.
for kind in $(jq -r '(.hooks // {}) | keys[]' <<<"$cfg"); do
  n=$(jq --arg k "$kind" '.hooks[$k] | length' <<<"$cfg")
  for ((i = n - 1; i >= 0; i--)); do
    path=$(jq -r --arg k "$kind" --argjson i "$i" '.hooks[$k][$i].path' <<<"$cfg")
    setkey=$(jq --arg k "$kind" --argjson i "$i" '.hooks[$k][$i].args // [] | any(test("libnetwork-setkey"))' <<<"$cfg")
    if [ ! -e "$path" ] || [ "$setkey" = true ]; then
      cfg=$(jq --arg k "$kind" --argjson i "$i" 'del(.hooks[$k][$i])' <<<"$cfg")
    fi
  done
done
cfg=$(jq 'if .hooks then .hooks |= with_entries(select(.value | length > 0)) else . end' <<<"$cfg")

# Namespace paths that do not exist: a fresh namespace instead.
n=$(jq '.linux.namespaces // [] | length' <<<"$cfg")
for ((i = 0; i < n; i++)); do
  p=$(jq -r --argjson i "$i" '.linux.namespaces[$i].path // empty' <<<"$cfg")
  if [ -n "$p" ] && [ ! -e "$p" ]; then
    cfg=$(jq --argjson i "$i" 'del(.linux.namespaces[$i].path)' <<<"$cfg")
  fi
done

# Bind sources that do not exist: placeholders (directories for shm/notify, else files).
n=$(jq '.mounts // [] | length' <<<"$cfg")
for ((i = 0; i < n; i++)); do
  src=$(jq -r --argjson i "$i" '.mounts[$i].source // empty' <<<"$cfg")
  case "$src" in /*) ;; *) continue ;; esac
  [ -e "$src" ] && continue
  base=$(basename "$src")
  ph="$dir/host-files/$i-$base"
  case "$base" in shm | notify) mkdir -p "$ph" ;; *) echo "fixture $base" >"$ph" ;; esac
  cfg=$(jq --argjson i "$i" --arg s "$ph" '.mounts[$i].source = $s' <<<"$cfg")
done

printf '%s\n' "$cfg" >"$dir/config.json"
echo "$dir"
