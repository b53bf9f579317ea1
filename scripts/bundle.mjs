// Bundles the CLI into one minified file, dist/tsrunc, that runs as is:
//
//   #!<repo>/build/Release/tsrunc-launch <node> <flags>
//   <src/cli/boot.ts, bundled>
//   /*
//   <src/cli/main.ts, bundled>
//   */
//
// boot.ts compiles the commented-out CLI with a V8 code cache kept per verb in
// dist/tsrunc.cache/ (why and how: boot.ts). A new build empties that dir.
//
// CommonJS, not ESM: Node's ESM loader costs ~9 ms more at startup (module
// jobs, and builtin facades that evaluate every lazy getter of node:fs).
// dist/package.json says so, since the package itself is "type": "module".
//
// Every verb's module stays behind a lazy initializer (esbuild keeps dynamic
// imports lazy inside one bundle), so a verb pays only for what it uses. The
// shebang names the Node that runs this build (Node 24 from the `node`
// devDependency under npm scripts): engines exec dist/tsrunc directly, and
// /usr/bin/node may be older.
//
// A #! line hands its interpreter one argument; tsrunc-launch
// (addon/launch/launch.c) splits it into Node and these flags, as
// `env -S` would, ~0.7 ms sooner. Each is measured on `run` of busybox `true`
// here (bench/run.mjs):
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
// so itself (--no-expose-wasm, which Node 24 refuses): the build tries the
// flags and keeps the first set under which this Node is silent, because a
// verb that succeeds prints only its output.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) throw new Error(`bundle: run under Node 22+ (this is ${process.version}); use npm run build`);

const launcher = resolve('build/Release/tsrunc-launch');
if (!existsSync(launcher)) throw new Error(`bundle: ${launcher} is missing: build the addon first (npm run build:addon)`);
const FLAGS = ['--no-rehash-snapshot', '--min-semi-space-size=8', '--jitless', '--v8-pool-size=1'];
const quiet = (flags) => {
  const r = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout === '' && r.stderr === '';
};
const flags = [FLAGS, [...FLAGS, '--no-expose-wasm']].find(quiet);
if (!flags) throw new Error(`bundle: ${process.execPath} does not start silently with ${FLAGS.join(' ')}`);
for (const p of [launcher, process.execPath]) if (/\s/.test(p)) throw new Error(`bundle: a #! line cannot carry a path with white space: ${p}`);
const shebang = `#!${launcher} ${[process.execPath, ...flags].join(' ')}\n`;
// Linux reads at most 255 bytes of a #! line (BINPRM_BUF_SIZE, since 5.1).
if (shebang.length > 255) throw new Error(`bundle: the #! line is longer than Linux reads: ${shebang}`);
const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node22', logLevel: 'error', write: false };
const text = async (opts) => (await build({ ...common, ...opts })).outputFiles[0].text;

mkdirSync('dist', { recursive: true });
writeFileSync('dist/package.json', '{ "type": "commonjs" }\n');

// dist/tsrunc, or with TSRUNC_BUNDLE_DEV=1 dist/tsrunc-dev: the same layout with
// names kept (for --cpu-prof), its cache in dist/tsrunc-dev.cache/.
const dev = Boolean(process.env.TSRUNC_BUNDLE_DEV);
const out = dev ? 'dist/tsrunc-dev' : 'dist/tsrunc';
const minify = dev ? { minifyWhitespace: true, minifySyntax: true } : { minify: true };
const OPEN = '\n/*\n';
const CLOSE = '\n*/\n';
const cli = await text({ entryPoints: ['src/cli/main.ts'], outfile: out, ...minify });
// The CLI lives in a block comment, found by its last opening line (boot.ts).
if (cli.includes('*/') || cli.includes(OPEN)) throw new Error('bundle: the CLI contains "*/" or its own opening line and cannot sit in a comment; see src/cli/boot.ts');
const nonAscii = /[^\x00-\x7f]/.exec(cli);
if (nonAscii) throw new Error(`bundle: the CLI has a non-ASCII character (${JSON.stringify(cli.slice(nonAscii.index - 40, nonAscii.index + 10))}): escape it in the source; see src/cli/boot.ts`);
const boot = await text({
  entryPoints: ['src/cli/boot.ts'],
  outfile: out,
  ...minify,
  define: {
    BUILD_ID: JSON.stringify(createHash('sha256').update(cli).digest('hex').slice(0, 16)),
    CLI_OPEN: JSON.stringify(OPEN),
    CLI_CLOSE: JSON.stringify(CLOSE),
  },
});
writeFileSync(`${out}.tmp`, shebang + boot.trimEnd() + OPEN + cli.trimEnd() + CLOSE, { mode: 0o755 });
chmodSync(`${out}.tmp`, 0o755);
rmSync(`${out}.cache`, { recursive: true, force: true });
renameSync(`${out}.tmp`, out);
