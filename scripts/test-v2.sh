#!/usr/bin/env bash
# The cgroup tests again, in a qemu guest with a pure cgroup v2 hierarchy
# (scripts/qemu-v2/), the AppArmor tests (its kernel runs AppArmor), and the rootless tests that depend on the cgroup version. The guest sees the host's root over 9p, so the repo is
# at the same path there.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# First run.sh's own answer to a guest kernel lockup, faked (~30 s).
bash "$repo/scripts/qemu-v2/selftest-lockup.sh"
export QEMU_V2_MODULES=loop  # a block device, for io.max
# A time limit (~1.5 min here), so that a stuck guest cannot hold CI for run.sh's default 40 minutes.
export QEMU_V2_TIMEOUT=${QEMU_V2_TIMEOUT:-600}
# A guest whose kernel locks up is booted once more (scripts/qemu-v2/README.md, "Lockups").
export QEMU_V2_LOCKUP_RETRIES=${QEMU_V2_LOCKUP_RETRIES:-1}
# Then the rootless tests that depend on the cgroup version (a user's own
# cgroup on v2, the cgroup mount, the refusals of limits; the whole file takes
# ~5 minutes under emulation): both runs go, the status is either's failure.
rootless='delegated cgroup|cgroup mount shows|no cgroup can be made|cgroupsPath it may not make|create, start, exec|rootlessRecord'
exec bash "$repo/scripts/qemu-v2/run.sh" sh -c "cd '$repo' || exit 1; PATH='$repo/node_modules/.bin':\$PATH; node_modules/.bin/vitest run test/cgroups.test.ts test/bpf-devices.test.ts test/apparmor.test.ts; a=\$?; node_modules/.bin/vitest run test/rootless.test.ts -t '$rootless'; b=\$?; [ \$a = 0 ] && [ \$b = 0 ]"
