#!/usr/bin/env bash
# scripts/qemu-v2/run.sh CMD [ARG...] — run CMD as root inside a qemu guest
# (software emulation, Debian's kernel) whose /sys/fs/cgroup is a pure cgroup v2
# hierarchy; the guest's / is this host's / over virtio-9p, with guest tmpfs on
# /tmp and /run. CMD's stdout+stderr come out on stdout; the exit status is
# CMD's. See README.md in this directory.
#
# Environment:
#   QEMU_V2_TIMEOUT   seconds before qemu is killed (default 2400 = 40 min); exit 124
#   QEMU_V2_MEM       guest memory, MiB (default 2048)
#   QEMU_V2_SMP       guest CPUs (default 2)
#   QEMU_V2_CPU       qemu CPU model (default max)
#   QEMU_V2_TCG_THREAD  single (default: one host thread runs every guest CPU in turn)
#                     or multi (a thread each; guests locked up so: README.md, "Lockups")
#   QEMU_V2_KERNEL    guest kernel version (default: newest /boot/vmlinuz-* with modules)
#   QEMU_V2_KERNEL_ROOT  a tree with boot/vmlinuz-VER and lib/modules/VER (an unpacked
#                     kernel package) to take the guest kernel from instead of /; modules
#                     the guest loads on demand come from the host's /lib/modules only
#   QEMU_V2_CACHE     9p cache mode: loose (default), mmap, none
#   QEMU_V2_CGROUP    run CMD in this cgroup (e.g. /init.scope) instead of the root one
#   QEMU_V2_SUBTREE   controllers to enable in the root's cgroup.subtree_control,
#                     comma-separated (default: none, as the kernel boots)
#   QEMU_V2_MODULES   extra modules to modprobe before CMD, comma-separated
#   QEMU_V2_PASS_ENV  names of host environment variables to pass to CMD (space-separated;
#                     CI, NO_COLOR, FORCE_COLOR, DEBUG are always passed when set)
#   QEMU_V2_QEMU_ARGS extra qemu arguments (split on spaces)
#   QEMU_V2_APPEND    extra words for the guest kernel's command line (after the
#                     lockup diagnostics below, so `softlockup_panic=0` there wins)
#   QEMU_V2_SYSTEMD=1 systemd (this host's, 252) is PID 1 and CMD runs as its
#                     unit qv2-run.service, on an overlay root (tmpfs upper);
#                     QEMU_V2_CGROUP/QEMU_V2_SUBTREE do not apply
#   QEMU_V2_LOCKUP_RETRIES  times to boot the guest again and rerun CMD from the
#                     start when the guest's kernel locked up (soft lockup) before CMD
#                     finished (default 0; the test stages set 1: README.md, "Lockups")
#   QEMU_V2_QUIET=1   no timing summary on stderr
#   QEMU_V2_KEEP=1    keep the run directory (build/qemu-v2/runs/...)
set -euo pipefail

here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache_dir=$repo/build/qemu-v2

say() { echo "qemu-v2: $*" >&2; }
die() { say "$*"; exit 125; }

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (the guest shares / with 9p passthrough)"

# --- setup: qemu and a guest kernel (the host keeps running its own kernel) ---
have_kernel() { compgen -G '/boot/vmlinuz-*' >/dev/null && [ -d /lib/modules ]; }
# apparmor: the guest's kernel runs AppArmor (Debian's default); its apparmor_parser
# loads profiles into it (test/apparmor.test.ts's, docker's docker-default, podman's).
if ! command -v qemu-system-x86_64 >/dev/null || ! have_kernel || ! command -v cpio >/dev/null ||
	! command -v apparmor_parser >/dev/null ||
	! { command -v busybox >/dev/null && file -L "$(command -v busybox)" | grep -q 'statically linked'; }; then
	say "installing qemu-system-x86, linux-image-amd64, busybox-static, cpio, apparmor (once)"
	export DEBIAN_FRONTEND=noninteractive
	apt_get() { apt-get -o DPkg::Lock::Timeout=600 -y -q "$@"; }
	apt_get install --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static cpio file apparmor >&2 ||
		{ apt_get update >&2 && apt_get install --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static cpio file apparmor >&2; } ||
		die "apt-get install failed"
fi

