// Bundles the CLI twice: for Bun, dist/bun/ (ES modules split per verb),
// compiled into the executable dist/tsrunc (the command tsrunc ships as; see
// the end of this file and scripts/bun-compile.mjs); and for Node, one
// minified file, dist/tsrunc.cjs, with beside it what runs it:
//
//   dist/tsrunc-node   the launcher (addon/launch/launch.c, from prebuilds/): the
//                      command on Node, which execs `dist/node FLAGS dist/tsrunc.cjs`
//                      (dist/tsrunc too, with TSRUNC_ENGINE=node or without Bun)
//   dist/node          a link to the Node that runs this build (relative when it
//                      is inside the checkout: node_modules/node, Node 24)
//   dist/node.flags    that Node's flags (below)
//   dist/tsrunc.cjs    <src/cli/boot.ts, bundled>
//                      /*
//                      <src/cli/main.ts, bundled>
//                      */
//
// Nothing names a path of this machine outside the checkout's own links:
// the launcher finds the rest beside itself (/proc/self/exe), so the tree can
// move and the command can be reached through a symlink. An installed package
// gets its dist/node and dist/node.flags from scripts/install.mjs.
//
// boot.ts compiles the commented-out CLI with a V8 code cache kept per verb in
// dist/tsrunc.cache/ (why and how: boot.ts). A new build empties that dir.
//
// CommonJS, not ESM: Node's ESM loader costs ~9 ms more at startup (module
// jobs, and builtin facades that evaluate every lazy getter of node:fs).
// The .cjs name says so (the package itself is "type": "module") without a
// dist/package.json for Node to look up.
//
// Every verb's module stays behind a lazy initializer (esbuild keeps dynamic
// imports lazy inside one bundle), so a verb pays only for what it uses.
// dist/node is the Node that runs this build (Node 24 from the `node`
// devDependency under npm scripts), not the one in PATH: engines exec
// dist/tsrunc with their own PATH, and /usr/bin/node may be older.
//
// The flags in dist/node.flags (nodeFlags(), also used by scripts/install.mjs
// and scripts/release.sh). Each is measured on `run` of busybox `true` here
// (bench/run.mjs):
// --no-rehash-snapshot: V8 keeps the string-hash seed its snapshot was built
//   with, instead of drawing a new one and rehashing every table in Node's
//   snapshot; since Node 24.15 drawing one also searches for the primes of the
//   rapidhash secret. Together ~5.5 ms of Node's ~26 ms start on this host.
//   A random seed protects against hash flooding by whoever supplies the
//   strings; tsrunc's strings are its caller's (config.json, the state it
//   wrote itself, its argv), in a process that lives for one command.
// --min-semi-space-size=8 (MB): `run` allocates ~2.2 MB of young objects
//   (Node's own start ~0.6 MB, zod's schemas and parse ~0.9 MB), nearly all
//   of which live to the end. Node's default (1 MB) has two scavenges of
//   ~1 ms each copy them; at 2 MB V8 still posts a scavenge task at 80% full
//   (~1.2 ms, in about half the runs). 8 leaves room for large configs (a
//   full seccomp profile); pages are touched only as they are used.
// --jitless: bytecode only. A tsrunc process runs one command, whose code
//   (from the code cache, src/cli/boot.ts) mostly runs once: Sparkplug
//   compiles hot functions in batches on the main thread, and posting
//   Maglev's background jobs (pthread_cond_signal) now and then blocks the
//   main thread ~1 ms on this 2-CPU host. Together ~1.3 ms. No JIT means no
//   WebAssembly, which tsrunc does not use.
// --v8-pool-size=1: with nothing to compile in the background, one V8 worker
//   thread (for GC) rather than four to start.
// Node 22 warns on stderr that --jitless turns off --expose-wasm unless told
// so itself (--no-expose-wasm, which Node 24 refuses): node-flags.mjs tries the
// flags and keeps the first set under which that Node is silent, because a
// verb that succeeds prints only its output.
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { compileBun, findBun, placeExecutable } from './bun-compile.mjs';
import { linkNode, nodeFlags } from './node-flags.mjs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) throw new Error(`bundle: run under Node 22+ (this is ${process.version}); use npm run build`);

const prebuilds = resolve(`prebuilds/${process.platform}-${process.arch}`);
const launcher = `${prebuilds}/tsrunc-launch`;
if (!existsSync(launcher)) throw new Error(`bundle: ${launcher} is missing: build the addon first (npm run build:addon)`);
const flags = nodeFlags(process.execPath);
const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node22', logLevel: 'error', write: false };
const text = async (opts) => (await build({ ...common, ...opts })).outputFiles[0].text;

