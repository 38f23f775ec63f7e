#!/usr/bin/env bash
# containerd-start.sh DIR [RUNTIME]
#
# Starts a private containerd 1.6 whose root, state, sockets and log all live in DIR/containerd
# (nothing under /etc, /var/lib/containerd or /run/containerd except what containerd hardcodes:
# shim sockets in /run/containerd/s, and the runc shim's default runtime root
# /run/containerd/runc when a client gives none). Writes:
#   DIR/containerd/config.toml, containerd.pid, containerd.log, containerd.sock, env
# `. DIR/containerd/env` sets CONTAINERD_ADDRESS for ctr.
#
# With RUNTIME, the config also registers it as the CRI runtime handler "nucleus" through the
# runc shim option BinaryName (the Kubernetes way) and enables the CRI plugin; without it the
# CRI plugin is disabled (ctr and dockerd do not need it and it starts faster).
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [RUNTIME]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
d=$(realpath -m "$1/containerd")
runtime=${2:-}
mkdir -p "$d"
if [ -e "$d/containerd.pid" ] && kill -0 "$(cat "$d/containerd.pid")" 2>/dev/null; then
  echo "containerd-start: already running (pid $(cat "$d/containerd.pid"))" >&2
  exit 1
fi
# Remember whether /run/containerd existed, so containerd-stop.sh removes only what we made.
[ -e /run/containerd ] || touch "$d/made-run-containerd"
note_cgroup_parents default "$d/cgroup-parents-before"

{
  echo 'version = 2'
  echo "root = \"$d/root\""
  echo "state = \"$d/state\""
  echo 'oom_score = 0'
  if [ -z "$runtime" ]; then
    echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
  fi
  echo '[grpc]'
  echo "  address = \"$d/containerd.sock\""
  echo '[ttrpc]'
  echo "  address = \"$d/containerd.sock.ttrpc\""
  echo '[debug]'
  echo '  level = "info"'
  if [ -n "$runtime" ]; then
    cat <<TOML
[plugins."io.containerd.grpc.v1.cri"]
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$d/cni-bin"
    conf_dir = "$d/cni-conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    # Listing runtimes replaces containerd's built-in table: keep runc as the default handler.
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nucleus]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nucleus.options]
        BinaryName = "$runtime"
        Root = "$d/runtime-root"
TOML
  fi
} >"$d/config.toml"

containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$d/containerd.pid"
if ! wait_for_socket "$d/containerd.sock" 30 "$pid"; then
  echo "containerd-start: no socket after 30s; log:" >&2
  tail -20 "$d/containerd.log" >&2
  stop_pid "$pid" containerd 5
  exit 1
fi
echo "export CONTAINERD_ADDRESS=$d/containerd.sock" >"$d/env"
echo "containerd pid $pid, socket $d/containerd.sock"
