#!/usr/bin/env bash
# scripts/release.sh [OUT_DIR]: the release tarball, for machines without npm
# or Node: tsrunc-<version>-<platform>-<arch>.tar.gz and its .sha256, in OUT_DIR
# (default: the repository root). Built on and for this machine's platform
# (linux-x64 here; no other is cross-built).
#
#   tsrunc-0.1.0-linux-x64/
#     bin/tsrunc -> ../lib/tsrunc/dist/tsrunc
#     lib/tsrunc/dist/tsrunc            the Bun executable: Bun (the pinned `bun`
#                                       package) with the CLI and its bytecode
#                                       (scripts/bun-compile.mjs); needs no Node
#     lib/tsrunc/prebuilds/<platform>-<arch>/   tsrunc.napi.node, tsrunc-init, tsrunc-launch
#     lib/tsrunc/README.md
#
# Installed with
#   tar -C /usr/local --strip-components=1 -xzf tsrunc-0.1.0-linux-x64.tar.gz
# (/usr/local/bin/tsrunc, /usr/local/lib/tsrunc/), or unpacked anywhere with a
# symlink to bin/tsrunc in PATH: the executable finds prebuilds/ beside its
# own dist/ (dirname of /proc/self/exe). Needs glibc, as the addon and Bun do
# (libseccomp and libstdc++ are linked into the addon).
# The executable is compiled here from dist/bun/ whatever the
# checkout's dist/tsrunc is (a TSRUNC_ENGINE=node build makes that the
# launcher). Tar's metadata is reproducible (one owner, one time, sorted
# names); the executable is not byte for byte: Bun's bytecode differs from one
# compile to the next.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p -- "${1:-$repo}" && cd -- "${1:-$repo}" && pwd)
cd "$repo"
bash scripts/setup.sh
node=node_modules/node/bin/node
version=$("$node" -p 'require("./package.json").version')
platform=$("$node" -p 'process.platform + "-" + process.arch')
name=tsrunc-$version-$platform
stage=$(mktemp -d)
trap 'rm -rf -- "$stage"' EXIT
top=$stage/$name
lib=$top/lib/tsrunc
mkdir -p "$top/bin" "$lib/dist" "$lib/prebuilds"
"$node" --input-type=module -e "
  import { compileBun, findBun } from '$repo/scripts/bun-compile.mjs';
  const bun = findBun('$repo');
  if (!bun) { console.error('release: the bun package does not run here (npm ci installs it)'); process.exit(1); }
  compileBun(bun.bin, '$repo/dist/bun', '$lib/dist/tsrunc');"
cp -r "prebuilds/$platform" "$lib/prebuilds/"
ln -s ../lib/tsrunc/dist/tsrunc "$top/bin/tsrunc"
cp README.md "$lib/"
# Reproducible: one owner, one time, sorted names.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git log -1 --format=%ct 2>/dev/null || echo 0)" -cf - "$name" | gzip -n >"$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
