#!/usr/bin/env bash
# podman-start.sh DIR RUNTIME
#
# podman has no daemon: this writes a private configuration in DIR/podman and an env file that
# points podman at it, so nothing under /etc/containers, /var/lib/containers or /run/libpod is
# used:
#   DIR/podman/containers.conf  runtime "nucleus" = RUNTIME, listed in runtime_supports_json
#                               (podman then passes --log-format=json --log FILE), cgroupfs
#                               cgroup manager (no systemd here), file events log, private
#                               tmp/static/volume/network dirs, the ulimits that root without
#                               CAP_SYS_RESOURCE can grant (nofile 20000, nproc 4096)
#   DIR/podman/storage.conf     overlay graphroot/runroot under DIR/podman
#   DIR/podman/env              `. DIR/podman/env` exports CONTAINERS_CONF and
#                               CONTAINERS_STORAGE_CONF
# Containers still need `--network none` (the default network would add nft rules).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR RUNTIME" >&2; exit 2; }
d=$(realpath -m "$1/podman")
runtime=$(realpath "$2")
[ -x "$runtime" ] || { echo "podman-start: $runtime is not executable" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mkdir -p "$d"/{graphroot,runroot,tmp,volumes,networks}
name=$(basename "$runtime")
note_cgroup_parents libpod_parent "$d/cgroup-parents-before"

cat >"$d/storage.conf" <<TOML
[storage]
driver = "overlay"
graphroot = "$d/graphroot"
runroot = "$d/runroot"
TOML

cat >"$d/containers.conf" <<TOML
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
netns = "none"

[network]
network_config_dir = "$d/networks"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
static_dir = "$d/graphroot/libpod"
volume_path = "$d/volumes"
runtime = "nucleus"
# podman passes --log-format=json only to runtimes whose file name is listed here.
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "nucleus", "$name"]

[engine.runtimes]
nucleus = ["$runtime"]
TOML

cat >"$d/env" <<ENV
export CONTAINERS_CONF=$d/containers.conf
export CONTAINERS_STORAGE_CONF=$d/storage.conf
ENV
echo "podman configured in $d: runtime nucleus=$runtime"
