#!/usr/bin/env bash
# The systemd cgroup driver's tests (test/systemd.test.ts, and podman with its systemd
# cgroup manager: test/systemd-engines.test.ts; rootless, the user's manager over the session
# bus, direct and under rootless podman: test/systemd-rootless.test.ts), on tsrunc and runc, one file at a time,
# in the qemu guest of scripts/qemu-v2/ with systemd as PID 1 on pure cgroup
# v2 (QEMU_V2_SYSTEMD=1). The guest sees the host's root over 9p (an overlay
# on it), so the repo is at the same path there.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
export QEMU_V2_SYSTEMD=1
# A time limit (3–6 min here), so that a stuck guest cannot hold CI for run.sh's default 40 minutes.
export QEMU_V2_TIMEOUT=${QEMU_V2_TIMEOUT:-1200}
# A guest whose kernel locks up is booted once more (scripts/qemu-v2/README.md, "Lockups").
export QEMU_V2_LOCKUP_RETRIES=${QEMU_V2_LOCKUP_RETRIES:-1}
exec bash "$repo/scripts/qemu-v2/run.sh" sh -c "cd '$repo' && PATH='$repo/node_modules/.bin':\$PATH node_modules/.bin/vitest run --no-file-parallelism test/systemd.test.ts test/systemd-engines.test.ts test/systemd-rootless.test.ts"
