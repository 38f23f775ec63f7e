#!/usr/bin/env bash
# e2e.sh [--runtime PATH] [--clients LIST] [--keep]
#
# End-to-end: containerd (ctr), Docker and podman run busybox containers on the runtime at
# PATH (default $NUCLEUS_BIN, else target/release/nucleus). Validate the suite itself with
# `--runtime /usr/sbin/runc`. LIST is a comma list of containerd,docker,podman (default all).
# Prints one `PASS name` / `FAIL name: why` line per check and ends with `N passed, N failed`;
# exits 1 if anything failed. Needs root and the clients (hack/clients/install-all.sh).
#
# Everything lives in a fresh temp dir (daemon state, sockets, configs, images); the daemons
# are started by hack/clients/*-start.sh and stopped by their pids. At the end the suite checks
# that no daemon, shim, conmon, container process, cgroup, mount, netns or runtime state is
# left behind (`--keep` keeps the temp dir for debugging, after the daemons are stopped).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
clients_dir=$here/clients
runtime=${NUCLEUS_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/nucleus}
clients=containerd,docker,podman
keep=
while [ $# -gt 0 ]; do
  case $1 in
    --runtime) runtime=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "e2e: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "e2e: needs root" >&2; exit 2; }
runtime=$(realpath "$runtime" 2>/dev/null) && [ -x "$runtime" ] ||
  { echo "e2e: no runtime at ${runtime:-?} (build it, or pass --runtime PATH)" >&2; exit 2; }
