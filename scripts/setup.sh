#!/usr/bin/env bash
# scripts/setup.sh — bring this checkout to a buildable, testable state.
#
# Idempotent; when nothing has changed it only checks and exits quickly.
#   1. Debian packages (apt-get only when one is missing)
#   2. npm ci when node_modules is missing or older than package-lock.json
#   3. npm run build when addon/, src/ or scripts/bundle.mjs is newer than dist/tsrunc,
#      (dist/tsrunc: a Bun executable; dist/tsrunc-node: the same CLI on Node),
#      or prebuilds/<platform>-<arch>/ or dist/ lacks what dist/tsrunc needs
#   4. the busybox rootfs of bundles/busybox/
# Progress goes to stderr, and only when something is being done.
#
# QEMU (for kernel-level tests) is not installed by default:
#   bash -c 'source scripts/setup.sh --lib; setup_qemu_packages'
set -euo pipefail

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

APT_PACKAGES=(build-essential cmake libseccomp-dev libsystemd-dev busybox-static runc crun uidmap procps)  # libsystemd-dev: sd-bus.h for src/dbus.cc; uidmap: newuidmap/newgidmap, for test/rootless.test.ts; procps: ps(1), which `tsrunc ps` runs as runc does (a minimal Debian lacks it)
QEMU_PACKAGES=(qemu-system-x86 linux-image-amd64)

say() { printf 'setup: %s\n' "$*" >&2; }
warn() { printf 'setup: warning: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Install the given Debian packages that are not installed yet.
apt_ensure() {
  local missing=() pkg installed
  # one dpkg-query for all of them; unknown packages just print nothing
  installed=" $(dpkg-query -W -f='${Package}:${Status}\n' "$@" 2>/dev/null \
    | sed -n 's/^\([^:]*\):install ok installed$/\1/p' | tr '\n' ' ' || true) "
  for pkg in "$@"; do
    [[ "$installed" == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

setup_packages() { apt_ensure "${APT_PACKAGES[@]}"; }
setup_qemu_packages() { apt_ensure "${QEMU_PACKAGES[@]}"; }

# node_modules/node/bin/node comes from the `node` package's preinstall script
# and esbuild's native binary from its postinstall; npm 11 only warns about
# install scripts ("not yet covered by allowScripts"), but make sure both ran.
node_ok() {
  local v
  v=$("$REPO_ROOT/node_modules/.bin/node" --version 2>/dev/null) || return 1
  [[ "$v" =~ ^v([0-9]+)\. ]] && ((BASH_REMATCH[1] >= 22))
}
esbuild_ok() { "$REPO_ROOT/node_modules/.bin/esbuild" --version >/dev/null 2>&1; }
# Bun (the `bun` package, its binary from its postinstall): the engine dist/tsrunc is built on.
bun_ok() { "$REPO_ROOT/node_modules/.bin/bun" --version >/dev/null 2>&1; }

setup_node_modules() {
  local marker=node_modules/.package-lock.json
  if [[ ! -d node_modules || ! -e "$marker" || package-lock.json -nt "$marker" ]]; then
    say "npm ci"
    npm ci --no-audit --no-fund >&2
  fi
  if ! node_ok; then
    say "node_modules/node/bin/node missing or broken: npm rebuild node"
    npm rebuild node >&2
    node_ok || die "node_modules/.bin/node does not run (the 'node' package's preinstall failed?)"
  fi
  if ! esbuild_ok; then
    say "esbuild does not run: npm rebuild esbuild"
    npm rebuild esbuild >&2
    esbuild_ok || die "node_modules/.bin/esbuild does not run"
  fi
  if ! bun_ok; then
    say "bun does not run: npm rebuild bun"
    npm rebuild bun >&2
    bun_ok || die "node_modules/.bin/bun does not run (the 'bun' package's postinstall failed?)"
  fi
}

setup_build() {
  if [[ ! -f scripts/bundle.mjs ]]; then
    warn "scripts/bundle.mjs is missing: skipping npm run build"
    return 0
  fi
  local dirs=() d
  for d in addon src; do [[ -e "$d" ]] && dirs+=("$d"); done
  local pre
  pre=prebuilds/$(node_modules/.bin/node -p 'process.platform + "-" + process.arch')
  if [[ -x dist/tsrunc && -x dist/tsrunc-node && -e dist/tsrunc.cjs && -e dist/bun/main.js && -x dist/node && -e dist/node.flags \
        && -x $pre/tsrunc-launch && -x $pre/tsrunc-init && -e $pre/tsrunc.napi.node ]] \
     && [[ -z "$(find "${dirs[@]}" scripts/bundle.mjs scripts/bun-compile.mjs scripts/elf-hugetext.mjs scripts/elf-needed.mjs -newer dist/tsrunc -print -quit 2>/dev/null)" ]]; then
    return 0
  fi
  # CMake's cache names the checkout's path: a moved checkout starts the build afresh.
  if [[ -f build/CMakeCache.txt ]] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$REPO_ROOT/addon" build/CMakeCache.txt; then
    say "build/ was made for another checkout path: removing it"
    rm -rf build
  fi
  say "npm run build"
  # npm puts node_modules/.bin (Node 24) first on PATH for the build scripts.
  npm run --silent build >&2 || die "npm run build failed"
  [[ -e dist/tsrunc ]] || die "npm run build did not produce dist/tsrunc"
  # make sure a no-op build still counts as up to date next time
  touch dist/tsrunc
}

setup_rootfs() {
  local rootfs=bundles/busybox/rootfs
  [[ -x "$rootfs/bin/busybox" ]] && return 0
  say "building $rootfs"
  bash scripts/make-rootfs.sh "$rootfs"
}

main() {
  cd "$REPO_ROOT"
  setup_packages
  setup_node_modules
  setup_build
  setup_rootfs
}

# `source scripts/setup.sh --lib` defines the functions without running them.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
elif [[ "${1:-}" != "--lib" ]]; then
  main "$@"
fi
