#!/bin/sh
# Runs INSIDE the QEMU cgroup-v2 guest (see test-nucleus.sh): the real nucleus binary on real
# bundles under /b, checking the cgroup v2 files and the kernel's enforcement. Prints one
# "ok - NAME" or "not ok - NAME: why" line per check and exits 1 if any check failed.
N="nucleus --root /run/nt"
CG=/sys/fs/cgroup
FAILS=0; PASSES=0
ok() { echo "ok - $1"; PASSES=$((PASSES + 1)); }
bad() { echo "not ok - $1: $2"; FAILS=$((FAILS + 1)); }
# eq NAME WANT GOT
eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "want '$2', got '$3'"; fi; }
status() { $N state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
# wait_for CMD...: poll up to 20 s (a hang guard, not a timing assertion).
wait_for() { i=0; while ! "$@" 2>/dev/null; do i=$((i + 1)); [ $i -gt 2000 ] && return 1; usleep 10000; done; }
is_status() { [ "$(status "$1")" = "$2" ]; }
gone() { [ ! -e "$CG/$1" ]; }
cleanup() { $N delete --force "$1" >/dev/null 2>&1; wait_for gone "$1" && ok "$1: cgroup removed" || bad "$1: cgroup removed" "$CG/$1 still exists"; }

# memory.max + OOM kill: exit 137 in the foreground; with create/start an oom event.
eq "memory: run exits 137 (OOM kill)" 137 "$($N run --bundle /opt/b/oom oom1 >/dev/null 2>&1; echo $?)"
gone oom1 && ok "memory: run removed its cgroup" || bad "memory: run removed its cgroup" "left"
$N create --bundle /opt/b/oom oom2 || bad "memory: create" "failed"
eq "memory.max" 33554432 "$(cat $CG/oom2/memory.max)"
$N events --interval 1s oom2 >/tmp/ev 2>&1 &
evpid=$!
wait_for test -s /tmp/ev
$N start oom2
wait $evpid
grep -q '^{"type":"oom","id":"oom2"}$' /tmp/ev && ok "memory: oom event" || bad "memory: oom event" "$(cat /tmp/ev | cut -c1-200)"
kills=$(sed -n 's/^oom_kill //p' $CG/oom2/memory.events)
[ "${kills:-0}" -ge 1 ] && ok "memory.events oom_kill" || bad "memory.events oom_kill" "$(cat $CG/oom2/memory.events)"
cleanup oom2

# pids.max stops forks.
$N create --bundle /opt/b/pids pids1 || bad "pids: create" "failed"
eq "pids.max" 5 "$(cat $CG/pids1/pids.max)"
$N start pids1
wait_for is_status pids1 stopped
m=$(sed -n 's/^max //p' $CG/pids1/pids.events)
[ "${m:-0}" -ge 1 ] && ok "pids.events max (refused forks)" || bad "pids.events max" "$(cat $CG/pids1/pids.events)"
cleanup pids1

# cpu.max and cpu.weight (runc's shares conversion: 512 -> 20).
$N run -d --bundle /opt/b/cpu cpu1 || bad "cpu: run" "failed"
eq "cpu.max" "25000 50000" "$(cat $CG/cpu1/cpu.max)"
eq "cpu.weight" 20 "$(cat $CG/cpu1/cpu.weight)"
eq "cpuset.cpus" 0 "$(cat $CG/cpu1/cpuset.cpus)"
cleanup cpu1

# Device BPF program. dev1 allows kmsg for writing only; dev-tun allows only tun (plus runc's
# defaults, which include tun but not kmsg). Writing /dev/kmsg needs no privilege, so an EPERM
# on it can only come from the BPF program. tun's open fails in the guest for lack of the
# driver, but must not fail with EPERM.
out=$($N run --bundle /opt/b/dev dev1 2>/tmp/dev.err)
eq "devices: BPF allow/deny by access" "kmsg-w-ok kmsg-r-denied tun-denied" "$(echo $out)"
out=$($N run --bundle /opt/b/dev-tun dev2 2>/tmp/dev.err)
case "$(echo $out)" in
    kmsg-w-denied*) grep -q "kmsg.*Operation not permitted" /tmp/dev.err && ok "devices: denied with EPERM" || bad "devices: denied with EPERM" "$(cat /tmp/dev.err)" ;;
    *) bad "devices: denied with EPERM" "kmsg write was not denied: $out" ;;