kroot=${QEMU_V2_KERNEL_ROOT:-}
kver=${QEMU_V2_KERNEL:-}
if [ -z "$kver" ]; then
	for k in $(ls "$kroot"/boot/vmlinuz-* 2>/dev/null | sed 's,^.*/boot/vmlinuz-,,' | sort -V); do
		[ -f "$kroot/lib/modules/$k/modules.dep" ] && kver=$k
	done
fi
vmlinuz=$kroot/boot/vmlinuz-$kver moddir=$kroot/lib/modules/$kver
[ -n "$kver" ] && [ -f "$vmlinuz" ] && [ -f "$moddir/modules.dep" ] ||
	die "no guest kernel with modules ($kroot/boot/vmlinuz-*, $kroot/lib/modules/*/modules.dep)"

# --- the initramfs, cached per kernel version and per content of its sources ---
mkdir -p "$cache_dir/runs"
initrd=$cache_dir/initramfs-$kver.cpio
key=$( { echo "$kver"; cat "$here/init" "$here/qv2-modprobe" "$here/build-initramfs.sh" "$here/systemd-run.sh";
	sha256sum "$(command -v busybox)" "$moddir/modules.dep"; } | sha256sum | cut -c1-16)
(
	flock 9
	if [ ! -f "$initrd" ] || [ "$(cat "$initrd.key" 2>/dev/null)" != "$key" ]; then
		bash "$here/build-initramfs.sh" "$kver" "$initrd" "$moddir" >&2
		echo "$key" >"$initrd.key"
	fi
) 9>"$cache_dir/.lock"

# --- the command, as a bash script the guest runs after chroot into / ---
run=$(mktemp -d "$cache_dir/runs/run.XXXXXX")
cleanup() { [ "${QEMU_V2_KEEP:-}" = 1 ] || rm -rf "$run"; }
trap cleanup EXIT
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb'
	for v in CI NO_COLOR FORCE_COLOR DEBUG ${QEMU_V2_PASS_ENV:-}; do
		[ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
	printf 'exec'; printf ' %q' "$@"; echo
} >"$run/cmd.sh"

# A guest CPU stuck in the kernel (soft lockup) ends the guest: the kernel
# logs every CPU's backtrace (by NMI, so a CPU spinning with interrupts off
# answers too) and its own stack at loglevel 5 (warnings), then panics, and
# qemu exits (-no-reboot) at once instead of at the time limit. Guests under
# emulation have locked up so, rarely (README.md, "Lockups").
cmdline="console=ttyS0 quiet loglevel=5 softlockup_all_cpu_backtrace=1 softlockup_panic=1 panic=-1"
cmdline+=" qv2.run=$(printf %s "$run" | base64 -w0)"
cmdline+=" qv2.cache=${QEMU_V2_CACHE:-loose}"
cmdline+=" qv2.keep=$(printf %s "$repo" | base64 -w0)"
[ -z "${QEMU_V2_CGROUP:-}" ] || cmdline+=" qv2.cgroup=$QEMU_V2_CGROUP"
[ -z "${QEMU_V2_SUBTREE:-}" ] || cmdline+=" qv2.subtree=$QEMU_V2_SUBTREE"
[ -z "${QEMU_V2_MODULES:-}" ] || cmdline+=" qv2.modules=$QEMU_V2_MODULES"
[ -z "${QEMU_V2_APPEND:-}" ] || cmdline+=" $QEMU_V2_APPEND"
# systemd as PID 1 (init hands over to it, on an overlay root; see README.md).
[ "${QEMU_V2_SYSTEMD:-}" != 1 ] || cmdline+=" qv2.systemd=1 systemd.unit=qv2.target systemd.unified_cgroup_hierarchy=1 systemd.show_status=0 systemd.firstboot=0 systemd.journald.forward_to_console=0"

# ttyS0 (kernel console, init's log) goes to a file; ttyS1 (CMD's output) to stdout.
# One host thread for both guest CPUs: with a thread each (qemu 7.2's
# multi-threaded TCG) a guest CPU now and then kept running its stale
# translation of kernel code that the other had just patched, forever
# (README.md, "Lockups"). As fast here: this host has two CPUs.
qemu=(qemu-system-x86_64 -accel "tcg,thread=${QEMU_V2_TCG_THREAD:-single}" -cpu "${QEMU_V2_CPU:-max}" -smp "${QEMU_V2_SMP:-2}" -m "${QEMU_V2_MEM:-2048}"
	-nodefaults -display none -no-reboot
	-kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline"
	-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,id=hostroot,multidevs=remap
	-serial "file:$run/console.log"
	-chardev stdio,id=out,signal=off -serial chardev:out)
