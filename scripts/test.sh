#!/usr/bin/env bash
# scripts/test.sh: set up (packages, node_modules, build, rootfs), then run
# every test there is, as root:
#   1. npm test              unit tests, real containers, spec-tests on tsrunc (cgroup v1 host),
#                            on dist/tsrunc (the Bun executable tsrunc ships as)
#   1b. npm test on Node     the same on dist/tsrunc-node, the Node build (Node 22+ stays a target)
#   1c. npm test on Node 22  the same on a copy of the Node build whose Node is 22, the oldest the
#                            package takes (scripts/test-node22.sh; Node 22 from the registry, once)
#   2. spec-tests --compare  the conformance suite on tsrunc, runc and crun, side by side
#   3. npm run test:engines  podman, containerd and dockerd running tsrunc (and runc)
#   4. npm run test:v2       the cgroup tests again, in a qemu guest with pure cgroup v2 (and AppArmor)
#                            (first, the guests' answer to a kernel lockup, faked)
#   5. scripts/test-package.sh   the package, not the checkout: npm run pack:npm, npm install -g as an
#                            unprivileged user into a clean prefix, the lifecycle with the
#                            installed CLI (Bun and Node; writable and read-only), podman with it, the
#                            installed tsrunc-spec-tests against runc, and the release tarball
#   6. npm run test:systemd  the systemd cgroup driver, tsrunc and runc, in that guest with systemd as PID 1
#   7. npm run test:old-kernel  the executable's layout and the lifecycle tests in that guest on Linux 5.10
#                            (Debian 11's kernel, fetched once from Debian's archive into build/)
# Each stage runs even when an earlier one failed; the exit status says if any did.
set -uo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"  # Node 24 for anything the tests spawn

# Each stage's output is kept, so that the end of the run can repeat what
# failed: a CI log is often read from its tail only.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=() lockups=() nstage=0
stage() {
  local name=$1
  shift
  printf '\n==== %s\n' "$name"
  local t0=$SECONDS log="$logs/$((++nstage)).log"
  local ok=0
  "$@" 2>&1 | tee "$log" || ok=$?
  # A stage whose output does not end its last line still gets its own status line.
  [[ -z $(tail -c1 "$log") ]] || echo
  # A guest booted again after its kernel locked up (scripts/qemu-v2/README.md,
  # "Lockups") is named at the end even when the rerun passed.
  if grep -aq '^qemu-v2: the guest kernel locked up' "$log"; then lockups+=("$name"); fi
  if ((ok == 0)); then printf '==== %s: ok (%ss)\n' "$name" $((SECONDS - t0)); else
    printf '==== %s: FAILED (%ss)\n' "$name" $((SECONDS - t0))
    failed+=("$name")
    failures+=("$(failure_summary "$name" "$log")")
  fi
}
# What a failed stage said about its failures: vitest's "Failed Tests" block
# (up to its summary), or else the stage's last lines.
failures=()
failure_summary() {
  local text
  text=$(sed 's/\x1b\[[0-9;]*m//g' "$2" | sed -n '/Failed Tests [0-9]/,/Test Files /p' | head -150)
  [[ -n $text ]] || text=$(sed 's/\x1b\[[0-9;]*m//g' "$2" | tail -40)
  printf '\n---- %s: what failed\n%s\n' "$1" "$text"
}

stage 'tests (npm test)' npm test
stage 'tests on the Node build (dist/tsrunc-node)' env TSRUNC_BIN="$PWD/dist/tsrunc-node" npm test
stage 'tests on Node 22 (the Node build)' bash scripts/test-node22.sh
# runc's and crun's columns are there for comparison; only tsrunc's result
# decides the stage (crun's poststop-hook namespace check is flaky under the
# unshare wrapper this hybrid host needs): a compare that fails is followed by
# tsrunc alone, whose status counts.
stage 'conformance: tsrunc, runc, crun' sh -c 'npm run --silent spec-tests -- --compare tsrunc,runc,crun || { echo "(the compare failed: tsrunc alone decides)"; npm run --silent spec-tests -- --runtime tsrunc; }'
if [[ -f test/engines/vitest.config.ts ]]; then stage 'engines' npm run --silent test:engines; fi
stage 'cgroup v2 (qemu guest)' npm run --silent test:v2
stage 'systemd cgroup driver (qemu guest, systemd PID 1)' npm run --silent test:systemd
stage 'old kernel: Linux 5.10 (qemu guest)' npm run --silent test:old-kernel
stage 'package: pack, install, lifecycle, podman, spec-tests' bash scripts/test-package.sh

if ((${#lockups[@]})); then
  printf '\nguest kernel lockups (the guest was booted again; the report is in the stage output): %s\n' "${lockups[*]}"
fi
if ((${#failed[@]})); then
  printf '%s\n' "${failures[@]}"
  printf '\nfailed stages: %s\n' "${failed[*]}"
  exit 1
fi
printf '\nall stages passed\n'
