#!/usr/bin/env bash
# dockerd-start.sh DIR RUNTIME [NAME]
#
# Starts a private dockerd (Docker 20.10) whose data-root, exec-root, pidfile, socket and
# log live in DIR/docker, with RUNTIME registered in its own config file as the runtime NAME
# (default "nucleus") and made the default runtime. It uses the containerd of
# `containerd-start.sh DIR` (started first if it is not running; dockerd-stop.sh stops it
# again only in that case). No bridge, no iptables/ip-forward changes: containers need
# `--network none` or `--network host`. Writes DIR/docker/{daemon.json,dockerd.pid,
# dockerd.log,docker.sock,env}; `. DIR/docker/env` sets DOCKER_HOST and DOCKER_CONFIG for
# the docker CLI (use /usr/bin/docker, the Debian CLI).
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $0 DIR RUNTIME [NAME]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
base=$(realpath -m "$1")
d=$base/docker
runtime=$(realpath "$2")
name=${3:-nucleus}
[ -x "$runtime" ] || { echo "dockerd-start: $runtime is not executable" >&2; exit 1; }
mkdir -p "$d/cli"
if [ -e "$d/dockerd.pid" ] && kill -0 "$(cat "$d/dockerd.pid")" 2>/dev/null; then
  echo "dockerd-start: already running (pid $(cat "$d/dockerd.pid"))" >&2
  exit 1
fi
if ! { [ -f "$base/containerd/containerd.pid" ] && kill -0 "$(cat "$base/containerd/containerd.pid")" 2>/dev/null; }; then
  "$here/containerd-start.sh" "$base" >/dev/null
  touch "$d/started-containerd"
fi

note_cgroup_parents docker "$d/cgroup-parents-before"
jq -n --arg d "$d" --arg ctrd "$base/containerd/containerd.sock" --arg name "$name" \
  --arg rt "$runtime" '{
  "data-root": ($d + "/data"),
  "exec-root": ($d + "/exec"),
  "pidfile": ($d + "/dockerd.pid"),
  "hosts": ["unix://" + $d + "/docker.sock"],
  "containerd": $ctrd,
  "containerd-namespace": "moby",
  "containerd-plugins-namespace": "plugins.moby",
  "iptables": false,
  "ip6tables": false,
  "ip-forward": false,
  "ip-masq": false,
  "bridge": "none",
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "log-level": "warn",
  "features": { "buildkit": false },
  "runtimes": { ($name): { "path": $rt } },
  "default-runtime": $name
}' >"$d/daemon.json"

dockerd --config-file "$d/daemon.json" >"$d/dockerd.log" 2>&1 </dev/null &
pid=$!
if ! wait_for_socket "$d/docker.sock" 60 "$pid"; then
  echo "dockerd-start: no socket after 60s; log:" >&2
  tail -20 "$d/dockerd.log" >&2
  stop_pid "$pid" dockerd 5
  exit 1
fi
# dockerd writes the pidfile itself; keep ours in case it has not yet.
echo "$pid" >"$d/dockerd.pid.ours"
cat >"$d/env" <<ENV
export DOCKER_HOST=unix://$d/docker.sock
export DOCKER_CONFIG=$d/cli
ENV
echo "dockerd pid $pid, socket $d/docker.sock, runtime $name=$runtime"
