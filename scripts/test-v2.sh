#!/usr/bin/env bash
# The cgroup tests again, in a qemu guest with a pure cgroup v2 hierarchy
# (scripts/qemu-v2/). The guest sees the host's root over 9p, so the repo is
# at the same path there.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
export QEMU_V2_MODULES=loop  # a block device, for io.max
exec bash "$repo/scripts/qemu-v2/run.sh" sh -c "cd '$repo' && PATH='$repo/node_modules/.bin':\$PATH node_modules/.bin/vitest run test/cgroups.test.ts test/bpf-devices.test.ts"
