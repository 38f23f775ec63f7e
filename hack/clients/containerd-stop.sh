#!/usr/bin/env bash
# containerd-stop.sh DIR [--purge]
#
# Stops the containerd started by containerd-start.sh DIR: kills and deletes every task and
# container in every namespace (through ctr, so the shim calls the runtime's kill/delete),
# removes images and snapshots with --purge, stops the daemon by its pid, unmounts anything
# left under DIR/containerd, and removes the empty /run/containerd dirs that it made.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
d=$(realpath -m "$1/containerd")
purge=${2:-}
[ -f "$d/containerd.pid" ] || { echo "containerd-stop: no $d/containerd.pid" >&2; exit 0; }
pid=$(cat "$d/containerd.pid")
export CONTAINERD_ADDRESS=$d/containerd.sock

if kill -0 "$pid" 2>/dev/null && [ -S "$CONTAINERD_ADDRESS" ]; then
  for ns in $(ctr namespaces ls -q 2>/dev/null); do
    for t in $(ctr -n "$ns" tasks ls -q 2>/dev/null); do
      ctr -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true
      ctr -n "$ns" tasks delete -f "$t" >/dev/null 2>&1 || true
    done
    for c in $(ctr -n "$ns" containers ls -q 2>/dev/null); do
      ctr -n "$ns" containers delete "$c" >/dev/null 2>&1 || true
    done
    if [ "$purge" = --purge ]; then
      for i in $(ctr -n "$ns" images ls -q 2>/dev/null); do
        ctr -n "$ns" images rm --sync "$i" >/dev/null 2>&1 || true
      done
    fi
  done
fi
stop_pid "$pid" containerd 15
rm -f "$d/containerd.pid"
umount_under "$d"
remove_cgroup_parents default "$d/cgroup-parents-before"
if [ -e "$d/made-run-containerd" ]; then
  rmdir_chain /run/containerd/s /run/containerd/fifo /run/containerd/runc/default /run/containerd/runc/moby \
    /run/containerd/runc /run/containerd
  rm -f "$d/made-run-containerd"
fi
echo "containerd stopped"
