#!/usr/bin/env bash
# run.sh's answer to a guest kernel that locks up (README.md, "Lockups"), with
# the lockup faked: the command's first run writes a soft-lockup report to the
# kernel's log and crashes the kernel (sysrq), its second run exits 0.
#   1. QEMU_V2_LOCKUP_RETRIES=1: the report, a second boot, exit 0.
#   2. Without it: the report, no second boot, exit 125.
# Three boots, ~30 s. Run by scripts/test-v2.sh before its tests.
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$repo/build/qemu-v2"
# Under build/ (not /tmp, which the guest does not see): the marker must
# outlive the first guest.
dir=$(mktemp -d "$repo/build/qemu-v2/selftest.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat >"$dir/cmd.sh" <<EOF
if [ -e '$dir/marker' ]; then echo 'second run'; exit 0; fi
: >'$dir/marker'
sync
echo '<2>watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [selftest:1]' >/dev/kmsg
echo 1 >/proc/sys/kernel/sysrq
echo c >/proc/sysrq-trigger
EOF
fail() { echo "selftest-lockup: FAILED: $1" >&2; printf '%s\n' "$out" | tail -30 >&2; exit 1; }
export QEMU_V2_QUIET=1 QEMU_V2_TIMEOUT=180

rc=0
out=$(QEMU_V2_LOCKUP_RETRIES=1 bash "$here/run.sh" sh "$dir/cmd.sh" 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "with QEMU_V2_LOCKUP_RETRIES=1: exit $rc, not 0"
grep -q 'locked up (soft lockup) before the command finished' <<<"$out" || fail "no lockup report"
grep -q 'BUG: soft lockup - CPU#0 stuck for 22s! \[selftest:1\]' <<<"$out" || fail "the kernel's report is not in the output"
grep -q '^second run$' <<<"$out" || fail "the command did not run a second time"

rm -f "$dir/marker"
rc=0
out=$(QEMU_V2_LOCKUP_RETRIES=0 bash "$here/run.sh" sh "$dir/cmd.sh" 2>&1) || rc=$?
[ "$rc" = 125 ] || fail "without retries: exit $rc, not 125"
grep -q 'the guest kernel panicked' <<<"$out" || fail "without retries: no panic report"
! grep -q '^second run$' <<<"$out" || fail "without retries: the command ran again"
echo "selftest-lockup: ok (a faked lockup: booted again with QEMU_V2_LOCKUP_RETRIES=1, exit 125 without)"
