// Bundles the CLI into one minified file, dist/tsrunc, that runs as is:
//
//   #!<repo>/build/Release/tsrunc-launch <node>
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
// tsrunc-launch (addon/launch/launch.c) starts that Node with two V8 flags
// that cut its start-up; it is there because a #! line carries one argument.
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) throw new Error(`bundle: run under Node 22+ (this is ${process.version}); use npm run build`);

const launcher = resolve('build/Release/tsrunc-launch');
if (!existsSync(launcher)) throw new Error(`bundle: ${launcher} is missing: build the addon first (npm run build:addon)`);
for (const p of [launcher, process.execPath]) if (/\s/.test(p)) throw new Error(`bundle: a #! line cannot carry a path with white space: ${p}`);
const shebang = `#!${launcher} ${process.execPath}\n`;
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