esac
if grep -q "net/tun.*Operation not permitted" /tmp/dev.err; then
    bad "devices: allowed tun passes the BPF" "$(cat /tmp/dev.err)"
else
    ok "devices: allowed tun passes the BPF"
fi

# freeze/thaw.
$N run -d --bundle /opt/b/sleep fz1
$N pause fz1
eq "pause: cgroup.freeze" 1 "$(cat $CG/fz1/cgroup.freeze)"
eq "pause: cgroup.events frozen" "frozen 1" "$(grep frozen $CG/fz1/cgroup.events)"
eq "pause: status" paused "$(status fz1)"
eq "pause twice: error" "container not running" "$($N pause fz1 2>&1 | sed -n 's/.*msg="\(.*\)"/\1/p')"
$N resume fz1
eq "resume: cgroup.events frozen" "frozen 0" "$(grep frozen $CG/fz1/cgroup.events)"
eq "resume: status" running "$(status fz1)"
eq "resume twice: error" "container not paused" "$($N resume fz1 2>&1 | sed -n 's/.*msg="\(.*\)"/\1/p')"
$N pause fz1
cleanup fz1

# kill --all (cgroup.kill): no pid namespace, so the sleeps outlive a killed init otherwise.
$N run -d --bundle /opt/b/nopidns ka1
wait_for sh -c "[ \$(wc -l < $CG/ka1/cgroup.procs) -eq 3 ]" && ok "kill --all: 3 processes" || bad "kill --all: 3 processes" "$(cat $CG/ka1/cgroup.procs)"
eq "ps --format json count" 3 "$($N ps --format json ka1 | tr ',' '\n' | grep -c '[0-9]')"
$N kill --all ka1 KILL
wait_for sh -c "[ ! -s $CG/ka1/cgroup.procs ]" && ok "kill --all: cgroup empty" || bad "kill --all: cgroup empty" "$(cat $CG/ka1/cgroup.procs)"
wait_for is_status ka1 stopped && ok "kill --all: stopped" || bad "kill --all: stopped" "$(status ka1)"
$N delete ka1
gone ka1 && ok "delete: cgroup removed" || bad "delete: cgroup removed" "left"

# update: Docker's stdin JSON, then runc's flags.
$N run -d --bundle /opt/b/sleep up1
$N update --resources - up1 < /opt/b/docker-update.json || bad "update -r -" "failed"
eq "update: memory.max" 134217728 "$(cat $CG/up1/memory.max)"
eq "update: memory.swap.max" 134217728 "$(cat $CG/up1/memory.swap.max)"
eq "update: pids.max" 60 "$(cat $CG/up1/pids.max)"
eq "update: cpu.max" "25000 100000" "$(cat $CG/up1/cpu.max)"
$N update --memory 64m --memory-swap 96m --pids-limit 20 --cpu-quota 10000 --cpu-period 50000 --cpu-share 256 up1 || bad "update flags" "failed"
eq "update flags: memory.max" 67108864 "$(cat $CG/up1/memory.max)"
eq "update flags: memory.swap.max" 33554432 "$(cat $CG/up1/memory.swap.max)"
eq "update flags: pids.max" 20 "$(cat $CG/up1/pids.max)"
eq "update flags: cpu.max" "10000 50000" "$(cat $CG/up1/cpu.max)"
eq "update flags: cpu.weight" 10 "$(cat $CG/up1/cpu.weight)"
st=$($N events --stats up1)
case "$st" in '{"type":"stats","id":"up1","data":'*'"limit":20'*) ok "events --stats";; *) bad "events --stats" "$st";; esac
cleanup up1

left=$(ls -d $CG/oom* $CG/pids* $CG/cpu1 $CG/dev* $CG/fz* $CG/ka* $CG/up* 2>/dev/null)
[ -z "$left" ] && ok "no cgroup left behind" || bad "no cgroup left behind" "$left"
echo "guest-nucleus: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ] && [ "$PASSES" -gt 0 ]
