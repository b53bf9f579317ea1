// Bundles the CLI into one minified file, dist/tsrunc, that runs as is:
//
//   #!/usr/bin/env -S <node> --no-rehash-snapshot --min-semi-space-size=2
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
// Its two V8 flags (a shebang passes the kernel one argument; `env -S` splits
// it, for ~0.5 ms):
// - --no-rehash-snapshot: V8 keeps the string-hash seed its snapshot was built
//   with instead of drawing a new one and rehashing every table in the
//   snapshot; since Node 24.15 drawing one also searches for the rapidhash
//   secret's primes. Together ~5.5 ms of Node's ~26 ms start here. What a
//   random seed protects against is hash flooding by whoever supplies the
//   strings: tsrunc's are its caller's own (config.json, state it wrote, its
//   argv), in a process that lives for one command.
// - --min-semi-space-size=2 (MB): `run` allocates ~1.5 MB of young objects
//   (most of them zod's); with Node's 1 MB default two scavenges (~1 ms each)
//   copy them.
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) throw new Error(`bundle: run under Node 22+ (this is ${process.version}); use npm run build`);

if (/\s/.test(process.execPath)) throw new Error(`bundle: Node's path has white space, which a shebang cannot carry: ${process.execPath}`);
const shebang = `#!/usr/bin/env -S ${process.execPath} --no-rehash-snapshot --min-semi-space-size=2\n`;
// Linux reads at most 255 bytes of a #! line (BINPRM_BUF_SIZE, since 5.1).
if (shebang.length > 255) throw new Error(`bundle: the shebang is longer than Linux reads: ${shebang}`);
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