has_client() { case ",$clients," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

. "$clients_dir/lib.sh"
started=$(date +%s)
tmp=$(mktemp -d /tmp/nucleus-e2e.XXXXXX)
chmod 755 "$tmp"
out=$tmp/out
mkdir -p "$out"
IMAGE=docker.io/library/nucleus-busybox:1
DOCKER=/usr/bin/docker # the Debian CLI (another `docker` may be first in PATH)
npass=0 nfail=0
failed_names=()

echo "e2e: runtime $runtime ($("$runtime" --version 2>/dev/null | head -1)), clients $clients, dir $tmp"

# ---------------------------------------------------------------- reporting
pass() { echo "PASS $1"; npass=$((npass + 1)); }
fail() {
  echo "FAIL $1: $2"
  nfail=$((nfail + 1))
  failed_names+=("$1")
  if [ -n "${3:-}" ] && [ -s "$3" ]; then sed 's/^/    | /' "$3" | tail -n 15; fi
}

# run FILE CMD...: CMD with a 60 s timeout, stdout+stderr to FILE; returns CMD's status.
# `run FILE tty_run CMD...` runs CMD under a pseudo-terminal (util-linux script, which
# returns CMD's status), for the -t scenarios.
run() {
  local file=$1; shift
  if [ "$1" = tty_run ]; then
    shift
    set -- script -qefc "$(printf '%q ' "$@")" /dev/null
  fi
  timeout -k 5 60 "$@" >"$file" 2>&1 </dev/null
}

# check NAME WANT_RC REGEX CMD...: runs CMD; passes when its status is WANT_RC ("nz" = any
# non-zero) and its combined output matches the extended REGEX ("" = anything).
check() {
  local name=$1 want=$2 re=$3; shift 3
  local f=$out/$name.log rc=0
  run "$f" "$@" || rc=$?
  if [ "$want" = nz ]; then
    [ "$rc" -ne 0 ] || { fail "$name" "exit 0, wanted non-zero" "$f"; return 1; }
  elif [ "$rc" != "$want" ]; then
    fail "$name" "exit $rc, wanted $want" "$f"; return 1
  fi
  if [ -n "$re" ] && ! grep -Eq -- "$re" "$f"; then
    fail "$name" "output does not match /$re/" "$f"; return 1
  fi
  pass "$name"
}

# check_split NAME CMD...: CMD must print exactly "out" on stdout, "err" on stderr, exit 7.
check_split() {
  local name=$1; shift
  local rc=0
  timeout -k 5 60 "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || rc=$?
  cat "$out/$name.stdout" "$out/$name.stderr" >"$out/$name.log"
  if [ "$rc" != 7 ]; then fail "$name" "exit $rc, wanted 7" "$out/$name.log"
  elif [ "$(cat "$out/$name.stdout")" != out ]; then fail "$name" "stdout is not 'out'" "$out/$name.log"
  elif ! grep -qx err "$out/$name.stderr"; then fail "$name" "stderr has no 'err' line" "$out/$name.log"
  else pass "$name"; fi
}

# cgroup_file PID CONTROLLER FILE: path of FILE in PID's v1 cgroup of CONTROLLER.
cgroup_file() {
  local p
  p=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
  echo "/sys/fs/cgroup/$2$p/$3"
}

# check_value NAME FILE WANT: FILE's content is WANT.
check_value() {
  local got
  got=$(cat "$2" 2>&1)
  if [ "$got" = "$3" ]; then pass "$1"; else echo "$2: $got" >"$out/$1.log"; fail "$1" "$2 is '$got', wanted '$3'" "$out/$1.log"; fi
}

# wait_until SECONDS CMD...: until CMD succeeds (polled every 0.1 s).
wait_until() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# The container command for stop tests: says it started, exits 3 on SIGTERM.
TRAP_CMD='echo started; trap "echo got-term; exit 3" TERM; while :; do sleep 0.2; done'
# A memory hog: dd's 128 MiB buffer is filled from /dev/zero; the OOM killer ends it in a
# 32 MiB cgroup (dd=137), and it completes without a limit (dd=0).
HOG_CMD='dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo dd=$?'
# 20 background sleeps: with a pids limit of 10 the shell reports "can't fork" and exits 2.
FORK_CMD='i=0; while [ $i -lt 20 ]; do sleep 2 & i=$((i+1)); done; echo loop-done; wait'
# NET_ADMIN: adding an address; CHOWN: giving a file away.
CAPS_CMD='ip addr add 10.9.9.9/32 dev lo 2>/dev/null; a=$?; touch /tmp/f; chown 1000 /tmp/f 2>/dev/null; echo ip=$a chown=$?'

# ---------------------------------------------------------------- leak snapshot
snapshot() {
  local f=$1
  {
    echo "## netns"; ip netns list 2>/dev/null | awk '{print $1}' | sort
    echo "## mounts"; awk '{print $5}' /proc/self/mountinfo | sort
    echo "## cgroups"
    find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d 2>/dev/null |
      grep -E '/(docker|default|moby|libpod_parent|k8s\.io|e2e-[^/]*)(/|$)' | sort
  } >"$f"
}

build_image() {
  if ! "$repo/hack/oci-image.sh" "$tmp/image.tar" "$IMAGE" >"$out/image.log" 2>&1; then
    fail image-build "hack/oci-image.sh failed" "$out/image.log"
    return 1
  fi
  pass image-build
}

# ======================================================================== containerd (ctr)
ctr_state_running() { "$runtime" --root /run/containerd/runc/default state "$1" 2>/dev/null | grep -q '"status": *"running"'; }

ctr_suite() {
  # With the runtime given, the config also carries the CRI runtime handler "nucleus" (runc
  # shim option BinaryName), as docs/CLIENTS.md shows for Kubernetes.
  if ! "$clients_dir/containerd-start.sh" "$tmp" "$runtime" >"$out/containerd-start.log" 2>&1; then
    fail ctr-daemon "containerd-start.sh failed" "$out/containerd-start.log"; return
  fi
  pass ctr-daemon
  export CONTAINERD_ADDRESS=$tmp/containerd/containerd.sock
  # No CRI client here (no crictl/kubelet): check that containerd accepts the handler config.
  check ctr-cri-plugin-loaded 0 '^io\.containerd\.grpc\.v1 +cri .* ok' ctr plugins ls
  check ctr-cri-handler-binaryname 0 "BinaryName = \"$runtime\"" \
    containerd --config "$tmp/containerd/config.toml" config dump
  check ctr-import 0 "nucleus-busybox" ctr images import "$tmp/image.tar" || return
  local R=(ctr run --rm --runc-binary "$runtime")

  check_split ctr-run-exit-code "${R[@]}" "$IMAGE" e2e-ctr-split sh -c 'echo out; echo err >&2; exit 7'
  check ctr-run-tty 0 '/dev/pts/[0-9]+' tty_run "${R[@]}" -t "$IMAGE" e2e-ctr-tty tty
  check ctr-run-missing-binary nz 'nonexistent' "${R[@]}" "$IMAGE" e2e-ctr-missing /nonexistent
  check ctr-read-only 0 'touch=1' "${R[@]}" --read-only "$IMAGE" e2e-ctr-ro sh -c 'touch /x; echo touch=$?'
  check ctr-caps-default 0 'ip=2.*chown=0' "${R[@]}" "$IMAGE" e2e-ctr-caps0 sh -c "$CAPS_CMD"
  check ctr-cap-add-drop 0 'ip=0.*chown=1' "${R[@]}" --cap-add CAP_NET_ADMIN --cap-drop CAP_CHOWN \
    "$IMAGE" e2e-ctr-caps1 sh -c "$CAPS_CMD"
  check ctr-seccomp-unshare-denied 0 'unshare=1' "${R[@]}" --seccomp "$IMAGE" e2e-ctr-sec \
    sh -c 'unshare -U true; echo unshare=$?'
  check ctr-no-seccomp-unshare-allowed 0 'unshare=0' "${R[@]}" "$IMAGE" e2e-ctr-nosec \
    sh -c 'unshare -U true; echo unshare=$?'
  check ctr-memory-limit-oom 0 'dd=137' "${R[@]}" --memory-limit 33554432 "$IMAGE" e2e-ctr-mem sh -c "$HOG_CMD"
  check ctr-memory-unlimited 0 'dd=0' "${R[@]}" "$IMAGE" e2e-ctr-nomem sh -c "$HOG_CMD"

  # Detached, with a log file; then exec, metrics, pause/resume, stop (SIGTERM), delete.
  local id=e2e-ctr-detached log=$tmp/ctr-detached.log
  if check ctr-run-detached 0 "" ctr run -d --runc-binary "$runtime" --memory-limit 67108864 \
    --log-uri "file://$log" "$IMAGE" "$id" sh -c "$TRAP_CMD"; then
    if wait_until 10 grep -q started "$log"; then pass ctr-detached-logs; else cp "$log" "$out/ctr-detached-logs.log" 2>/dev/null; fail ctr-detached-logs "no 'started' in $log" "$out/ctr-detached-logs.log"; fi
    if ctr_state_running "$id"; then pass ctr-runtime-state; else fail ctr-runtime-state "$runtime --root /run/containerd/runc/default state $id: not running"; fi
    local pid
    pid=$(ctr task ls | awk -v id="$id" '$1 == id {print $2}')
    check ctr-exec 4 '^exec-hi' ctr task exec --exec-id e1 "$id" sh -c 'echo exec-hi; exit 4'
    check ctr-exec-tty 0 '/dev/pts/[0-9]+' tty_run ctr task exec -t --exec-id e2 "$id" tty
    check ctr-task-ps 0 "$pid" ctr task ps "$id"
    check ctr-task-metrics 0 'memory.limit_in_bytes +67108864' ctr task metrics "$id"
    if check ctr-pause 0 "" ctr task pause "$id"; then
      check ctr-paused-status 0 "$id +$pid +PAUSED" ctr task ls
      check_value ctr-paused-frozen "$(cgroup_file "$pid" freezer freezer.state)" FROZEN
      check ctr-resume 0 "" ctr task resume "$id"
      check_value ctr-resumed-thawed "$(cgroup_file "$pid" freezer freezer.state)" THAWED
    fi
    check ctr-stop-sigterm 0 "" ctr task kill "$id"
    if wait_until 15 sh -c "ctr task ls | grep -Eq '^$id +[0-9]+ +STOPPED'"; then pass ctr-stopped; else fail ctr-stopped "task did not stop after SIGTERM"; fi
    grep -q got-term "$log" && pass ctr-stop-trap-ran || fail ctr-stop-trap-ran "no 'got-term' in the log"
    check ctr-delete-exit-3 0 'exit code 3' ctr task delete "$id"
    check ctr-container-rm 0 "" ctr containers rm "$id"
  fi

  # kill -9 then delete.
  id=e2e-ctr-kill
  if check ctr-run-detached-2 0 "" ctr run -d --runc-binary "$runtime" "$IMAGE" "$id" sleep 100; then
    check ctr-kill-9 0 "" ctr task kill -s SIGKILL "$id"
    wait_until 15 sh -c "ctr task ls | grep -Eq '^$id +[0-9]+ +STOPPED'" || true
    check ctr-delete-exit-137 0 'exit code 137' ctr task delete "$id"
    check ctr-container-rm-2 0 "" ctr containers rm "$id"
  fi
  check ctr-nothing-left 0 "" sh -c '[ -z "$(ctr task ls -q)$(ctr containers ls -q)" ]'
  unset CONTAINERD_ADDRESS
}

# ======================================================================== docker
docker_suite() {
  if ! "$clients_dir/dockerd-start.sh" "$tmp" "$runtime" nucleus >"$out/dockerd-start.log" 2>&1; then
    fail docker-daemon "dockerd-start.sh failed" "$out/dockerd-start.log"; return
  fi
  pass docker-daemon
  export DOCKER_HOST=unix://$tmp/docker/docker.sock DOCKER_CONFIG=$tmp/docker/cli
  # dockerd 20.10 gives the runc shim Root=<exec-root>/runtime-runc for every runtime;
  # the glob finds it whatever the name.
  local D=$DOCKER rtroot
  check docker-load 0 'nucleus-busybox:1' $D load -i "$tmp/image.tar" || return
  local R=($D run --rm --runtime nucleus --network none)
  local I=nucleus-busybox:1

  check_split docker-run-exit-code "${R[@]}" $I sh -c 'echo out; echo err >&2; exit 7'
  check docker-run-tty 0 '^/dev/pts/[0-9]+' tty_run "${R[@]}" -t $I tty
  check docker-run-missing-binary 127 'nonexistent' "${R[@]}" $I /nonexistent
  check docker-read-only 0 'touch=1' "${R[@]}" --read-only $I sh -c 'touch /x; echo touch=$?'
  check docker-caps-default 0 'ip=2.*chown=0' "${R[@]}" $I sh -c "$CAPS_CMD"
  check docker-cap-add-drop 0 'ip=0.*chown=1' "${R[@]}" --cap-add NET_ADMIN --cap-drop CHOWN $I sh -c "$CAPS_CMD"
  check docker-seccomp-unshare-denied 0 'unshare=1' "${R[@]}" $I sh -c 'unshare -U true; echo unshare=$?'
  check docker-unconfined-unshare-allowed 0 'unshare=0' "${R[@]}" --security-opt seccomp=unconfined $I \
    sh -c 'unshare -U true; echo unshare=$?'
  check docker-memory-limit-oom 0 'dd=137' "${R[@]}" -m 32m $I sh -c "$HOG_CMD"
  check docker-memory-unlimited 0 'dd=0' "${R[@]}" $I sh -c "$HOG_CMD"
  check docker-pids-limit 2 "can't fork" "${R[@]}" --pids-limit 10 $I sh -c "$FORK_CMD"

  local id=e2e-docker-detached pid
  if check docker-run-detached 0 "" $D run -d --runtime nucleus --network none --name $id -m 64m $I sh -c "$TRAP_CMD"; then
    if wait_until 10 sh -c "$D logs $id 2>&1 | grep -q started"; then pass docker-logs; else fail docker-logs "no 'started' in docker logs"; fi
    local full
    full=$($D inspect -f '{{.Id}}' $id)
    rtroot=$(dirname "$(ls -d "$tmp"/docker/exec/runtime-*/moby/"$full" 2>/dev/null | head -1)")
    check docker-inspect-runtime 0 '^nucleus$' $D inspect -f '{{.HostConfig.Runtime}}' $id
    check docker-runtime-state 0 '"status": *"running"' "$runtime" --root "$rtroot" state "$full"
    pid=$($D inspect -f '{{.State.Pid}}' $id)
    check docker-exec 4 '^exec-hi' $D exec $id sh -c 'echo exec-hi; exit 4'
    check docker-exec-user-env-workdir 0 'uid=1000.*bar /tmp' $D exec -u 1000:1000 -e FOO=bar -w /tmp $id \
      sh -c 'echo $(id) $FOO $(pwd)'
    check docker-exec-tty 0 '/dev/pts/[0-9]+' tty_run $D exec -t $id tty
    check docker-top 0 'while' $D top $id
    check docker-stats 0 '^[0-9.]+[KMG]iB / 64MiB [0-9]+$' $D stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' $id
    if check docker-update 0 "" $D update -m 128m --memory-swap 256m --pids-limit 60 $id; then
      check_value docker-update-memory "$(cgroup_file "$pid" memory memory.limit_in_bytes)" 134217728
      check_value docker-update-pids "$(cgroup_file "$pid" pids pids.max)" 60
    fi
    if check docker-pause 0 "" $D pause $id; then
      check docker-paused-state 0 '^paused true$' $D inspect -f '{{.State.Status}} {{.State.Paused}}' $id
      check_value docker-paused-frozen "$(cgroup_file "$pid" freezer freezer.state)" FROZEN
      check docker-unpause 0 "" $D unpause $id
      check_value docker-unpaused-thawed "$(cgroup_file "$pid" freezer freezer.state)" THAWED
    fi
    check docker-stop 0 "" $D stop -t 10 $id
    check docker-stop-exit-3 0 '^3 exited$' $D inspect -f '{{.State.ExitCode}} {{.State.Status}}' $id
    check docker-stop-trap-ran 0 'got-term' $D logs $id
    check docker-rm 0 "" $D rm $id
  fi
  id=e2e-docker-kill
  if check docker-run-detached-2 0 "" $D run -d --runtime nucleus --network none --name $id $I sleep 100; then
    check docker-kill 0 "" $D kill $id
    wait_until 15 sh -c "$D inspect -f '{{.State.Status}}' $id | grep -qx exited" || true
    check docker-kill-exit-137 0 '^137 exited$' $D inspect -f '{{.State.ExitCode}} {{.State.Status}}' $id
    check docker-rm-2 0 "" $D rm $id
  fi
  check docker-rm-force-running 0 "" sh -c "$D run -d --runtime nucleus --network none --name e2e-docker-rmf $I sleep 100 >/dev/null && $D rm -f e2e-docker-rmf"
  check docker-nothing-left 0 "" sh -c "[ -z \"\$($D ps -aq)\" ] && [ -z \"\$(ls -A $tmp/docker/exec/runtime-*/moby 2>/dev/null)\" ]"
  unset DOCKER_HOST DOCKER_CONFIG
}

# ======================================================================== podman
podman_suite() {
  if ! "$clients_dir/podman-start.sh" "$tmp" "$runtime" >"$out/podman-start.log" 2>&1; then
    fail podman-config "podman-start.sh failed" "$out/podman-start.log"; return
  fi
  pass podman-config
  . "$tmp/podman/env"
  local P=(podman --runtime "$runtime") I=$IMAGE
  # --ulimit: podman's defaults need CAP_SYS_RESOURCE, which root lacks here (see HOST-NOTES).
  local U=(--network none --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
  local R=("${P[@]}" run --rm "${U[@]}")
  check podman-load 0 'nucleus-busybox:1' "${P[@]}" load -i "$tmp/image.tar" || return

  check_split podman-run-exit-code "${R[@]}" $I sh -c 'echo out; echo err >&2; exit 7'
  check podman-run-tty 0 '^/dev/pts/[0-9]+' tty_run "${R[@]}" -t $I tty
  check podman-run-missing-binary 127 'nonexistent' "${R[@]}" $I /nonexistent
  check podman-read-only 0 'touch=1' "${R[@]}" --read-only $I sh -c 'touch /x; echo touch=$?'
  check podman-caps-default 0 'ip=2.*chown=0' "${R[@]}" $I sh -c "$CAPS_CMD"
  check podman-cap-add-drop 0 'ip=0.*chown=1' "${R[@]}" --cap-add NET_ADMIN --cap-drop CHOWN $I sh -c "$CAPS_CMD"
  # podman's default profile (containers-common) allows unshare but not sethostname: in a
  # user+uts namespace of its own the container may set a hostname only without seccomp.
  check podman-seccomp-sethostname-denied 0 'hostname=1' "${R[@]}" $I \
    sh -c 'unshare -U -u -r hostname x; echo hostname=$?'
  check podman-unconfined-sethostname-allowed 0 'hostname=0' "${R[@]}" --security-opt seccomp=unconfined $I \
    sh -c 'unshare -U -u -r hostname x; echo hostname=$?'
  check podman-memory-limit-oom 0 'dd=137' "${R[@]}" -m 32m $I sh -c "$HOG_CMD"
  check podman-memory-unlimited 0 'dd=0' "${R[@]}" $I sh -c "$HOG_CMD"
  check podman-pids-limit 2 "can't fork" "${R[@]}" --pids-limit 10 $I sh -c "$FORK_CMD"

  local id=e2e-podman-detached pid full
  if check podman-run-detached 0 "" "${P[@]}" run -d "${U[@]}" --name $id -m 64m $I sh -c "$TRAP_CMD"; then
    if wait_until 10 sh -c "podman logs $id 2>&1 | grep -q started"; then pass podman-logs; else fail podman-logs "no 'started' in podman logs"; fi
    full=$(podman inspect -f '{{.Id}}' $id)
    check podman-inspect-runtime 0 "^$runtime\$" podman inspect -f '{{.OCIRuntime}}' $id
    check podman-runtime-state 0 '"status": *"running"' "$runtime" state "$full"
    pid=$(podman inspect -f '{{.State.Pid}}' $id)
    # runtime_supports_json lists the runtime: conmon passed --log-format=json --log oci-log.
    check podman-json-log-flag 0 '--log-format=json' sh -c "tr '\\0' ' ' </proc/\$(podman inspect -f '{{.State.ConmonPid}}' $id)/cmdline"
    check podman-exec 4 '^exec-hi' "${P[@]}" exec $id sh -c 'echo exec-hi; exit 4'
    check podman-exec-user-env-workdir 0 'uid=1000.*bar /tmp' "${P[@]}" exec -u 1000:1000 -e FOO=bar -w /tmp $id \
      sh -c 'echo $(id) $FOO $(pwd)'
    check podman-exec-tty 0 '/dev/pts/[0-9]+' tty_run "${P[@]}" exec -t $id tty
    check podman-exec-detached 0 '^[0-9a-f]{64}$' "${P[@]}" exec -d $id sleep 1
    check podman-stats 0 '/ 67.11MB [0-9]+$' "${P[@]}" stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' $id
    if check podman-pause 0 "" "${P[@]}" pause $id; then
      check podman-paused-state 0 '^paused$' podman inspect -f '{{.State.Status}}' $id
      check_value podman-paused-frozen "$(cgroup_file "$pid" freezer freezer.state)" FROZEN
      check podman-unpause 0 "" "${P[@]}" unpause $id
      check_value podman-unpaused-thawed "$(cgroup_file "$pid" freezer freezer.state)" THAWED
    fi
    check podman-stop 0 "" "${P[@]}" stop -t 10 $id
    check podman-stop-exit-3 0 '^3 exited$' podman inspect -f '{{.State.ExitCode}} {{.State.Status}}' $id
    check podman-stop-trap-ran 0 'got-term' podman logs $id
    check podman-rm 0 "" "${P[@]}" rm $id
  fi
  id=e2e-podman-kill
  if check podman-run-detached-2 0 "" "${P[@]}" run -d "${U[@]}" --name $id $I sleep 100; then
    check podman-kill 0 "" "${P[@]}" kill $id
    wait_until 15 sh -c "podman inspect -f '{{.State.Status}}' $id | grep -qx exited" || true
    check podman-kill-exit-137 0 '^137 exited$' podman inspect -f '{{.State.ExitCode}} {{.State.Status}}' $id
    check podman-rm-2 0 "" "${P[@]}" rm $id
  fi
  check podman-rm-force-running 0 "" sh -c "$(printf '%q ' "${P[@]}") run -d $(printf '%q ' "${U[@]}") --name e2e-podman-rmf $I sleep 100 >/dev/null && $(printf '%q ' "${P[@]}") rm -f -t 0 e2e-podman-rmf"
  # The runtime by its containers.conf name.
  if check podman-runtime-by-name 0 '^[0-9a-f]{64}$' podman --runtime nucleus run -d "${U[@]}" --name e2e-podman-byname $I sleep 100; then
    check podman-runtime-by-name-state 0 '"status": *"running"' "$runtime" state "$(podman inspect -f '{{.Id}}' e2e-podman-byname)"
    check podman-rm-f-by-name 0 "" podman rm -f -t 0 e2e-podman-byname
  fi
  check podman-nothing-left 0 "" sh -c '[ -z "$(podman ps -aq)" ]'
  podman_ids=$(ls "$tmp/podman/graphroot/overlay-containers" 2>/dev/null || true)
  unset CONTAINERS_CONF CONTAINERS_STORAGE_CONF
}

# ---------------------------------------------------------------- teardown and leak checks
teardown() {
  [ -f "$tmp/podman/env" ] && "$clients_dir/podman-stop.sh" "$tmp" --purge >>"$out/stop.log" 2>&1
  [ -f "$tmp/docker/dockerd.pid.ours" ] && "$clients_dir/dockerd-stop.sh" "$tmp" --purge >>"$out/stop.log" 2>&1
  [ -f "$tmp/containerd/containerd.pid" ] && "$clients_dir/containerd-stop.sh" "$tmp" --purge >>"$out/stop.log" 2>&1
  return 0
}

leak_checks() {
  local f=$out/leaks.log
  # Daemons and their helpers: any process that still names our temp dir (containerd, dockerd,
  # shims, conmon) or runs in one of the clients' cgroups.
  local procs
  local p c procs=
  for p in /proc/[0-9]*; do
    { c=$(tr '\0' ' ' <"$p/cmdline"); } 2>/dev/null || continue
    case $c in *"$tmp"*) procs="$procs ${p#/proc/}" ;; esac
  done
  if [ -z "$procs" ]; then pass no-daemon-left; else
    ps -o pid,ppid,stat,args -p "$(echo $procs | tr ' ' ,)" >"$f" 2>&1; fail no-daemon-left "processes still running" "$f"
  fi
  snapshot "$out/after.snap"
  local section
  for section in netns mounts cgroups; do
    diff <(sed -n "/^## $section/,/^## /p" "$out/before.snap" | grep -v '^##') \
      <(sed -n "/^## $section/,/^## /p" "$out/after.snap" | grep -v '^##') | grep '^>' >"$f.$section" || true
    if [ "$section" = mounts ]; then
      # Only mounts of ours: under the temp dir, the clients' run dirs, or netns files.
      grep -E "$tmp|/run/(containerd|docker|netns|libpod|runc|nucleus)|/var/run" "$f.$section" >"$f.tmp" || true
      mv "$f.tmp" "$f.$section"
    fi
    if [ -s "$f.$section" ]; then fail "no-$section-left" "new $section after the run" "$f.$section"; else pass "no-$section-left"; fi
  done
  # Runtime state: containerd's default runtime root and (podman) the runtime's default root.
  local left
  left=$(ls -A /run/containerd/runc/default 2>/dev/null || true)
  for id in ${podman_ids:-}; do
    [ -e "/run/$(basename "$runtime")/$id" ] && left="$left /run/$(basename "$runtime")/$id"
  done
  if [ -z "$left" ]; then pass no-runtime-state-left; else echo "$left" >"$f"; fail no-runtime-state-left "state dirs left" "$f"; fi
}

snapshot "$out/before.snap"
podman_ids=
trap 'teardown; echo "e2e: interrupted" >&2; exit 130' INT TERM
if build_image; then
  has_client containerd && ctr_suite
  has_client docker && docker_suite
  has_client podman && podman_suite
fi
teardown
trap - INT TERM
leak_checks
secs=$(($(date +%s) - started))
if [ -n "$keep" ]; then
  echo "e2e: kept $tmp"
else
  umount_under "$tmp"
  rm -rf "$tmp"
fi
[ $nfail -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "e2e took ${secs}s"
echo "$npass passed, $nfail failed"
[ $nfail -eq 0 ]
