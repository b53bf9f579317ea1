#!/bin/bash
# The qemu-v2 guest's command runner under systemd (QEMU_V2_SYSTEMD=1): run by
# qv2-run.service, which `init` wrote into the overlay root before it handed
# PID 1 to systemd. Does what init does without systemd: runs the run
# directory's cmd.sh (the directory named in /qv2/run-dir) with stdout and
# stderr through a FIFO (a pipe, as under CI) to ttyS1, writes its exit
# status to <run>/status (on the host: that directory is bound from the 9p
# root) and as QEMU_V2_EXIT=N on the console, and powers off.
IFS= read -r run </qv2/run-dir
up() { read -r u _ </proc/uptime; echo "$u"; }
log() { echo "qemu-v2: [$(up)] $*" >/dev/console; }
log "running $run/cmd.sh (systemd $(systemctl --version | head -1 | cut -d' ' -f2), $(systemctl is-system-running 2>/dev/null))"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
rm -f /run/qv2-out.fifo && mkfifo /run/qv2-out.fifo
cat /run/qv2-out.fifo >/dev/ttyS1 &
catpid=$!
/bin/bash "$run/cmd.sh" </dev/null >/run/qv2-out.fifo 2>&1
st=$?
log "command exited with status $st"
echo "$st" >"$run/status" || log "cannot write $run/status"
echo "QEMU_V2_EXIT=$st" >/dev/console
# What the command left in this service's cgroup would hold the FIFO open.
for p in $(cat /sys/fs/cgroup/system.slice/qv2-run.service/cgroup.procs 2>/dev/null); do
	[ "$p" = $$ ] || [ "$p" = "$catpid" ] || kill -9 "$p" 2>/dev/null
done
wait $catpid
sync
log "power off"
systemctl poweroff --force --force
