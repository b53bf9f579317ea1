#!/usr/bin/env bash
# dist/tsrunc on an old kernel: Debian 11's Linux 5.10, in the qemu guest
# (scripts/qemu-v2/, pure cgroup v2): test/lifecycle.test.ts, test/apparmor.test.ts
# (its kernel runs AppArmor too: the labels tsrunc-init sets, on another
# kernel's procfs and LSM) and the layout
# part of test/hugetext.test.ts. What it guards: the executable as
# scripts/elf-hugetext.mjs lays it out (program headers, ld.so's tables and the
# entry stub in segments of their own) loaded by another kernel's ELF loader,
# and the paths tsrunc takes on a kernel older than this host's (no
# cgroup.kill before 5.14, among others). Ubuntu 22.04 (5.15) and RHEL 9
# (5.14) run such kernels. (Not the AT_PHDR rule of kernels before 5.18, which
# the layout also keeps: this 5.10 has the newer rule backported; a build
# that breaks the old rule runs there.)
#
# The kernel package comes from Debian's archive (bullseye), fetched once with
# a private apt state under build/ and unpacked there, not installed: the host
# keeps its sources and its /boot. Where the archive cannot be reached, the
# stage says so and skips.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
base=$repo/build/qemu-v2/old-kernel
kroot=$base/root
mkdir -p "$base/apt/etc" "$base/apt/state/lists/partial" "$base/apt/cache/archives/partial" "$kroot"
kver=$(ls "$kroot"/boot/vmlinuz-5.10.* 2>/dev/null | sed 's,^.*/vmlinuz-,,' | sort -V | tail -1 || true)
if [ -z "$kver" ]; then
	cat >"$base/apt/etc/bullseye.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$base/apt/etc" -o "Dir::State=$base/apt/state" -o "Dir::Cache=$base/apt/cache")
	if ! timeout 300 apt-get "${apt[@]}" -q update >&2; then
		echo "old kernel: skipped: Debian's archive (bullseye) cannot be reached from here"
		exit 0
	fi
	pkg=$(apt-cache "${apt[@]}" search '^linux-image-5\.10\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] || { echo "old kernel: no linux-image-5.10.0-*-amd64 in bullseye's index" >&2; exit 1; }
	(cd "$base" && rm -f ./*.deb && timeout 600 apt-get "${apt[@]}" -q download "$pkg" >&2)
	dpkg-deb -x "$base"/"$pkg"_*.deb "$kroot"
	rm -f "$base"/*.deb
	kver=${pkg#linux-image-}
fi
# The package's modules.dep is made by its postinst (depmod), which unpacking
# does not run (nor did an unpack that was interrupted).
[ -f "$kroot/lib/modules/$kver/modules.dep" ] || depmod -b "$kroot" "$kver"
# Not hugetext's tests that build programs with Bun (`bun build --compile`
# writing ~110 MB over 9p): in this guest they once locked up both CPUs in
# the kernel (soft lockups, 1 run in 4: presumably qemu's multi-threaded TCG, see
# scripts/qemu-v2/README.md, "Lockups"). What tsrunc runs is dist/tsrunc, whose
# layout the other tests read. A time limit, so that a stuck guest cannot hold
# CI for run.sh's default 40 minutes.
export QEMU_V2_KERNEL_ROOT=$kroot QEMU_V2_KERNEL=$kver QEMU_V2_TIMEOUT=${QEMU_V2_TIMEOUT:-900}
# A guest whose kernel locks up is booted once more (scripts/qemu-v2/README.md, "Lockups").
export QEMU_V2_LOCKUP_RETRIES=${QEMU_V2_LOCKUP_RETRIES:-1}
exec bash "$repo/scripts/qemu-v2/run.sh" sh -c "cd '$repo' || exit 1; PATH='$repo/node_modules/.bin':\$PATH; uname -r; node_modules/.bin/vitest run test/lifecycle.test.ts test/apparmor.test.ts && node_modules/.bin/vitest run test/hugetext.test.ts -t 'hugetext: the layout of dist/tsrunc'"