# shellcheck disable=SC2206 # word splitting wanted
[ -z "${QEMU_V2_QEMU_ARGS:-}" ] || qemu+=($QEMU_V2_QEMU_ARGS)

panicked() { grep -aq 'Kernel panic' "$run/console.log" 2>/dev/null; }
# A report of a soft lockup on the console and a panic after it: the kernel
# stopped the guest (softlockup_panic above).
locked_up() { grep -aq 'soft lockup' "$run/console.log" 2>/dev/null && panicked; }
# The guest's init gave CMD's exit status (a file in the run directory, or a line on the console).
finished() { [ -s "$run/status" ] || grep -aq '^QEMU_V2_EXIT=' "$run/console.log" 2>/dev/null; }
report() { grep -a -v -e '^qemu-v2: ' "$run/console.log" | grep -a -A400 -m1 -e 'BUG:' -e 'Kernel panic' | head -400 >&2 || true; }

attempt=1
while :; do
	t0=$(date +%s.%N)
	# In the background so that a signal to this script (Ctrl-C, a test runner's
	# kill) takes qemu down at once instead of after the guest finishes.
	timeout -k 10 "${QEMU_V2_TIMEOUT:-2400}" "${qemu[@]}" </dev/null &
	qpid=$! signalled=''
	trap 'signalled=130; kill -TERM $qpid 2>/dev/null' INT
	trap 'signalled=143; kill -TERM $qpid 2>/dev/null' TERM HUP
	set +e
	while :; do
		wait $qpid
		qrc=$?
		kill -0 $qpid 2>/dev/null || break
	done
	set -e
	trap - INT TERM HUP
	if [ -n "$signalled" ]; then
		say "interrupted; qemu stopped"
		exit "$signalled"
	fi
	t1=$(date +%s.%N)
	cp -f "$run/console.log" "$cache_dir/last-console.log" 2>/dev/null || true
	# Booted again only where the guest's kernel locked up before CMD finished
	# and the caller asked for it (the test stages: README.md, "Lockups").
	! finished && locked_up && [ "$attempt" -le "${QEMU_V2_LOCKUP_RETRIES:-0}" ] || break
	say "the guest kernel locked up (soft lockup) before the command finished; its report:"
	report
	attempt=$((attempt + 1))
	say "booting the guest again and running the command from the start (attempt $attempt)"
	cp -f "$run/console.log" "$cache_dir/lockup-console.log" 2>/dev/null || true
done

if [ -s "$run/status" ]; then
	rc=$(cat "$run/status")
elif grep -q '^QEMU_V2_EXIT=' "$run/console.log" 2>/dev/null; then
	rc=$(grep -a '^QEMU_V2_EXIT=' "$run/console.log" | tail -1 | tr -dc 0-9)
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	say "timed out after ${QEMU_V2_TIMEOUT:-2400} s; console log: $cache_dir/last-console.log"
	tail -20 "$run/console.log" >&2 2>/dev/null || true
	exit 124
elif panicked; then
	say "the guest kernel panicked (qemu exit $qrc); its report (console log: $cache_dir/last-console.log):"
	report
	exit 125
else
	say "the guest gave no exit status (qemu exit $qrc); console log: $cache_dir/last-console.log"
	tail -40 "$run/console.log" >&2 2>/dev/null || true
	exit 125
fi
[ "$rc" = 125 ] && grep -a 'qemu-v2: .*FATAL' "$run/console.log" >&2 || true

if [ "${QEMU_V2_QUIET:-}" != 1 ]; then
	start=$(grep -a 'qemu-v2: \[.*\] running' "$run/console.log" | head -1 | sed 's/.*\[\(.*\)\].*/\1/')
	end=$(grep -a 'qemu-v2: \[.*\] command exited' "$run/console.log" | head -1 | sed 's/.*\[\(.*\)\].*/\1/')
	awk -v t0="$t0" -v t1="$t1" -v s="${start:-0}" -v e="${end:-0}" -v rc="$rc" 'BEGIN {
		printf "qemu-v2: guest boot %.1f s (kernel uptime at CMD start), CMD %.1f s, total %.1f s, exit %s\n",
			s, e - s, t1 - t0, rc }' >&2
fi
exit "$rc"
