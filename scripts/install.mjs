// npm's `install` script of the tsrunc package: makes an installed package
// runnable, without a build step. No dependencies (it runs before any could
// be there), and any Node that npm runs on.
//
//   1. prebuilds/<platform>-<arch>/ must hold this platform's native parts
//      (tsrunc.napi.node, tsrunc-init, tsrunc-launch): the package ships
//      linux-x64 only. Anywhere else this fails the install, saying so.
//   2. dist/tsrunc (npm's bin) becomes this platform's launcher.
//   3. dist/node -> the Node that runs npm ($npm_node_execpath), and
//      dist/node.flags for it. That Node, not `node` from PATH at run time:
//      engines run tsrunc with a PATH of their own (a service's is short), in
//      which another Node, or none, may come first; the Node that installed the
//      package is the one npm checked against "engines". If it goes away later,
//      the launcher falls back to `node` from PATH (addon/launch/launch.c).
//
// In a checkout (addon/ is there) it does nothing: scripts/setup.sh builds.
import { chmodSync, copyFileSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkNode, nodeFlags } from './node-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (existsSync(join(root, 'addon/CMakeLists.txt'))) process.exit(0);

function fail(msg) {
  process.stderr.write(`tsrunc: ${msg}\n`);
  process.exit(1);
}

const platform = `${process.platform}-${process.arch}`;
const pre = join(root, 'prebuilds', platform);
const parts = ['tsrunc.napi.node', 'tsrunc-init', 'tsrunc-launch'];
if (!parts.every((p) => existsSync(join(pre, p)))) {
  let have = [];
  try {
    have = readdirSync(join(root, 'prebuilds'));
  } catch {}
  fail(
    `this package has no prebuilt binaries for ${platform} (it has: ${have.join(', ') || 'none'}).\n` +
      `tsrunc runs on Linux; to use it on ${platform}, build it from its source repository (a C/C++ compiler, cmake and\n` +
      `libseccomp-dev): git clone the repository, run \`bash scripts/setup.sh\`, and use its dist/tsrunc.`,
  );
}

const node = process.env.npm_node_execpath || process.execPath;
let flags;
try {
  flags = nodeFlags(node);
} catch (e) {
  fail(e.message);
}
const dist = join(root, 'dist');
copyFileSync(join(pre, 'tsrunc-launch'), join(dist, 'tsrunc.tmp'));
chmodSync(join(dist, 'tsrunc.tmp'), 0o755);
renameSync(join(dist, 'tsrunc.tmp'), join(dist, 'tsrunc'));
linkNode(dist, node, flags);
