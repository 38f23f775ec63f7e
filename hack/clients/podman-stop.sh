#!/usr/bin/env bash
# podman-stop.sh DIR [--purge]
#
# Removes every container of the podman set up by podman-start.sh DIR (podman rm -f: the
# runtime's kill and delete, conmon exits), with --purge also every image, then unmounts what
# is left under DIR/podman and removes podman's empty parent cgroups (libpod_parent).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
d=$(realpath -m "$1/podman")
purge=${2:-}
[ -f "$d/env" ] || { echo "podman-stop: no $d/env" >&2; exit 0; }
. "$d/env"
podman rm -af -t 0 >/dev/null 2>&1 || true
if [ "$purge" = --purge ]; then
  podman rmi -af >/dev/null 2>&1 || true
fi
umount_under "$d"
# conmon sits in libpod_parent/conmon; containers in libpod_parent/libpod-<id>.
for cg in /sys/fs/cgroup/*/libpod_parent/conmon; do rmdir_chain "$cg"; done
remove_cgroup_parents libpod_parent "$d/cgroup-parents-before"
echo "podman cleaned"
