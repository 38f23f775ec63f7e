#!/usr/bin/env bash
# lib.sh: helpers sourced by the client start/stop scripts and hack/e2e.sh.

# wait_for_socket PATH SECONDS PID: until PATH is a socket; fails early if PID died.
wait_for_socket() {
  local path=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    [ -S "$path" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# stop_pid PID NAME [SECONDS]: SIGTERM, wait for the process to go, SIGKILL after SECONDS
# (default 15). Only the given pid is signalled.
stop_pid() {
  local pid=$1 name=$2 secs=${3:-15} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    # A zombie child of ours counts as gone once reaped; wait only works for our children.
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "$name (pid $pid) ignored SIGTERM for ${secs}s: SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# rmdir_chain DIR...: remove each DIR if it is empty (deepest first is the caller's job).
rmdir_chain() {
  local d
  for d in "$@"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
}

# A client's containers sit in parent cgroups that the runtime creates on the way to the leaf
# (containerd namespace "default", dockerd "docker", podman "libpod_parent") and that nobody
# removes. note_cgroup_parents NAME FILE records which /sys/fs/cgroup/*/NAME exist before the
# client starts; remove_cgroup_parents NAME FILE later removes the others if they are empty.
note_cgroup_parents() {
  local name=$1 file=$2 cg
  : >"$file"
  for cg in /sys/fs/cgroup/*/"$name"; do [ -d "$cg" ] && echo "$cg" >>"$file"; done
  return 0
}
remove_cgroup_parents() {
  local name=$1 file=$2 cg
  for cg in /sys/fs/cgroup/*/"$name"; do
    [ -d "$cg" ] || continue
    [ -f "$file" ] && grep -qxF "$cg" "$file" && continue
    rmdir "$cg" 2>/dev/null || echo "cgroup $cg is not empty: left in place" >&2
  done
  return 0
}

# umount_under DIR: unmount every mount point at or below DIR, deepest first.
umount_under() {
  local dir=$1 m
  dir=$(realpath -m "$dir")
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
