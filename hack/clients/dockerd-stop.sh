#!/usr/bin/env bash
# dockerd-stop.sh DIR [--purge]
#
# Stops the dockerd of dockerd-start.sh DIR: removes every container (docker rm -f, which
# goes through the runtime's kill and delete), with --purge also every image, stops dockerd by
# its pid, unmounts what is left under DIR/docker, and stops containerd if dockerd-start.sh
# started it. Removes the empty `docker` parent cgroups that dockerd created.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
base=$(realpath -m "$1")
d=$base/docker
purge=${2:-}
[ -f "$d/dockerd.pid.ours" ] || { echo "dockerd-stop: no $d/dockerd.pid.ours" >&2; exit 0; }
pid=$(cat "$d/dockerd.pid.ours")
docker=/usr/bin/docker
export DOCKER_HOST=unix://$d/docker.sock DOCKER_CONFIG=$d/cli
if kill -0 "$pid" 2>/dev/null && [ -S "$d/docker.sock" ]; then
  ids=$($docker ps -aq 2>/dev/null || true)
  [ -z "$ids" ] || $docker rm -f $ids >/dev/null 2>&1 || true
  if [ "$purge" = --purge ]; then
    ids=$($docker images -aq 2>/dev/null | sort -u || true)
    [ -z "$ids" ] || $docker rmi -f $ids >/dev/null 2>&1 || true
  fi
fi
stop_pid "$pid" dockerd 20
rm -f "$d/dockerd.pid.ours"
umount_under "$d"
# dockerd's containers live in /sys/fs/cgroup/<controller>/docker/<id>; the parent stays.
remove_cgroup_parents docker "$d/cgroup-parents-before"
if [ -e "$d/started-containerd" ]; then
  rm -f "$d/started-containerd"
  "$here/containerd-stop.sh" "$base" $purge >/dev/null
fi
echo "dockerd stopped"
