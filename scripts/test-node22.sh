#!/usr/bin/env bash
# scripts/test-node22.sh: the Node build's tests on Node 22, the oldest Node
# the package takes (package.json's engines), where the checkout builds and
# tests with the Node of its devDependencies (24). A stage of scripts/test.sh.
#
# Node 22 comes from the registry (the npm package `node`, as the build's
# does) into build/node22 the first time. dist/tsrunc-node runs the Node that
# dist/node beside it names, so the checkout's Node build is copied into a
# directory of its own whose dist/node is Node 22 (with the flags
# scripts/node-flags.mjs picks for it), and npm test runs on that copy
# (TSRUNC_BIN). The checkout's dist/ is left as it is.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
say() { printf 'test-node22: %s\n' "$*" >&2; }

prefix=$repo/build/node22
node=$prefix/node_modules/node/bin/node
if [[ ! -x $node ]]; then
  say "installing Node 22 from the registry into build/node22"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error node@22 >&2
fi
say "$("$node" --version)"

work=$(mktemp -d /tmp/tsrunc-node22-XXXXXX)
trap 'rm -rf -- "$work"' EXIT
chmod 755 "$work"
mkdir "$work/dist"
cp dist/tsrunc-node dist/tsrunc.cjs "$work/dist/"
ln -s "$repo/prebuilds" "$work/prebuilds"
node_modules/.bin/node --input-type=module -e '
  const [dist, node] = process.argv.slice(1);
  const { linkNode, nodeFlags } = await import(process.cwd() + "/scripts/node-flags.mjs");
  linkNode(dist, node, nodeFlags(node));
' "$work/dist" "$node"
version=$("$work/dist/tsrunc-node" --version)
grep -q '^node: v22\.' <<<"$version" || { say "FAILED: the copy does not run on Node 22: $version"; exit 1; }
TSRUNC_BIN=$work/dist/tsrunc-node npm test
