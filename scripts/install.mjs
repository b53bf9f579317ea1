// npm's `install` script of the tsrunc package: makes an installed package
// runnable, without a build step. No dependencies of its own (it runs before
// any could be relied on), and any Node that npm runs on.
//
//   1. prebuilds/<platform>-<arch>/ must hold this platform's native parts
//      (tsrunc.napi.node, tsrunc-init, tsrunc-launch): the package ships
//      linux-x64 only. Anywhere else this fails the install, saying so.
//   2. dist/node -> the Node that runs npm ($npm_node_execpath), and
//      dist/node.flags for it. That Node, not `node` from PATH at run time:
//      engines run tsrunc with a PATH of their own (a service's is short), in
//      which another Node, or none, may come first; the Node that installed the
//      package is the one npm checked against "engines". If it goes away later,
//      the launcher falls back to `node` from PATH (addon/launch/launch.c).
//   3. dist/tsrunc-node: this platform's launcher, which runs dist/tsrunc.cjs
//      on that Node.
//   4. dist/tsrunc (npm's bin): the Bun executable compiled here from
//      dist/bun/ (the CLI's modules) by the Bun of the optional `bun` dependency
//      (scripts/bun-compile.mjs). The package cannot carry it (~110 MB, and
//      npm links a bin only to a file the tarball has, so the tarball's
//      dist/tsrunc is the launcher). Where there is no working `bun` (not
//      installed, --omit=optional, its platform package missing), where
//      TSRUNC_ENGINE=node, or where compiling fails, dist/tsrunc stays the
//      launcher: tsrunc runs on Node, which is the same CLI, slower to start.
//
// In a checkout (addon/ is there) it does nothing: scripts/setup.sh builds.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBun, findBun, placeExecutable } from './bun-compile.mjs';
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

const engine = process.env.TSRUNC_ENGINE || 'bun';
if (engine !== 'bun' && engine !== 'node') fail(`TSRUNC_ENGINE is bun or node, not ${engine}`);

const node = process.env.npm_node_execpath || process.execPath;
let flags;
try {
  flags = nodeFlags(node);
} catch (e) {
  fail(e.message);
}
const dist = join(root, 'dist');
linkNode(dist, node, flags);
placeExecutable(join(pre, 'tsrunc-launch'), join(dist, 'tsrunc-node'));
placeExecutable(join(pre, 'tsrunc-launch'), join(dist, 'tsrunc'));

if (engine === 'bun') {
  const bun = findBun(root);
  // A warning, not a failure: the Node launcher runs the same CLI.
  const warn = (why) => process.stderr.write(`tsrunc: warning: ${why}: dist/tsrunc runs on Node (dist/tsrunc-node)\n`);
  if (!bun) warn('no working Bun from the optional `bun` package');
  else {
    try {
      compileBun(bun.bin, join(dist, 'bun'), join(dist, 'tsrunc'));
    } catch (e) {
      warn(String(e.message).split('\n')[0]);
    }
  }
}