mkdirSync('dist', { recursive: true });
// Left by builds before dist/tsrunc.cjs: dist/tsrunc was then the bundle itself.
rmSync('dist/package.json', { force: true });

// dist/tsrunc.cjs, or with TSRUNC_BUNDLE_DEV=1 dist/tsrunc-dev.cjs: the same
// layout with names kept (for --cpu-prof; run it with dist/node), its cache in
// dist/tsrunc-dev.cache/.
const dev = Boolean(process.env.TSRUNC_BUNDLE_DEV);
const out = dev ? 'dist/tsrunc-dev' : 'dist/tsrunc';
const minify = dev ? { minifyWhitespace: true, minifySyntax: true } : { minify: true };
const OPEN = '\n/*\n';
const CLOSE = '\n*/\n';
const cli = await text({ entryPoints: ['src/cli/main.ts'], outfile: `${out}.cjs`, ...minify });
// The CLI lives in a block comment, found by its last opening line (boot.ts).
if (cli.includes('*/') || cli.includes(OPEN)) throw new Error('bundle: the CLI contains "*/" or its own opening line and cannot sit in a comment; see src/cli/boot.ts');
const nonAscii = /[^\x00-\x7f]/.exec(cli);
if (nonAscii) throw new Error(`bundle: the CLI has a non-ASCII character (${JSON.stringify(cli.slice(nonAscii.index - 40, nonAscii.index + 10))}): escape it in the source; see src/cli/boot.ts`);
const boot = await text({
  entryPoints: ['src/cli/boot.ts'],
  outfile: `${out}.cjs`,
  ...minify,
  define: {
    BUILD_ID: JSON.stringify(createHash('sha256').update(cli).digest('hex').slice(0, 16)),
    CLI_OPEN: JSON.stringify(OPEN),
    CLI_CLOSE: JSON.stringify(CLOSE),
  },
});
writeFileSync(`${out}.cjs.tmp`, boot.trimEnd() + OPEN + cli.trimEnd() + CLOSE, { mode: 0o644 });
rmSync(`${out}.cache`, { recursive: true, force: true });
renameSync(`${out}.cjs.tmp`, `${out}.cjs`);
if (!dev) {
  // Inside the checkout the link is relative, so the checkout can move.
  const inside = process.execPath.startsWith(`${resolve('.')}/`);
  linkNode('dist', inside ? relative(resolve('dist'), process.execPath) : process.execPath, flags);
  placeExecutable(launcher, 'dist/tsrunc-node');

  // The CLI for Bun, dist/bun/: main.ts as it is, with no boot.ts (Bun's
  // bytecode does what boot.ts's code cache does for Node), as ES modules
  // split at each dynamic import: a verb's chunk, and the chunks it shares
  // with others. Compiled into dist/tsrunc with Bun's own splitting
  // (scripts/bun-compile.mjs), a verb then instantiates only its own code:
  // one CommonJS file makes every module's functions and variables part of
  // one scope, set up at each start (`state` 10.1 -> 8.8 ms on this host).
  // TSRUNC_ENGINE=node, or no working `bun` package, makes dist/tsrunc the
  // Node launcher instead.
  rmSync('dist/bun.tmp', { recursive: true, force: true });
  await build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, format: 'esm', splitting: true, outdir: 'dist/bun.tmp', write: true, chunkNames: 'chunk-[hash]' });
  rmSync('dist/bun', { recursive: true, force: true });
  renameSync('dist/bun.tmp', 'dist/bun');
  // Left by builds before dist/bun/.
  rmSync('dist/tsrunc.bun.cjs', { force: true });
  const engine = process.env.TSRUNC_ENGINE || 'bun';
  if (engine !== 'bun' && engine !== 'node') throw new Error(`bundle: TSRUNC_ENGINE is bun or node, not ${engine}`);
  const bun = engine === 'bun' ? findBun('.') : null;
  if (engine === 'bun' && !bun) process.stderr.write('bundle: warning: the `bun` package does not run here: dist/tsrunc runs on Node (dist/tsrunc-node)\n');
  if (bun) {
    const how = compileBun(bun.bin, resolve('dist/bun'), resolve('dist/tsrunc'));
    if (!how.endsWith('entry stub')) process.stderr.write(`bundle: note: dist/tsrunc is ${how}\n`);
  } else placeExecutable(launcher, 'dist/tsrunc');
}
