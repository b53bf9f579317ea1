#!/usr/bin/env bash
# scripts/test-package.sh: CI's test of the package, not the checkout (a stage of
# scripts/test.sh). As root, after scripts/setup.sh:
#   1. npm run pack:npm (tsrunc-<v>.tgz: its dist/tsrunc the launcher, not the
#      checkout's Bun executable, which a plain `npm pack` refuses to pack) and
#      scripts/pack-spec-tests.mjs (tsrunc-spec-tests-<v>.tgz), into a temp dir
#      outside the repository;
#   2. a Node >= 22 of the "machine", outside the repository (a copy of the build's);
#   3. `npm install -g --prefix PREFIX` of both tarballs, as an unprivileged user
#      (nobody) into a prefix that user owns, from that temp dir: nothing of the
#      repository (its node_modules, its dist/) is in reach, and PATH is the
#      system's plus that Node; the registry gives the optional `bun`, and the
#      install script compiles dist/tsrunc with it (a Bun executable), beside
#      dist/tsrunc-node (the Node launcher); and with TSRUNC_ENGINE=node, into
#      another prefix, dist/tsrunc is the Node launcher (npm 11 installs
#      optional dependencies of a global install even with --omit=optional;
#      the install script without a Bun is test/package.test.ts's);
#   4. the lifecycle with the installed CLI, through npm's symlink PREFIX/bin/tsrunc
#      (Bun), as root with a PATH without that Node: --version, spec, create,
#      state, start, kill, delete, run; a read-only install (a read-only bind
#      mount over the package) runs the same; then both again with
#      dist/tsrunc-node (so dist/node, not PATH, must find Node; its code cache);
#   5. podman against the installed CLI (test/engines/podman.test.ts, TSRUNC_BIN);
#   6. the installed tsrunc-spec-tests against runc;
#   7. the release tarball (scripts/release.sh) unpacked into a stand-in for /usr/local:
#      `run` with its bin/tsrunc (the Bun executable), PATH without Node.
# Each step says what failed; the exit status is that of the first failure.
# TEST_PACKAGE_ENGINES=0 leaves out step 5 (it installs podman the first time).
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
say() { printf 'test-package: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || fail "needs root (containers, and an install as another user)"

work=$(mktemp -d /tmp/tsrunc-package-XXXXXX)
chmod 755 "$work"
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT
user=nobody
group=$(id -gn "$user")

say "1. npm run pack:npm"
launcher=prebuilds/linux-x64/tsrunc-launch
# A checkout's dist/tsrunc is the Bun executable (unless built with TSRUNC_ENGINE=node): npm pack refuses it.
if ! cmp -s dist/tsrunc "$launcher"; then
  out=$(npm pack --dry-run 2>&1) && fail "a plain npm pack packs the checkout's Bun executable"
  grep -q 'npm run pack:npm' <<<"$out" || fail "npm pack's refusal does not name npm run pack:npm: $out"
fi
npm run --silent pack:npm -- "$work" >/dev/null || fail "npm run pack:npm"
node_modules/.bin/node scripts/pack-spec-tests.mjs "$work" >/dev/null || fail "scripts/pack-spec-tests.mjs"
version=$(node_modules/.bin/node -p 'require("./package.json").version')
tgz=$work/tsrunc-$version.tgz
spec_tgz=$work/tsrunc-spec-tests-$version.tgz
files=$(tar tzf "$tgz" | sort)
# dist/bun/: the CLI's modules for Bun, main.js and its chunks (their names are hashes).
bun_files=$(grep '^package/dist/bun/' <<<"$files" || true)
grep -qx 'package/dist/bun/main.js' <<<"$bun_files" || fail "the package has no dist/bun/main.js"
grep -vqE '^package/dist/bun/(main|chunk-[A-Z0-9]+)\.js$' <<<"$bun_files" && fail "unexpected files in dist/bun/: $(grep -vE '^package/dist/bun/(main|chunk-[A-Z0-9]+)\.js$' <<<"$bun_files" | tr '\n' ' ')"
files=$(grep -v '^package/dist/bun/' <<<"$files")
say "   $(wc -l <<<"$files") files, $(du -k "$tgz" | cut -f1) KiB"
# What it needs and nothing else.
want=$(printf '%s\n' package/README.md package/dist/tsrunc package/dist/tsrunc.cjs package/package.json \
  package/prebuilds/linux-x64/tsrunc-init package/prebuilds/linux-x64/tsrunc-launch package/prebuilds/linux-x64/tsrunc.napi.node \
  package/scripts/install.mjs package/scripts/node-flags.mjs package/scripts/bun-compile.mjs package/scripts/elf-hugetext.mjs package/scripts/elf-needed.mjs | sort)
[[ "$files" == "$want" ]] || fail "the package's files are not the expected ones: $(diff <(echo "$want") <(echo "$files") | grep '^[<>]' | tr '\n' ' ')"
if tar xzOf "$tgz" | grep -aqF "$repo"; then fail "the package names the build tree ($repo)"; fi
cmp -s <(tar xzOf "$tgz" package/dist/tsrunc) "$launcher" || fail "the package's dist/tsrunc is not the launcher"

say "2. a Node outside the repository"
mkdir -p "$work/node/bin"
cp "$(readlink -f node_modules/node/bin/node)" "$work/node/bin/node"
syspath=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say "3. npm install -g, as $user, into a clean prefix"
prefix=$work/prefix
install -d -o "$user" -g "$group" "$prefix" "$work/home"
# This machine's registry and CA file (from root's npm config, which nobody
# cannot read), and the environment's (NODE_EXTRA_CA_CERTS, proxies), pass through.
npmenv=(HOME="$work/home" PATH="$work/node/bin:$syspath" npm_config_cache="$work/home/.npm")
for k in registry cafile; do
  v=$(npm config get "$k" 2>/dev/null || true)
  [[ -n $v && $v != null && $v != undefined ]] && npmenv+=("npm_config_$k=$v")
done
(cd "$work" && setpriv --reuid="$user" --regid="$group" --clear-groups env "${npmenv[@]}" \
  npm install -g --no-audit --no-fund --loglevel=error --prefix "$prefix" "$tgz" "$spec_tgz") || fail "npm install -g"
pkg=$prefix/lib/node_modules/tsrunc
[[ -L $prefix/bin/tsrunc && -x $pkg/dist/tsrunc ]] || fail "no $prefix/bin/tsrunc"
[[ $(readlink "$pkg/dist/node") == "$work/node/bin/node" ]] || fail "dist/node is not the Node that ran npm: $(readlink "$pkg/dist/node")"
[[ $(stat -c %U "$pkg/dist/tsrunc.cjs") == "$user" ]] || fail "not installed as $user"
engine() { "$1" --version | sed -n 3p; }
bun_version=$(node_modules/.bin/node -p 'require("./package.json").optionalDependencies.bun')
[[ $(engine "$pkg/dist/tsrunc") == "bun: $bun_version" ]] || fail "the installed dist/tsrunc is not the Bun executable: $(engine "$pkg/dist/tsrunc")"
[[ $(engine "$pkg/dist/tsrunc-node") == node:* ]] || fail "the installed dist/tsrunc-node does not run on Node: $(engine "$pkg/dist/tsrunc-node")"
rm -rf "$pkg/dist/tsrunc.cache" # that Node run's code cache: step 4 looks for caches
say "   $(du -sm "$pkg" | cut -f1) MB installed, with bun"

say "   TSRUNC_ENGINE=node: dist/tsrunc is the Node launcher"
install -d -o "$user" -g "$group" "$work/prefix-node"
(cd "$work" && setpriv --reuid="$user" --regid="$group" --clear-groups env "${npmenv[@]}" TSRUNC_ENGINE=node \
  npm install -g --no-audit --no-fund --loglevel=error --prefix "$work/prefix-node" "$tgz") || fail "TSRUNC_ENGINE=node npm install -g"
onnode=$work/prefix-node/lib/node_modules/tsrunc/dist/tsrunc
cmp -s "$onnode" "$launcher" || fail "with TSRUNC_ENGINE=node, dist/tsrunc is not the launcher"
[[ $(engine "$onnode") == node:* ]] || fail "with TSRUNC_ENGINE=node, dist/tsrunc does not run on Node: $(engine "$onnode")"

say "4. the lifecycle with the installed CLI ($prefix/bin/tsrunc)"
bin=$prefix/bin/tsrunc
bundle=$work/bundle
mkdir -p "$bundle"
node_modules/.bin/node -e '
  const c = require("./bundles/busybox/config.json");
  c.root.path = process.argv[1]; c.process.args = ["sh", "-c", "echo started; exec sleep 60"]; c.process.terminal = false;
  require("fs").writeFileSync(process.argv[2] + "/config.json", JSON.stringify(c));' "$repo/bundles/busybox/rootfs" "$bundle"
lifecycle() { # lifecycle ROOT ID CMD [wrapper...]: every verb of the issue's list, CMD through "$@"
  local root=$1 id=$2 cmd=$3
  shift 3
  local t=(env -i PATH="$prefix/bin:$syspath" HOME="$work/roothome" "$@" "$cmd" --root "$root")
  "${t[@]}" --version | grep -q '^tsrunc version' || fail "tsrunc --version"
  (cd "$work" && mkdir -p spec-$id && cd spec-$id && "${t[@]}" spec && [[ -s config.json ]]) || fail "tsrunc spec"
  "${t[@]}" create --bundle "$bundle" "$id" </dev/null >"$work/$id.out" 2>&1 || fail "create: $(cat "$work/$id.out")"
  "${t[@]}" state "$id" | grep -q '"status": "created"' || fail "state after create"
  "${t[@]}" start "$id" || fail start
  "${t[@]}" state "$id" | grep -q '"status": "running"' || fail "state after start"
  # start returns once the process is exec'd; its echo may come later (a loaded host).
  for _ in $(seq 50); do grep -q started "$work/$id.out" && break; sleep 0.1; done
  "${t[@]}" kill "$id" KILL || fail kill
  for _ in $(seq 50); do "${t[@]}" state "$id" | grep -q '"status": "stopped"' && break; sleep 0.1; done
  "${t[@]}" state "$id" | grep -q '"status": "stopped"' || fail "state after kill"
  "${t[@]}" delete "$id" || fail delete
  grep -q started "$work/$id.out" || fail "the container's output: $(cat "$work/$id.out")"
  # run: its exit status is the program's
  local rc=0
  "${t[@]}" run --bundle "$bundle3" "$id-run" </dev/null || rc=$?
  [[ $rc -eq 3 ]] || fail "run: exit status $rc, not the program's 3"
}
bundle3=$work/bundle3
mkdir -p "$bundle3"
sed 's/"echo started; exec sleep 60"/"exit 3"/' "$bundle/config.json" >"$bundle3/config.json"
readonly=(unshare -m sh -c 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"' "$pkg")
lifecycle "$work/root" pkgtest tsrunc
say "   read-only: the same with the package mounted read-only"
lifecycle "$work/root-ro" pkgtest-ro tsrunc "${readonly[@]}"
# Bun's bytecode is inside the executable: it writes no cache anywhere.
[[ ! -e $pkg/dist/tsrunc.cache && ! -e $work/roothome/.cache/tsrunc ]] || fail "the Bun executable wrote a code cache"

say "   the same with dist/tsrunc-node (Node, and its code cache)"
lifecycle "$work/root-node" pkgtest-node "$pkg/dist/tsrunc-node"
ls "$pkg/dist/tsrunc.cache" | grep -q '^run-' || fail "no code cache in $pkg/dist/tsrunc.cache"
rm -rf "$pkg/dist/tsrunc.cache"
lifecycle "$work/root-node-ro" pkgtest-node-ro "$pkg/dist/tsrunc-node" "${readonly[@]}"
[[ ! -e $pkg/dist/tsrunc.cache ]] || fail "a read-only install got a cache in dist/"
ls "$work/roothome/.cache/tsrunc/" | grep -q '^create-' || fail "a read-only install wrote no cache to ~/.cache/tsrunc"

rc=0
if [[ ${TEST_PACKAGE_ENGINES:-1} != 0 ]]; then
  say "5. podman with the installed CLI"
  TSRUNC_BIN=$bin node_modules/.bin/vitest run --config test/engines/vitest.config.ts test/engines/podman.test.ts || { say "FAILED: podman"; rc=1; }
fi

say "6. the installed tsrunc-spec-tests against runc"
# Exit status 1 is runc failing a MUST (runc 1.1.5 does: spec-tests/README.md),
# which is runc's business; 2 is the tool failing.
src=0
(cd "$work" && env -i PATH="$prefix/bin:$work/node/bin:$syspath" HOME="$work/roothome" \
  tsrunc-spec-tests --runtime runc --no-color --markdown "$work/spec-runc.md" >"$work/spec-runc.txt" 2>&1) || src=$?
grep -E '^  runc .*tests:' "$work/spec-runc.txt" >&2 || true
if ((src > 1)) || [[ ! -s $work/spec-runc.md ]] || ! grep -q '| runc ' "$work/spec-runc.md"; then
  tail -30 "$work/spec-runc.txt"
  say "FAILED: spec-tests on runc (exit status $src)"
  rc=1
fi
say "7. the release tarball"
tarball=$(bash scripts/release.sh "$work" | tail -1) || fail "scripts/release.sh"
mkdir "$work/usrlocal"
tar -C "$work/usrlocal" --strip-components=1 -xzf "$tarball"
[[ -L $work/usrlocal/bin/tsrunc ]] || fail "the tarball has no bin/tsrunc"
[[ $(engine "$work/usrlocal/bin/tsrunc") == "bun: $bun_version" ]] || fail "the release's tsrunc is not the Bun executable: $(engine "$work/usrlocal/bin/tsrunc")"
[[ ! -e $work/usrlocal/lib/tsrunc/dist/node ]] || fail "the release still carries a Node"
if tar xzOf "$tarball" --wildcards '*/dist/tsrunc*' '*/prebuilds/*' | grep -aqF "$repo"; then fail "the release names the build tree ($repo)"; fi
rrc=0
env -i PATH="$work/usrlocal/bin:/usr/sbin:/sbin" HOME="$work/roothome" tsrunc --root "$work/root-rel" run --bundle "$bundle3" pkgtest-rel </dev/null || rrc=$?
[[ $rrc -eq 3 ]] || { say "FAILED: run with the release's tsrunc: exit status $rrc, not the program's 3"; rc=1; }

((rc == 0)) && say "ok"
exit $rc
